-- The schema table (tokrun.schema) read for documentation: the contexts in
-- their documented order and, for each, its words sorted by name with what
-- value each takes.  Shared by manpage.lua and annotations.lua.
local schema = require 'tokrun.schema'

local M = { schema = schema }

local concat, sort, format = table.concat, table.sort, string.format

-- The contexts, documented order first, then any the order does not name.
function M.contexts()
  local list, seen = {}, {}
  for _, name in ipairs(schema.order or {}) do
    if schema.contexts[name] then list[#list + 1] = name; seen[name] = true end
  end
  local rest = {}
  for name in pairs(schema.contexts) do
    if not seen[name] then rest[#rest + 1] = name end
  end
  sort(rest)
  for _, name in ipairs(rest) do list[#list + 1] = name end
  return list
end

-- A context's words, sorted: { {name = ..., word = {...}}, ... }.  Its
-- string entries (the context's own doc) are not words.
function M.words(context)
  local list = {}
  for name, word in pairs(schema.contexts[context]) do
    if type(word) == 'table' then list[#list + 1] = { name = name, word = word } end
  end
  sort(list, function(a, b) return a.name < b.name end)
  return list
end

-- The context's one-line description, if it has one.
function M.doc(context)
  local d = schema.contexts[context].doc
  return type(d) == 'string' and d or nil
end

local function enum_text(enum)
  local out = {}
  for i, v in ipairs(enum) do out[i] = type(v) == 'string' and format("'%s'", v) or tostring(v) end
  return concat(out, ' | ')
end

-- What a word takes, in words: "one of 'a' | 'b'", "a template", ...
function M.value(word)
  if word.enum and word.list then return 'a list of ' .. enum_text(word.enum) end
  if word.enum then return enum_text(word.enum) end
  if word.type then return word.type end
  if word.template then return 'template' end
  if word.value then return 'value (template, number, boolean or table of them)' end
  if word.context then return 'table (' .. word.context .. ')' end
  if word.list then return 'list of ' .. (word.list == 'template' and 'templates' or word.list) end
  if word.map then return 'NAME -> ' .. (word.map == 'template' and 'template' or word.map) end
  if word.custom then return word.shape or word.custom end
  return 'value'
end

-- Constraints beyond the value: required, min, pattern, names, kinds.
function M.notes(word)
  local out = {}
  if word.required then out[#out + 1] = 'required' end
  if word.min then out[#out + 1] = 'at least ' .. word.min end
  if word.pattern then out[#out + 1] = 'matching ' .. word.pattern end
  if word.names then out[#out + 1] = 'names matching ' .. word.names end
  if word.kinds then out[#out + 1] = concat(word.kinds, ', ') .. ' steps only' end
  return out
end

-- The name -> description pairs of a table like schema.builtins, sorted.
function M.pairs_of(t)
  local list = {}
  for k, v in pairs(t or {}) do list[#list + 1] = { name = k, doc = v } end
  sort(list, function(a, b) return a.name < b.name end)
  return list
end

-- Writes text to path (through a temporary file), or raises.
function M.write(path, text)
  local dir = path:match('^(.*)/[^/]+$')
  if dir then os.execute("mkdir -p '" .. dir:gsub("'", [['\'']]) .. "'") end
  local tmp = path .. '.tmp'
  local f = assert(io.open(tmp, 'wb'))
  assert(f:write(text))
  assert(f:close())
  assert(os.rename(tmp, path))
end

return M
