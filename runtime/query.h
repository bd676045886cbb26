/* The one query encoder: codec.query and http.request's query option
 * both use it, so a query prints exactly as it is sent. */
#ifndef TOKRUN_QUERY_H
#define TOKRUN_QUERY_H

#include <lua.h>

/* [.., pairs at t, ..] -> [.., "name=value&..."]: the {name, value} pairs
 * of the list at t, in order, each side percent-encoded (RFC 3986: only
 * unreserved characters kept).  Names and values are strings or numbers;
 * anything else raises "bad query pair #N: ...". */
const char *query_push(lua_State *L, int t);

#endif
