/* Fuzz target: recipe.validate returns or raises a recipe error, nothing else.
 * The checks are in lua/fuzz/recipe_validate.lua. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_run("fuzz.recipe_validate", data, size);
}
