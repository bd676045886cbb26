-- Writes the LuaLS (lua-language-server) annotations for recipes from the
-- schema table: one ---@class per context, one ---@field per word, so an
-- editor completes and checks every word `tokrun check` accepts.
--   tokrun lua packaging/gen/annotations.lua OUT
-- (run by the build; see cmake/packaging.cmake).  A recipe opts in with
-- `---@type tokrun.recipe` above its `return {`.
package.path = (arg[0]:match('^(.*)/[^/]+$') or '.') .. '/?.lua;' .. package.path
local words = require 'words'

local concat, format = table.concat, string.format

local TEMPLATE = 'string|fun(vars: table): any'
local PRIMITIVE = { string = 'string', integer = 'integer', number = 'number', boolean = 'boolean',
  table = 'table', ['function'] = 'function' }

local function class(ctx) return 'tokrun.' .. ctx end

local function literal(v)
  return type(v) == 'string' and format('%q', v) or tostring(v)
end

-- The LuaLS type of a word's value.
local function luatype(word)
  if word.enum then
    local alts = {}
    for i, v in ipairs(word.enum) do alts[i] = literal(v) end
    local t = concat(alts, '|')
    return word.list and '(' .. t .. ')[]' or t
  end
  if word.type then return PRIMITIVE[word.type] or 'any' end
  if word.template then return TEMPLATE end
  if word.value then return 'any' end
  if word.context then return class(word.context) end
  if word.list then
    return word.list == 'template' and '(' .. TEMPLATE .. ')[]' or class(word.list) .. '[]'
  end
  if word.map then
    local v = word.map == 'template' and TEMPLATE or class(word.map)
    -- a capture may also be just its path
    if word.map == 'capture' then v = 'string|' .. v end
    return 'table<string, ' .. v .. '>'
  end
  return 'any'
end

local function oneline(s) return (tostring(s or ''):gsub('%s+', ' ')) end

local out = {
  '---@meta tokrun',
  '-- The tokrun recipe language, for lua-language-server.  Generated from',
  '-- lualib/tokrun/schema.lua by packaging/gen/annotations.lua: do not edit.',
  '-- Use: put `---@type tokrun.recipe` above a recipe\'s `return {`, and this',
  '-- directory in .luarc.json: { "workspace.library": ["<this directory>"] }',
}
for _, ctx in ipairs(words.contexts()) do
  out[#out + 1] = ''
  local doc = words.doc(ctx)
  if doc then out[#out + 1] = '---' .. oneline(doc) end
  out[#out + 1] = '---@class ' .. class(ctx)
  for _, w in ipairs(words.words(ctx)) do
    local notes = words.notes(w.word)
    local text = oneline(w.word.doc)
    if w.word.custom and w.word.shape then text = text .. ' (' .. oneline(w.word.shape) .. ')' end
    if #notes > 0 then text = text .. ' [' .. concat(notes, '; ') .. ']' end
    local name = w.name:match('^[%a_][%w_]*$') and w.name or format('[%q]', w.name)
    out[#out + 1] = format('---@field %s%s %s %s', name, w.word.required and '' or '?',
      luatype(w.word), text)
  end
end
out[#out + 1] = ''
words.write(assert(arg[1], 'usage: tokrun lua annotations.lua OUT'), concat(out, '\n') .. '\n')
