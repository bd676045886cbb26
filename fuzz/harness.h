/* The libFuzzer targets' shared harness: see harness.c. */
#ifndef TOKRUN_FUZZ_HARNESS_H
#define TOKRUN_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>
#include <lauxlib.h>

/* Modules a target preloads besides the host's (before its first input). */
void fuzz_preload(const luaL_Reg *modules);

/* Hands one input to the Lua checker `target` (fuzz/lua/fuzz/NAME.lua, a
 * function of the input string).  Aborts on any error escaping it. */
int fuzz_run(const char *target, const uint8_t *data, size_t size);

/* Prints why a check failed and aborts, so libFuzzer saves the input. */
void fuzz_abort(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
