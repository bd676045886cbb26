/* Fuzz target: response.jwt_exp never raises, whatever the token.
 * The checks are in lua/fuzz/jwt_exp.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.jwt_exp", data, size);
}
