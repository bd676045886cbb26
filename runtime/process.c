/* placeholder: being written */
#include "tokrun.h"
int luaopen_tokrun_process(lua_State *L) { lua_newtable(L); return 1; }
