#!/usr/bin/env bash
# Installs the dependencies, builds tokrun and its Debian package, and runs
# every spec twice: once in a normal build and once under AddressSanitizer +
# UndefinedBehaviorSanitizer;
# then the end-to-end specs a third time with tokrun under valgrind memcheck,
# and every libFuzzer target in fuzz/ for a bounded time.
# Ends with one line "N passed, N failed" and a non-zero status on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps || exit 1
log=$(mktemp)
mlog=$(mktemp)
trap 'rm -f "$log" "$mlog"' EXIT
status=0
run_suite() {   # build-dir, cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j2 >/dev/null || { echo "build failed: $dir"; return 1; }
  (cd "$dir" && ctest --output-on-failure -V) 2>&1 | tee -a "$log" | grep -E '^[0-9]+: ([0-9]+ passed|(Failure|Error) (→|->))|tests passed|tests failed' || true
  return "${PIPESTATUS[0]}"
}
luacheck -q --no-color lualib recipes tests docs/examples scripts bench packaging | tail -1
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo || status=1
# the Debian package (build/tokrun_VERSION_ARCH.deb); the later runs' package
# spec installs this one
deb=$(cd build && cpack -G DEB 2>&1 | sed -n 's/^CPack: - package: \(.*\.deb\) generated\.$/\1/p')
if [ -n "$deb" ]; then echo "package: $deb"; export TOKRUN_DEB=$deb; else echo "package: cpack failed"; status=1; fi
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
LSAN_OPTIONS=suppressions=$PWD/tests/support/lsan.supp:print_suppressions=0 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DTOKRUN_SANITIZE=ON || status=1
# the end-to-end specs once more, tokrun under valgrind memcheck
bash scripts/memcheck.sh build | tee "$mlog" | tail -3
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
# every fuzz target for a bounded time (FUZZ_SECONDS, default 30)
bash fuzz/run "${FUZZ_SECONDS:-30}" || status=1
# busted's closing lines: "N: X passed, Y failed" under ctest -V (a bare
# copy follows for a failed test: not counted), bare under memcheck
count() {   # which (passed|failed)
  { grep -oE '^[0-9]+: [0-9]+ passed, [0-9]+ failed' "$log"
    grep -oE '^[0-9]+ passed, [0-9]+ failed' "$mlog"; } |
    awk -v w="$1" '{ s += (w == "passed") ? $(NF-3) : $(NF-1) } END { print s + 0 }'
}
passed=$(count passed)
failed=$(count failed)
[ "$failed" -eq 0 ] || status=1
[ "$passed" -gt 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
