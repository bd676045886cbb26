/*
 * tokrun.redis: one Redis connection for the shared cache, and the
 * AES-256-GCM seal/open its values are stored under.  Plain TCP and unix
 * sockets use hiredis's own connection; TLS (Debian's hiredis 0.14 has
 * none) is an OpenSSL connection opened and verified here, carrying
 * hiredis's command formatter and reply reader, so no RESP is written by
 * hand.  Connect and command timeouts always apply.  Built as a module
 * loaded on first use: a run that never talks to Redis maps neither
 * hiredis nor libssl.  Failures to get a reply return nil, {kind=,
 * message=}; a Redis error reply is kind "redis".
 */
#define _GNU_SOURCE   /* dladdr, RTLD_NODELETE */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tokrun.h"

#define REDIS_CONN "tokrun.redis.conn"
#define REDIS_MAX_ARGS 64
#define REDIS_MAX_TIMEOUT 86400.0
#define REDIS_MAX_REPLY ((size_t)4 << 20)   /* 4 MiB: far above any entry */
#define AEAD_KEY 32
#define AEAD_NONCE 12
#define AEAD_TAG 16

typedef struct redis_conn {
  redisContext *ctx;     /* plain TCP or unix: hiredis's connection */
  SSL_CTX *tls_ctx;      /* TLS: our own connection ... */
  SSL *ssl;
  int fd;
  redisReader *reader;   /* ... read with hiredis's reader */
  size_t fed;            /* bytes fed to the reader for the current reply */
} redis_conn;

static void conn_close(redis_conn *c)
{
  if (c->ctx)
    redisFree(c->ctx);
  c->ctx = NULL;
  if (c->ssl) {
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
  }
  c->ssl = NULL;
  if (c->tls_ctx)
    SSL_CTX_free(c->tls_ctx);
  c->tls_ctx = NULL;
  if (c->fd != -1)
    close(c->fd);
  c->fd = -1;
  if (c->reader)
    redisReaderFree(c->reader);
  c->reader = NULL;
}

static int conn_gc(lua_State *L)
{
  conn_close(luaL_checkudata(L, 1, REDIS_CONN));
  return 0;
}

/* nil, {kind=, message=} (tokrun_fail_kind) with a formatted message */
static int redis_fail(lua_State *L, const char *kind, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  const char *msg = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return tokrun_fail_kind(L, kind, msg);
}

static const char *tls_error(void)
{
  static char msg[256];   /* only read right after the failing call */
  unsigned long e = ERR_get_error();
  if (e == 0)
    return errno ? strerror(errno) : "connection closed";
  ERR_error_string_n(e, msg, sizeof msg);
  ERR_clear_error();
  return msg;
}

static struct timeval to_timeval(double s)
{
  struct timeval tv;
  tv.tv_sec = (time_t)s;
  tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
  return tv;
}

static double mono(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A TCP connection to host:port within timeout seconds, left blocking with
 * send/receive timeouts set; -1 with errno (ETIMEDOUT) otherwise. */
static int tcp_connect(const char *host, const char *port, double timeout, const char **why)
{
  struct addrinfo hints, *res, *ai;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    *why = gai_strerror(rc);
    errno = 0;
    return -1;
  }
  int fd = -1, err = ECONNREFUSED;
  double end = mono() + timeout;
  for (ai = res; ai && fd == -1; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd == -1) {
      err = errno;
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
      err = errno;
      if (errno == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        int left = (int)((end - mono()) * 1000);
        int n = left > 0 ? poll(&p, 1, left) : 0;
        socklen_t len = sizeof err;
        if (n == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
          goto connected;
        if (n == 0)
          err = ETIMEDOUT;
      }
      close(fd);
      fd = -1;
      continue;
    }
connected:
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  }
  freeaddrinfo(res);
  if (fd == -1) {
    errno = err;
    *why = strerror(err);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void set_io_timeout(int fd, double timeout)
{
  struct timeval tv = to_timeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int is_ip(const char *host)
{
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* The TLS handshake over fd, the chain verified against cacert (else the
 * system store) and the certificate against host (name or IP), with SNI. */
static int tls_open(lua_State *L, redis_conn *c, const char *host, const char *cacert)
{
  c->tls_ctx = SSL_CTX_new(TLS_client_method());
  if (c->tls_ctx == NULL)
    return redis_fail(L, "tls", "cannot create a TLS context: %s", tls_error());
  SSL_CTX_set_min_proto_version(c->tls_ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(c->tls_ctx, SSL_VERIFY_PEER, NULL);
  int ok = cacert ? SSL_CTX_load_verify_locations(c->tls_ctx, cacert, NULL)
                  : SSL_CTX_set_default_verify_paths(c->tls_ctx);
  if (ok != 1)
    return redis_fail(L, "tls", "cannot load the CA certificates%s%s: %s",
                      cacert ? " " : "", cacert ? cacert : "", tls_error());
  c->ssl = SSL_new(c->tls_ctx);
  if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
    return redis_fail(L, "tls", "cannot create a TLS connection: %s", tls_error());
  X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (is_ip(host)) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, host);
  } else {
    ok = SSL_set_tlsext_host_name(c->ssl, host) == 1 && SSL_set1_host(c->ssl, host) == 1;
  }
  if (!ok)
    return redis_fail(L, "tls", "cannot verify the host name %s", host);
  if (SSL_connect(c->ssl) != 1) {
    long v = SSL_get_verify_result(c->ssl);
    if (v != X509_V_OK)
      return redis_fail(L, "tls", "the certificate of %s is not trusted: %s", host,
                        X509_verify_cert_error_string(v));
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return redis_fail(L, "timeout", "TLS handshake with %s timed out", host);
    return redis_fail(L, "tls", "TLS handshake with %s failed: %s", host, tls_error());
  }
  c->reader = redisReaderCreate();
  if (c->reader == NULL)
    return luaL_error(L, "out of memory");
  c->reader->maxbuf = 0;
  return 0;
}

static double opt_seconds(lua_State *L, const char *field)
{
  lua_getfield(L, 1, field);
  double t = luaL_optnumber(L, -1, 2.0);
  lua_pop(L, 1);
  luaL_argcheck(L, t > 0 && t <= REDIS_MAX_TIMEOUT, 1, "timeout must be a positive number of seconds");
  return t;
}

static const char *opt_string(lua_State *L, const char *field)
{
  lua_getfield(L, 1, field);
  const char *s = luaL_optstring(L, -1, NULL);
  lua_pop(L, 1);   /* still referenced from the options table */
  return s;
}

static int hiredis_kind(redisContext *ctx)
{
  return ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT
                                      || errno == EINPROGRESS);
}

/* redis.connect{host=, port=, path=, tls=, cacert=, timeout=} -> conn |
 * nil, err.  path: a unix socket; tls: verify and speak TLS; timeout: for
 * connecting and for each command (seconds, default 2). */
static int redis_connect(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  const char *host = opt_string(L, "host");
  const char *path = opt_string(L, "path");
  const char *cacert = opt_string(L, "cacert");
  lua_getfield(L, 1, "port");
  lua_Integer port = luaL_optinteger(L, -1, 6379);
  lua_pop(L, 1);
  lua_getfield(L, 1, "tls");
  int tls = lua_toboolean(L, -1);
  lua_pop(L, 1);
  double timeout = opt_seconds(L, "timeout");
  luaL_argcheck(L, host || path, 1, "host or path is required");
  luaL_argcheck(L, port > 0 && port < 65536, 1, "port must be 1-65535");

  redis_conn *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  c->fd = -1;
  luaL_setmetatable(L, REDIS_CONN);
  int conn = lua_gettop(L);
  struct timeval tv = to_timeval(timeout);
  if (tls) {
    luaL_argcheck(L, host != NULL, 1, "tls needs a host");
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", (int)port);
    const char *why = NULL;
    c->fd = tcp_connect(host, portbuf, timeout, &why);
    if (c->fd == -1)
      return redis_fail(L, errno == ETIMEDOUT ? "timeout" : "connect",
                        "cannot connect to %s:%d: %s", host, (int)port, why);
    set_io_timeout(c->fd, timeout);
    int n = tls_open(L, c, host, cacert);
    if (n)
      return n;
  } else {
    c->ctx = path ? redisConnectUnixWithTimeout(path, tv)
                  : redisConnectWithTimeout(host, (int)port, tv);
    if (c->ctx == NULL)
      return luaL_error(L, "out of memory");
    if (c->ctx->err) {
      const char *kind = hiredis_kind(c->ctx) ? "timeout" : "connect";
      if (path)
        return redis_fail(L, kind, "cannot connect to %s: %s", path, c->ctx->errstr);
      return redis_fail(L, kind, "cannot connect to %s:%d: %s", host, (int)port, c->ctx->errstr);
    }
    redisSetTimeout(c->ctx, tv);
    c->ctx->reader->maxbuf = 0;
  }
  lua_pushvalue(L, conn);
  return 1;
}

/* Pushes a reply as Lua: bulk and status strings as strings, integers,
 * nil as false, arrays as tables; an error reply -> nil, {kind="redis"}. */
static int push_reply(lua_State *L, redisReply *r)
{
  switch (r->type) {
  case REDIS_REPLY_STRING:
  case REDIS_REPLY_STATUS:
    lua_pushlstring(L, r->str, r->len);
    return 1;
  case REDIS_REPLY_INTEGER:
    lua_pushinteger(L, (lua_Integer)r->integer);
    return 1;
  case REDIS_REPLY_NIL:
    lua_pushboolean(L, 0);
    return 1;
  case REDIS_REPLY_ARRAY:
    luaL_checkstack(L, 4, "reply too deep");
    lua_createtable(L, (int)r->elements, 0);
    for (size_t i = 0; i < r->elements; i++) {
      if (push_reply(L, r->element[i]) != 1)
        return 2;
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
  default:
    return redis_fail(L, "redis", "%s", r->str ? r->str : "error reply");
  }
}

/* One request and its reply over our TLS connection. */
static int tls_command(lua_State *L, redis_conn *c, const char *cmd, size_t len, redisReply **out)
{
  while (len > 0) {
    int n = SSL_write(c->ssl, cmd, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n <= 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return redis_fail(L, "timeout", "Redis did not take the command in time");
      return redis_fail(L, "io", "cannot write to Redis: %s", tls_error());
    }
    cmd += n;
    len -= (size_t)n;
  }
  c->fed = 0;
  for (;;) {
    void *reply = NULL;
    if (redisReaderGetReply(c->reader, &reply) != REDIS_OK)
      return redis_fail(L, "protocol", "bad reply from Redis: %s", c->reader->errstr);
    if (reply) {
      *out = reply;
      return 0;
    }
    char buf[16384];
    int n = SSL_read(c->ssl, buf, sizeof buf);
    if (n <= 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return redis_fail(L, "timeout", "Redis did not answer in time");
      return redis_fail(L, "io", "cannot read from Redis: %s", tls_error());
    }
    c->fed += (size_t)n;
    if (c->fed > REDIS_MAX_REPLY)
      return redis_fail(L, "too_large", "Redis reply over %d bytes", (int)REDIS_MAX_REPLY);
    redisReaderFeed(c->reader, buf, (size_t)n);
  }
}

/* SIGPIPE held for the duration of a command: a peer that went away is an
 * error reply, not the end of tokrun; a pending one is consumed. */
static void pipe_hold(sigset_t *saved)
{
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, saved);
}

static void pipe_release(const sigset_t *saved)
{
  sigset_t pipe, pending;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  sigpending(&pending);
  if (sigismember(&pending, SIGPIPE) && !sigismember(saved, SIGPIPE)) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/* conn:command{ARG, ...} -> reply | nil, err */
static int conn_command(lua_State *L)
{
  redis_conn *c = luaL_checkudata(L, 1, REDIS_CONN);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer argc = luaL_len(L, 2);
  luaL_argcheck(L, argc >= 1 && argc <= REDIS_MAX_ARGS, 2, "1 to 64 arguments");
  const char *argv[REDIS_MAX_ARGS];
  size_t lens[REDIS_MAX_ARGS];
  for (lua_Integer i = 1; i <= argc; i++) {
    lua_geti(L, 2, i);
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
      return luaL_argerror(L, 2, "arguments must be strings");
    argv[i - 1] = lua_tolstring(L, -1, &lens[i - 1]);
    lua_pop(L, 1);   /* numbers were converted in the table itself */
  }
  if (c->ctx == NULL && c->ssl == NULL)
    return redis_fail(L, "io", "the Redis connection is closed");
  sigset_t saved;
  redisReply *reply = NULL;
  pipe_hold(&saved);
  if (c->ctx) {
    reply = redisCommandArgv(c->ctx, (int)argc, argv, lens);
    pipe_release(&saved);
    if (reply == NULL) {
      const char *kind = hiredis_kind(c->ctx) ? "timeout" : c->ctx->err == REDIS_ERR_PROTOCOL ? "protocol" : "io";
      int n = redis_fail(L, kind, "%s", strcmp(kind, "timeout") == 0 ? "Redis did not answer in time"
                                                                      : c->ctx->errstr);
      conn_close(c);
      return n;
    }
  } else {
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, (int)argc, argv, lens);
    if (len < 0) {
      pipe_release(&saved);
      return luaL_error(L, "out of memory");
    }
    int n = tls_command(L, c, cmd, (size_t)len, &reply);
    OPENSSL_cleanse(cmd, (size_t)len);
    free(cmd);
    pipe_release(&saved);
    if (n) {
      conn_close(c);
      return n;
    }
  }
  int n = push_reply(L, reply);
  freeReplyObject(reply);
  return n;
}

/* conn:settimeout(seconds): the bound on each later command */
static int conn_settimeout(lua_State *L)
{
  redis_conn *c = luaL_checkudata(L, 1, REDIS_CONN);
  double t = luaL_checknumber(L, 2);
  luaL_argcheck(L, t > 0 && t <= REDIS_MAX_TIMEOUT, 2, "timeout must be a positive number of seconds");
  if (c->ctx)
    redisSetTimeout(c->ctx, to_timeval(t));
  else if (c->fd != -1)
    set_io_timeout(c->fd, t);
  return 0;
}

static int conn_close_method(lua_State *L)
{
  conn_close(luaL_checkudata(L, 1, REDIS_CONN));
  return 0;
}

static const unsigned char *check_key(lua_State *L, int idx)
{
  size_t len;
  const char *key = luaL_checklstring(L, idx, &len);
  luaL_argcheck(L, len == AEAD_KEY, idx, "key must be 32 bytes");
  return (const unsigned char *)key;
}

/* AES-256-GCM, one shot.  enc: 1 seal, 0 open.  out holds the result. */
static int aead(const unsigned char *key, const unsigned char *nonce, const char *aad, size_t aadlen,
                const unsigned char *in, size_t inlen, unsigned char *out, unsigned char *tag, int enc)
{
  EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
  int len = 0, ok = x != NULL
    && EVP_CipherInit_ex(x, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1
    && EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, AEAD_NONCE, NULL) == 1
    && EVP_CipherInit_ex(x, NULL, NULL, key, nonce, enc) == 1
    && EVP_CipherUpdate(x, NULL, &len, (const unsigned char *)aad, (int)aadlen) == 1
    && EVP_CipherUpdate(x, out, &len, in, (int)inlen) == 1
    && (enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, AEAD_TAG, tag) == 1)
    && EVP_CipherFinal_ex(x, out + len, &len) == 1
    && (!enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, AEAD_TAG, tag) == 1);
  EVP_CIPHER_CTX_free(x);
  ERR_clear_error();
  return ok;
}

/* redis.seal(key, aad, plaintext) -> nonce .. ciphertext .. tag */
static int redis_seal(lua_State *L)
{
  const unsigned char *key = check_key(L, 1);
  size_t aadlen, len;
  const char *aad = luaL_checklstring(L, 2, &aadlen);
  const char *msg = luaL_checklstring(L, 3, &len);
  luaL_argcheck(L, len < INT32_MAX / 2, 3, "too large");
  size_t total = AEAD_NONCE + len + AEAD_TAG;
  unsigned char *out = lua_newuserdatauv(L, total, 0);
  if (RAND_bytes(out, AEAD_NONCE) != 1
      || !aead(key, out, aad, aadlen, (const unsigned char *)msg, len, out + AEAD_NONCE,
               out + AEAD_NONCE + len, 1))
    return luaL_error(L, "AES-256-GCM failed");
  lua_pushlstring(L, (const char *)out, total);
  return 1;
}

/* redis.open(key, aad, sealed) -> plaintext | nil (wrong key, tampered) */
static int redis_open(lua_State *L)
{
  const unsigned char *key = check_key(L, 1);
  size_t aadlen, len;
  const char *aad = luaL_checklstring(L, 2, &aadlen);
  const unsigned char *in = (const unsigned char *)luaL_checklstring(L, 3, &len);
  if (len < AEAD_NONCE + AEAD_TAG || len > INT32_MAX / 2) {
    luaL_pushfail(L);
    return 1;
  }
  size_t n = len - AEAD_NONCE - AEAD_TAG;
  unsigned char *out = lua_newuserdatauv(L, n + 1, 0);
  unsigned char tag[AEAD_TAG];
  memcpy(tag, in + AEAD_NONCE + n, AEAD_TAG);
  if (!aead(key, in, aad, aadlen, in + AEAD_NONCE, n, out, tag, 0)) {
    OPENSSL_cleanse(out, n + 1);
    luaL_pushfail(L);
    return 1;
  }
  lua_pushlstring(L, (const char *)out, n);
  OPENSSL_cleanse(out, n + 1);
  return 1;
}

static const luaL_Reg conn_methods[] = {
  {"command", conn_command},
  {"settimeout", conn_settimeout},
  {"close", conn_close_method},
  {NULL, NULL}};

static const luaL_Reg conn_meta[] = {
  {"__gc", conn_gc},
  {"__close", conn_gc},
  {NULL, NULL}};

static const luaL_Reg redis_funcs[] = {
  {"connect", redis_connect},
  {"seal", redis_seal},
  {"open", redis_open},
  {NULL, NULL}};

/* Stay loaded when Lua closes the state: OpenSSL keeps process-wide state
 * and exit handlers that must not outlive their code. */
static void pin_self(void)
{
  Dl_info self;
  if (dladdr((void *)pin_self, &self) && self.dli_fname)
    dlopen(self.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
}

int luaopen_tokrun_redis(lua_State *L);
int luaopen_tokrun_redis(lua_State *L)
{
  pin_self();
  tokrun_newclass(L, REDIS_CONN, conn_meta, conn_methods);
  luaL_newlib(L, redis_funcs);
  return 1;
}
