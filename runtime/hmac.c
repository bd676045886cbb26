/* placeholder: being written */
#include "tokrun.h"
int luaopen_tokrun_hmac(lua_State *L) { lua_newtable(L); return 1; }
