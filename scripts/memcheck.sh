#!/usr/bin/env bash
# Runs the end-to-end specs with the tokrun under test under valgrind's
# memcheck (the specs themselves and the mock servers run natively): one
# log per tokrun process, then fails on any invalid read or write, any use
# of uninitialised memory and any definitely lost block, printing the
# offending stacks.  Usage: scripts/memcheck.sh [BUILD_DIR]   (default build)
# Ends with one line "memcheck: N runs, N with errors, N spec failures (Ns)".
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
command -v valgrind >/dev/null || { echo "memcheck: valgrind is not installed (apt-get install valgrind)"; exit 1; }
cmake -S . -B "$build" >/dev/null && cmake --build "$build" -j2 >/dev/null || { echo "memcheck: build failed: $build"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/logs"
supp=()
[ -f tests/support/valgrind.supp ] && supp=(--suppressions="$PWD/tests/support/valgrind.supp")

# The binary the specs run (cli_helper takes TOKRUN_BIN from tests/run.lua's
# --tokrun).  The child of `tokrun exec` is not traced: it is not tokrun.
# The helper links (docker-credential-tokrun, ...) get wrappers of their own
# name, so tokrun still sees the name it was called by.
for name in tokrun docker-credential-tokrun terraform-credentials-tokrun; do
  cat > "$work/$name" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \\
  --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=40 \\
  ${supp[*]} --log-file="$work/logs/vg.%p.log" "$PWD/$build/$name" "\$@"
EOF
  chmod 755 "$work/$name"
done

# HTTP, TLS and redirects (cli, production), processes (dataos), leases and
# exec (exec, pam_checkout), the cache (cache), -o (output).  install_spec
# is left out: it installs the build directory of the binary it is given.
specs=()
for f in tests/cli/*_spec.lua; do
  [ "$(basename "$f")" = install_spec.lua ] || specs+=("$f")
done
specs+=(
  tests/recipes/pam_checkout_spec.lua
  tests/recipes/oauth2_client_credentials_spec.lua
  tests/recipes/dataos_spec.lua
  tests/recipes/github_app_spec.lua
  tests/recipes/snowflake_keypair_spec.lua
)
# Tests that bound wall-clock time tightly, which valgrind's slowdown (a
# tokrun start takes ~1 s under memcheck) breaks; busted's --filter-out
# takes Lua patterns on the test name.
slow=(
  'is stopped at %-%-timeout when it loops forever'   # production_spec: --timeout 1, asserts < 4 s
  'mints once for two hosts of eight processes each'   # redis_cache_spec: 16 tokruns at once within Redis's 2 s timeouts
  'are installed next to tokrun by cmake %-%-install'   # installs the build directory, as install_spec (left out above)
)
filters=()
for s in "${slow[@]}"; do filters+=(--filter-out="$s"); done

start=$(date +%s)
"$build/tokrun" lua tests/run.lua --tokrun="$work/tokrun" "${filters[@]}" "${specs[@]}" > "$work/busted.out" 2>&1
spec_status=$?
elapsed=$(( $(date +%s) - start ))
tail -n 40 "$work/busted.out" | grep -E 'Failure|Error →|passed|failed' || true

runs=0 bad=0
for log in "$work"/logs/vg.*.log; do
  [ -e "$log" ] || continue
  runs=$((runs + 1))
  if grep -qE 'Invalid (read|write|free)|uninitialised|Mismatched free|definitely lost in|definitely lost: [1-9]' "$log"; then
    bad=$((bad + 1))
    echo "=== $(basename "$log"): $(grep -m1 -E '^==[0-9]+== Command:' "$log" | sed 's/^==[0-9]*== //')"
    grep -vE '^==[0-9]+== (Memcheck|Copyright|Using Valgrind|Parent PID)' "$log" | sed -n '1,200p'
  fi
done
failed=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$work/busted.out" | awk '{s+=$3} END {print s+0}')
echo "memcheck: $runs runs, $bad with errors, $failed spec failures (${elapsed}s)"
[ "$runs" -gt 0 ] && [ "$bad" -eq 0 ] && [ "$spec_status" -eq 0 ]
