/* lualib, precompiled and linked into the host (see cmake/embed_lualib.cmake). */
#ifndef TOKRUN_EMBEDDED_H
#define TOKRUN_EMBEDDED_H
#include <stddef.h>

typedef struct tokrun_chunk {
  const char *name;            /* module name: "tokrun.cli" */
  const char *path;            /* source, relative to the tree: "lualib/tokrun/cli.lua" */
  const unsigned char *code;   /* luac output, debug info kept */
  size_t size;
  long long source_size;       /* the source file's size and mtime when compiled: */
  long long source_mtime;      /* a build tree loads the file instead once it changed */
} tokrun_chunk;

extern const tokrun_chunk tokrun_embedded[];

#endif
