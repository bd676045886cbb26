/*
 * The libFuzzer targets' shared harness.  One Lua state per process, made
 * as the host makes it (standard libraries, tokrun's native modules
 * preloaded, lualib/ on package.path) plus fuzz/lua/ for the checkers.
 * Each input goes to the target's checker inside lua_pcall.  Checkers call
 * product code under pcall wherever raising is allowed; an error escaping
 * the checker, or fuzz.fail, aborts.
 *
 * Lua code is not compiled with coverage, so libFuzzer would be blind to
 * it: a line hook feeds (previous line, line) edges of the Lua code into
 * libFuzzer's extra counters, and the Lua checkers are guided too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "harness.h"
#include "../runtime/tokrun.h"

int luaopen_cjson(lua_State *L);

#define FUZZ_HEAP_LIMIT ((size_t)512 << 20)
#define FUZZ_EDGES (1u << 16)

__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t fuzz_lua_edges[FUZZ_EDGES];

static lua_State *fuzz_L;
static int fuzz_checker = LUA_NOREF;
static uintptr_t fuzz_prev_line;
static tokrun_heap fuzz_heap = {0, FUZZ_HEAP_LIMIT};
static const luaL_Reg *fuzz_extra;

void fuzz_preload(const luaL_Reg *modules)
{
  fuzz_extra = modules;
}

void fuzz_abort(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("fuzz: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

/* The host's allocator, bounded: a runaway input is a Lua memory error. */
static void *fuzz_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  tokrun_heap *heap = ud;
  size_t old = ptr ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    heap->used -= old;
    return NULL;
  }
  if (nsize > old && heap->used + (nsize - old) > heap->limit)
    return NULL;
  void *p = realloc(ptr, nsize);
  if (p)
    heap->used = heap->used - old + nsize;
  return p;
}

static void fuzz_line_hook(lua_State *L, lua_Debug *ar)
{
  if (!lua_getinfo(L, "S", ar))
    return;
  uintptr_t loc = ((uintptr_t)ar->source >> 4) * 0x9E3779B1u + (uintptr_t)ar->currentline;
  loc ^= loc >> 15;
  size_t i = (size_t)((loc ^ (fuzz_prev_line >> 1)) & (FUZZ_EDGES - 1));
  if (fuzz_lua_edges[i] != 0xff)
    fuzz_lua_edges[i]++;
  fuzz_prev_line = loc;
}

/* fuzz.fail(message): the check failed */
static int fuzz_fail(lua_State *L)
{
  fuzz_abort("check failed: %s", luaL_tolstring(L, 1, NULL));
}

static int fuzz_traceback(lua_State *L)
{
  luaL_traceback(L, L, luaL_tolstring(L, 1, NULL), 1);
  return 1;
}

static void fuzz_init(const char *target)
{
  lua_State *L = lua_newstate(fuzz_alloc, &fuzz_heap);
  if (L == NULL)
    fuzz_abort("cannot create a Lua state");
  luaL_openlibs(L);

  /* the host's preloads, the list main.c uses, and cjson for the checkers */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const luaL_Reg *m = tokrun_modules; m->name; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  for (const luaL_Reg *m = fuzz_extra; m && m->name; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  lua_pushcfunction(L, luaopen_cjson);
  lua_setfield(L, -2, "cjson");
  lua_pop(L, 1);

  /* fuzz.native: what the checkers need from C */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_newtable(L);
  lua_pushcfunction(L, fuzz_fail);
  lua_setfield(L, -2, "fail");
  lua_setfield(L, -2, "fuzz.native");
  lua_pop(L, 1);

  lua_getglobal(L, "package");
  lua_pushstring(L, TOKRUN_SOURCE_DIR "/lualib/?.lua;" TOKRUN_SOURCE_DIR "/lualib/?/init.lua;"
                 TOKRUN_SOURCE_DIR "/fuzz/lua/?.lua");
  lua_setfield(L, -2, "path");
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);

  lua_pushcfunction(L, fuzz_traceback);
  lua_getglobal(L, "require");
  lua_pushstring(L, target);
  if (lua_pcall(L, 1, 1, -3) != LUA_OK)
    fuzz_abort("cannot load the checker %s: %s", target, lua_tostring(L, -1));
  if (lua_type(L, -1) != LUA_TFUNCTION)
    fuzz_abort("checker %s does not return a function", target);
  fuzz_checker = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);

  lua_sethook(L, fuzz_line_hook, LUA_MASKLINE, 0);
  fuzz_L = L;
}

int fuzz_run(const char *target, const uint8_t *data, size_t size)
{
  if (fuzz_L == NULL)
    fuzz_init(target);
  lua_State *L = fuzz_L;
  lua_settop(L, 0);
  fuzz_prev_line = 0;
  lua_pushcfunction(L, fuzz_traceback);
  lua_rawgeti(L, LUA_REGISTRYINDEX, fuzz_checker);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 1) != LUA_OK)
    fuzz_abort("%s raised: %s", target, lua_tostring(L, -1));
  lua_settop(L, 0);
  return 0;
}
