/* Fuzz target: http.parse_url (libcurl's URL API) on any input; the checks
 * are in lua/fuzz/url_parse.lua.  This target links the http module and
 * libcurl, which the others do not. */
#include "harness.h"

int luaopen_tokrun_http(lua_State *L);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  static const luaL_Reg http[] = {{"tokrun.http", luaopen_tokrun_http}, {NULL, NULL}};
  (void)argc;
  (void)argv;
  fuzz_preload(http);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.url_parse", data, size);
}
