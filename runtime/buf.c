/* Secret-safe growable buffers: see buf.h. */
#define _GNU_SOURCE   /* explicit_bzero */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_free(tokrun_buf *b)
{
  if (b->data) {
    explicit_bzero(b->data, b->cap);
    free(b->data);
  }
  b->data = NULL;
  b->len = b->cap = 0;
}

int buf_reserve(tokrun_buf *b, size_t n, size_t initial)
{
  if (n <= b->cap - b->len)
    return 0;
  size_t cap = b->cap ? b->cap : initial;
  while (cap - b->len < n)
    cap *= 2;
  char *p = malloc(cap);
  if (p == NULL)
    return -1;
  size_t len = b->len;
  if (len)
    memcpy(p, b->data, len);
  buf_free(b);
  b->data = p;
  b->len = len;
  b->cap = cap;
  return 0;
}

int buf_append(tokrun_buf *b, const char *s, size_t n, size_t initial)
{
  if (buf_reserve(b, n, initial) < 0)
    return -1;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}
