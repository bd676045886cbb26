/* Percent, hex and base64 encoders and decoders; see encode.h. */
#include "encode.h"

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";
static const char b64_std[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int enc_unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

static int enc_hexval(unsigned char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int enc_b64val(unsigned char c, int url)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == (url ? '-' : '+'))
    return 62;
  if (c == (url ? '_' : '/'))
    return 63;
  return -1;
}

static size_t enc_fail(size_t *bad, size_t at)
{
  if (bad)
    *bad = at;
  return ENC_BAD;
}

/* RFC 3986 percent-encoding; form: space as '+'. */
size_t enc_pct(char *dst, const char *src, size_t n, int form)
{
  const unsigned char *s = (const unsigned char *)src;
  char *d = dst;
  for (size_t i = 0; i < n; i++) {
    if (enc_unreserved(s[i])) {
      *d++ = (char)s[i];
    } else if (form && s[i] == ' ') {
      *d++ = '+';
    } else {
      *d++ = '%';
      *d++ = hex_upper[s[i] >> 4];
      *d++ = hex_upper[s[i] & 15];
    }
  }
  return (size_t)(d - dst);
}

/* Lowercase hex. */
size_t enc_hex(char *dst, const char *src, size_t n)
{
  const unsigned char *s = (const unsigned char *)src;
  for (size_t i = 0; i < n; i++) {
    dst[2 * i] = hex_lower[s[i] >> 4];
    dst[2 * i + 1] = hex_lower[s[i] & 15];
  }
  return 2 * n;
}

/* Base64 with padding, or base64url without. */
size_t enc_base64(char *dst, const char *src, size_t n, int url)
{
  const unsigned char *s = (const unsigned char *)src;
  const char *alpha = url ? b64_url : b64_std;
  char *d = dst;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    unsigned long v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8 | s[i + 2];
    *d++ = alpha[v >> 18];
    *d++ = alpha[(v >> 12) & 63];
    *d++ = alpha[(v >> 6) & 63];
    *d++ = alpha[v & 63];
  }
  if (i < n) {
    unsigned long v = (unsigned long)s[i] << 16;
    if (i + 1 < n)
      v |= (unsigned long)s[i + 1] << 8;
    *d++ = alpha[v >> 18];
    *d++ = alpha[(v >> 12) & 63];
    if (i + 1 < n)
      *d++ = alpha[(v >> 6) & 63];
    else if (!url)
      *d++ = '=';
    if (!url)
      *d++ = '=';
  }
  return (size_t)(d - dst);
}

/* %XX to a byte; form: '+' as space. */
size_t dec_pct(char *dst, const char *src, size_t n, int form, size_t *bad)
{
  const unsigned char *s = (const unsigned char *)src;
  char *d = dst;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      int hi = i + 2 < n ? enc_hexval(s[i + 1]) : -1;
      int lo = hi >= 0 ? enc_hexval(s[i + 2]) : -1;
      if (lo < 0)
        return enc_fail(bad, i);
      *d++ = (char)(hi << 4 | lo);
      i += 2;
    } else if (form && s[i] == '+') {
      *d++ = ' ';
    } else {
      *d++ = (char)s[i];
    }
  }
  return (size_t)(d - dst);
}

/* Hex of either case to bytes. */
size_t dec_hex(char *dst, const char *src, size_t n, size_t *bad)
{
  const unsigned char *s = (const unsigned char *)src;
  for (size_t i = 0; i + 1 < n; i += 2) {
    int hi = enc_hexval(s[i]), lo = enc_hexval(s[i + 1]);
    if (hi < 0)
      return enc_fail(bad, i);
    if (lo < 0)
      return enc_fail(bad, i + 1);
    dst[i / 2] = (char)(hi << 4 | lo);
  }
  if (n % 2)
    return enc_fail(bad, n);
  return n / 2;
}

/* Base64 or base64url, padding optional but exact when present. */
size_t dec_base64(char *dst, const char *src, size_t n, int url, size_t *bad)
{
  const unsigned char *s = (const unsigned char *)src;
  size_t m = n;
  while (m > 0 && n - m < 2 && s[m - 1] == '=')
    m--;
  if (m < n && (n % 4 != 0 || m % 4 < 2))
    return enc_fail(bad, m);
  if (m % 4 == 1)
    return enc_fail(bad, n);

  char *d = dst;
  unsigned long acc = 0;
  int bits = 0;
  for (size_t i = 0; i < m; i++) {
    int v = enc_b64val(s[i], url);
    if (v < 0)
      return enc_fail(bad, i);
    acc = (acc << 6 | (unsigned long)v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *d++ = (char)((acc >> bits) & 0xff);
    }
  }
  return (size_t)(d - dst);
}
