/*
 * tokrun.sign: asymmetric signatures on OpenSSL 3 for JWTs (RFC 7515/7518,
 * EdDSA from RFC 8037).  Keys are decoded by OSSL_DECODER (PKCS#8 plain or
 * encrypted, PKCS#1 RSA, SEC1 EC; PEM or DER) into a key userdata whose
 * EVP_PKEY is freed, and so wiped, when it is collected or closed.  ECDSA
 * signatures travel in JOSE form (r||s) and are converted to and from DER
 * with ECDSA_SIG.  A bad key, or a key of the wrong type for an algorithm,
 * returns nil, message; wrong argument types raise.  Nothing of a key ever
 * reaches a message.
 */
#define _GNU_SOURCE   /* memmem */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tokrun.h"

#define SIGN_KEY "tokrun.sign.key"
#define SIGN_MAX_INPUT (1024 * 1024)
#define SIGN_PEM_MAX 8192     /* a 16384-bit RSA public key is ~2.8 KB of PEM */
#define SIGN_RSA_MIN_BITS 2048   /* RFC 7518 section 3.3 */

typedef struct sign_key {
  EVP_PKEY *pkey;
} sign_key;

enum { SIGN_RSA, SIGN_PSS, SIGN_EC, SIGN_ED };

typedef struct sign_alg {
  const char *md;      /* digest name, NULL for EdDSA */
  int kind;
  const char *curve;   /* EC: the JOSE curve name */
  int width;           /* EC: bytes of r and of s */
} sign_alg;

static const char *const sign_alg_names[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
  "PS512", "ES256", "ES384", "ES512", "EdDSA", NULL};
static const sign_alg sign_algs[] = {
  {"SHA256", SIGN_RSA, NULL, 0}, {"SHA384", SIGN_RSA, NULL, 0}, {"SHA512", SIGN_RSA, NULL, 0},
  {"SHA256", SIGN_PSS, NULL, 0}, {"SHA384", SIGN_PSS, NULL, 0}, {"SHA512", SIGN_PSS, NULL, 0},
  {"SHA256", SIGN_EC, "P-256", 32}, {"SHA384", SIGN_EC, "P-384", 48},
  {"SHA512", SIGN_EC, "P-521", 66}, {NULL, SIGN_ED, NULL, 0}};

/* ---- keys ---------------------------------------------------------------- */

/* OpenSSL's curve names as JOSE writes them ("crv"). */
static const char *sign_curve(EVP_PKEY *pkey)
{
  char group[64];
  size_t len = 0;
  if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len))
    return NULL;
  if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) return "P-256";
  if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) return "P-384";
  if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0) return "P-521";
  return NULL;
}

/* "RSA 2048", "EC P-256", "Ed25519": what a message may say of a key. */
static void sign_describe(EVP_PKEY *pkey, char *out, size_t n)
{
  const char *curve;
  switch (EVP_PKEY_get_base_id(pkey)) {
  case EVP_PKEY_RSA:
    snprintf(out, n, "RSA %d", EVP_PKEY_get_bits(pkey));
    return;
  case EVP_PKEY_RSA_PSS:
    snprintf(out, n, "RSA-PSS %d", EVP_PKEY_get_bits(pkey));
    return;
  case EVP_PKEY_EC:
    curve = sign_curve(pkey);
    snprintf(out, n, "EC %s", curve ? curve : "(an unsupported curve)");
    return;
  case EVP_PKEY_ED25519:
    snprintf(out, n, "Ed25519");
    return;
  default:
    snprintf(out, n, "%s", EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "unknown");
  }
}

/* NULL if the key can make (or check) alg's signatures, else why not. */
static const char *sign_mismatch(lua_State *L, const char *name, const sign_alg *alg, EVP_PKEY *pkey)
{
  char what[64];
  int id = EVP_PKEY_get_base_id(pkey);
  sign_describe(pkey, what, sizeof what);
  if (alg->kind == SIGN_RSA || alg->kind == SIGN_PSS) {
    if (id != EVP_PKEY_RSA)
      return lua_pushfstring(L, "the key is %s, %s needs an RSA key", what, name);
    if (EVP_PKEY_get_bits(pkey) < SIGN_RSA_MIN_BITS)
      return lua_pushfstring(L, "the key is %s, %s needs an RSA key of %d bits or more",
                             what, name, SIGN_RSA_MIN_BITS);
  } else if (alg->kind == SIGN_EC) {
    const char *curve = id == EVP_PKEY_EC ? sign_curve(pkey) : NULL;
    if (!curve || strcmp(curve, alg->curve) != 0)
      return lua_pushfstring(L, "the key is %s, %s needs an EC %s key", what, name, alg->curve);
  } else if (id != EVP_PKEY_ED25519) {
    return lua_pushfstring(L, "the key is %s, %s needs an Ed25519 key", what, name);
  }
  return NULL;
}

typedef struct sign_pass {
  const char *pass;
  size_t len;
  int asked;
} sign_pass;

/* The decoder asks for a passphrase only for an encrypted key; never a
 * prompt on the terminal. */
static int sign_pass_cb(char *buf, size_t size, size_t *len, const OSSL_PARAM params[], void *arg)
{
  sign_pass *p = arg;
  (void)params;
  p->asked = 1;
  if (!p->pass || p->len > size)
    return 0;
  memcpy(buf, p->pass, p->len);
  *len = p->len;
  return 1;
}

/* Decodes a PEM or DER key of any supported form; NULL if it is none. */
static EVP_PKEY *sign_decode(const char *data, size_t n, int selection, sign_pass *pass)
{
  EVP_PKEY *pkey = NULL;
  const unsigned char *p = (const unsigned char *)data;
  OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL, selection, NULL, NULL);
  if (!dctx)
    return NULL;
  if (pass)
    OSSL_DECODER_CTX_set_passphrase_cb(dctx, sign_pass_cb, pass);
  if (!OSSL_DECODER_from_data(dctx, &p, &n)) {
    EVP_PKEY_free(pkey);
    pkey = NULL;
  }
  OSSL_DECODER_CTX_free(dctx);
  return pkey;
}

/* The first certificate in PEM or DER data, or NULL. */
static X509 *sign_cert(const char *data, size_t n)
{
  X509 *x = NULL;
  if (memmem(data, n, "-----BEGIN", 10)) {
    BIO *bio = BIO_new_mem_buf(data, (int)n);
    if (bio) {
      x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
      BIO_free(bio);
    }
  } else {
    const unsigned char *p = (const unsigned char *)data;
    x = d2i_X509(NULL, &p, (long)n);
  }
  return x;
}

/* Does the key hold private material?  (A public key decodes as a key
 * pair too.) */
static int sign_has_private(EVP_PKEY *pkey)
{
  BIGNUM *bn = NULL;
  unsigned char buf[64];
  size_t len = 0;
  int ok = 0;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &bn)
      || EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn)) {
    ok = 1;
    BN_clear_free(bn);
  } else if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, buf, sizeof buf, &len)) {
    ok = 1;
  }
  OPENSSL_cleanse(buf, sizeof buf);
  return ok;
}

/* Where the private key starts in PEM data holding more than one block (a
 * certificate, then its key, as many tools write them); 0 for DER. */
static size_t sign_key_block(const char *data, size_t n)
{
  const char *p = data, *end = data + n, *eol;
  while ((p = memmem(p, (size_t)(end - p), "-----BEGIN ", 11)) != NULL) {
    eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
      break;
    if (memmem(p, (size_t)(eol - p), "PRIVATE KEY-----", 16))
      return (size_t)(p - data);
    p = eol;
  }
  return 0;
}

/* An EC key file carries its public point beside the private scalar: a
 * damaged one would sign what its own public key never verifies.  (RSA's
 * check costs tens of milliseconds of primality tests: sign() verifies
 * each RSA signature instead; Ed25519 derives its public key.) */
static int sign_consistent(EVP_PKEY *pkey)
{
  EVP_PKEY_CTX *ctx;
  int ok;
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
    return 1;
  ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
  ok = ctx && EVP_PKEY_pairwise_check(ctx) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

static size_t sign_checkinput(lua_State *L, int arg, const char **s)
{
  size_t n;
  *s = luaL_checklstring(L, arg, &n);
  luaL_argcheck(L, n <= SIGN_MAX_INPUT, arg, "larger than 1 MiB");
  return n;
}

static sign_key *sign_tokey(lua_State *L, int arg)
{
  sign_key *k = luaL_checkudata(L, arg, SIGN_KEY);
  luaL_argcheck(L, k->pkey != NULL, arg, "the key is closed");
  return k;
}

/* sign.load_key(pem_or_der [, passphrase]) -> key | nil, message */
static int sign_load_key(lua_State *L)
{
  const char *data, *pass = luaL_optstring(L, 2, NULL);
  size_t n = sign_checkinput(L, 1, &data);
  sign_pass pw = {pass, pass ? lua_rawlen(L, 2) : 0, 0};
  EVP_PKEY *pub;
  sign_key *k = lua_newuserdatauv(L, sizeof *k, 0);
  k->pkey = NULL;   /* closed until the key is decoded: a raise leaks nothing */
  luaL_setmetatable(L, SIGN_KEY);
  if (n > 0) {
    size_t at = sign_key_block(data, n);
    k->pkey = sign_decode(data + at, n - at, EVP_PKEY_KEYPAIR, &pw);
  }
  if (k->pkey && sign_has_private(k->pkey)) {
    int consistent = sign_consistent(k->pkey);
    ERR_clear_error();
    if (consistent)
      return 1;
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
    luaL_pushfail(L);
    lua_pushliteral(L, "the key is damaged: its public part does not match its private part");
    return 2;
  }
  EVP_PKEY_free(k->pkey);
  k->pkey = NULL;
  luaL_pushfail(L);
  if (n > 0 && !pw.asked && (pub = sign_decode(data, n, EVP_PKEY_PUBLIC_KEY, NULL)) != NULL) {
    EVP_PKEY_free(pub);
    lua_pushliteral(L, "this is a public key, not a private key");
  } else if (n == 0) {
    lua_pushliteral(L, "the key is empty");
  } else if (pw.asked && !pass) {
    lua_pushliteral(L, "the key is encrypted and needs its passphrase");
  } else if (pw.asked) {
    lua_pushliteral(L, "the passphrase does not decrypt the key");
  } else {
    X509 *x = sign_cert(data, n);
    ERR_clear_error();
    if (x)
      lua_pushliteral(L, "this is a certificate, not a private key");
    else
      lua_pushliteral(L, "not a private key (PEM or DER: PKCS#8, PKCS#1 RSA or SEC1 EC)");
    X509_free(x);
  }
  ERR_clear_error();
  return 2;
}

/* A public key from argument arg: a key userdata (a new reference), or a
 * public key, certificate or private key in PEM or DER.  NULL if none. */
static EVP_PKEY *sign_public(lua_State *L, int arg)
{
  const char *data;
  size_t n;
  EVP_PKEY *pkey;
  X509 *x;
  if (lua_type(L, arg) == LUA_TUSERDATA) {
    pkey = sign_tokey(L, arg)->pkey;
    return EVP_PKEY_up_ref(pkey) ? pkey : NULL;
  }
  n = sign_checkinput(L, arg, &data);
  if (n == 0)
    return NULL;
  x = sign_cert(data, n);
  if (x) {
    pkey = X509_get_pubkey(x);
    X509_free(x);
  } else {
    pkey = sign_decode(data, n, EVP_PKEY_PUBLIC_KEY, NULL);
  }
  ERR_clear_error();
  return pkey;
}

/* A digest-sign or -verify context for alg on pkey; NULL on failure. */
static EVP_MD_CTX *sign_ctx(const sign_alg *alg, EVP_PKEY *pkey, int verify)
{
  EVP_PKEY_CTX *pctx = NULL;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx != NULL;
  if (ok && verify)
    ok = EVP_DigestVerifyInit_ex(ctx, &pctx, alg->md, NULL, NULL, pkey, NULL) == 1;
  else if (ok)
    ok = EVP_DigestSignInit_ex(ctx, &pctx, alg->md, NULL, NULL, pkey, NULL) == 1;
  if (ok && alg->kind == SIGN_PSS)   /* RFC 7518 3.5: MGF1 with the same hash, salt = hash size */
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
      && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  if (!ok) {
    EVP_MD_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

/* ---- JOSE ECDSA form ------------------------------------------------------ */

/* DER ECDSA-Sig-Value -> r||s, each width bytes; 0 if it does not fit. */
static size_t sign_der_to_jose(const unsigned char *der, size_t n, unsigned char *out, int width)
{
  const unsigned char *p = der;
  const BIGNUM *r, *s;
  size_t len = 0;
  ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
  if (!sig)
    return 0;
  ECDSA_SIG_get0(sig, &r, &s);
  if (BN_bn2binpad(r, out, width) == width && BN_bn2binpad(s, out + width, width) == width)
    len = 2 * (size_t)width;
  ECDSA_SIG_free(sig);
  return len;
}

/* r||s -> DER (allocated by OpenSSL, *der), its length or 0. */
static int sign_jose_to_der(const unsigned char *jose, size_t n, int width, unsigned char **der)
{
  BIGNUM *r, *s;
  ECDSA_SIG *sig;
  int len = 0;
  if (n != 2 * (size_t)width)
    return 0;
  sig = ECDSA_SIG_new();
  r = BN_bin2bn(jose, width, NULL);
  s = BN_bin2bn(jose + width, width, NULL);
  if (sig && r && s && ECDSA_SIG_set0(sig, r, s)) {
    r = s = NULL;   /* owned by sig now */
    len = i2d_ECDSA_SIG(sig, der);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return len > 0 ? len : 0;
}

/* ---- signing and verifying ------------------------------------------------ */

/* sign.sign(alg, key, msg) -> raw signature | nil, message */
static int sign_sign(lua_State *L)
{
  int i = luaL_checkoption(L, 1, NULL, sign_alg_names);
  const char *name = sign_alg_names[i];
  const sign_alg *alg = &sign_algs[i];
  EVP_PKEY *pkey = sign_tokey(L, 2)->pkey;
  size_t msglen, siglen, len = 0;
  const unsigned char *msg = (const unsigned char *)luaL_checklstring(L, 3, &msglen);
  unsigned char *sig;
  EVP_MD_CTX *ctx;
  if (sign_mismatch(L, name, alg, pkey)) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  siglen = (size_t)EVP_PKEY_get_size(pkey);
  sig = lua_newuserdatauv(L, siglen + 2 * 66, 0);   /* scratch, before any OpenSSL allocation */
  ctx = sign_ctx(alg, pkey, 0);
  if (ctx && EVP_DigestSign(ctx, sig, &siglen, msg, msglen) == 1)
    len = siglen;
  EVP_MD_CTX_free(ctx);
  if (len && alg->kind == SIGN_EC)
    len = sign_der_to_jose(sig, siglen, sig + siglen, alg->width);
  if (len && (alg->kind == SIGN_RSA || alg->kind == SIGN_PSS)) {
    ctx = sign_ctx(alg, pkey, 1);
    if (!ctx || EVP_DigestVerify(ctx, sig, len, msg, msglen) != 1) {
      EVP_MD_CTX_free(ctx);
      OPENSSL_cleanse(sig, siglen);
      ERR_clear_error();
      luaL_pushfail(L);
      lua_pushliteral(L, "the key is damaged: its public part does not match its private part");
      return 2;
    }
    EVP_MD_CTX_free(ctx);
  }
  if (!len) {   /* a key that decodes yet cannot sign (damaged): the key's fault */
    char err[256];
    ERR_error_string_n(ERR_get_error(), err, sizeof err);
    ERR_clear_error();
    OPENSSL_cleanse(sig, siglen);
    luaL_pushfail(L);
    lua_pushfstring(L, "the key is damaged: signing with it failed (%s)", err);
    return 2;
  }
  lua_pushlstring(L, (const char *)(alg->kind == SIGN_EC ? sig + siglen : sig), len);
  return 1;
}

/* sign.verify(alg, public_key_or_cert, msg, sig) -> boolean [, message]
 * The public key: PEM or DER of a public key, a certificate or a private
 * key, or a key from load_key.  A malformed signature is false. */
static int sign_verify(lua_State *L)
{
  int i = luaL_checkoption(L, 1, NULL, sign_alg_names);
  const char *name = sign_alg_names[i];
  const sign_alg *alg = &sign_algs[i];
  size_t msglen, siglen;
  const unsigned char *msg = (const unsigned char *)luaL_checklstring(L, 3, &msglen);
  const unsigned char *sig = (const unsigned char *)luaL_checklstring(L, 4, &siglen);
  unsigned char *der = NULL;
  EVP_MD_CTX *ctx;
  EVP_PKEY *pkey;
  int ok = 0;
  luaL_checkany(L, 2);
  pkey = sign_public(L, 2);
  if (!pkey)
    return luaL_argerror(L, 2, "not a public key or certificate (PEM or DER)");
  if (sign_mismatch(L, name, alg, pkey)) {
    EVP_PKEY_free(pkey);
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  if (alg->kind == SIGN_EC) {
    int n = sign_jose_to_der(sig, siglen, alg->width, &der);
    sig = der;
    siglen = (size_t)n;
  }
  ctx = sig ? sign_ctx(alg, pkey, 1) : NULL;
  if (ctx)
    ok = EVP_DigestVerify(ctx, sig, siglen, msg, msglen) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  EVP_PKEY_free(pkey);
  ERR_clear_error();
  lua_pushboolean(L, ok);
  return 1;
}

/* sign.public_key(key) -> PEM of its SubjectPublicKeyInfo */
static int sign_public_key(lua_State *L)
{
  EVP_PKEY *pkey = sign_tokey(L, 1)->pkey;
  char pem[SIGN_PEM_MAX];
  int len = -1;
  BIO *bio = BIO_new(BIO_s_mem());
  if (bio && PEM_write_bio_PUBKEY(bio, pkey) == 1)
    len = BIO_read(bio, pem, sizeof pem);
  if (len >= (int)sizeof pem)
    len = -1;
  BIO_free(bio);
  ERR_clear_error();
  if (len <= 0)
    return luaL_error(L, "cannot write the public key");
  lua_pushlstring(L, pem, (size_t)len);
  return 1;
}

/* sign.thumbprint(cert, 'sha1' | 'sha256') -> raw digest of the DER
 * certificate (JOSE x5t, x5t#S256) | nil, message */
static int sign_thumbprint(lua_State *L)
{
  static const char *const mds[] = {"sha1", "sha256", NULL};
  const char *data;
  size_t n = sign_checkinput(L, 1, &data);
  int sha256 = luaL_checkoption(L, 2, NULL, mds);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509 *x = n ? sign_cert(data, n) : NULL;
  int ok = x && X509_digest(x, sha256 ? EVP_sha256() : EVP_sha1(), md, &len) == 1;
  X509_free(x);
  ERR_clear_error();
  if (!ok) {
    luaL_pushfail(L);
    lua_pushliteral(L, "not a certificate (PEM or DER)");
    return 2;
  }
  lua_pushlstring(L, (const char *)md, len);
  return 1;
}

/* sign.spki_fingerprint(key_or_public_pem) -> raw SHA-256 of the DER
 * SubjectPublicKeyInfo (Snowflake's key-pair fingerprint) */
static int sign_spki_fingerprint(lua_State *L)
{
  unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
  unsigned int mdlen = 0;
  int ok = 0, n;
  EVP_PKEY *pkey;
  luaL_checkany(L, 1);
  pkey = sign_public(L, 1);
  if (!pkey)
    return luaL_argerror(L, 1, "not a key, public key or certificate (PEM or DER)");
  n = i2d_PUBKEY(pkey, &der);
  if (n > 0)
    ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) == 1;
  OPENSSL_free(der);
  EVP_PKEY_free(pkey);
  ERR_clear_error();
  if (!ok)
    return luaL_error(L, "cannot encode the public key");
  lua_pushlstring(L, (const char *)md, mdlen);
  return 1;
}

/* ---- the key userdata ----------------------------------------------------- */

/* key:type() -> "RSA 2048", "EC P-256", "Ed25519", ... */
static int sign_key_type(lua_State *L)
{
  char what[64];
  sign_describe(sign_tokey(L, 1)->pkey, what, sizeof what);
  lua_pushstring(L, what);
  return 1;
}

/* key:close(), __gc, __close: frees (and so wipes) the key; idempotent. */
static int sign_key_close(lua_State *L)
{
  sign_key *k = luaL_checkudata(L, 1, SIGN_KEY);
  EVP_PKEY_free(k->pkey);
  k->pkey = NULL;
  return 0;
}

static int sign_key_tostring(lua_State *L)
{
  sign_key *k = luaL_checkudata(L, 1, SIGN_KEY);
  char what[64];
  if (!k->pkey) {
    lua_pushliteral(L, "tokrun.sign.key (closed)");
    return 1;
  }
  sign_describe(k->pkey, what, sizeof what);
  lua_pushfstring(L, "tokrun.sign.key (%s)", what);
  return 1;
}

static const luaL_Reg sign_key_methods[] = {
  {"type", sign_key_type},
  {"close", sign_key_close},
  {NULL, NULL}};

static const luaL_Reg sign_key_meta[] = {
  {"__index", NULL},
  {"__gc", sign_key_close},
  {"__close", sign_key_close},
  {"__tostring", sign_key_tostring},
  {NULL, NULL}};

static const luaL_Reg sign_funcs[] = {
  {"load_key", sign_load_key},
  {"sign", sign_sign},
  {"verify", sign_verify},
  {"public_key", sign_public_key},
  {"thumbprint", sign_thumbprint},
  {"spki_fingerprint", sign_spki_fingerprint},
  {NULL, NULL}};

/* require "tokrun.sign" */
int luaopen_tokrun_sign(lua_State *L)
{
  luaL_newmetatable(L, SIGN_KEY);
  luaL_setfuncs(L, sign_key_meta, 0);
  luaL_newlibtable(L, sign_key_methods);
  luaL_setfuncs(L, sign_key_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, SIGN_KEY);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  luaL_newlib(L, sign_funcs);
  return 1;
}
