/* Fuzz target: output.shell_quote(s) is one sh word meaning s, read back
 * without a shell by the POSIX quoting rules.  The checks are in
 * lua/fuzz/env_quote.lua and lua/fuzz/sh.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.env_quote", data, size);
}
