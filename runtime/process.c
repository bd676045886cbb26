/*
 * tokrun.process: programs run directly (no shell), started by spawn.c.
 * process.run captures their output, bounded, under a deadline;
 * process.exec (tokrun exec) hands them tokrun's stdio and waits.  The
 * child leads its own process group, so a timeout kills whatever it
 * started too, and it gets SIGTERM if tokrun dies.  Everything a run holds
 * (pipes, output buffers, the child) lives in a to-be-closed userdata, so
 * an error raised while building the result leaks nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "buf.h"
#include "spawn.h"
#include "tokrun.h"

#define PROCESS_RUN "tokrun.process.run"
#define PROCESS_DEFAULT_TIMEOUT 30.0
#define PROCESS_MAX_TIMEOUT 86400.0
#define PROCESS_DEFAULT_MAX_OUTPUT ((lua_Integer)1 << 20)   /* 1 MiB per stream */


/* One run.  fds: [0] child's stdin (write end), [1] stdout, [2] stderr (read
 * ends); -1 once closed. */
typedef struct process_run {
  int fds[3];
  pid_t pid;              /* 0 once reaped */
  tokrun_buf out[2];     /* stdout, stderr */
} process_run;


static void process_close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

/* Kill the child's group and reap it; idempotent. */
static void process_reap(process_run *r, int kill_first)
{
  if (r->pid <= 0)
    return;
  if (kill_first) {
    kill(-r->pid, SIGKILL);
    kill(r->pid, SIGKILL);
  }
  while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  r->pid = 0;
}

/* __gc and __close: release everything the run still holds. */
static int process_run_release(lua_State *L)
{
  process_run *r = luaL_checkudata(L, 1, PROCESS_RUN);
  for (int i = 0; i < 3; i++)
    process_close_fd(&r->fds[i]);
  process_reap(r, 1);
  buf_free(&r->out[0]);
  buf_free(&r->out[1]);
  return 0;
}

static double process_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* [opts] A NULL-terminated char* array kept alive as a userdata pushed on the
 * stack; the strings it points to must stay anchored by the caller. */
static const char **process_newvec(lua_State *L, size_t n)
{
  const char **v = lua_newuserdatauv(L, (n + 1) * sizeof *v, 0);
  v[n] = NULL;
  return v;
}

/* [.., argv_table] -> [.., argv_table, vec] */
static char *const *process_argv(lua_State *L, int t)
{
  lua_Integer n = luaL_len(L, t);
  luaL_argcheck(L, n >= 1 && n <= 65536, 1, "argv must be a non-empty list");
  const char **v = process_newvec(L, (size_t)n);
  for (lua_Integer i = 1; i <= n; i++) {
    size_t len;
    if (lua_rawgeti(L, t, i) != LUA_TSTRING)
      luaL_argerror(L, 1, lua_pushfstring(L, "argv[%I] must be a string", i));
    v[i - 1] = lua_tolstring(L, -1, &len);
    luaL_argcheck(L, strlen(v[i - 1]) == len, 1, "argv contains a NUL byte");
    lua_pop(L, 1);   /* still anchored by the argv table */
  }
  return (char *const *)v;
}

static int process_strcmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* [.., env_table] -> [.., env_table, strings, vec]: "NAME=value", sorted. */
static char *const *process_env(lua_State *L, int t)
{
  size_t n = 0;
  lua_newtable(L);                                   /* anchors the strings */
  lua_pushnil(L);
  while (lua_next(L, t)) {
    size_t nlen, vlen;
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, 1, "env must map strings to strings");
    const char *name = lua_tolstring(L, -2, &nlen);
    const char *value = lua_tolstring(L, -1, &vlen);
    luaL_argcheck(L, nlen > 0 && strlen(name) == nlen && !strchr(name, '='), 1,
                  "env name must be non-empty, without '=' or NUL");
    luaL_argcheck(L, strlen(value) == vlen, 1, "env value contains a NUL byte");
    lua_pushfstring(L, "%s=%s", name, value);
    lua_rawseti(L, -4, (lua_Integer)++n);
    lua_pop(L, 1);
  }
  const char **v = process_newvec(L, n);
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, -2, (lua_Integer)i + 1);
    v[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  qsort(v, n, sizeof *v, process_strcmp);
  return (char *const *)v;
}

/* A close-on-exec pipe whose ends are above stderr, so the child's dup2 onto
 * 0, 1 and 2 never clobbers another end (the parent may run with 0-2 closed). */
static int process_pipe(int p[2])
{
  if (pipe2(p, O_CLOEXEC) < 0)
    return -1;
  for (int i = 0; i < 2; i++) {
    if (p[i] > 2)
      continue;
    int fd = fcntl(p[i], F_DUPFD_CLOEXEC, 3);
    close(p[i]);
    p[i] = fd;
  }
  if (p[0] >= 0 && p[1] >= 0)
    return 0;
  process_close_fd(&p[0]);
  process_close_fd(&p[1]);
  return -1;
}

/* Feed stdin and drain stdout/stderr until both reach EOF or the deadline
 * passes.  Returns NULL, or the kind of the failure. */
static const char *process_pump(process_run *r, const char *in, size_t inlen,
                                size_t max_output, double deadline)
{
  size_t inpos = 0;
  char chunk[16384];

  while (r->fds[1] >= 0 || r->fds[2] >= 0) {
    struct pollfd p[3];
    for (int i = 0; i < 3; i++)
      p[i] = (struct pollfd){.fd = r->fds[i], .events = i ? POLLIN : POLLOUT};
    double left = deadline - process_now();
    if (left <= 0)
      return "timeout";
    int rc = poll(p, 3, (int)ceil(left * 1000));
    if (rc < 0 && errno != EINTR)
      return "spawn";
    if (rc <= 0)
      continue;
    if (p[0].revents) {
      ssize_t n = write(r->fds[0], in + inpos, inlen - inpos);
      if (n > 0)
        inpos += (size_t)n;
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || inpos == inlen)
        process_close_fd(&r->fds[0]);
    }
    for (int i = 1; i < 3; i++) {
      if (!p[i].revents)
        continue;
      ssize_t n = read(r->fds[i], chunk, sizeof chunk);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      if (n <= 0) {
        process_close_fd(&r->fds[i]);
        continue;
      }
      tokrun_buf *b = &r->out[i - 1];
      int over = (size_t)n > max_output - b->len;
      if (over || buf_append(b, chunk, (size_t)n, 4096) < 0) {
        explicit_bzero(chunk, sizeof chunk);
        return over ? "too_large" : "spawn";
      }
    }
  }
  explicit_bzero(chunk, sizeof chunk);
  return NULL;
}

/* Wait for the child until the deadline; returns its wait status or -1. */
static int process_wait(process_run *r, double deadline)
{
  long pause_ms = 1;
  for (;;) {
    int status;
    pid_t w = waitpid(r->pid, &status, WNOHANG);
    if (w == r->pid) {
      r->pid = 0;
      return status;
    }
    if (w < 0 && errno != EINTR)
      return -1;
    if (process_now() >= deadline)
      return -1;
    poll(NULL, 0, (int)pause_ms);
    if (pause_ms < 50)
      pause_ms *= 2;
  }
}

static void process_setfield_buf(lua_State *L, const char *k, const tokrun_buf *b)
{
  lua_pushlstring(L, b->data ? b->data : "", b->len);
  lua_setfield(L, -2, k);
}

/* Spawn, feed and wait; the table of the outcome, or nil, err. */
static int process_exec(lua_State *L, process_run *r, char *const *argv,
                        char *const *envp, const char *in, size_t inlen,
                        size_t max_output, double timeout)
{
  int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  int ok = 1;
  for (int i = 0; ok && i < 3; i++)
    ok = process_pipe(pipes[i]) == 0;
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);   /* a child that stops reading stdin is no crash */
  sigprocmask(SIG_BLOCK, &block, &old);
  spawn_opts so = {.argv = argv, .envp = envp, .deathsig = SIGTERM, .mask = &old,
                   .stdio = {pipes[0][0], pipes[1][1], pipes[2][1]}};
  int exec_failed = 0;
  pid_t pid = ok ? spawn(&so, &exec_failed) : -1;
  int err = errno;
  if (pid > 0)
    r->pid = pid;
  for (int i = 0; i < 3; i++) {   /* keep the parent's ends only */
    r->fds[i] = i ? pipes[i][0] : pipes[i][1];
    process_close_fd(i ? &pipes[i][1] : &pipes[i][0]);
  }

  const char *kind = NULL;
  char msg[256];
  if (exec_failed) {
    int missing = err == ENOENT || err == EACCES || err == ENOTDIR;
    kind = missing ? "not_found" : "spawn";
    snprintf(msg, sizeof msg, "%s %s: %s", missing ? "program not found:" :
             "cannot execute", argv[0], strerror(err));
  } else if (pid < 0) {
    kind = "spawn";
    snprintf(msg, sizeof msg, "cannot start %s: %s", argv[0], strerror(err));
  }

  double deadline = process_now() + timeout;
  int status = -1;
  if (!kind) {
    fcntl(r->fds[0], F_SETFL, O_NONBLOCK);
    if (!in || inlen == 0)
      process_close_fd(&r->fds[0]);
    kind = process_pump(r, in, inlen, max_output, deadline);
    if (!kind && (status = process_wait(r, deadline)) < 0)
      kind = "timeout";
    if (kind && !strcmp(kind, "timeout"))
      snprintf(msg, sizeof msg, "%s timed out after %.3g s", argv[0], timeout);
    else if (kind && !strcmp(kind, "too_large"))
      snprintf(msg, sizeof msg, "%s wrote more than %zu bytes", argv[0], max_output);
    else if (kind)
      snprintf(msg, sizeof msg, "%s: %s", argv[0], strerror(errno));
  }
  for (int i = 0; i < 3; i++)
    process_close_fd(&r->fds[i]);
  process_reap(r, kind != NULL);
  struct timespec zero = {0, 0};
  while (sigtimedwait(&block, NULL, &zero) > 0)   /* drop our own SIGPIPE */
    ;
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (kind)
    return tokrun_fail_kind(L, kind, msg);

  lua_createtable(L, 0, 4);
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  lua_pushinteger(L, sig ? 128 + sig : WEXITSTATUS(status));
  lua_setfield(L, -2, "status");
  if (sig) {
    lua_pushinteger(L, sig);
    lua_setfield(L, -2, "signal");
  }
  process_setfield_buf(L, "stdout", &r->out[0]);
  process_setfield_buf(L, "stderr", &r->out[1]);
  return 1;
}

/* process.run{argv=, timeout=, max_output=, env=, stdin=}: run a program. */
static int process_run_(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_argcheck(L, lua_getfield(L, 1, "argv") == LUA_TTABLE, 1, "argv must be a table");
  char *const *argv = process_argv(L, 2);             /* [opts, argv, vec] */

  lua_getfield(L, 1, "timeout");
  double timeout = luaL_optnumber(L, -1, PROCESS_DEFAULT_TIMEOUT);
  luaL_argcheck(L, timeout > 0 && timeout <= PROCESS_MAX_TIMEOUT, 1,
                "timeout must be a positive number of seconds, at most a day");
  lua_getfield(L, 1, "max_output");
  lua_Integer max_output = luaL_optinteger(L, -1, PROCESS_DEFAULT_MAX_OUTPUT);
  luaL_argcheck(L, max_output >= 0, 1, "max_output must not be negative");
  size_t inlen = 0;
  lua_getfield(L, 1, "stdin");
  luaL_argcheck(L, lua_isnoneornil(L, -1) || lua_type(L, -1) == LUA_TSTRING, 1,
                "stdin must be a string");
  const char *in = lua_tolstring(L, -1, &inlen);
  char *const *envp = NULL;
  int et = lua_getfield(L, 1, "env");
  luaL_argcheck(L, et == LUA_TNIL || et == LUA_TTABLE, 1, "env must be a table");
  if (et == LUA_TTABLE)
    envp = process_env(L, lua_gettop(L));

  process_run *r = lua_newuserdatauv(L, sizeof *r, 0);
  *r = (process_run){.fds = {-1, -1, -1}};
  luaL_setmetatable(L, PROCESS_RUN);
  lua_toclose(L, -1);
  return process_exec(L, r, argv, envp, in, inlen, (size_t)max_output, timeout);
}

/* Waits for the child of process.exec, forwarding SIGINT, SIGTERM and
 * SIGHUP (blocked in set) to its group as a terminal would; after a
 * forwarded signal or the timeout (SIGTERM) the group gets grace seconds
 * before SIGKILL.  Returns the wait status. */
static int process_exec_wait(pid_t pid, const sigset_t *set, double timeout,
                             double grace, int *timed_out, int *interrupted)
{
  double start = process_now(), kill_at = 0;
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid || (w == -1 && errno != EINTR))
      return status;
    double now = process_now();
    if (timeout > 0 && !*timed_out && now - start >= timeout) {
      *timed_out = 1;
      kill(-pid, SIGTERM);
      kill_at = now + grace;
    }
    if (kill_at > 0 && now >= kill_at) {
      kill(-pid, SIGKILL);
      kill_at = now + PROCESS_MAX_TIMEOUT;   /* once */
    }
    double wait = 0.5;
    if (timeout > 0 && !*timed_out && start + timeout - now < wait)
      wait = start + timeout - now;
    if (kill_at > 0 && kill_at - now < wait)
      wait = kill_at - now;
    if (wait < 0.001)
      wait = 0.001;
    struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
    int sig = sigtimedwait(set, NULL, &ts);
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
      *interrupted = sig;
      kill(-pid, sig);
      if (kill_at == 0)
        kill_at = process_now() + grace;
    }
  }
}

/* process.exec{argv=, env=, timeout=, grace=} -> {status=, signal=,
 * timed_out=, interrupted=, exec_error=}.  Runs argv with tokrun's stdio,
 * in its own process group, and waits; env (a map, as for run) replaces
 * the environment.  status is the exit code, 128+N for death by signal N,
 * 127 when argv[0] cannot be run (exec_error says why). */
static int process_exec_(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_argcheck(L, lua_getfield(L, 1, "argv") == LUA_TTABLE, 1, "argv must be a table");
  char *const *argv = process_argv(L, 2);             /* [opts, argv, vec] */
  char *const *envp = NULL;
  int et = lua_getfield(L, 1, "env");
  luaL_argcheck(L, et == LUA_TNIL || et == LUA_TTABLE, 1, "env must be a table");
  if (et == LUA_TTABLE)
    envp = process_env(L, lua_gettop(L));
  lua_getfield(L, 1, "timeout");
  double timeout = luaL_optnumber(L, -1, 0);
  lua_getfield(L, 1, "grace");
  double grace = luaL_optnumber(L, -1, 10);
  luaL_argcheck(L, timeout >= 0 && timeout <= PROCESS_MAX_TIMEOUT && grace >= 0
                && grace <= PROCESS_MAX_TIMEOUT, 1, "timeout and grace must be "
                "non-negative numbers of seconds, at most a day");

  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);
  spawn_opts so = {.argv = argv, .envp = envp, .deathsig = SIGTERM, .mask = &old,
                   .stdio = {-1, -1, -1}};
  int exec_failed = 0, timed_out = 0, interrupted = 0, status = 0;
  pid_t pid = spawn(&so, &exec_failed);
  int err = errno;
  if (pid > 0)
    status = process_exec_wait(pid, &set, timeout, grace, &timed_out, &interrupted);
  struct timespec zero = {0, 0};
  while (sigtimedwait(&set, NULL, &zero) > 0)   /* drop our own SIGCHLD */
    ;
  sigprocmask(SIG_SETMASK, &old, NULL);

  lua_createtable(L, 0, 4);
  if (pid < 0) {
    lua_pushinteger(L, 127);
    lua_setfield(L, -2, "status");
    lua_pushfstring(L, "%s: %s", argv[0], strerror(err));
    lua_setfield(L, -2, "exec_error");
  } else if (WIFSIGNALED(status)) {
    lua_pushinteger(L, 128 + WTERMSIG(status));
    lua_setfield(L, -2, "status");
    lua_pushinteger(L, WTERMSIG(status));
    lua_setfield(L, -2, "signal");
  } else {
    lua_pushinteger(L, WEXITSTATUS(status));
    lua_setfield(L, -2, "status");
  }
  lua_pushboolean(L, timed_out);
  lua_setfield(L, -2, "timed_out");
  if (interrupted) {
    lua_pushinteger(L, interrupted);
    lua_setfield(L, -2, "interrupted");
  }
  return 1;
}

static const luaL_Reg process_run_meta[] = {
  {"__gc", process_run_release},
  {"__close", process_run_release},
  {NULL, NULL}};

static const luaL_Reg process_funcs[] = {
  {"run", process_run_},
  {"exec", process_exec_},
  {NULL, NULL}};

/* The module table; the run userdata's metatable is created once per state. */
int luaopen_tokrun_process(lua_State *L)
{
  tokrun_newclass(L, PROCESS_RUN, process_run_meta, NULL);
  luaL_newlib(L, process_funcs);
  return 1;
}
