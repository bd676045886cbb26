/*
 * tokrun.sys: the operating-system primitives lualib needs and Lua's own
 * os/io libraries lack: a clock in milliseconds, the environment as a table,
 * lstat/fstat checks, atomic file replacement, flock, directory listing and
 * the Lua heap bound.  Expected failures return nil, "path: strerror", errno.
 */
#define _GNU_SOURCE   /* mkostemp */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "tokrun.h"

extern char **environ;

#define SYS_LOCK "tokrun.sys.lock"

static int sys_fail(lua_State *L, const char *what)
{
  int e = errno;
  luaL_pushfail(L);
  lua_pushfstring(L, "%s: %s", what, strerror(e));
  lua_pushinteger(L, e);
  return 3;
}

/* sys.paths() -> {exe=, luadir=, recipedir=, moddir=, version=} (a copy) */
static int sys_paths(lua_State *L)
{
  lua_newtable(L);
  lua_getfield(L, LUA_REGISTRYINDEX, TOKRUN_PATHS);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_settable(L, -5);
  }
  lua_pop(L, 1);
  return 1;
}

/* sys.now_ms() -> wall-clock milliseconds since the epoch */
static int sys_now_ms(lua_State *L)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
  return 1;
}

/* sys.monotonic() -> seconds (float) on a clock that never jumps */
static int sys_monotonic(lua_State *L)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

/* sys.sleep(seconds) */
static int sys_sleep(lua_State *L)
{
  lua_Number s = luaL_checknumber(L, 1);
  if (s <= 0)
    return 0;
  struct timespec ts = {(time_t)s, (long)((s - (lua_Number)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
    ;
  return 0;
}

/* sys.environ() -> {NAME = value, ...} */
static int sys_environ(lua_State *L)
{
  lua_newtable(L);
  for (char **e = environ; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    if (eq == NULL)
      continue;
    lua_pushlstring(L, *e, (size_t)(eq - *e));
    lua_pushstring(L, eq + 1);
    lua_settable(L, -3);
  }
  return 1;
}

/* sys.setenv(name, value | nil) */
static int sys_setenv(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  const char *value = luaL_optstring(L, 2, NULL);
  if ((value ? setenv(name, value, 1) : unsetenv(name)) == -1)
    return sys_fail(L, name);
  lua_pushboolean(L, 1);
  return 1;
}

/* sys.set_memory_limit(bytes): bound this state's heap (0: no bound) */
static int sys_set_memory_limit(lua_State *L)
{
  lua_Integer n = luaL_checkinteger(L, 1);
  void *ud;
  luaL_argcheck(L, n >= 0, 1, "negative limit");
  lua_getallocf(L, &ud);
  ((tokrun_heap *)ud)->limit = (size_t)n;
  return 0;
}

/* sys.memory_used() -> bytes held by this state's heap */
static int sys_memory_used(lua_State *L)
{
  void *ud;
  lua_getallocf(L, &ud);
  lua_pushinteger(L, (lua_Integer)((tokrun_heap *)ud)->used);
  return 1;
}

/* sys.geteuid() -> uid */
static int sys_geteuid(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)geteuid());
  return 1;
}

static void push_stat(lua_State *L, const struct stat *st)
{
  const char *type = S_ISREG(st->st_mode) ? "file"
                   : S_ISDIR(st->st_mode) ? "dir"
                   : S_ISLNK(st->st_mode) ? "link" : "other";
  lua_createtable(L, 0, 6);
  lua_pushstring(L, type);
  lua_setfield(L, -2, "type");
  lua_pushinteger(L, (lua_Integer)(st->st_mode & 07777));
  lua_setfield(L, -2, "mode");
  lua_pushinteger(L, (lua_Integer)st->st_uid);
  lua_setfield(L, -2, "uid");
  lua_pushinteger(L, (lua_Integer)st->st_gid);
  lua_setfield(L, -2, "gid");
  lua_pushinteger(L, (lua_Integer)st->st_size);
  lua_setfield(L, -2, "size");
  lua_pushinteger(L, (lua_Integer)st->st_mtime);
  lua_setfield(L, -2, "mtime");
}

/* sys.lstat(path) -> {type=, mode=, uid=, gid=, size=, mtime=} | fail */
static int sys_lstat(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (lstat(path, &st) == -1)
    return sys_fail(L, path);
  push_stat(L, &st);
  return 1;
}

/* sys.mkdir(path, mode) -> true | fail */
static int sys_mkdir(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  mode_t mode = (mode_t)luaL_optinteger(L, 2, 0700);
  if (mkdir(path, mode) == -1)
    return sys_fail(L, path);
  lua_pushboolean(L, 1);
  return 1;
}

/* sys.realpath(path) -> canonical absolute path | fail */
static int sys_realpath(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  char buf[PATH_MAX];
  if (realpath(path, buf) == NULL)
    return sys_fail(L, path);
  lua_pushstring(L, buf);
  return 1;
}

/* sys.readdir(path) -> array of entry names in directory order (no . and ..) | fail */
static int sys_readdir(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  lua_newtable(L);
  DIR *dir = opendir(path);
  if (dir == NULL)
    return sys_fail(L, path);
  struct dirent *de;
  int n = 0;
  while ((de = readdir(dir)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    lua_pushstring(L, de->d_name);   /* can raise on OOM: dir leaks, rare */
    lua_rawseti(L, -2, ++n);
  }
  closedir(dir);
  return 1;
}

/* sys.read_file(path, max [, nofollow]) -> data, stat | fail.  Reads a
 * regular file whole; with nofollow a symlink is refused (O_NOFOLLOW) and
 * the stat comes from the open descriptor, so what is checked is what is
 * read. */
static int sys_read_file(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  lua_Integer max = luaL_checkinteger(L, 2);
  int flags = O_RDONLY | O_CLOEXEC | (lua_toboolean(L, 3) ? O_NOFOLLOW : 0);
  struct stat st;
  int fd = open(path, flags);
  if (fd == -1)
    return sys_fail(L, path);
  if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size > max) {
    int e = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
    close(fd);
    errno = e;
    return sys_fail(L, path);
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (;;) {
    char *p = luaL_prepbuffer(&b);
    ssize_t n = read(fd, p, LUAL_BUFFERSIZE);
    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = errno;
      close(fd);
      if (n == -1) {
        errno = e;
        return sys_fail(L, path);
      }
      break;
    }
    luaL_addsize(&b, (size_t)n);
    if ((lua_Integer)luaL_bufflen(&b) > max) {
      close(fd);
      errno = EFBIG;
      return sys_fail(L, path);
    }
  }
  luaL_pushresult(&b);
  push_stat(L, &st);
  return 2;
}

static int write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w == -1 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* sys.write_atomic(path, data [, mode]) -> true | fail.  Writes a mkstemp
 * file beside path, fsyncs it, renames it over path and fsyncs the
 * directory: readers see the old file or the new one, never a mix.  An
 * existing file keeps its group and loses any permission for others; a new
 * file gets mode (default 0600). */
static int sys_write_atomic(lua_State *L)
{
  size_t len;
  const char *path = luaL_checkstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  mode_t mode = (mode_t)luaL_optinteger(L, 3, 0600);
  const char *slash = strrchr(path, '/');
  const char *dir = slash ? lua_pushlstring(L, path, slash == path ? 1 : (size_t)(slash - path))
                          : lua_pushliteral(L, ".");
  char *tmp = (char *)lua_newuserdatauv(L, strlen(dir) + 32, 0);
  sprintf(tmp, "%s/.tokrun-XXXXXX", dir);

  struct stat old;
  int have_old = stat(path, &old) == 0;
  /* SIGINT/TERM/HUP wait until the temporary file is renamed or removed */
  sigset_t term, saved;
  sigemptyset(&term);
  sigaddset(&term, SIGINT);
  sigaddset(&term, SIGTERM);
  sigaddset(&term, SIGHUP);
  sigprocmask(SIG_BLOCK, &term, &saved);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd == -1) {
    int e = errno;
    sigprocmask(SIG_SETMASK, &saved, NULL);
    errno = e;
    return sys_fail(L, path);
  }
  if (have_old) {
    mode = old.st_mode & 0770;
    if (fchown(fd, (uid_t)-1, old.st_gid) == -1)
      mode &= 0700;   /* not our group to give: keep it to ourselves */
  }
  if (fchmod(fd, mode) == -1 || write_all(fd, data, len) == -1 || fsync(fd) == -1) {
    int e = errno;
    close(fd);
    unlink(tmp);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    errno = e;
    return sys_fail(L, path);
  }
  if (close(fd) == -1 || rename(tmp, path) == -1) {
    int e = errno;
    unlink(tmp);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    errno = e;
    return sys_fail(L, path);
  }
  sigprocmask(SIG_SETMASK, &saved, NULL);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd != -1) {
    fsync(dfd);
    close(dfd);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* The termination signal caught while sys.defer_signals() is in force.  A
 * signal handler can only reach a global; this is process-wide by nature. */
static volatile sig_atomic_t deferred_signal;

static void defer_handler(int sig)
{
  deferred_signal = sig;
}

/* sys.defer_signals(on) -- while on, SIGINT, SIGTERM and SIGHUP are
 * recorded instead of ending the process, so a run that holds a lease can
 * release it first; off restores the default actions. */
static int sys_defer_signals(lua_State *L)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = lua_toboolean(L, 1) ? defer_handler : SIG_DFL;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  return 0;
}

/* sys.caught_signal() -> the signal number recorded while deferred, or nil */
static int sys_caught_signal(lua_State *L)
{
  if (deferred_signal == 0)
    return 0;
  lua_pushinteger(L, deferred_signal);
  return 1;
}

/* A held flock: the descriptor, -1 once released. */
typedef struct sys_lock {
  int fd;
} sys_lock;

static int lock_release(lua_State *L)
{
  sys_lock *lk = luaL_checkudata(L, 1, SYS_LOCK);
  if (lk->fd != -1) {
    flock(lk->fd, LOCK_UN);
    close(lk->fd);
    lk->fd = -1;
  }
  return 0;
}

/* sys.lock(path, timeout) -> lock | fail.  An exclusive flock on path
 * (created 0600, never through a symlink), waiting at most timeout seconds;
 * errno EWOULDBLOCK when the wait ran out.  lock:unlock() or __close /
 * __gc releases it. */
static int sys_lock_acquire(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  lua_Number timeout = luaL_optnumber(L, 2, 0);
  sys_lock *lk = lua_newuserdatauv(L, sizeof *lk, 0);
  lk->fd = -1;
  luaL_setmetatable(L, SYS_LOCK);

  int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd == -1)
    return sys_fail(L, path);
  lk->fd = fd;
  struct timespec start, now;
  long nap_ns = 1000 * 1000;   /* 1 ms, doubling to 16 ms: a short wait stays short */
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
    if (errno != EWOULDBLOCK && errno != EINTR)
      return sys_fail(L, path);
    clock_gettime(CLOCK_MONOTONIC, &now);
    double waited = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
    if (waited >= timeout) {
      errno = EWOULDBLOCK;
      return sys_fail(L, path);
    }
    struct timespec nap = {0, nap_ns};
    nanosleep(&nap, NULL);
    if (nap_ns < 16 * 1000 * 1000)
      nap_ns *= 2;
  }
  return 1;
}

static double mono_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Builds a NULL-terminated char* array from the Lua array at idx, in a
 * userdata (freed by the GC, so a raise leaks nothing). */
static char **string_vector(lua_State *L, int idx, const char *what)
{
  lua_Integer n = luaL_len(L, idx);
  char **v = lua_newuserdatauv(L, sizeof(char *) * (size_t)(n + 1), 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, idx, i);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "%s[%d] must be a string", what, (int)i);
    v[i - 1] = (char *)lua_tostring(L, -1);
    lua_pop(L, 1);   /* still referenced from the table at idx */
  }
  v[n] = NULL;
  return v;
}

/* sys.exec_child{argv=, env=, timeout=, grace=} -> {status=, signal=,
 * timed_out=, interrupted=} | fail.
 * Runs argv with stdio inherited, in its own process group, and waits.
 * SIGINT, SIGTERM and SIGHUP sent to tokrun are forwarded to the child's
 * process group (as a terminal would);
 * after a forwarded signal or the timeout (SIGTERM), the child gets `grace`
 * seconds before its whole process group is killed.  status is the exit
 * code, 128+N for death by signal N, 127 when argv[0] cannot be run. */
static int sys_exec_child(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "argv");
  luaL_argcheck(L, lua_istable(L, -1) && luaL_len(L, -1) > 0, 1, "argv must be a non-empty list");
  char **argv = string_vector(L, lua_gettop(L), "argv");
  lua_getfield(L, 1, "env");
  luaL_argcheck(L, lua_istable(L, -1), 1, "env must be a list of NAME=VALUE strings");
  char **envp = string_vector(L, lua_gettop(L), "env");
  lua_getfield(L, 1, "timeout");
  double timeout = luaL_optnumber(L, -1, 0);
  lua_getfield(L, 1, "grace");
  double grace = luaL_optnumber(L, -1, 10);

  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);

  int report[2];
  if (pipe2(report, O_CLOEXEC) == -1) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    return sys_fail(L, "pipe");
  }
  pid_t pid = fork();
  if (pid == -1) {
    int e = errno;
    close(report[0]);
    close(report[1]);
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return sys_fail(L, "fork");
  }
  if (pid == 0) {
    setpgid(0, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* tokrun's own descriptors (the cache lock, files) stay behind */
    syscall(SYS_close_range, 3, ~0U, 0x4 /* CLOSE_RANGE_CLOEXEC */);
    execvpe(argv[0], argv, envp);
    int e = errno;
    ssize_t w = write(report[1], &e, sizeof e);
    (void)w;
    _exit(127);
  }
  setpgid(pid, pid);
  close(report[1]);
  int exec_errno = 0;
  ssize_t got;
  while ((got = read(report[0], &exec_errno, sizeof exec_errno)) == -1 && errno == EINTR)
    ;
  close(report[0]);

  double start = mono_now(), kill_at = 0;
  int status = 0, timed_out = 0, interrupted = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid)
      break;
    double now = mono_now();
    if (timeout > 0 && !timed_out && now - start >= timeout) {
      timed_out = 1;
      kill(-pid, SIGTERM);
      kill_at = now + grace;
    }
    if (kill_at > 0 && now >= kill_at) {
      kill(-pid, SIGKILL);
      kill_at = now + 3600;   /* once */
    }
    double wait = 0.5;
    if (timeout > 0 && !timed_out && start + timeout - now < wait)
      wait = start + timeout - now;
    if (kill_at > 0 && kill_at - now < wait)
      wait = kill_at - now;
    if (wait < 0.001)
      wait = 0.001;
    struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
    int sig = sigtimedwait(&set, NULL, &ts);
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
      interrupted = sig;
      kill(-pid, sig);
      if (kill_at == 0)
        kill_at = mono_now() + grace;
    }
  }
  sigprocmask(SIG_SETMASK, &old, NULL);

  lua_createtable(L, 0, 4);
  if (got == (ssize_t)sizeof exec_errno) {
    lua_pushinteger(L, 127);
    lua_setfield(L, -2, "status");
    lua_pushfstring(L, "%s: %s", argv[0], strerror(exec_errno));
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

static const luaL_Reg lock_methods[] = {
  {"unlock", lock_release},
  {NULL, NULL}};

static const luaL_Reg lock_meta[] = {
  {"__gc", lock_release},
  {"__close", lock_release},
  {"__index", NULL},
  {NULL, NULL}};

static const luaL_Reg sys_funcs[] = {
  {"paths", sys_paths},
  {"now_ms", sys_now_ms},
  {"monotonic", sys_monotonic},
  {"sleep", sys_sleep},
  {"environ", sys_environ},
  {"setenv", sys_setenv},
  {"set_memory_limit", sys_set_memory_limit},
  {"memory_used", sys_memory_used},
  {"geteuid", sys_geteuid},
  {"lstat", sys_lstat},
  {"mkdir", sys_mkdir},
  {"realpath", sys_realpath},
  {"readdir", sys_readdir},
  {"read_file", sys_read_file},
  {"write_atomic", sys_write_atomic},
  {"lock", sys_lock_acquire},
  {"exec_child", sys_exec_child},
  {"defer_signals", sys_defer_signals},
  {"caught_signal", sys_caught_signal},
  {NULL, NULL}};

int luaopen_tokrun_sys(lua_State *L)
{
  luaL_newmetatable(L, SYS_LOCK);
  luaL_setfuncs(L, lock_meta, 0);
  luaL_newlib(L, lock_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, sys_funcs);
  return 1;
}
