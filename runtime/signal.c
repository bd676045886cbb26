/*
 * tokrun.signal: termination signals deferred while a run holds something
 * it must give back (a lease), then read by lualib at a safe point.  The
 * handler only records the signal; lualib decides what happens next.
 */
#include <signal.h>
#include <string.h>

#include "tokrun.h"

/* The termination signal caught while signal.defer(true) is in force.  A
 * signal handler can only reach a global; this is process-wide by nature. */
static volatile sig_atomic_t signal_caught;

static void signal_record(int sig)
{
  signal_caught = sig;
}

/* signal.defer(on): while on, SIGINT, SIGTERM and SIGHUP are recorded
 * instead of ending the process, so a run that holds a lease can release
 * it first; off restores the default actions. */
static int signal_defer(lua_State *L)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = lua_toboolean(L, 1) ? signal_record : SIG_DFL;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  return 0;
}

/* signal.caught() -> the signal number recorded while deferred, or nil */
static int signal_caught_(lua_State *L)
{
  if (signal_caught == 0)
    return 0;
  lua_pushinteger(L, signal_caught);
  return 1;
}

static const luaL_Reg signal_funcs[] = {
  {"defer", signal_defer},
  {"caught", signal_caught_},
  {NULL, NULL}};

/* require "tokrun.signal" */
int luaopen_tokrun_signal(lua_State *L)
{
  luaL_newlib(L, signal_funcs);
  return 1;
}
