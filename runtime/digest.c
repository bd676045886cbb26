/*
 * tokrun.hmac: message digests, HMAC and constant-time comparison on
 * OpenSSL 3 (the module keeps the name scripts know it by; random bytes
 * are sys.random).  The one-shot EVP_Q_mac/EVP_Q_digest calls own their contexts
 * and free them before returning, so nothing is left to leak when Lua
 * raises; the digests on the C stack are wiped once pushed.
 */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "encode.h"
#include "tokrun.h"

static const char *const hmac_algs[] = {"sha1", "sha256", "sha384", "sha512", NULL};
static const char *const hmac_evp_names[] = {"SHA1", "SHA256", "SHA384", "SHA512"};

/* An OpenSSL failure on a supported algorithm is an internal error. */
static int hmac_openssl_error(lua_State *L, const char *what)
{
  char msg[256];
  ERR_error_string_n(ERR_get_error(), msg, sizeof msg);
  ERR_clear_error();
  return luaL_error(L, "%s failed: %s", what, msg);
}

/* Pushes raw or hex bytes, then wipes both the bytes and the hex copy. */
static int hmac_push(lua_State *L, unsigned char *md, size_t len, int hex)
{
  if (hex) {
    char buf[ENC_HEX_MAX(EVP_MAX_MD_SIZE)];
    lua_pushlstring(L, buf, enc_hex(buf, (const char *)md, len));
    OPENSSL_cleanse(buf, sizeof buf);
  } else {
    lua_pushlstring(L, (const char *)md, len);
  }
  OPENSSL_cleanse(md, len);
  return 1;
}

static int hmac_mac(lua_State *L, int hex)
{
  const char *alg = hmac_evp_names[luaL_checkoption(L, 1, NULL, hmac_algs)];
  size_t keylen, msglen, len = 0;
  const char *key = luaL_checklstring(L, 2, &keylen);
  const char *msg = luaL_checklstring(L, 3, &msglen);
  unsigned char md[EVP_MAX_MD_SIZE];

  if (EVP_Q_mac(NULL, "HMAC", NULL, alg, NULL, key, keylen,
                (const unsigned char *)msg, msglen, md, sizeof md, &len) == NULL) {
    OPENSSL_cleanse(md, sizeof md);
    return hmac_openssl_error(L, "HMAC");
  }
  return hmac_push(L, md, len, hex);
}

static int hmac_hashx(lua_State *L, int hex)
{
  const char *alg = hmac_evp_names[luaL_checkoption(L, 1, NULL, hmac_algs)];
  size_t msglen, len = 0;
  const char *msg = luaL_checklstring(L, 2, &msglen);
  unsigned char md[EVP_MAX_MD_SIZE];

  if (!EVP_Q_digest(NULL, alg, NULL, msg, msglen, md, &len)) {
    OPENSSL_cleanse(md, sizeof md);
    return hmac_openssl_error(L, "digest");
  }
  return hmac_push(L, md, len, hex);
}

/* hmac.digest(alg, key, msg) -> raw HMAC bytes */
static int hmac_digest(lua_State *L)
{
  return hmac_mac(L, 0);
}

/* hmac.hexdigest(alg, key, msg) -> lowercase hex HMAC */
static int hmac_hexdigest(lua_State *L)
{
  return hmac_mac(L, 1);
}

/* hmac.hash(alg, msg) -> raw digest */
static int hmac_hash(lua_State *L)
{
  return hmac_hashx(L, 0);
}

/* hmac.hexhash(alg, msg) -> lowercase hex digest */
static int hmac_hexhash(lua_State *L)
{
  return hmac_hashx(L, 1);
}

/* hmac.equal(a, b) -> true if equal; time depends on the length only. */
static int hmac_equal(lua_State *L)
{
  size_t alen, blen;
  const char *a = luaL_checklstring(L, 1, &alen);
  const char *b = luaL_checklstring(L, 2, &blen);
  lua_pushboolean(L, alen == blen && CRYPTO_memcmp(a, b, alen) == 0);
  return 1;
}

static const luaL_Reg hmac_funcs[] = {
  {"digest", hmac_digest},
  {"hexdigest", hmac_hexdigest},
  {"hash", hmac_hash},
  {"hexhash", hmac_hexhash},
  {"equal", hmac_equal},
  {NULL, NULL}};

/* require "tokrun.hmac" */
int luaopen_tokrun_hmac(lua_State *L)
{
  luaL_newlib(L, hmac_funcs);
  return 1;
}
