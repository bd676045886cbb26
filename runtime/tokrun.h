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
int luaopen_tokrun_sys(lua_State *L);

/* The Lua heap of one state: the allocator's userdata, so the bound is per
 * state (sys.set_memory_limit sets it) and no C global holds it. */
typedef struct tokrun_heap {
  size_t used;
  size_t limit;   /* 0: unbounded */
} tokrun_heap;

/* Registry key of the table {exe=, luadir=, recipedir=, moddir=, ...}. */
#define TOKRUN_PATHS "tokrun.paths"

#endif
