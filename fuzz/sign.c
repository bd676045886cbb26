/* Fuzz target: tokrun.sign's key loading and the JOSE (r||s) <-> DER
 * ECDSA conversion never raise on input, and what loads signs and
 * verifies.  The checks are in lua/fuzz/sign.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.sign", data, size);
}
