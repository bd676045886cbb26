# shellcheck shell=bash disable=SC2034  # what is set here, the sourcing scripts read
# Shared by bench/run and bench/scale (sourced, not run): dependencies, the
# build, a private work directory and the loopback Velafi mock.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOKRUN=${TOKRUN:-$ROOT/build/tokrun}
PY=/usr/bin/python3
MOCK_PID=
NGINX_PID=
REDIS_PID=
WATCH_PID=
WORK=

bench_log() { printf '%s\n' "bench: $*" >&2; }

# Under valgrind tokrun frees everything before exiting, for leak checks;
# the benchmarks count what users run (no teardown after a successful run).
export TOKRUN_TEARDOWN=${TOKRUN_TEARDOWN:-0}

# Installs from Debian whatever this machine lacks (sudo only when not root).
bench_deps() {
  local missing=() cmd pkg
  for pair in hyperfine:hyperfine valgrind:valgrind callgrind_annotate:valgrind curl:curl \
              openssl:openssl jq:jq lua5.4:lua5.4 cmake:cmake nginx:nginx git:git \
              redis-server:redis-server; do
    cmd=${pair%%:*} pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  command -v cc >/dev/null 2>&1 || missing+=(gcc)
  pkg-config --exists libcurl libcrypto 2>/dev/null || missing+=(pkg-config libcurl4-openssl-dev libssl-dev)
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

# Runs a private install of the build (cmake --install into the work dir:
# binary, http module, lualib, recipes), so a rebuild or an edit of lualib/
# elsewhere during the bench neither breaks runs nor mixes two versions in
# one set of figures, and what is measured is the layout users run (no
# build-tree checks for edited sources).  Sets TOKRUN to the copy and
# RECIPES to its recipe directory.
bench_snapshot() {
  local src
  src=$(dirname "$TOKRUN")
  [ -f "$src/cmake_install.cmake" ] || { bench_log "$src is not a CMake build directory"; exit 1; }
  cmake --install "$src" --prefix "$WORK/inst" >"$WORK/install.log" 2>&1 \
    || { bench_log "cmake --install $src failed:"; tail -5 "$WORK/install.log" >&2; exit 1; }
  mkdir -p "$WORK/bin"
  TOKRUN_ORIGINAL=$TOKRUN
  TOKRUN=$WORK/inst/bin/tokrun
  RECIPES=$WORK/inst/share/tokrun/recipes
}

# Whether PID runs (a zombie waiting for us to reap it does not).
bench_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# Stops one server we started, by its PID: TERM, then KILL after 5 s.
bench_stop() {
  local pid=$1 _
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do bench_alive "$pid" || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  bench_stop "$MOCK_PID"
  bench_stop "$NGINX_PID"
  bench_stop "$REDIS_PID"
  bench_stop "$WATCH_PID"
  if [ -n "$WORK" ] && [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$WORK"; fi
}

# A private 0700 work directory, removed on exit (BENCH_KEEP=1 keeps it).
bench_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/tokrun-bench.XXXXXX")
  chmod 700 "$WORK"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# Starts bench/velafi_mock.lua on 127.0.0.1 (it checks the signature) and
# exports what every client reads: VELAFI_BASE_URL (the mock; also in
# MOCK_URL), VELAFI_API_KEY, VELAFI_API_SECRET.
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
  MOCK_URL=http://127.0.0.1:$MOCK_PORT
  export VELAFI_BASE_URL=$MOCK_URL
}

# The mock's counters: {"requests":N,"ok":N,"failed":N}.
bench_mock_stats() { curl -s "$MOCK_URL/stats"; }

bench_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# A free TCP port on 127.0.0.1 (bound, read and released: the server started
# right after takes it; callers retry a few times should one lose the race).
bench_free_port() {
  "$TOKRUN" lua - <<'LUA'
local s = assert(require("socket").bind("127.0.0.1", 0))
print((select(2, s:getsockname())))
s:close()
LUA
}

# A CA and a server certificate for 127.0.0.1 (subjectAltName=IP:127.0.0.1),
# made now with the openssl command in $WORK/tls: ca.pem, server.pem,
# server.key, P-256 ECDSA like the spec kit's mock.  Sets BENCH_CA.
bench_tls() {
  local dir=$WORK/tls ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  mkdir -p "$dir"
  (
    set -e
    cd "$dir"
    # shellcheck disable=SC2086  # $ec is several words
    openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj '/CN=tokrun bench CA' \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    # shellcheck disable=SC2086
    openssl req -new $ec -keyout server.key -out server.csr -subj /CN=127.0.0.1
    printf '%s\n' subjectAltName=IP:127.0.0.1 basicConstraints=CA:FALSE \
      keyUsage=critical,digitalSignature extendedKeyUsage=serverAuth >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 \
      -extfile server.ext -out server.pem
  ) >"$dir/openssl.log" 2>&1 || { bench_log "cannot make the bench CA:"; cat "$dir/openssl.log" >&2; exit 1; }
  BENCH_CA=$dir/ca.pem
}

# nginx's configuration: one server on two loopback ports ($1 http, $2
# https), answering each route with a fixed body, logging nothing.  Routes
# are "PATH STATUS BODY" lines on stdin (BODY without single quotes).
bench_nginx_conf() {
  local prefix=$WORK/nginx path status body
  cat <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $prefix/nginx.pid;
lock_file $prefix/nginx.lock;
error_log $prefix/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path $prefix/tmp/body;
  proxy_temp_path $prefix/tmp/proxy;
  fastcgi_temp_path $prefix/tmp/fastcgi;
  uwsgi_temp_path $prefix/tmp/uwsgi;
  scgi_temp_path $prefix/tmp/scgi;
  server {
    listen 127.0.0.1:$1;
    listen 127.0.0.1:$2 ssl;
    ssl_certificate $WORK/tls/server.pem;
    ssl_certificate_key $WORK/tls/server.key;
    default_type application/json;
EOF
  while read -r path status body; do
    printf "    location = %s { return %s '%s'; }\n" "$path" "$status" "$body"
  done
  cat <<EOF
    location / { return 404 '{"error":"no route"}'; }
  }
}
EOF
}

# Starts nginx from Debian on two free loopback ports, with its own prefix
# directory, configuration and pid file, serving the providers' answers
# (routes on stdin, see bench_nginx_conf) so the server's own latency does
# not hide the client's.  Sets NGINX_HTTP and NGINX_HTTPS (base URLs) and
# NGINX_PID (the master, which bench_cleanup stops).
bench_nginx() {
  local prefix=$WORK/nginx routes attempt hp sp up _
  mkdir -p "$prefix/tmp"
  routes=$(cat)
  [ -n "${BENCH_CA:-}" ] || bench_tls
  for attempt in 1 2 3 4 5; do
    hp=$(bench_free_port) sp=$(bench_free_port)
    [ "$hp" != "$sp" ] || continue
    printf '%s\n' "$routes" | bench_nginx_conf "$hp" "$sp" >"$prefix/nginx.conf"
    nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" </dev/null >"$prefix/stdout.log" 2>&1 &
    NGINX_PID=$!
    up=
    for _ in $(seq 1 100); do
      bench_alive "$NGINX_PID" || break
      if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$hp/" \
         && curl -s -o /dev/null --max-time 1 --cacert "$BENCH_CA" "https://127.0.0.1:$sp/"; then
        up=1; break
      fi
      sleep 0.05
    done
    [ -z "$up" ] || break
    bench_stop "$NGINX_PID"; NGINX_PID=
    bench_log "nginx did not start on ports $hp/$sp (attempt $attempt):"
    tail -3 "$prefix/error.log" "$prefix/stdout.log" >&2 2>/dev/null || true
  done
  [ -n "$NGINX_PID" ] || { bench_log "cannot start nginx"; exit 1; }
  NGINX_HTTP=http://127.0.0.1:$hp NGINX_HTTPS=https://127.0.0.1:$sp
  bench_watchdog
}

# Stops the servers should this shell die without running its traps
# (kill -9): polls once a second, for an hour at most.  Called again after
# each server starts, it replaces itself with one that knows every PID.
bench_watchdog() {
  bench_stop "$WATCH_PID"
  local parent=$$ pids="$MOCK_PID $NGINX_PID $REDIS_PID"
  (
    for _ in $(seq 1 3600); do
      kill -0 "$parent" 2>/dev/null || break
      sleep 1
    done
    # shellcheck disable=SC2086  # a list of pids
    kill $pids 2>/dev/null
  ) </dev/null >/dev/null 2>&1 &
  WATCH_PID=$!
}

# Starts redis-server from Debian on two free loopback ports, plain and TLS
# (the bench CA's server certificate), nothing saved to disk.  Sets
# REDIS_PORT, REDIS_TLS_PORT and REDIS_PID.
bench_redis() {
  local dir=$WORK/redis attempt p t up _
  mkdir -p "$dir"
  [ -n "${BENCH_CA:-}" ] || bench_tls
  for attempt in 1 2 3 4 5; do
    p=$(bench_free_port) t=$(bench_free_port)
    [ "$p" != "$t" ] || continue
    redis-server --bind 127.0.0.1 --port "$p" --tls-port "$t" \
      --tls-cert-file "$WORK/tls/server.pem" --tls-key-file "$WORK/tls/server.key" \
      --tls-ca-cert-file "$BENCH_CA" --tls-auth-clients no \
      --save '' --appendonly no --dir "$dir" --daemonize no --logfile "$dir/redis.log" \
      </dev/null >/dev/null 2>&1 &
    REDIS_PID=$!
    up=
    for _ in $(seq 1 100); do
      bench_alive "$REDIS_PID" || break
      if [ "$(redis-cli -h 127.0.0.1 -p "$p" ping 2>/dev/null)" = PONG ]; then up=1; break; fi
      sleep 0.05
    done
    [ -z "$up" ] || break
    bench_stop "$REDIS_PID"; REDIS_PID=
    bench_log "redis-server did not start on ports $p/$t (attempt $attempt):"
    tail -3 "$dir/redis.log" >&2 2>/dev/null || true
  done
  [ -n "$REDIS_PID" ] || { bench_log "cannot start redis-server"; exit 1; }
  REDIS_PORT=$p REDIS_TLS_PORT=$t
  bench_watchdog
}
