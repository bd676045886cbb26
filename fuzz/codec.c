/* Fuzz target: the encoders of runtime/encode.c round-trip through their
 * decoders, the decoders take any input (writing within ENC_DEC_MAX, which
 * ASan checks on exact-size buffers), and tokrun.codec's Lua face agrees
 * (lua/fuzz/codec.lua). */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../runtime/encode.h"

static char *fuzz_buf(size_t n)
{
  char *p = malloc(n ? n : 1);
  if (p == NULL)
    fuzz_abort("out of memory");
  return p;
}

/* enc then dec gives back src, and enc wrote exactly what it returned. */
static void codec_round_trip(const char *what, const char *src, size_t n, int kind, int flag)
{
  size_t max = kind == 'p' ? ENC_PCT_MAX(n) : kind == 'h' ? ENC_HEX_MAX(n) : ENC_B64_MAX(n);
  char *enc = fuzz_buf(max);
  size_t elen = kind == 'p' ? enc_pct(enc, src, n, flag)
              : kind == 'h' ? enc_hex(enc, src, n)
              : enc_base64(enc, src, n, flag);
  if (elen > max)
    fuzz_abort("%s wrote %zu bytes, more than its maximum %zu", what, elen, max);
  char *dec = fuzz_buf(ENC_DEC_MAX(elen));
  size_t bad = (size_t)-2;
  size_t dlen = kind == 'p' ? dec_pct(dec, enc, elen, flag, &bad)
              : kind == 'h' ? dec_hex(dec, enc, elen, &bad)
              : dec_base64(dec, enc, elen, flag, &bad);
  if (dlen == ENC_BAD)
    fuzz_abort("%s: its decoder rejects its output at byte %zu", what, bad);
  if (dlen != n || memcmp(dec, src, n) != 0)
    fuzz_abort("%s does not round-trip (%zu bytes in, %zu out)", what, n, dlen);
  free(enc);
  free(dec);
}

/* A decoder on arbitrary input: fails at an offset within it, or decodes to
 * bytes that round-trip. */
static void codec_decode_any(const char *what, const char *src, size_t n, int kind, int flag)
{
  char *dec = fuzz_buf(ENC_DEC_MAX(n));
  size_t bad = (size_t)-2;
  size_t dlen = kind == 'p' ? dec_pct(dec, src, n, flag, &bad)
              : kind == 'h' ? dec_hex(dec, src, n, &bad)
              : dec_base64(dec, src, n, flag, &bad);
  if (dlen == ENC_BAD) {
    if (bad > n)
      fuzz_abort("%s: rejected at offset %zu of %zu bytes", what, bad, n);
  } else {
    if (dlen > ENC_DEC_MAX(n))
      fuzz_abort("%s: decoded %zu bytes from %zu", what, dlen, n);
    codec_round_trip(what, dec, dlen, kind, flag);
  }
  free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  codec_round_trip("pct", s, size, 'p', 0);
  codec_round_trip("form", s, size, 'p', 1);
  codec_round_trip("hex", s, size, 'h', 0);
  codec_round_trip("base64", s, size, 'b', 0);
  codec_round_trip("base64url", s, size, 'b', 1);
  codec_decode_any("unpct", s, size, 'p', 0);
  codec_decode_any("unpct form", s, size, 'p', 1);
  codec_decode_any("unhex", s, size, 'h', 0);
  codec_decode_any("unbase64", s, size, 'b', 0);
  codec_decode_any("unbase64url", s, size, 'b', 1);
  return fuzz_run("fuzz.codec", data, size);
}
