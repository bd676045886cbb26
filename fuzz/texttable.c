/* Fuzz target: texttable.parse never raises on arbitrary text.
 * The checks are in lua/fuzz/texttable.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.texttable", data, size);
}
