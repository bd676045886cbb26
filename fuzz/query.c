/* Fuzz target: codec.query of fuzz-made pairs parses back to the same pairs.
 * The checks are in lua/fuzz/query.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.query", data, size);
}
