/*
 * Pure C encoders shared by the codec module and the http module: no Lua,
 * no allocation.  The caller owns dst and sizes it with the ENC_*_MAX
 * macros (worst case for n input bytes; n must not exceed SIZE_MAX / 4).
 * Every function returns the number of bytes written to dst; a decoder
 * returns ENC_BAD on invalid input and, if bad is not NULL, stores there the
 * offset of the first byte it rejected (n for input cut short).
 *
 *   size_t enc_pct(char *dst, const char *src, size_t n, int form);
 *       RFC 3986 percent-encoding: A-Z a-z 0-9 - . _ ~ kept, every other
 *       byte %XX (uppercase hex).  form != 0: space becomes '+' (the
 *       application/x-www-form-urlencoded variant).  dst: ENC_PCT_MAX(n).
 *   size_t enc_hex(char *dst, const char *src, size_t n);
 *       lowercase hex.  dst: ENC_HEX_MAX(n).
 *   size_t enc_base64(char *dst, const char *src, size_t n, int url);
 *       RFC 4648 base64 with '=' padding, or (url != 0) base64url without
 *       padding.  dst: ENC_B64_MAX(n).
 *
 *   size_t dec_pct(char *dst, const char *src, size_t n, int form, size_t *bad);
 *       %XX (either case) to a byte, other bytes copied; form != 0: '+'
 *       becomes a space.  A '%' without two hex digits is invalid.
 *       dst: ENC_DEC_MAX(n).
 *   size_t dec_hex(char *dst, const char *src, size_t n, size_t *bad);
 *       hex digits of either case, even count.  dst: ENC_DEC_MAX(n).
 *   size_t dec_base64(char *dst, const char *src, size_t n, int url, size_t *bad);
 *       base64 (url == 0: '+' '/') or base64url (url != 0: '-' '_'), padded
 *       or not; no whitespace.  dst: ENC_DEC_MAX(n).
 */
#ifndef TOKRUN_ENCODE_H
#define TOKRUN_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#define ENC_BAD SIZE_MAX
#define ENC_PCT_MAX(n) (3 * (size_t)(n))
#define ENC_HEX_MAX(n) (2 * (size_t)(n))
#define ENC_B64_MAX(n) (4 * (((size_t)(n) + 2) / 3))
#define ENC_DEC_MAX(n) ((size_t)(n))

size_t enc_pct(char *dst, const char *src, size_t n, int form);
size_t enc_hex(char *dst, const char *src, size_t n);
size_t enc_base64(char *dst, const char *src, size_t n, int url);

size_t dec_pct(char *dst, const char *src, size_t n, int form, size_t *bad);
size_t dec_hex(char *dst, const char *src, size_t n, size_t *bad);
size_t dec_base64(char *dst, const char *src, size_t n, int url, size_t *bad);

#endif
