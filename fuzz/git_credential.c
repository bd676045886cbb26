/* Fuzz target: the git-credential request parser never raises and never yields a second host.
 * The checks are in lua/fuzz/git_credential.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.git_credential", data, size);
}
