/* The one spawner: see spawn.h. */
#define _GNU_SOURCE   /* execvpe, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "spawn.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC 4
#endif

/* Never returns.  Only async-signal-safe calls.  A failure's errno goes to
 * the parent through errfd, which is close-on-exec: a successful exec
 * closes it and the parent reads EOF. */
static void spawn_child(const spawn_opts *o, int errfd, pid_t parent)
{
  setpgid(0, 0);
  if (o->deathsig) {
    prctl(PR_SET_PDEATHSIG, o->deathsig);
    if (getppid() != parent)   /* tokrun died before the prctl */
      _exit(127);
  }
  signal(SIGPIPE, SIG_DFL);
  if (o->mask)
    sigprocmask(SIG_SETMASK, o->mask, NULL);
  int ok = 1;
  for (int i = 0; ok && i < 3; i++)
    if (o->stdio[i] >= 0)
      ok = dup2(o->stdio[i], i) == i;
  if (ok) {
    /* tokrun's own descriptors (the cache lock, files, sockets) stay
     * behind: all close on exec (one call since Linux 5.11) */
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) == -1) {
      struct rlimit rl;
      int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536
                ? (int)rl.rlim_cur : 65536;
      for (int fd = 3; fd < max; fd++)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    if (o->envp)
      execvpe(o->argv[0], o->argv, o->envp);
    else
      execvp(o->argv[0], o->argv);
  }
  int err = errno;
  ssize_t w = write(errfd, &err, sizeof err);
  (void)w;
  _exit(127);
}

pid_t spawn(const spawn_opts *o, int *exec_failed)
{
  int errp[2];
  *exec_failed = 0;
  if (pipe2(errp, O_CLOEXEC) == -1)
    return -1;
  /* above stderr, so the child's dup2 onto 0-2 cannot clobber it */
  if (errp[1] <= 2) {
    int fd = fcntl(errp[1], F_DUPFD_CLOEXEC, 3);
    close(errp[1]);
    errp[1] = fd;
    if (fd == -1) {
      int e = errno;
      close(errp[0]);
      errno = e;
      return -1;
    }
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0)
    spawn_child(o, errp[1], parent);
  int e = errno;
  close(errp[1]);
  if (pid == -1) {
    close(errp[0]);
    errno = e;
    return -1;
  }
  setpgid(pid, pid);   /* also here, so the group exists before any kill */
  int err = 0;
  ssize_t n;
  while ((n = read(errp[0], &err, sizeof err)) == -1 && errno == EINTR)
    ;
  close(errp[0]);
  if (n == (ssize_t)sizeof err) {
    while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
      ;
    *exec_failed = 1;
    errno = err;
    return -1;
  }
  return pid;
}
