/* The native modules the host preloads, and the few helpers they share. */
#ifndef TOKRUN_H
#define TOKRUN_H

#include <lua.h>
#include <lauxlib.h>

int luaopen_tokrun_hmac(lua_State *L);
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

/* Registry key of a function the host registers to call before fork():
 * it waits for the thread that preloads the http module, so no child is
 * forked while another thread is inside the dynamic loader. */
#define TOKRUN_BEFORE_FORK "tokrun.before_fork"

static inline void tokrun_before_fork(lua_State *L)
{
  if (lua_getfield(L, LUA_REGISTRYINDEX, TOKRUN_BEFORE_FORK) == LUA_TFUNCTION)
    lua_call(L, 0, 0);
  else
    lua_pop(L, 1);
}

#endif
