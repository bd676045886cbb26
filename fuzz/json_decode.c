/* Fuzz target: tokrun.json.decode on arbitrary bytes never raises; encode(decode(s)) is stable.
 * The checks are in lua/fuzz/json_decode.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.json_decode", data, size);
}
