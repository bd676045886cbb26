/* Fuzz target: the Terraform helper's host and store parsers.
 * The checks are in lua/fuzz/terraform_credentials.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.terraform_credentials", data, size);
}
