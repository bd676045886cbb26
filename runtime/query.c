/* The one query encoder: see query.h. */
#include <stdint.h>

#include <lauxlib.h>

#include "encode.h"
#include "query.h"

/* [pair, fields before i] Pushes field i of the pair as a string, or raises. */
static const char *query_field(lua_State *L, lua_Integer pair, int i, size_t *len)
{
  int t = lua_rawgeti(L, -i, i);
  if (t != LUA_TSTRING && t != LUA_TNUMBER)
    luaL_error(L, "bad query pair #%I: %s must be a string or a number, got %s",
               pair, i == 1 ? "name" : "value", luaL_typename(L, -1));
  return lua_tolstring(L, -1, len);
}

/* Appends pct(s) to b. */
static void query_add_pct(lua_State *L, luaL_Buffer *b, const char *s, size_t n)
{
  if (n > SIZE_MAX / 4)
    luaL_error(L, "query too long");
  luaL_addsize(b, enc_pct(luaL_prepbuffsize(b, ENC_PCT_MAX(n)), s, n, 0));
}

const char *query_push(lua_State *L, int t)
{
  t = lua_absindex(L, t);
  lua_Integer n = luaL_len(L, t);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (lua_Integer i = 1; i <= n; i++) {
    size_t nlen, vlen;
    if (i > 1)
      luaL_addchar(&b, '&');
    if (lua_rawgeti(L, t, i) != LUA_TTABLE)
      luaL_error(L, "bad query pair #%I: expected a {name, value} table, got %s",
                 i, luaL_typename(L, -1));
    const char *name = query_field(L, i, 1, &nlen);
    const char *value = query_field(L, i, 2, &vlen);
    luaL_Buffer piece;                        /* [box, pair, name, value] */
    luaL_buffinit(L, &piece);
    query_add_pct(L, &piece, name, nlen);
    luaL_addchar(&piece, '=');
    query_add_pct(L, &piece, value, vlen);
    luaL_pushresult(&piece);                  /* [box, pair, name, value, piece] */
    lua_replace(L, -4);
    lua_pop(L, 2);                            /* [box, piece] */
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}
