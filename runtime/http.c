/*
 * tokrun.http: one HTTP exchange over libcurl's easy API, and libcurl's
 * reading of a URL.  Any response is data (a 500 too); failing to get one
 * is nil, {kind=, message=, code=} (a proxy's 407 is such a failure: kind
 * proxy).  Every request says User-Agent: tokrun/VERSION, accepts the
 * encodings libcurl decodes, goes through libcurl's proxy variables
 * except to loopback, and trusts CAs as curl(1) does.
 * Policy (retries, redirects hop by hop, redaction) lives in lualib.  Built as
 * a loadable module so that a run which never touches the network never maps
 * libcurl.
 */
#define _GNU_SOURCE   /* dladdr, RTLD_NODELETE */
#include <ctype.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buf.h"
#include "query.h"
#include "tokrun.h"

#define HTTP_REQUEST "tokrun.http.request"
#define HTTP_DEFAULT_TIMEOUT 30.0
#define HTTP_MAX_CONNECT_TIMEOUT 10.0
#define HTTP_MAX_TIMEOUT 86400.0
#define HTTP_DEFAULT_MAX_BODY ((lua_Integer)1 << 20)       /* 1 MiB */
#define HTTP_MAX_HEADER_BYTES ((size_t)64 << 10)        /* 64 KiB */
#define HTTP_MAX_REDIRS 5L
#define HTTP_BUF_INITIAL ((size_t)16 << 10)


/* One exchange: everything C-allocated that must be released and wiped. */
typedef struct http_req {
  CURL *curl;
  struct curl_slist *headers;
  tokrun_buf body;
  size_t max_body;
  size_t header_bytes;      /* of the current response */
  const char *overflow;     /* what went over its bound: "body", "headers" */
  char errbuf[CURL_ERROR_SIZE];
} http_req;

/* __gc and __close: release the handle, the header list and the body. */
static int http_req_release(lua_State *L)
{
  http_req *r = luaL_checkudata(L, 1, HTTP_REQUEST);
  if (r->curl)
    curl_easy_cleanup(r->curl);
  r->curl = NULL;
  for (struct curl_slist *h = r->headers; h; h = h->next)
    explicit_bzero(h->data, strlen(h->data));
  curl_slist_free_all(r->headers);
  r->headers = NULL;
  buf_free(&r->body);
  return 0;
}

static size_t http_on_body(char *data, size_t size, size_t nmemb, void *ud)
{
  http_req *r = ud;
  size_t n = size * nmemb;
  if (n > r->max_body - r->body.len) {
    r->overflow = "body";
    return 0;
  }
  if (r->body.cap == 0) {   /* size the buffer once when the length is known */
    curl_off_t cl = -1;
    curl_easy_getinfo(r->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    if (cl > 0 && (curl_off_t)n <= cl && (uint64_t)cl <= r->max_body
        && buf_reserve(&r->body, (size_t)cl, HTTP_BUF_INITIAL) < 0)
      return 0;
  }
  if (buf_reserve(&r->body, n, HTTP_BUF_INITIAL) < 0)
    return 0;
  memcpy(r->body.data + r->body.len, data, n);
  r->body.len += n;
  return n;
}

/* Counts header bytes per response; a status line starts a new response
 * (a 1xx, or a hop when following redirects), whose body replaces any
 * earlier one. */
static size_t http_on_header(char *data, size_t size, size_t nmemb, void *ud)
{
  http_req *r = ud;
  size_t n = size * nmemb;
  if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    r->header_bytes = 0;
    r->body.len = 0;
  }
  if (n > HTTP_MAX_HEADER_BYTES - r->header_bytes) {
    r->overflow = "headers";
    return 0;
  }
  r->header_bytes += n;
  return n;
}

/* An optional field of the options table, checked against type; the value
 * stays on the stack (anchoring strings).  Returns 0 when absent. */
static int http_opt(lua_State *L, const char *field, int type)
{
  int t = lua_getfield(L, 1, field);
  if (t == LUA_TNIL)
    return 0;
  if (t != type)
    luaL_argerror(L, 1, lua_pushfstring(L, "%s must be a %s, got %s", field,
                                        lua_typename(L, type), luaL_typename(L, -1)));
  return 1;
}

static const char *http_optstring(lua_State *L, const char *field)
{
  if (!http_opt(L, field, LUA_TSTRING))
    return NULL;
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  if (strlen(s) != len)
    luaL_argerror(L, 1, lua_pushfstring(L, "%s contains a NUL byte", field));
  return s;
}

static double http_optseconds(lua_State *L, const char *field, double def)
{
  if (!http_opt(L, field, LUA_TNUMBER))
    return def;
  double t = lua_tonumber(L, -1);
  if (!(t > 0 && t <= HTTP_MAX_TIMEOUT))
    luaL_argerror(L, 1, lua_pushfstring(L, "%s must be a positive number of "
                                        "seconds, at most a day", field));
  return t;
}

static int http_optbool(lua_State *L, const char *field)
{
  return http_opt(L, field, LUA_TBOOLEAN) && lua_toboolean(L, -1);
}

/* RFC 9110 token characters, for methods and header names. */
static int http_is_token(const char *s)
{
  if (*s == '\0')
    return 0;
  for (; *s; s++) {
    int alnum = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')
                || (*s >= '0' && *s <= '9');
    if (!alnum && !strchr("!#$%&'*+-.^_`|~", *s))
      return 0;
  }
  return 1;
}

/* [opts, ..., query] -> [opts, ..., query, full url]: the pairs encoded
 * exactly as codec.query does, placed before any #fragment. */
static const char *http_build_url(lua_State *L, const char *url, int query)
{
  const char *frag = strchr(url, '#');
  size_t base = frag ? (size_t)(frag - url) : strlen(url);
  const char *sep = !memchr(url, '?', base) ? "?"
                    : base && strchr("?&", url[base - 1]) ? "" : "&";
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, url, base);
  if (luaL_len(L, query) > 0) {
    luaL_addstring(&b, sep);
    query_push(L, query);
    luaL_addvalue(&b);
  }
  if (frag)
    luaL_addstring(&b, frag);
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

static int http_strcmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* [.., t] -> [.., t, names]: the keys of table t, sorted, so requests are
 * reproducible; the strings stay anchored as keys of t. */
static const char **http_header_names(lua_State *L, int t, size_t *n)
{
  *n = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, 1, "header names must be strings");
    ++*n;
  }
  const char **names = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *names, 0);
  size_t i = 0;
  lua_pushnil(L);
  while (lua_next(L, t) && i < *n) {
    size_t len;
    lua_pop(L, 1);
    names[i] = lua_tolstring(L, -1, &len);
    if (strlen(names[i]) != len || !http_is_token(names[i]))
      luaL_argerror(L, 1, lua_pushfstring(L, "bad header name '%s'", names[i]));
    i++;
  }
  qsort(names, *n, sizeof *names, http_strcmp);
  return names;
}

/* Appends one line to r->headers, or raises (the list stays owned by r). */
static void http_add_header(lua_State *L, http_req *r, const char *line)
{
  struct curl_slist *h = curl_slist_append(r->headers, line);
  if (h == NULL)
    luaL_error(L, "out of memory");
  r->headers = h;
}

/* Sends the "Name: value" lines of table t (0: none) in name order, and turns
 * off curl's Expect: 100-continue and default Content-Type unless given. */
static void http_set_headers(lua_State *L, http_req *r, int t)
{
  int own_type = 0, own_expect = 0;
  size_t n = 0;
  const char **names = t ? http_header_names(L, t, &n) : NULL;
  for (size_t i = 0; i < n; i++) {
    size_t vlen;
    lua_pushstring(L, names[i]);
    int vt = lua_rawget(L, t);
    if (vt != LUA_TSTRING && vt != LUA_TNUMBER)
      luaL_argerror(L, 1, lua_pushfstring(L, "header '%s' must be a string", names[i]));
    const char *v = lua_tolstring(L, -1, &vlen);
    if (strlen(v) != vlen || strpbrk(v, "\r\n"))
      luaL_argerror(L, 1, lua_pushfstring(L, "header '%s' has a CR, LF or NUL",
                                          names[i]));
    own_type |= strcasecmp(names[i], "content-type") == 0;
    own_expect |= strcasecmp(names[i], "expect") == 0;
    /* "Name;" is curl's spelling of a header with an empty value. */
    http_add_header(L, r, vlen ? lua_pushfstring(L, "%s: %s", names[i], v)
                               : lua_pushfstring(L, "%s;", names[i]));
    lua_pop(L, 2);
  }
  if (t)
    lua_pop(L, 1);
  if (!own_type)
    http_add_header(L, r, "Content-Type:");
  if (!own_expect)
    http_add_header(L, r, "Expect:");
  curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->headers);
}

static long http_ms(double seconds)
{
  long ms = (long)(seconds * 1000 + 0.5);
  return ms > 0 ? ms : 1;   /* 0 would mean no timeout at all */
}

/* The kind of a failed transfer, and a human reading of it. */
static const char *http_kind(http_req *r, CURLcode code, const char **what)
{
  long connect_code = 0;
  curl_easy_getinfo(r->curl, CURLINFO_HTTP_CONNECTCODE, &connect_code);
  if (connect_code >= 300 || code == CURLE_PROXY) {
    *what = connect_code == 407 ? "the proxy refused the tunnel: authentication "
                                  "required (HTTP 407)"
                                : "the proxy refused the tunnel";
    return "proxy";
  }
  switch (code) {
  case CURLE_COULDNT_RESOLVE_HOST:
    *what = "could not resolve host";
    return "dns";
  case CURLE_COULDNT_RESOLVE_PROXY:
    *what = "could not resolve the proxy";
    return "dns";
  case CURLE_COULDNT_CONNECT:
    *what = "could not connect";
    return "connect";
  case CURLE_OPERATION_TIMEDOUT: {
    curl_off_t conn = 0, tls = 0;
    char *scheme = NULL;
    curl_easy_getinfo(r->curl, CURLINFO_CONNECT_TIME_T, &conn);
    curl_easy_getinfo(r->curl, CURLINFO_APPCONNECT_TIME_T, &tls);
    curl_easy_getinfo(r->curl, CURLINFO_SCHEME, &scheme);
    *what = conn == 0 ? "timed out while connecting"
            : tls == 0 && scheme && strcasecmp(scheme, "https") == 0
              ? "timed out during the TLS handshake"
              : "timed out waiting for the response";
    return "timeout";
  }
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CLIENTCERT:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_USE_SSL_FAILED:
    *what = "TLS failure";
    return "tls";
  case CURLE_FILESIZE_EXCEEDED:
    r->overflow = "body";
    /* fall through */
  case CURLE_WRITE_ERROR:
    if (r->overflow) {
      *what = strcmp(r->overflow, "body") == 0 ? "response body too large"
                                               : "response headers too large";
      return "too_large";
    }
    break;
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
    *what = "connection dropped";
    return "dropped";
  default:
    break;
  }
  *what = "protocol error";
  return "protocol";
}

/* [.., req] -> [.., req, nil, err]: err = {kind=, message=, code=} */
static int http_fail(lua_State *L, http_req *r, CURLcode code)
{
  const char *what, *kind = http_kind(r, code, &what);
  size_t n = strlen(r->errbuf);
  while (n > 0 && strchr(" \t\r\n", r->errbuf[n - 1]))
    r->errbuf[--n] = '\0';   /* curl's messages may end in a space or newline */
  if (r->overflow && strcmp(kind, "too_large") == 0)
    lua_pushfstring(L, "%s: over %I bytes", what, (lua_Integer)(strcmp(r->overflow,
                    "body") == 0 ? r->max_body : HTTP_MAX_HEADER_BYTES));
  else
    lua_pushfstring(L, "%s: %s", what, r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
  tokrun_fail_kind(L, kind, lua_tostring(L, -1));
  lua_remove(L, -3);
  lua_pushinteger(L, code);
  lua_setfield(L, -2, "code");
  return 2;
}

/* [.., req] -> [.., req, headers]: the final response's headers, names
 * lower-cased, repeated ones joined with ", ". */
static void http_push_headers(lua_State *L, http_req *r)
{
  lua_newtable(L);
  struct curl_header *h = NULL;
  while ((h = curl_easy_nextheader(r->curl, CURLH_HEADER, -1, h))) {
    luaL_Buffer b;
    size_t n = strlen(h->name);
    char *name = luaL_buffinitsize(L, &b, n);
    for (size_t i = 0; i < n; i++)
      name[i] = (char)tolower((unsigned char)h->name[i]);
    luaL_pushresultsize(&b, n);                      /* [headers, name] */
    lua_pushvalue(L, -1);
    if (lua_rawget(L, -3) == LUA_TSTRING) {           /* [headers, name, old] */
      lua_pushliteral(L, ", ");
      lua_pushstring(L, h->value);
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushstring(L, h->value);
    }
    lua_rawset(L, -3);
  }
}

/* [.., req] -> [.., req, response] */
static int http_response(lua_State *L, http_req *r)
{
  long status = 0;
  char *url = NULL;
  curl_off_t us = 0;
  curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(r->curl, CURLINFO_EFFECTIVE_URL, &url);
  curl_easy_getinfo(r->curl, CURLINFO_TOTAL_TIME_T, &us);
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, status);
  lua_setfield(L, -2, "status");
  http_push_headers(L, r);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
  lua_setfield(L, -2, "body");
  lua_pushstring(L, url ? url : "");
  lua_setfield(L, -2, "url");
  lua_pushnumber(L, (lua_Number)us / 1e6);
  lua_setfield(L, -2, "time");
  return 1;
}

/* [.., t] Sets t[field] to the part of u, when the URL has it. */
static void http_url_part(lua_State *L, CURLU *u, CURLUPart part, const char *field)
{
  char *v = NULL;
  if (curl_url_get(u, part, &v, 0) == CURLUE_OK && v) {
    if (part == CURLUPART_HOST) {   /* lower-cased, an IPv6 literal unbracketed */
      size_t n = strlen(v), skip = v[0] == '[' && n >= 2;
      for (size_t i = 0; i < n; i++)
        v[i] = (char)tolower((unsigned char)v[i]);
      lua_pushlstring(L, v + skip, n - 2 * skip);
    } else {
      lua_pushstring(L, v);
    }
    lua_setfield(L, -2, field);
  }
  curl_free(v);
}

/* http.parse_url(s) -> {scheme=, host=, port=, user=, password=, path=,
 * query=, fragment=} | nil, message.  libcurl's own reading of s (curl_url),
 * so the host is the one a request to s connects to: "127.1" reads as
 * 127.0.0.1, userinfo is apart from the host, an IPv6 literal's host is
 * lower-cased and, for an IPv6 literal, without its brackets or zone
 * ("::1").  port is an integer, the scheme's default when s has none
 * (absent for a scheme libcurl has no default for); the other parts are as
 * written in s (percent-encoding kept) and absent when s has none (path is
 * at least "/").  Schemes other than http and https are read too. */
static int http_parse_url(lua_State *L)
{
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  if (strlen(s) != len) {
    luaL_pushfail(L);
    lua_pushliteral(L, "bad URL: contains a NUL byte");
    return 2;
  }
  CURLU *u = curl_url();
  if (u == NULL)
    return luaL_error(L, "out of memory");
  CURLUcode rc = curl_url_set(u, CURLUPART_URL, s, CURLU_NON_SUPPORT_SCHEME);
  if (rc != CURLUE_OK) {
    curl_url_cleanup(u);
    luaL_pushfail(L);
    lua_pushfstring(L, "bad URL: %s", curl_url_strerror(rc));
    return 2;
  }
  /* A host that libcurl decoded into spaces, control or non-ASCII bytes
   * ("http://0%7f/") names no host a request should go to. */
  char *host = NULL;
  int bad_host = 0;
  if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host)
    for (const unsigned char *c = (const unsigned char *)host; *c; c++)
      bad_host |= *c <= ' ' || *c >= 0x7f;
  curl_free(host);
  if (bad_host) {
    curl_url_cleanup(u);
    luaL_pushfail(L);
    lua_pushliteral(L, "bad URL: the host holds a space, a control or a non-ASCII character");
    return 2;
  }
  char *port = NULL;
  lua_createtable(L, 0, 8);
  if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK && port) {
    lua_pushinteger(L, (lua_Integer)strtol(port, NULL, 10));
    lua_setfield(L, -2, "port");
  }
  curl_free(port);
  http_url_part(L, u, CURLUPART_SCHEME, "scheme");
  http_url_part(L, u, CURLUPART_HOST, "host");
  http_url_part(L, u, CURLUPART_USER, "user");
  http_url_part(L, u, CURLUPART_PASSWORD, "password");
  http_url_part(L, u, CURLUPART_PATH, "path");
  http_url_part(L, u, CURLUPART_QUERY, "query");
  http_url_part(L, u, CURLUPART_FRAGMENT, "fragment");
  curl_url_cleanup(u);
  return 1;
}

/* Whether url's host, as libcurl reads it, is a loopback one: 127.0.0.0/8,
 * ::1 or localhost (curl resolves it to loopback without asking DNS). */
static int http_is_loopback(const char *url)
{
  CURLU *u = curl_url();
  char *host = NULL;
  int loop = 0;
  if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK
      && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
    size_t n = strlen(host);
    loop = strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0
           || strcasecmp(host, "localhost") == 0
           || (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0);
  }
  curl_free(host);
  curl_url_cleanup(u);
  return loop;
}

static const char *http_env(const char *name)
{
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

/* CA trust as curl(1) has it: cacert, else CURL_CA_BUNDLE, else
 * SSL_CERT_FILE and SSL_CERT_DIR, else libcurl's built-in store. */
static void http_set_trust(CURL *c, const char *cacert)
{
  const char *bundle = cacert ? cacert : http_env("CURL_CA_BUNDLE");
  const char *dir = NULL;
  if (!bundle) {
    bundle = http_env("SSL_CERT_FILE");
    dir = http_env("SSL_CERT_DIR");
  }
  if (bundle)
    curl_easy_setopt(c, CURLOPT_CAINFO, bundle);
  if (dir)
    curl_easy_setopt(c, CURLOPT_CAPATH, dir);
}

/* http.request{method=, url=, query=, headers=, body=, timeout=, ...}: one
 * exchange; the response, or nil, {kind=, message=, code=}. */
static int http_request(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_checkstack(L, 40, "too many options");
  const char *url = http_optstring(L, "url");
  luaL_argcheck(L, url != NULL, 1, "url must be a string");
  const char *method = http_optstring(L, "method");
  luaL_argcheck(L, !method || http_is_token(method), 1, "method must be an HTTP token");
  method = method ? method : "GET";
  size_t body_len = 0;
  const char *body = NULL;
  if (http_opt(L, "body", LUA_TSTRING))
    body = lua_tolstring(L, -1, &body_len);
  double timeout = http_optseconds(L, "timeout", HTTP_DEFAULT_TIMEOUT);
  double connect_timeout = http_optseconds(L, "connect_timeout",
      timeout < HTTP_MAX_CONNECT_TIMEOUT ? timeout : HTTP_MAX_CONNECT_TIMEOUT);
  const char *cacert = http_optstring(L, "cacert");
  const char *client_cert = http_optstring(L, "client_cert");
  const char *client_key = http_optstring(L, "client_key");
  int insecure = http_optbool(L, "insecure");
  int follow = http_optbool(L, "follow");
  int no_proxy = http_optbool(L, "no_proxy");
  lua_Integer max_body = HTTP_DEFAULT_MAX_BODY;
  if (http_opt(L, "max_body", LUA_TNUMBER)) {
    int isint;
    max_body = lua_tointegerx(L, -1, &isint);
    luaL_argcheck(L, isint && max_body >= 0, 1, "max_body must be a non-negative integer");
  }
  int headers = http_opt(L, "headers", LUA_TTABLE) ? lua_gettop(L) : 0;
  if (http_opt(L, "query", LUA_TTABLE))
    url = http_build_url(L, url, lua_gettop(L));

  http_req *r = lua_newuserdatauv(L, sizeof *r, 0);
  memset(r, 0, sizeof *r);
  luaL_setmetatable(L, HTTP_REQUEST);
  lua_toclose(L, -1);
  r->max_body = (size_t)max_body;
  if ((r->curl = curl_easy_init()) == NULL)
    return luaL_error(L, "cannot create a curl handle");
  CURL *c = r->curl;
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "tokrun/" TOKRUN_VERSION);
  /* every encoding libcurl decodes; the bounds count the decoded bytes */
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  /* libcurl's proxy variables apply, except to loopback (a proxy would see
   * what was meant never to leave the host) and when asked not to */
  if (no_proxy || http_is_loopback(url))
    curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, http_ms(timeout));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, http_ms(connect_timeout));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
  if (follow) {
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, HTTP_MAX_REDIRS);
  }
  if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    /* The Content-Length header is a promise; refuse early when it is over. */
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
    /* Methods whose content means something send Content-Length: 0 when
     * they have none (RFC 9110 8.6); others send no body at all. */
    int has_content = !strcmp(method, "POST") || !strcmp(method, "PUT")
                      || !strcmp(method, "PATCH");
    if (body || has_content) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    else if (body && strcmp(method, "GET") == 0)
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "GET");
  }
  http_set_trust(c, cacert);
  if (insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (client_cert)
    curl_easy_setopt(c, CURLOPT_SSLCERT, client_cert);
  if (client_key)
    curl_easy_setopt(c, CURLOPT_SSLKEY, client_key);
  http_set_headers(L, r, headers);

  CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK)
    return http_fail(L, r, code);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status == 407)   /* only a proxy asks for proxy credentials */
    return tokrun_fail_kind(L, "proxy", "the proxy refused the request: "
                            "authentication required (HTTP 407)");
  return http_response(L, r);
}

static const luaL_Reg http_req_meta[] = {
  {"__gc", http_req_release},
  {"__close", http_req_release},
  {NULL, NULL}};

static const luaL_Reg http_funcs[] = {
  {"request", http_request},
  {"parse_url", http_parse_url},
  {NULL, NULL}};

static int curl_ready;   /* libcurl's global state is process-wide by nature */

/* libcurl's global set-up, once per process. */
static int http_global_init(void)
{
  if (curl_ready)
    return 0;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return -1;
  curl_ready = 1;
  /* Stay loaded when Lua closes the state: libcurl and OpenSSL keep
   * process-wide state and exit handlers that must not outlive their code
   * (and LeakSanitizer trips over unloaded thread-local storage). */
  Dl_info self;
  if (dladdr((void *)http_global_init, &self) && self.dli_fname)
    dlopen(self.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
  return 0;
}

/* require "tokrun.http": curl's process-wide init (once, as curl asks), the
 * request metatable, the module table. */
int luaopen_tokrun_http(lua_State *L);
int luaopen_tokrun_http(lua_State *L)
{
  if (http_global_init() != 0)
    return luaL_error(L, "cannot initialise libcurl");
  tokrun_newclass(L, HTTP_REQUEST, http_req_meta, NULL);
  luaL_newlib(L, http_funcs);
  return 1;
}
