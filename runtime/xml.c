/*
 * tokrun.xml: XML documents read into Lua tables, on libexpat, for
 * providers whose answers are XML (the AWS Query protocol).
 *
 *   xml.decode(s [, max]) -> {Root = value} | nil, message
 *
 * An element with neither children nor attributes is its text; any other
 * element is a table: children by name (a name that repeats becomes a list
 * in document order), attributes as ["@name"], and text beside children
 * (other than whitespace) as ["#text"].  So answers read by the same
 * dotted paths as JSON.
 *
 * Nothing of a DTD is accepted: a DOCTYPE declaration stops the parse
 * before anything in it is read, so no entity, internal or external, is
 * ever declared or expanded (only XML's five predefined ones and character
 * references exist).  The input size (max, default 1 MiB) and the element
 * depth (64) are bounded.  The module is loaded on first use (a run that
 * reads no XML never maps libexpat).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "tokrun.h"

#define XML_MAX_DEPTH 64
#define XML_DEFAULT_MAX (1024 * 1024)

/* One open element: its text so far.  Its table is on the Lua stack at
 * base + depth. */
typedef struct xml_level {
  char *text;
  size_t len, cap;
  int has_children;
} xml_level;

typedef struct xml_doc {
  lua_State *L;
  XML_Parser parser;
  int base;      /* stack index of the result table */
  int depth;
  const char *error;   /* why the parse was stopped, when we stopped it */
  xml_level levels[XML_MAX_DEPTH + 1];
} xml_doc;

static void xml_stop(xml_doc *d, const char *why)
{
  if (d->error == NULL)
    d->error = why;
  XML_StopParser(d->parser, XML_FALSE);
}

static int xml_blank(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
      return 0;
  return 1;
}

/* Stores the value on top of the stack as child `name` of the table below
 * it; a name seen before becomes a list.  Element tables never have
 * integer keys, so a table with [1] is such a list. */
static void xml_add_child(lua_State *L, const char *name)
{
  int parent = lua_gettop(L) - 1;
  lua_getfield(L, parent, name);                      /* [parent, v, old] */
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_setfield(L, parent, name);
    return;
  }
  int list = 0;
  if (lua_istable(L, -1)) {
    list = lua_rawgeti(L, -1, 1) != LUA_TNIL;
    lua_pop(L, 1);                                    /* the [1] probe */
  }
  if (!list) {
    lua_createtable(L, 2, 0);                         /* [parent, v, old, list] */
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);                            /* list[1] = old */
    lua_pushvalue(L, -1);
    lua_setfield(L, parent, name);
  }
  lua_insert(L, -2);                                  /* [parent, list, v] */
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_pop(L, 1);
}

static void XMLCALL xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
  xml_doc *d = ud;
  lua_State *L = d->L;
  if (d->error)
    return;
  if (d->depth >= XML_MAX_DEPTH) {
    xml_stop(d, "elements are nested too deeply");
    return;
  }
  if (!lua_checkstack(L, 8)) {
    xml_stop(d, "out of memory");
    return;
  }
  if (d->depth > 0)
    d->levels[d->depth].has_children = 1;
  d->depth++;
  xml_level *lv = &d->levels[d->depth];
  lv->len = 0;
  lv->has_children = 0;
  lua_newtable(L);
  for (const XML_Char **a = attrs; a[0]; a += 2) {
    lua_pushfstring(L, "@%s", a[0]);
    lua_pushstring(L, a[1]);
    lua_rawset(L, -3);
    lv->has_children = 1;
  }
  (void)name;
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
  xml_doc *d = ud;
  lua_State *L = d->L;
  if (d->error)
    return;
  xml_level *lv = &d->levels[d->depth];
  if (!lv->has_children) {
    lua_pop(L, 1);
    lua_pushlstring(L, lv->text ? lv->text : "", lv->len);
  } else if (lv->len > 0 && !xml_blank(lv->text, lv->len)) {
    lua_pushlstring(L, lv->text, lv->len);
    lua_setfield(L, -2, "#text");
  }
  d->depth--;
  xml_add_child(L, name);
}

static void XMLCALL xml_text(void *ud, const XML_Char *s, int n)
{
  xml_doc *d = ud;
  if (d->error || d->depth == 0 || n <= 0)
    return;
  xml_level *lv = &d->levels[d->depth];
  if (lv->len + (size_t)n > lv->cap) {
    size_t cap = lv->cap ? lv->cap : 64;
    while (cap < lv->len + (size_t)n)
      cap *= 2;
    char *p = realloc(lv->text, cap);
    if (p == NULL) {
      xml_stop(d, "out of memory");
      return;
    }
    lv->text = p;
    lv->cap = cap;
  }
  memcpy(lv->text + lv->len, s, (size_t)n);
  lv->len += (size_t)n;
}

static void XMLCALL xml_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                                const XML_Char *pubid, int has_internal_subset)
{
  (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
  xml_stop(ud, "a DOCTYPE declaration is refused (no DTD or entity is ever read)");
}

static void XMLCALL xml_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                               int value_length, const XML_Char *base, const XML_Char *sysid,
                               const XML_Char *pubid, const XML_Char *notation)
{
  (void)name, (void)is_param, (void)value, (void)value_length, (void)base;
  (void)sysid, (void)pubid, (void)notation;
  xml_stop(ud, "an entity declaration is refused");
}

/* Frees the parser and the text buffers however decode ends (a Lua error
 * raised inside a callback included): the doc is a userdata with __gc. */
static void xml_free(xml_doc *d)
{
  if (d->parser) {
    XML_ParserFree(d->parser);
    d->parser = NULL;
  }
  for (int i = 0; i <= XML_MAX_DEPTH; i++) {
    free(d->levels[i].text);
    d->levels[i].text = NULL;
  }
}

static int xml_doc_gc(lua_State *L)
{
  xml_free(lua_touserdata(L, 1));
  return 0;
}

/* xml.decode(s [, max]) -> table | nil, message */
static int xml_decode(lua_State *L)
{
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_Integer max = luaL_optinteger(L, 2, XML_DEFAULT_MAX);
  luaL_argcheck(L, max > 0, 2, "must be positive");
  if (n > (size_t)max) {
    luaL_pushfail(L);
    lua_pushfstring(L, "the document is over %I bytes", max);
    return 2;
  }
  if (n > (size_t)INT_MAX) {
    luaL_pushfail(L);
    lua_pushliteral(L, "the document is too large");
    return 2;
  }
  lua_settop(L, 1);
  xml_doc *d = lua_newuserdatauv(L, sizeof *d, 0);     /* [s, doc] */
  memset(d, 0, sizeof *d);
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, xml_doc_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  d->L = L;
  d->parser = XML_ParserCreate(NULL);
  if (d->parser == NULL)
    return luaL_error(L, "xml: cannot create a parser: out of memory");
  XML_SetUserData(d->parser, d);
  XML_SetElementHandler(d->parser, xml_start, xml_end);
  XML_SetCharacterDataHandler(d->parser, xml_text);
  XML_SetStartDoctypeDeclHandler(d->parser, xml_doctype);
  XML_SetEntityDeclHandler(d->parser, xml_entity);
  XML_SetParamEntityParsing(d->parser, XML_PARAM_ENTITY_PARSING_NEVER);
  lua_newtable(L);                                    /* [s, doc, result] */
  d->base = lua_gettop(L);
  enum XML_Status st = XML_Parse(d->parser, s, (int)n, 1);
  if (st != XML_STATUS_OK || d->error) {
    if (d->error)
      lua_pushfstring(L, "%s (line %d)", d->error, (int)XML_GetCurrentLineNumber(d->parser));
    else
      lua_pushfstring(L, "%s (line %d, column %d)", XML_ErrorString(XML_GetErrorCode(d->parser)),
                      (int)XML_GetCurrentLineNumber(d->parser),
                      (int)XML_GetCurrentColumnNumber(d->parser) + 1);
    xml_free(d);
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  xml_free(d);
  lua_settop(L, d->base);
  return 1;
}

static const luaL_Reg xml_funcs[] = {
  {"decode", xml_decode},
  {NULL, NULL}};

int luaopen_tokrun_xml(lua_State *L)
{
  luaL_newlib(L, xml_funcs);
  lua_pushinteger(L, XML_MAX_DEPTH);
  lua_setfield(L, -2, "MAX_DEPTH");
  return 1;
}
