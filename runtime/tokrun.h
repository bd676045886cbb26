/* The native modules the host preloads, and the few helpers they share. */
#ifndef TOKRUN_H
#define TOKRUN_H

#include <lua.h>
#include <lauxlib.h>

int luaopen_tokrun_hmac(lua_State *L);
int luaopen_tokrun_sign(lua_State *L);
int luaopen_tokrun_codec(lua_State *L);
int luaopen_tokrun_json(lua_State *L);
int luaopen_tokrun_process(lua_State *L);
int luaopen_tokrun_signal(lua_State *L);
int luaopen_tokrun_sys(lua_State *L);

/* {name, luaopen} of every module above, NULL-terminated (modules.c). */
extern const luaL_Reg tokrun_modules[];

/* The Lua heap of one state: the allocator's userdata, so the bound is per
 * state (sys.set_memory_limit sets it) and no C global holds it. */
typedef struct tokrun_heap {
  size_t used;
  size_t limit;   /* 0: unbounded */
} tokrun_heap;

/* Every userdata type is made the same way: its metatable, created once
 * per state, holds the metamethods in meta (__gc, __close, ...) and, when
 * methods is not NULL, __index = a table of those. */
static inline void tokrun_newclass(lua_State *L, const char *name,
                                   const luaL_Reg *meta, const luaL_Reg *methods)
{
  if (luaL_newmetatable(L, name)) {
    luaL_setfuncs(L, meta, 0);
    if (methods) {
      lua_newtable(L);
      luaL_setfuncs(L, methods, 0);
      lua_setfield(L, -2, "__index");
    }
  }
  lua_pop(L, 1);
}

/* Failures are returned, never raised, in one of two shapes, both led by
 * fail (nil):
 *   nil, message [, errno]          -- one way to fail: bad input (codec,
 *                                      json), a system call (sys)
 *   nil, {kind=, message=, ...}     -- several, which lualib tells apart
 *                                      by kind (process, http)
 * Misuse (wrong argument types, out-of-range options) raises. */
static inline int tokrun_fail_kind(lua_State *L, const char *kind, const char *message)
{
  luaL_pushfail(L);
  lua_createtable(L, 0, 3);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
  return 2;
}

/* Registry key of the table {exe=, luadir=, recipedir=, moddir=, ...}. */
#define TOKRUN_PATHS "tokrun.paths"

#endif
