/*
 * tokrun.sys: the operating-system primitives lualib needs and Lua's own
 * os/io libraries lack.  The process: clocks, the environment as a table,
 * random bytes, and its bounds (the Lua heap, the deadline watchdog).
 * Files: lstat, reading a regular file whole, atomic replacement, flock,
 * directory listing.  (Signals are tokrun.signal; programs are started by
 * tokrun.process.)  Expected failures return nil, "path: message", errno.
 */
#define _GNU_SOURCE   /* mkostemp, O_TMPFILE */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "buf.h"
#include "tokrun.h"

extern char **environ;

#define SYS_LOCK "tokrun.sys.lock"
#define SYS_BUF "tokrun.sys.buf"

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

#define SYS_RANDOM_MAX 1024

/* sys.random(n) -> n bytes from the kernel's CSPRNG (getrandom), 1 <= n <= 1024 */
static int sys_random(lua_State *L)
{
  lua_Integer n = luaL_checkinteger(L, 1);
  unsigned char buf[SYS_RANDOM_MAX];
  luaL_argcheck(L, n >= 1 && n <= SYS_RANDOM_MAX, 1, "must be between 1 and 1024");
  size_t got = 0;
  while (got < (size_t)n) {
    ssize_t r = getrandom(buf + got, (size_t)n - got, 0);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0) {
      explicit_bzero(buf, sizeof buf);
      return luaL_error(L, "getrandom: %s", strerror(errno));
    }
    got += (size_t)r;
  }
  lua_pushlstring(L, (const char *)buf, (size_t)n);
  explicit_bzero(buf, (size_t)n);
  return 1;
}

/* The deadline watchdog: a POSIX timer on CLOCK_MONOTONIC whose SIGALRM
 * handler writes the line formatted when it was armed and ends the process
 * with 69.  It stops work the count hook cannot (a C function that never
 * returns to Lua: a pathological pattern, table.move over 10^15 slots).
 * One process, one deadline: the state is process-wide by nature. */
#define SYS_WATCHDOG_EXIT 69
static timer_t watchdog_timer;
static int watchdog_made;
static char watchdog_line[512];
static volatile sig_atomic_t watchdog_len;

static void watchdog_fire(int sig)
{
  (void)sig;
  ssize_t w = write(2, watchdog_line, (size_t)watchdog_len);
  (void)w;
  _exit(SYS_WATCHDOG_EXIT);
}

/* sys.watchdog(seconds [, what]) arms the watchdog: once seconds have
 * passed, plus a second of grace for the run to stop on its own, it writes
 * "tokrun: WHAT: still running after the deadline (--timeout)" to stderr
 * and exits 69, whatever the process is doing.  sys.watchdog(nil) disarms
 * it; arming again moves the deadline.  Never armed, it never fires. */
static int sys_watchdog(lua_State *L)
{
  struct itimerspec when = {{0, 0}, {0, 0}};
  if (!lua_isnoneornil(L, 1)) {
    lua_Number s = luaL_checknumber(L, 1);
    const char *what = luaL_optstring(L, 2, "the run");
    luaL_argcheck(L, s >= 0 && s <= 86400 * 365, 1, "must be between 0 and a year of seconds");
    if (!watchdog_made) {
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_handler = watchdog_fire;
      sigemptyset(&sa.sa_mask);
      struct sigevent ev;
      memset(&ev, 0, sizeof ev);
      ev.sigev_notify = SIGEV_SIGNAL;
      ev.sigev_signo = SIGALRM;
      if (sigaction(SIGALRM, &sa, NULL) == -1
          || timer_create(CLOCK_MONOTONIC, &ev, &watchdog_timer) == -1)
        return luaL_error(L, "cannot arm the watchdog: %s", strerror(errno));
      watchdog_made = 1;
    }
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, NULL);   /* the line changes under no handler */
    int n = snprintf(watchdog_line, sizeof watchdog_line,
                     "tokrun: %s: still running after the deadline (--timeout)\n", what);
    if (n < 0 || (size_t)n >= sizeof watchdog_line)
      n = (int)strlen(watchdog_line);
    watchdog_len = n;
    sigprocmask(SIG_UNBLOCK, &alrm, NULL);
    s += 1;   /* the grace second */
    when.it_value.tv_sec = (time_t)s;
    when.it_value.tv_nsec = (long)((s - (lua_Number)(time_t)s) * 1e9);
  }
  if (watchdog_made && timer_settime(watchdog_timer, 0, &when, NULL) == -1)
    return luaL_error(L, "cannot arm the watchdog: %s", strerror(errno));
  return 0;
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

static const char *file_type(mode_t m)
{
  return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
       : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : "not a file";
}

/* sys.read_file(path, max [, nofollow]) -> data, stat | fail.  Reads a
 * regular file whole.  The open never blocks (O_NONBLOCK: a FIFO with no
 * writer, a device) and the type is checked on the open descriptor, so
 * anything but a regular file is refused with "path: is a FIFO, not a
 * regular file" (errno EINVAL) before a byte is read; with nofollow a
 * symlink is refused too (O_NOFOLLOW).  What is checked is what is read. */
static int sys_read_file(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  lua_Integer max = luaL_checkinteger(L, 2);
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY
              | (lua_toboolean(L, 3) ? O_NOFOLLOW : 0);
  struct stat st;
  int fd = open(path, flags);
  if (fd == -1)
    return sys_fail(L, path);
  if (fstat(fd, &st) == -1) {
    int e = errno;
    close(fd);
    errno = e;
    return sys_fail(L, path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: is %s, not a regular file", path, file_type(st.st_mode));
    lua_pushinteger(L, EINVAL);
    return 3;
  }
  if (st.st_size > max) {
    close(fd);
    errno = EFBIG;
    return sys_fail(L, path);
  }
  fcntl(fd, F_SETFL, 0);   /* a regular file: plain blocking reads */
  /* the bytes may be secrets (an env file, a VAR_FILE): read into a
   * buffer that is wiped however this ends (to-be-closed) */
  tokrun_buf *b = lua_newuserdatauv(L, sizeof *b, 0);
  *b = (tokrun_buf){NULL, 0, 0};
  luaL_setmetatable(L, SYS_BUF);
  lua_toclose(L, -1);
  size_t initial = (size_t)st.st_size + 1;
  for (;;) {
    if (buf_reserve(b, 4096, initial) == -1) {
      close(fd);
      errno = ENOMEM;
      return sys_fail(L, path);
    }
    ssize_t n = read(fd, b->data + b->len, b->cap - b->len);
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
    b->len += (size_t)n;
    if (b->len > (size_t)max) {
      close(fd);
      errno = EFBIG;
      return sys_fail(L, path);
    }
  }
  lua_pushlstring(L, b->data ? b->data : "", b->len);
  push_stat(L, &st);
  return 2;
}

static int sys_buf_release(lua_State *L)
{
  buf_free(luaL_checkudata(L, 1, SYS_BUF));
  return 0;
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

/* [.., path] -> [.., path, target]: where write_atomic writes for path.
 * path itself, unless it is a symlink: then the file it points to, if
 * that lies in a directory owned by the user (else EPERM, "a symlink
 * into a directory you do not own"; a link to a link is refused too, as
 * is a directory).  0, or -1 with errno and a message pushed instead. */
static int atomic_target(lua_State *L, const char *path)
{
  struct stat st;
  if (lstat(path, &st) == -1 || !S_ISLNK(st.st_mode)) {
    lua_pushstring(L, path);
    return 0;
  }
  char link[PATH_MAX], dir[PATH_MAX];
  ssize_t n = readlink(path, link, sizeof link - 1);
  if (n <= 0) {
    lua_pushfstring(L, "%s: %s", path, strerror(n == 0 ? EINVAL : errno));
    return -1;
  }
  link[n] = '\0';
  const char *slash = strrchr(path, '/');
  if (link[0] == '/' || slash == NULL)
    lua_pushstring(L, link);
  else
    lua_pushfstring(L, "%s/%s", lua_pushlstring(L, path, (size_t)(slash - path + 1)), link);
  const char *target = lua_tostring(L, -1);   /* [.., (dir,) target] */
  const char *base = strrchr(target, '/');
  lua_pushlstring(L, target, base ? (base == target ? 1 : (size_t)(base - target)) : 1);
  const char *tdir = base ? lua_tostring(L, -1) : ".";
  struct stat dst;
  if (realpath(tdir, dir) == NULL || stat(dir, &dst) == -1) {
    lua_pushfstring(L, "%s: the directory its link points into: %s", path, strerror(errno));
    return -1;
  }
  if (dst.st_uid != geteuid()) {
    errno = EPERM;
    lua_pushfstring(L, "%s: is a symlink into a directory you do not own (%s); "
                    "write to the file itself", path, dir);
    return -1;
  }
  const char *final = lua_pushfstring(L, "%s/%s", strcmp(dir, "/") ? dir : "", base ? base + 1 : target);
  if (lstat(final, &st) == 0 && (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode))) {
    errno = EPERM;
    lua_pushfstring(L, "%s: is a symlink to %s", path, S_ISLNK(st.st_mode)
                    ? "another symlink" : "a directory");
    return -1;
  }
  return 0;
}

/* An unnamed file in dir (O_TMPFILE), or -1 when the filesystem has none. */
static int atomic_open_unnamed(const char *dir)
{
#ifdef O_TMPFILE
  return open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
#else
  (void)dir;
  errno = EOPNOTSUPP;
  return -1;
#endif
}

/* Gives the unnamed file fd a name in dir: tmp ("dir/.tokrun-XXXXXX"),
 * through /proc/self/fd.  0 or -1 with errno. */
static int atomic_link(int fd, char *tmp, size_t dirlen)
{
  static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  for (int tries = 0; tries < 100; tries++) {
    unsigned char r[6];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
      return -1;
    for (int i = 0; i < 6; i++)
      tmp[dirlen + 9 + i] = alnum[r[i] % (sizeof alnum - 1)];
    if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0)
      return 0;
    if (errno != EEXIST)
      return -1;
  }
  return -1;
}

/* sys.write_atomic(path, data [, mode]) -> true | fail.  Writes the data to
 * an unnamed file beside path (O_TMPFILE; where the filesystem has none, a
 * mkstemp file ".tokrun-XXXXXX"), fsyncs it, names it and renames it over
 * path, and fsyncs the directory: readers see the old file or the new one,
 * never a mix, and a kill while writing leaves nothing behind.  An existing
 * file keeps its group and loses any permission for others; a new file
 * gets mode (default 0600).  A symlink as path is written through only
 * when it points into a directory the user owns (see atomic_target). */
static int sys_write_atomic(lua_State *L)
{
  size_t len;
  const char *arg = luaL_checkstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  mode_t mode = (mode_t)luaL_optinteger(L, 3, 0600);
  lua_settop(L, 3);
  if (atomic_target(L, arg) == -1) {
    int e = errno;
    luaL_pushfail(L);
    lua_insert(L, -2);
    lua_pushinteger(L, e);
    return 3;
  }
  const char *path = lua_tostring(L, -1);
  const char *slash = strrchr(path, '/');
  const char *dir = slash ? lua_pushlstring(L, path, slash == path ? 1 : (size_t)(slash - path))
                          : lua_pushliteral(L, ".");
  size_t dirlen = strlen(dir);
  char *tmp = (char *)lua_newuserdatauv(L, dirlen + 32, 0);
  snprintf(tmp, dirlen + 32, "%s/.tokrun-XXXXXX", dir);

  struct stat old;
  int have_old = stat(path, &old) == 0;
  /* SIGINT/TERM/HUP wait until the temporary file is renamed or removed */
  sigset_t term, saved;
  sigemptyset(&term);
  sigaddset(&term, SIGINT);
  sigaddset(&term, SIGTERM);
  sigaddset(&term, SIGHUP);
  sigprocmask(SIG_BLOCK, &term, &saved);
  int named = 0;
  int fd = atomic_open_unnamed(dir);
  if (fd == -1 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    fd = mkostemp(tmp, O_CLOEXEC);
    named = 1;
  }
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
  int ok = fchmod(fd, mode) == 0 && write_all(fd, data, len) == 0 && fsync(fd) == 0;
  if (ok && !named) {
    ok = atomic_link(fd, tmp, dirlen) == 0;
    named = ok;
  }
  ok = close(fd) == 0 && ok;
  ok = ok && rename(tmp, path) == 0;
  if (!ok) {
    int e = errno;
    if (named)
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

static const luaL_Reg lock_methods[] = {
  {"unlock", lock_release},
  {NULL, NULL}};

static const luaL_Reg lock_meta[] = {
  {"__gc", lock_release},
  {"__close", lock_release},
  {NULL, NULL}};

static const luaL_Reg buf_meta[] = {
  {"__gc", sys_buf_release},
  {"__close", sys_buf_release},
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
  {"random", sys_random},
  {"watchdog", sys_watchdog},
  {"lstat", sys_lstat},
  {"mkdir", sys_mkdir},
  {"realpath", sys_realpath},
  {"readdir", sys_readdir},
  {"read_file", sys_read_file},
  {"write_atomic", sys_write_atomic},
  {"lock", sys_lock_acquire},
  {NULL, NULL}};

int luaopen_tokrun_sys(lua_State *L)
{
  tokrun_newclass(L, SYS_LOCK, lock_meta, lock_methods);
  tokrun_newclass(L, SYS_BUF, buf_meta, NULL);
  luaL_newlib(L, sys_funcs);
  return 1;
}
