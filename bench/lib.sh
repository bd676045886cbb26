# shellcheck shell=bash
# Shared by bench/run and bench/scale (sourced, not run): dependencies, the
# build, a private work directory and the loopback Velafi mock.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOKRUN=${TOKRUN:-$ROOT/build/tokrun}
PY=/usr/bin/python3
MOCK_PID=
WORK=

bench_log() { printf '%s\n' "bench: $*" >&2; }

# Installs from Debian whatever this machine lacks (sudo only when not root).
bench_deps() {
  local missing=() cmd pkg
  for pair in hyperfine:hyperfine valgrind:valgrind callgrind_annotate:valgrind curl:curl \
              openssl:openssl jq:jq lua5.4:lua5.4 cmake:cmake; do
    cmd=${pair%%:*} pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ -x /usr/bin/time ] || missing+=(time)
  [ -x "$PY" ] || missing+=(python3)
  "$PY" -c 'import requests' >/dev/null 2>&1 || missing+=(python3-requests)
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    bench_log "installing ${missing[*]}"
    local pkgs
    mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  fi
}

# Builds tokrun (RelWithDebInfo) when there is no binary yet.
bench_build() {
  if [ ! -x "$TOKRUN" ]; then
    bench_log "building tokrun (RelWithDebInfo)"
    cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$ROOT/build" -j2 >/dev/null
  fi
  local type
  type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$TOKRUN")/CMakeCache.txt" 2>/dev/null || true)
  case $type in
    RelWithDebInfo|Release) ;;
    *) bench_log "warning: $TOKRUN is a '${type:-unknown}' build; figures want RelWithDebInfo" ;;
  esac
}

# Runs a private copy of the build (binary, marker, native modules), so a
# rebuild elsewhere during the bench neither breaks runs nor mixes two
# binaries in one set of figures.  Sets TOKRUN to the copy.
bench_snapshot() {
  local src
  src=$(dirname "$TOKRUN")
  mkdir -p "$WORK/bin"
  cp -p "$TOKRUN" "$WORK/bin/tokrun"
  [ ! -e "$src/tokrun-build-tree" ] || cp -p "$src/tokrun-build-tree" "$WORK/bin/"
  [ ! -d "$src/lib" ] || cp -pR "$src/lib" "$WORK/bin/lib"
  [ ! -e "$src/CMakeCache.txt" ] || cp -p "$src/CMakeCache.txt" "$WORK/bin/"
  TOKRUN_ORIGINAL=$TOKRUN
  TOKRUN=$WORK/bin/tokrun
}

bench_cleanup() {
  if [ -n "$MOCK_PID" ]; then kill "$MOCK_PID" 2>/dev/null || true; wait "$MOCK_PID" 2>/dev/null || true; fi
  if [ -n "$WORK" ] && [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$WORK"; fi
}

# A private 0700 work directory, removed on exit (BENCH_KEEP=1 keeps it).
bench_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/tokrun-bench.XXXXXX")
  chmod 700 "$WORK"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# Starts bench/velafi_mock.lua on 127.0.0.1 and exports what every client
# reads: VELAFI_BASE_URL, VELAFI_API_KEY, VELAFI_API_SECRET.
bench_mock() {
  export VELAFI_API_KEY=bench-key VELAFI_API_SECRET=bench-secret
  "$TOKRUN" lua "$ROOT/bench/velafi_mock.lua" "$WORK/mock.ready" $$ >"$WORK/mock.log" 2>&1 </dev/null &
  MOCK_PID=$!
  local _
  for _ in $(seq 1 500); do
    [ -s "$WORK/mock.ready" ] && break
    kill -0 "$MOCK_PID" 2>/dev/null || break
    sleep 0.01
  done
  MOCK_PORT=$(cat "$WORK/mock.ready" 2>/dev/null || true)
  if [ -z "$MOCK_PORT" ]; then
    bench_log "the mock did not start:"; cat "$WORK/mock.log" >&2; exit 1
  fi
  export VELAFI_BASE_URL=http://127.0.0.1:$MOCK_PORT
}

# The mock's counters: {"requests":N,"ok":N,"failed":N}.
bench_mock_stats() { curl -s "$VELAFI_BASE_URL/stats"; }

bench_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
