/* Fuzz target: tokrun.xml.decode on arbitrary bytes never raises, never reads a DTD.
 * The checks are in lua/fuzz/xml_decode.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.xml_decode", data, size);
}
