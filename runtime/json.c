/*
 * tokrun.json: lua-cjson's decoder, made exact (integral numbers become
 * integers, arrays are marked), and tokrun's own encoder, whose output is
 * byte-identical for identical input: keys sorted bytewise, integers exact,
 * floats "%.17g", invalid UTF-8 an error.
 *
 * Per-state data lives in the upvalues every function shares:
 *   1: cjson.safe's decode (its configuration is its own upvalue)
 *   2: the array marker metatable
 *   3: ordered metatables: weak-keyed {[mt] = {key, ..., [key] = i}}
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokrun.h"

int luaopen_cjson_safe(lua_State *L);

#define JSON_MAX_DEPTH 128
#define JSON_ENCODER "tokrun.json.encoder"
#define JSON_DECODE lua_upvalueindex(1)
#define JSON_ARRAY_MT lua_upvalueindex(2)
#define JSON_ORDERS lua_upvalueindex(3)

/* ---- decoding ---- */

/* d as an integer, if it is integral and fits in lua_Integer. */
static int json_integral(lua_Number d, lua_Integer *i)
{
  return d == floor(d) && lua_numbertointeger(d, i);
}

/* [..., t] Turns integral floats into integers and marks arrays, in place.
 * cjson has bounded the depth; its arrays are the tables with keys 1..n.
 * Returns 0 if t holds a non-finite number (cjson reads 1e400 as inf). */
static int json_fix_table(lua_State *L)
{
  luaL_checkstack(L, 4, "json.decode");
  lua_pushnil(L);
  while (lua_next(L, -2)) {                       /* [t, k, v] */
    lua_Integer i;
    if (lua_type(L, -1) == LUA_TTABLE) {
      if (!json_fix_table(L)) {
        lua_pop(L, 2);
        return 0;
      }
    } else if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
      if (!isfinite(lua_tonumber(L, -1))) {
        lua_pop(L, 2);
        return 0;
      }
      if (json_integral(lua_tonumber(L, -1), &i)) {
        lua_pushvalue(L, -2);
        lua_pushinteger(L, i);
        lua_rawset(L, -5);
      }
    }
    lua_pop(L, 1);
  }
  if (lua_rawlen(L, -1) > 0) {
    lua_pushvalue(L, JSON_ARRAY_MT);
    lua_setmetatable(L, -2);
  }
  return 1;
}

/* A number JSON cannot carry: fail as for any bad input, so what decode
 * returns always encodes again. */
static int json_out_of_range(lua_State *L)
{
  luaL_pushfail(L);
  lua_pushliteral(L, "number out of range (too large for a double)");
  return 2;
}

/* json.decode(s) -> value | nil, message; never raises on bad JSON */
static int json_decode(lua_State *L)
{
  lua_Integer i;
  luaL_checktype(L, 1, LUA_TSTRING);
  lua_settop(L, 1);
  lua_pushvalue(L, JSON_DECODE);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 2);                              /* [s, value, msg] */
  if (lua_isnil(L, 2))
    return 2;
  lua_pop(L, 1);
  if (lua_type(L, 2) == LUA_TTABLE) {
    if (!json_fix_table(L))
      return json_out_of_range(L);
  } else if (lua_type(L, 2) == LUA_TNUMBER) {
    if (!isfinite(lua_tonumber(L, 2)))
      return json_out_of_range(L);
    if (json_integral(lua_tonumber(L, 2), &i))
      lua_pushinteger(L, i);
  }
  return 1;
}

/* ---- encoding ---- */

typedef struct json_enc {
  char *buf;
  size_t len, cap;
  lua_Alloc alloc;
  void *ud;
  int depth;
  const void *open[JSON_MAX_DEPTH];   /* the tables being encoded, for cycles */
} json_enc;

typedef struct json_key {
  const char *s;
  size_t len;
  lua_Integer idx;                    /* in the keys table that anchors s */
} json_key;

/* The output may be a credential: wiped before it is freed, and grown by
 * copying (never realloc), so no stale copy is left in the heap. */
static void json_enc_free(json_enc *e)
{
  if (e->buf) {
    explicit_bzero(e->buf, e->cap);
    e->alloc(e->ud, e->buf, e->cap, 0);
  }
  e->buf = NULL;
  e->cap = e->len = 0;
}

static int json_enc_gc(lua_State *L)
{
  json_enc_free(luaL_checkudata(L, 1, JSON_ENCODER));
  return 0;
}

static void json_write(lua_State *L, json_enc *e, const void *p, size_t n)
{
  if (n == 0)
    return;
  if (e->cap - e->len < n) {
    size_t cap = e->cap ? e->cap : 256;
    while (cap - e->len < n) {
      if (cap > ((size_t)-1) / 2)
        luaL_error(L, "json.encode: output too large");
      cap *= 2;
    }
    char *buf = e->alloc(e->ud, NULL, 0, cap);
    if (buf == NULL)
      luaL_error(L, "not enough memory");
    if (e->buf) {
      memcpy(buf, e->buf, e->len);
      explicit_bzero(e->buf, e->cap);
      e->alloc(e->ud, e->buf, e->cap, 0);
    }
    e->buf = buf;
    e->cap = cap;
  }
  memcpy(e->buf + e->len, p, n);
  e->len += n;
}

#define json_lit(L, e, s) json_write(L, e, s, sizeof(s) - 1)

/* Length of the valid UTF-8 sequence at p (RFC 3629), or 0. */
static size_t json_utf8_len(const unsigned char *p, size_t avail)
{
  unsigned lo = 0x80, hi = 0xBF;
  size_t k;
  if (p[0] >= 0xC2 && p[0] <= 0xDF) {
    k = 2;
  } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
    k = 3;
    if (p[0] == 0xE0)
      lo = 0xA0;                      /* overlong */
    else if (p[0] == 0xED)
      hi = 0x9F;                      /* surrogates */
  } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
    k = 4;
    if (p[0] == 0xF0)
      lo = 0x90;                      /* overlong */
    else if (p[0] == 0xF4)
      hi = 0x8F;                      /* above U+10FFFF */
  } else {
    return 0;
  }
  if (avail < k || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < k; i++)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  return k;
}

static void json_string(lua_State *L, json_enc *e, const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s, *end = p + n;
  json_lit(L, e, "\"");
  while (p < end) {
    const unsigned char *run = p;
    while (p < end && *p >= 0x20 && *p != '"' && *p != '\\') {
      if (*p < 0x80) {
        p++;
      } else {
        size_t k = json_utf8_len(p, (size_t)(end - p));
        if (k == 0)
          luaL_error(L, "invalid UTF-8 in string");
        p += k;
      }
    }
    json_write(L, e, run, (size_t)(p - run));
    if (p == end)
      break;
    char esc[7];
    switch (*p) {
    case '"': json_lit(L, e, "\\\""); break;
    case '\\': json_lit(L, e, "\\\\"); break;
    case '\b': json_lit(L, e, "\\b"); break;
    case '\f': json_lit(L, e, "\\f"); break;
    case '\n': json_lit(L, e, "\\n"); break;
    case '\r': json_lit(L, e, "\\r"); break;
    case '\t': json_lit(L, e, "\\t"); break;
    default:
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      json_write(L, e, esc, 6);
    }
    p++;
  }
  json_lit(L, e, "\"");
}

static void json_number(lua_State *L, json_enc *e, int idx)
{
  char num[64];
  int n;
  if (lua_isinteger(L, idx)) {
    n = snprintf(num, sizeof num, "%" LUA_INTEGER_FRMLEN "d",
                 (LUAI_UACINT)lua_tointeger(L, idx));
  } else {
    lua_Number d = lua_tonumber(L, idx);
    if (!isfinite(d))
      luaL_error(L, "cannot encode a non-finite number (%f) as JSON", (double)d);
    n = snprintf(num, sizeof num, "%.17g", (double)d);
  }
  json_write(L, e, num, (size_t)n);
}

static void json_value(lua_State *L, json_enc *e);

/* [..., key] Raises naming the key that JSON cannot represent. */
static void json_bad_key(lua_State *L, const char *what)
{
  const char *type = luaL_typename(L, -1);
  const char *key = luaL_tolstring(L, -1, NULL);
  luaL_error(L, "cannot encode %s with a %s key (%s) as JSON", what, type, key);
}

/* [..., t, mt] The table's kind: 'a' (marked array), 'o' (ordered object:
 * its key list replaces mt) or 0 (mt popped). */
static int json_marker(lua_State *L)
{
  if (lua_rawequal(L, -1, JSON_ARRAY_MT)) {
    lua_pop(L, 1);
    return 'a';
  }
  if (lua_rawget(L, JSON_ORDERS) == LUA_TTABLE)
    return 'o';
  lua_pop(L, 1);
  return 0;
}

/* [..., t] Emits t[1..n], nil as null. */
static void json_array(lua_State *L, json_enc *e, int t, lua_Integer n)
{
  json_lit(L, e, "[");
  for (lua_Integer i = 1; i <= n; i++) {
    if (i > 1)
      json_lit(L, e, ",");
    lua_rawgeti(L, t, i);
    json_value(L, e);
    lua_pop(L, 1);
  }
  json_lit(L, e, "]");
}

static int json_key_cmp(const void *a, const void *b)
{
  const json_key *x = a, *y = b;
  int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
  if (c != 0)
    return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

/* [..., key] Emits "key":t[key] unless t[key] is nil; pops nothing. */
static void json_member(lua_State *L, json_enc *e, int t, int *first)
{
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  lua_pushvalue(L, -1);
  if (lua_rawget(L, t) != LUA_TNIL) {
    if (!*first)
      json_lit(L, e, ",");
    *first = 0;
    json_string(L, e, s, len);
    json_lit(L, e, ":");
    json_value(L, e);
  }
  lua_pop(L, 1);
}

/* [..., t, order?] Emits the object: the ordered keys first, then the rest
 * sorted bytewise.  The keys are anchored in a table while sorted. */
static void json_object(lua_State *L, json_enc *e, int t, int order, lua_Integer count)
{
  lua_createtable(L, (int)count, 0);
  int keys = lua_gettop(L);
  json_key *k = lua_newuserdatauv(L, (size_t)count * sizeof *k, 0);
  lua_Integer n = 0;

  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      json_bad_key(L, "a table");
    if (n == count)
      luaL_error(L, "table changed while being encoded as JSON");
    k[n].s = lua_tolstring(L, -1, &k[n].len);
    k[n].idx = n + 1;
    lua_pushvalue(L, -1);
    lua_rawseti(L, keys, ++n);
  }
  qsort(k, (size_t)n, sizeof *k, json_key_cmp);

  int first = 1;
  json_lit(L, e, "{");
  lua_Integer listed = order ? (lua_Integer)lua_rawlen(L, order) : 0;
  for (lua_Integer i = 1; i <= listed; i++) {
    lua_rawgeti(L, order, i);
    json_member(L, e, t, &first);
    lua_pop(L, 1);
  }
  for (lua_Integer i = 0; i < n; i++) {
    lua_rawgeti(L, keys, k[i].idx);
    int skip = 0;
    if (order) {
      lua_pushvalue(L, -1);
      skip = lua_rawget(L, order) != LUA_TNIL;
      lua_pop(L, 1);
    }
    if (!skip)
      json_member(L, e, t, &first);
    lua_pop(L, 1);
  }
  json_lit(L, e, "}");
  lua_pop(L, 2);
}

/* [..., t] Emits t as an array or an object. */
static void json_table(lua_State *L, json_enc *e)
{
  int t = lua_gettop(L), kind = 0, order = 0;
  const void *p = lua_topointer(L, t);
  for (int i = 0; i < e->depth; i++)
    if (e->open[i] == p)
      luaL_error(L, "cannot encode a table that contains itself as JSON");
  if (e->depth == JSON_MAX_DEPTH)
    luaL_error(L, "cannot encode tables nested deeper than %d as JSON", JSON_MAX_DEPTH);
  e->open[e->depth++] = p;
  luaL_checkstack(L, 8, "json.encode");

  if (lua_getmetatable(L, t))
    kind = json_marker(L);
  if (kind == 'o')
    order = lua_gettop(L);

  /* Arrays: keys exactly 1..n; a marked array may have holes (null). */
  lua_Integer count = 0, max = 0;
  int indices = 1;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    count++;
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
      if (lua_tointeger(L, -1) > max)
        max = lua_tointeger(L, -1);
    } else {
      indices = 0;
      if (kind == 'a')
        json_bad_key(L, "a json.array");
    }
  }
  if (kind == 'a' || (kind == 0 && count > 0 && indices && max == count))
    json_array(L, e, t, max);
  else
    json_object(L, e, t, order, count);
  if (order)
    lua_pop(L, 1);
  e->depth--;
}

/* [..., v] Emits v; leaves the stack as it was. */
static void json_value(lua_State *L, json_enc *e)
{
  size_t len;
  const char *s;
  switch (lua_type(L, -1)) {
  case LUA_TNIL: json_lit(L, e, "null"); break;
  case LUA_TBOOLEAN:
    if (lua_toboolean(L, -1))
      json_lit(L, e, "true");
    else
      json_lit(L, e, "false");
    break;
  case LUA_TNUMBER: json_number(L, e, -1); break;
  case LUA_TSTRING:
    s = lua_tolstring(L, -1, &len);
    json_string(L, e, s, len);
    break;
  case LUA_TTABLE: json_table(L, e); break;
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, -1) == NULL) {
      json_lit(L, e, "null");
      break;
    }
    /* fallthrough */
  default:
    luaL_error(L, "cannot encode a %s as JSON", luaL_typename(L, -1));
  }
}

/* json.encode(v) -> string; raises on what JSON cannot represent */
static int json_encode(lua_State *L)
{
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  json_enc *e = lua_newuserdatauv(L, sizeof *e, 0);
  memset(e, 0, sizeof *e);
  e->alloc = lua_getallocf(L, &e->ud);
  luaL_setmetatable(L, JSON_ENCODER);
  lua_pushvalue(L, 1);                            /* [v, enc, v] */
  json_value(L, e);
  lua_pushlstring(L, e->buf, e->len);
  json_enc_free(e);
  return 1;
}

/* json.array([t]) -> t, marked to encode as an array even when empty */
static int json_mark_array(lua_State *L)
{
  if (lua_isnoneornil(L, 1)) {
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  lua_pushvalue(L, JSON_ARRAY_MT);
  lua_setmetatable(L, -2);
  return 1;
}

/* json.is_array(v) -> true if v is marked as an array (json.array, decode) */
static int json_is_array(lua_State *L)
{
  luaL_checkany(L, 1);
  lua_pushboolean(L, lua_getmetatable(L, 1) && lua_rawequal(L, -1, JSON_ARRAY_MT));
  return 1;
}

/* json.ordered(t, keys) -> t, encoding keys first in that order */
static int json_ordered(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 2);
  lua_settop(L, 2);
  lua_createtable(L, (int)n, (int)n);             /* [t, keys, list] */
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
      luaL_error(L, "bad argument #2 to 'ordered' (key #%I is a %s, not a string)",
                 i, luaL_typename(L, -1));
    lua_pushvalue(L, -1);
    if (lua_rawget(L, 3) != LUA_TNIL)
      luaL_error(L, "bad argument #2 to 'ordered' (key '%s' is listed twice)",
                 lua_tostring(L, -2));
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, 3, i);
    lua_pushinteger(L, i);
    lua_rawset(L, 3);
  }
  lua_newtable(L);                                /* [t, keys, list, mt] */
  lua_pushvalue(L, -1);
  lua_pushvalue(L, 3);
  lua_rawset(L, JSON_ORDERS);
  lua_setmetatable(L, 1);
  lua_settop(L, 1);
  return 1;
}

static const luaL_Reg json_funcs[] = {
  {"decode", json_decode},
  {"encode", json_encode},
  {"array", json_mark_array},
  {"is_array", json_is_array},
  {"ordered", json_ordered},
  {NULL, NULL}};

static const luaL_Reg json_enc_meta[] = {
  {"__gc", json_enc_gc},
  {NULL, NULL}};

/* require "tokrun.json" */
int luaopen_tokrun_json(lua_State *L)
{
  tokrun_newclass(L, JSON_ENCODER, json_enc_meta, NULL);

  luaL_newlibtable(L, json_funcs);
  luaopen_cjson_safe(L);                          /* [M, cjson] */
  lua_getfield(L, -1, "decode_max_depth");
  lua_pushinteger(L, JSON_MAX_DEPTH);
  lua_call(L, 1, 0);
  lua_getfield(L, -1, "decode_invalid_numbers");
  lua_pushboolean(L, 0);
  lua_call(L, 1, 0);
  lua_getfield(L, -1, "decode");
  lua_remove(L, -2);                              /* [M, decode] */
  lua_newtable(L);                                /* the array marker */
  lua_newtable(L);                                /* orders */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);                        /* [M, decode, array, orders] */
  luaL_setfuncs(L, json_funcs, 3);
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  return 1;
}
