-- Writes tokrun-recipe(5), the recipe language's man page, from the schema
-- table, so the page lists exactly the words `tokrun check` accepts:
--   tokrun lua packaging/gen/manpage.lua OUT
-- (run by the build; see cmake/packaging.cmake).
package.path = (arg[0]:match('^(.*)/[^/]+$') or '.') .. '/?.lua;' .. package.path
local words = require 'words'

local out = {}
local function put(line) out[#out + 1] = line end

-- Text for roff: backslashes and hyphens escaped, no line starting a request.
local function roff(s)
  s = tostring(s):gsub('\\', '\\e'):gsub('%-', '\\-')
  if s:match("^[.']") then s = '\\&' .. s end
  return s
end
local function bold(s) return '\\fB' .. roff(s) .. '\\fR' end
-- A description: `code` in bold.
local function prose(s) return (roff(s):gsub('`([^`]+)`', '\\fB%1\\fR')) end

put([[.\" Generated from lualib/tokrun/schema.lua by packaging/gen/manpage.lua: do not edit.]])
put('.TH TOKRUN\\-RECIPE 5 "" "tokrun ' .. roff(require('tokrun.sys').paths().version) .. '" "File Formats"')
put('.SH NAME')
put('tokrun\\-recipe \\- the tokrun recipe language')
put('.SH SYNOPSIS')
put('.nf')
put('return {')
put('  name = \'acme\', description = \'Acme API token\',')
put('  params = {')
put('    { name = \'api_key\', env = \'ACME_API_KEY\', secret = true, required = true },')
put('  },')
put('  steps = {')
put('    { name = \'mint\', method = \'POST\', url = \'https://api.acme.example/token\',')
put('      headers = { [\'X\\-Api\\-Key\'] = \'{api_key}\' },')
put('      capture = { token = { path = \'token\', secret = true } } },')
put('  },')
put('  emit = { token = \'{token}\', token_type = \'bearer\' },')
put('}')
put('.fi')
put('.SH DESCRIPTION')
put('A recipe is a Lua file that returns one table describing a provider\'s credential flow as data.')
put('It runs in a sandbox with a bounded heap and run time, and is checked before it runs:')
put(bold('tokrun check FILE') .. ' reports a misspelt, misplaced or ill\\-valued word as a recipe error')
put('(exit 65) naming the file, the step and the word, with the nearest valid word suggested.')
put('.PP')
put('This page lists every word of the language, by the table it appears in.')
put('Each entry gives the word, the value it takes and whether it is required.')
put('A \\fItemplate\\fR is a string that may hold')
put(bold('{placeholders}') .. ' (parameters, captured values and the builtins below), or a function')
put('of the values.')

for _, ctx in ipairs(words.contexts()) do
  put('.SS ' .. roff(ctx))
  local doc = words.doc(ctx)
  if doc then put(prose(doc)) end
  for _, w in ipairs(words.words(ctx)) do
    put('.TP')
    local notes = words.notes(w.word)
    put(bold(w.name) .. ' \\(em ' .. roff(words.value(w.word))
      .. (#notes > 0 and (' (' .. roff(table.concat(notes, '; ')) .. ')') or ''))
    put(prose(w.word.doc or ''))
  end
end

local s = words.schema
put('.SH TEMPLATES')
put('Every template may use the recipe\'s parameters, what earlier steps captured, and these builtins:')
for _, b in ipairs(words.pairs_of(s.builtins)) do
  put('.TP')
  put(bold('{' .. b.name .. '}'))
  put(roff(b.doc))
end
if s.sign_names then
  put('.PP')
  put('A signature\'s ' .. bold('message') .. ' may also use:')
  for _, b in ipairs(words.pairs_of(s.sign_names)) do
    put('.TP')
    put(bold('{' .. b.name .. '}'))
    put(roff(b.doc))
  end
end
if s.filters then
  put('.PP')
  put('A placeholder may pass its value through a filter, ' .. bold('{name|filter}') .. ':')
  for _, b in ipairs(words.pairs_of(s.filters)) do
    put('.TP')
    put(bold(b.name))
    put(roff(b.doc))
  end
end
put('.SH FILES')
put('Installed recipes are in')
put(bold('/usr/share/tokrun/recipes') .. ' (' .. bold('PREFIX/share/tokrun/recipes') .. ' for a')
put(bold('cmake \\-\\-install') .. ');')
put('editor annotations for these words in ' .. bold('/usr/share/tokrun/lua\\-annotations') .. '.')
put('.SH SEE ALSO')
put(bold('tokrun') .. '(1)')
words.write(assert(arg[1], 'usage: tokrun lua manpage.lua OUT'), table.concat(out, '\n') .. '\n')
