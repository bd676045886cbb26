/* Fuzz target: a secret echoed as other languages' percent-encoders write it never
 * survives r:apply; the one-pass scanner agrees with a plain search.
 * The checks are in lua/fuzz/redact_encodings.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.redact_encodings", data, size);
}
