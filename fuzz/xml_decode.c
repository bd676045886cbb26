/* Fuzz target: tokrun.xml.decode on arbitrary bytes never raises, never
 * reads a DTD; the checks are in lua/fuzz/xml_decode.lua.  This target
 * links the xml module and libexpat, which the others do not. */
#include "harness.h"

int luaopen_tokrun_xml(lua_State *L);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  static const luaL_Reg xml[] = {{"tokrun.xml", luaopen_tokrun_xml}, {NULL, NULL}};
  (void)argc;
  (void)argv;
  fuzz_preload(xml);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.xml_decode", data, size);
}
