/*
 * tokrun.codec: hex, base64, base64url and percent encoding for Lua, thin
 * wrappers over encode.c.  Decoders return nil, message on invalid input;
 * wrong argument types raise.
 */
#include <stdint.h>

#include "encode.h"
#include "query.h"
#include "tokrun.h"

typedef size_t (*codec_enc_fn)(char *dst, const char *src, size_t n, int flag);

static size_t codec_hex_enc(char *dst, const char *src, size_t n, int flag)
{
  (void)flag;
  return enc_hex(dst, src, n);
}

/* Encodes argument 1 with fn into a buffer of max(n) bytes. */
static int codec_encode(lua_State *L, codec_enc_fn fn, size_t max, int flag)
{
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  char *dst = luaL_buffinitsize(L, &b, max);
  luaL_pushresultsize(&b, fn(dst, s, n, flag));
  return 1;
}

static size_t codec_checklen(lua_State *L)
{
  size_t n;
  luaL_checklstring(L, 1, &n);
  luaL_argcheck(L, n <= SIZE_MAX / 4, 1, "string too long");
  return n;
}

/* codec.hex(s) -> lowercase hex */
static int codec_hex(lua_State *L)
{
  return codec_encode(L, codec_hex_enc, ENC_HEX_MAX(codec_checklen(L)), 0);
}

/* codec.base64(s) -> padded base64 */
static int codec_base64(lua_State *L)
{
  return codec_encode(L, enc_base64, ENC_B64_MAX(codec_checklen(L)), 0);
}

/* codec.base64url(s) -> unpadded base64url */
static int codec_base64url(lua_State *L)
{
  return codec_encode(L, enc_base64, ENC_B64_MAX(codec_checklen(L)), 1);
}

/* codec.pct(s) -> RFC 3986 percent-encoded */
static int codec_pct(lua_State *L)
{
  return codec_encode(L, enc_pct, ENC_PCT_MAX(codec_checklen(L)), 0);
}

/* codec.form(s) -> form-encoded (space as '+') */
static int codec_form(lua_State *L)
{
  return codec_encode(L, enc_pct, ENC_PCT_MAX(codec_checklen(L)), 1);
}

/* Decodes argument 1; on invalid input returns nil, "invalid <what> ...". */
static int codec_decode(lua_State *L, int kind, int flag, const char *what)
{
  size_t n, bad = 0, len;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  char *dst = luaL_buffinitsize(L, &b, ENC_DEC_MAX(n));
  if (kind == 'h')
    len = dec_hex(dst, s, n, &bad);
  else if (kind == 'b')
    len = dec_base64(dst, s, n, flag, &bad);
  else
    len = dec_pct(dst, s, n, flag, &bad);
  if (len == ENC_BAD) {
    luaL_pushfail(L);
    if (bad >= n)
      lua_pushfstring(L, "invalid %s: input ends too early", what);
    else
      lua_pushfstring(L, "invalid %s at byte %I", what, (lua_Integer)bad + 1);
    return 2;
  }
  luaL_pushresultsize(&b, len);
  return 1;
}

/* codec.unhex(s) -> bytes | nil, message */
static int codec_unhex(lua_State *L)
{
  return codec_decode(L, 'h', 0, "hex");
}

/* codec.unbase64(s) -> bytes | nil, message (padding optional) */
static int codec_unbase64(lua_State *L)
{
  return codec_decode(L, 'b', 0, "base64");
}

/* codec.unbase64url(s) -> bytes | nil, message (padding optional) */
static int codec_unbase64url(lua_State *L)
{
  return codec_decode(L, 'b', 1, "base64url");
}

/* codec.unpct(s [, plus]) -> bytes | nil, message; plus: '+' is a space */
static int codec_unpct(lua_State *L)
{
  return codec_decode(L, 'p', lua_toboolean(L, 2), "percent-encoding");
}

/* codec.query({{name, value}, ...}) -> "name=value&..." in the given order */
static int codec_query(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  query_push(L, 1);
  return 1;
}

static const luaL_Reg codec_funcs[] = {
  {"hex", codec_hex},
  {"unhex", codec_unhex},
  {"base64", codec_base64},
  {"unbase64", codec_unbase64},
  {"base64url", codec_base64url},
  {"unbase64url", codec_unbase64url},
  {"pct", codec_pct},
  {"form", codec_form},
  {"unpct", codec_unpct},
  {"query", codec_query},
  {NULL, NULL}};

/* require "tokrun.codec" */
int luaopen_tokrun_codec(lua_State *L)
{
  luaL_newlib(L, codec_funcs);
  return 1;
}
