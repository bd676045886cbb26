/* Fuzz target: the Docker helper's server URL and store parsers.
 * The checks are in lua/fuzz/docker_credential.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.docker_credential", data, size);
}
