/*
 * tokrun: the host.  Creates a Lua state, preloads the native modules, puts
 * lualib/ on package.path and hands the command line to tokrun.cli (or, for
 * `tokrun lua SCRIPT`, runs the script), all under a message handler that
 * adds a traceback.  Policy lives in Lua; this file is mechanism.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <lualib.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>   /* RUNNING_ON_VALGRIND: see host_teardown */
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "embedded.h"
#include "tokrun.h"

#define EXIT_SOFTWARE 70   /* sysexits.h EX_SOFTWARE: internal error */

static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  tokrun_heap *heap = ud;
  size_t old = ptr ? osize : 0;

  if (nsize == 0) {
    free(ptr);
    heap->used -= old;
    return NULL;
  }
  if (heap->limit && nsize > old && heap->used + (nsize - old) > heap->limit)
    return NULL;
  void *p = realloc(ptr, nsize);
  if (p)
    heap->used = heap->used - old + nsize;
  return p;
}

static int host_panic(lua_State *L)
{
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "tokrun: unprotected Lua error: %s\n", msg ? msg : "?");
  return 0;
}

/* Message handler: the error with a traceback (non-strings kept as they are,
 * so tokrun.cli can raise structured errors). */
static int host_traceback(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL && !lua_isnoneornil(L, 1) && !lua_istable(L, 1)) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  if (msg == NULL)
    return 1;
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* package.preload["tokrun.http"] and ["tokrun.redis"]: the modules that
 * link libcurl, hiredis and libssl, loaded on first use so runs that never
 * need them (a file-cache hit) never map those libraries.  RTLD_LAZY: they
 * bind only the functions a run calls.  The handle is never closed: each
 * module stays for the process's life (it pins itself, see http.c). */
static int host_load_module(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1) + sizeof "tokrun." - 1;   /* "http", "redis" */
  lua_getfield(L, LUA_REGISTRYINDEX, TOKRUN_PATHS);
  lua_getfield(L, -1, "moddir");
  const char *path = lua_pushfstring(L, "%s/tokrun/%s.so", lua_tostring(L, -1), name);
  const char *sym = lua_pushfstring(L, "luaopen_tokrun_%s", name);
  void *lib = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
  lua_CFunction open = lib ? (lua_CFunction)dlsym(lib, sym) : NULL;
  if (open == NULL)
    return luaL_error(L, "cannot load the %s module: %s", name, dlerror());
  lua_pushcfunction(L, open);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

static int file_exists(const char *path)
{
  return access(path, F_OK) == 0;
}

/* [paths] Fill the registry's path table.  A build tree (marked by CMake with
 * tokrun-build-tree) uses the source's lualib/ and recipes/; an installed
 * binary uses PREFIX/share/tokrun next to its bin/. */
static void host_paths(lua_State *L)
{
  char exe[PATH_MAX], buf[PATH_MAX + 64];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    n = 0;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  size_t dirlen = slash ? (size_t)(slash - exe) : 0;

  lua_createtable(L, 0, 5);
  lua_pushstring(L, exe);
  lua_setfield(L, -2, "exe");
  snprintf(buf, sizeof buf, "%.*s/tokrun-build-tree", (int)dirlen, exe);
  if (file_exists(buf)) {
    lua_pushstring(L, TOKRUN_SOURCE_DIR "/lualib");
    lua_setfield(L, -2, "luadir");
    lua_pushstring(L, TOKRUN_SOURCE_DIR "/recipes");
    lua_setfield(L, -2, "recipedir");
    lua_pushfstring(L, "%s/lib", lua_pushlstring(L, exe, dirlen));
    lua_remove(L, -2);
    lua_setfield(L, -2, "moddir");
    lua_pushstring(L, TOKRUN_SOURCE_DIR);
    lua_setfield(L, -2, "srcdir");
  } else {
    const char *rel[3][2] = {{"luadir", TOKRUN_REL_LUADIR},
                             {"recipedir", TOKRUN_REL_RECIPEDIR},
                             {"moddir", TOKRUN_REL_MODDIR}};
    size_t prefixlen = dirlen;   /* PREFIX of PREFIX/bin/tokrun */
    while (prefixlen > 0 && exe[prefixlen - 1] != '/')
      prefixlen--;
    if (prefixlen > 1)
      prefixlen--;
    for (int i = 0; i < 3; i++) {
      snprintf(buf, sizeof buf, "%.*s/%s", (int)prefixlen, exe, rel[i][1]);
      lua_pushstring(L, buf);
      lua_setfield(L, -2, rel[i][0]);
    }
  }
  lua_pushstring(L, TOKRUN_VERSION);
  lua_setfield(L, -2, "version");
  lua_setfield(L, LUA_REGISTRYINDEX, TOKRUN_PATHS);
}

/* package.path and cpath start with tokrun's own directories. */
static void host_package_paths(lua_State *L)
{
  lua_getfield(L, LUA_REGISTRYINDEX, TOKRUN_PATHS);
  lua_getglobal(L, "package");                       /* [paths, package] */
  lua_getfield(L, -2, "luadir");
  const char *luadir = lua_tostring(L, -1);
  lua_getfield(L, -3, "moddir");
  const char *moddir = lua_tostring(L, -1);
  lua_getfield(L, -4, "package");
  lua_getfield(L, -4, "path");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", luadir, luadir,
                  lua_tostring(L, -1));
  lua_setfield(L, -6, "path");
  lua_pop(L, 2);
  lua_getfield(L, -3, "cpath");
  lua_pushfstring(L, "%s/?.so;%s", moddir, lua_tostring(L, -1));
  lua_setfield(L, -5, "cpath");
  lua_pop(L, 5);
}

/* In a build tree, a module whose source changed since it was compiled is
 * loaded from its file instead, so editing lualib/ needs no rebuild. */
static int chunk_stale(lua_State *L, const tokrun_chunk *c)
{
  struct stat st;
  lua_getfield(L, LUA_REGISTRYINDEX, TOKRUN_PATHS);
  lua_getfield(L, -1, "srcdir");
  const char *srcdir = lua_tostring(L, -1);
  int stale = 0;
  if (srcdir) {
    lua_pushfstring(L, "%s/%s", srcdir, c->path);
    stale = stat(lua_tostring(L, -1), &st) != 0 || (long long)st.st_size != c->source_size
         || (long long)st.st_mtime != c->source_mtime;
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  return stale;
}

/* package.searchers entry: lualib modules linked into the binary. */
static int host_embedded_searcher(lua_State *L)
{
  const char *name = luaL_checkstring(L, 1);
  for (const tokrun_chunk *c = tokrun_embedded; c->name; c++) {
    if (strcmp(c->name, name) != 0)
      continue;
    if (chunk_stale(L, c)) {
      lua_pushfstring(L, "embedded '%s' is older than %s", name, c->path);
      return 1;
    }
    if (luaL_loadbufferx(L, (const char *)c->code, c->size, c->path, "b") != LUA_OK)
      return 1;   /* the message; the file searcher may still find it */
    lua_pushstring(L, c->path);
    return 2;
  }
  lua_pushfstring(L, "no embedded module '%s'", name);
  return 1;
}

static void host_preload(lua_State *L)
{
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const luaL_Reg *m = tokrun_modules; m->name; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  lua_pushcfunction(L, host_load_module);
  lua_setfield(L, -2, "tokrun.http");
  lua_pushcfunction(L, host_load_module);
  lua_setfield(L, -2, "tokrun.redis");
  lua_pop(L, 1);
  /* searchers = {preload, embedded, Lua files, C libraries, ...} */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");
  for (lua_Integer i = (lua_Integer)luaL_len(L, -1); i >= 2; i--) {
    lua_geti(L, -1, i);
    lua_seti(L, -2, i + 1);
  }
  lua_pushcfunction(L, host_embedded_searcher);
  lua_seti(L, -2, 2);
  lua_pop(L, 2);
}

/* No core files and no ptrace by other users: the process holds secrets. */
static void host_harden(void)
{
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
#ifndef TOKRUN_SANITIZE   /* LeakSanitizer stops the world with ptrace */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

/* tokrun lua SCRIPT [ARGS...]: like lua5.4 SCRIPT, with tokrun's modules. */
static int host_run_script(lua_State *L, int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: tokrun lua SCRIPT [ARGS...]\n");
    return 64;
  }
  lua_createtable(L, argc - 3, 2);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 2);
  }
  lua_setglobal(L, "arg");

  lua_pushcfunction(L, host_traceback);
  const char *script = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
  int status = luaL_loadfile(L, script);
  if (status == LUA_OK) {
    luaL_checkstack(L, argc, "too many arguments");
    for (int i = 3; i < argc; i++)
      lua_pushstring(L, argv[i]);
    status = lua_pcall(L, argc - 3, 0, 1);
  }
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "tokrun lua: %s\n", msg ? msg : "(error object is not a string)");
    return 1;
  }
  return 0;
}

/* Every other command line goes to tokrun.cli.main(argv), which returns the
 * exit status.  An error escaping it is an internal error (70). */
static int host_run_cli(lua_State *L, int argc, char **argv)
{
  lua_pushcfunction(L, host_traceback);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "tokrun.cli");
  int status = lua_pcall(L, 1, 1, 1);
  if (status == LUA_OK) {
    lua_getfield(L, -1, "main");
    lua_createtable(L, argc, 0);
    for (int i = 0; i < argc; i++) {
      lua_pushstring(L, argv[i]);
      lua_rawseti(L, -2, i);
    }
    status = lua_pcall(L, 1, 1, 1);
  }
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "tokrun: internal error: %s\n", msg ? msg : "(no message)");
    return EXIT_SOFTWARE;
  }
  int isnum = 0;
  lua_Integer code = lua_tointegerx(L, -1, &isnum);
  return isnum && code >= 0 && code <= 255 ? (int)code : EXIT_SOFTWARE;
}

/* Whether a run that succeeded frees everything before it exits.  By then
 * its output is written and flushed, its files are closed and its children
 * reaped, so closing the Lua state and running the libraries' exit handlers
 * (OpenSSL's, libcurl's) only costs time; a release build leaves that to
 * the kernel.  Sanitizer builds, runs under valgrind and TOKRUN_TEARDOWN=1
 * still tear down, so leak checks see every allocation; TOKRUN_TEARDOWN=0
 * skips it under valgrind too (what the benchmarks count).  A failed run
 * always tears down: its finalizers are its safety net (a child killed). */
static int host_teardown(void)
{
#ifdef TOKRUN_SANITIZE
  return 1;
#else
  const char *v = getenv("TOKRUN_TEARDOWN");
  if (v != NULL && *v != '\0')
    return strcmp(v, "0") != 0;
  return RUNNING_ON_VALGRIND ? 1 : 0;
#endif
}

int main(int argc, char **argv)
{
  tokrun_heap heap = {0, 0};
  int script = argc >= 2 && strcmp(argv[1], "lua") == 0;

  if (!script)
    host_harden();
  lua_State *L = lua_newstate(host_alloc, &heap);
  if (L == NULL) {
    fprintf(stderr, "tokrun: cannot create a Lua state: out of memory\n");
    return EXIT_SOFTWARE;
  }
  lua_atpanic(L, host_panic);
  luaL_openlibs(L);
  host_paths(L);

  host_package_paths(L);
  host_preload(L);

  int status = script ? host_run_script(L, argc, argv) : host_run_cli(L, argc, argv);
  if (!script && status == 0 && !host_teardown() && fflush(NULL) == 0)
    _exit(0);
  fflush(stdout);
  lua_close(L);
  return status;
}
