/* Fuzz target: a secret embedded in text in each derived form never survives r:apply.
 * The checks are in lua/fuzz/redact.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.redact", data, size);
}
