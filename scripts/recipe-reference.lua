-- Prints the word reference of docs/recipes.md from the schema, so the
-- documentation says exactly what `tokrun check` accepts:
--   build/tokrun lua scripts/recipe-reference.lua > /tmp/ref.md
-- With --update FILE, replaces the section between the markers in FILE.
local schema = require 'tokrun.schema'

local BEGIN = '<!-- word reference: generated from lualib/tokrun/schema.lua by scripts/recipe-reference.lua -->'
local END = '<!-- end of word reference -->'

local function value_of(w)
  if w.type then return w.type .. (w.min and (' >= ' .. w.min) or '') end
  if w.template then return 'template' end
  if w.value then return 'value' end
  if w.context then return 'table: ' .. w.context end
  if w.list == 'enum' then return 'list of: ' .. table.concat(w.enum, ', ') end
  if w.list then return 'list of ' .. w.list end
  if w.map then return 'NAME -> ' .. w.map end
  if w.enum then
    local e = {}
    for i, v in ipairs(w.enum) do e[i] = '`' .. tostring(v) .. '`' end
    return table.concat(e, ', ')
  end
  if w.custom then return w.shape or w.custom end
  return ''
end

local function escape(s) return (tostring(s):gsub('|', '\\|')) end

local function render()
  local out = { BEGIN, '' }
  for _, cname in ipairs(schema.order) do
    local c = schema.contexts[cname]
    out[#out + 1] = '### `' .. cname .. '`'
    out[#out + 1] = ''
    out[#out + 1] = c.doc
    out[#out + 1] = ''
    out[#out + 1] = '| word | value | meaning |'
    out[#out + 1] = '| --- | --- | --- |'
    local names = {}
    for name, w in pairs(c) do if type(w) == 'table' then names[#names + 1] = name end end
    table.sort(names)
    for _, name in ipairs(names) do
      local w = c[name]
      local notes = {}
      if w.required then notes[#notes + 1] = 'required' end
      if w.kinds then notes[#notes + 1] = table.concat(w.kinds, ', ') .. ' steps' end
      local meaning = w.doc .. (#notes > 0 and (' (' .. table.concat(notes, '; ') .. ')') or '')
      out[#out + 1] = string.format('| `%s` | %s | %s |', name, escape(value_of(w)), escape(meaning))
    end
    out[#out + 1] = ''
  end
  local function table_of(title, t)
    out[#out + 1] = '### ' .. title
    out[#out + 1] = ''
    local names = {}
    for k in pairs(t) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do out[#out + 1] = string.format('- `%s`: %s', k, t[k]) end
    out[#out + 1] = ''
  end
  table_of('Template builtins', schema.builtins)
  table_of('Names a signature message may use', schema.sign_names)
  table_of('Template filters', schema.filters)
  local parsers = {}
  for kind, list in pairs(schema.parsers) do
    parsers[kind] = #list > 0 and table.concat(list, ', ') or '(nothing: it reads no answer)'
  end
  table_of('What `parse` accepts, by step kind', parsers)
  out[#out + 1] = END
  return table.concat(out, '\n') .. '\n'
end

local update = arg[1] == '--update' and arg[2]
if not update then
  io.write(render())
  return
end
local f = assert(io.open(update))
local text = f:read('a')
f:close()
local a = text:find(BEGIN, 1, true)
local _, b = text:find(END .. '\n', 1, true)
assert(a and b, update .. ': no word reference markers')
f = assert(io.open(update, 'w'))
f:write(text:sub(1, a - 1), render(), text:sub(b + 1))
f:close()
