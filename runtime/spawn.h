/*
 * The one way tokrun starts a program: fork, then exec argv directly (no
 * shell) in the child, which leads its own process group, gets a signal
 * when tokrun dies (PR_SET_PDEATHSIG) and inherits no descriptor of
 * tokrun's but the three it is given.  Used by process.run (pipes) and
 * process.exec (tokrun's own stdio).  Pure C, no Lua.
 */
#ifndef TOKRUN_SPAWN_H
#define TOKRUN_SPAWN_H

#include <signal.h>
#include <sys/types.h>

typedef struct spawn_opts {
  char *const *argv;       /* argv[0] is looked up on PATH */
  char *const *envp;       /* NULL: tokrun's environment */
  int stdio[3];            /* the child's 0, 1, 2; -1: tokrun's own */
  int deathsig;            /* sent to the child when tokrun dies; 0: none */
  const sigset_t *mask;    /* the child's signal mask; NULL: tokrun's */
} spawn_opts;

/* The child's pid, or -1 with errno set: fork failed, or the child could
 * not exec argv[0] (then *exec_failed is 1; the child is already reaped). */
pid_t spawn(const spawn_opts *o, int *exec_failed);

#endif
