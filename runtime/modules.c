/* The native modules the host preloads, in one list: runtime/main.c and
 * the fuzz harness both preload exactly these.  tokrun.http is apart: it
 * links libcurl and is loaded from its own file on first use. */
#include "tokrun.h"

const luaL_Reg tokrun_modules[] = {
  {"tokrun.hmac", luaopen_tokrun_hmac},
  {"tokrun.sign", luaopen_tokrun_sign},
  {"tokrun.codec", luaopen_tokrun_codec},
  {"tokrun.json", luaopen_tokrun_json},
  {"tokrun.process", luaopen_tokrun_process},
  {"tokrun.signal", luaopen_tokrun_signal},
  {"tokrun.sys", luaopen_tokrun_sys},
  {NULL, NULL}};
