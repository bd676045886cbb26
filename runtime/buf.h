/* A growable byte buffer for data that may hold secrets (response bodies,
 * command output): it grows by copying, never realloc, and is wiped before
 * it is freed, so no stale copy is left in the heap.  Shared by the http
 * module and tokrun.process; pure C, no Lua. */
#ifndef TOKRUN_BUF_H
#define TOKRUN_BUF_H
#include <stddef.h>

typedef struct tokrun_buf {
  char *data;
  size_t len, cap;
} tokrun_buf;

/* Wipe and free; the buffer is empty and reusable afterwards. */
void buf_free(tokrun_buf *b);

/* Room for n more bytes (first allocation at least `initial`): 0, or -1
 * when out of memory (the buffer is unchanged). */
int buf_reserve(tokrun_buf *b, size_t n, size_t initial);

/* Append n bytes: 0, or -1 when out of memory. */
int buf_append(tokrun_buf *b, const char *s, size_t n, size_t initial);

#endif
