-- `tokrun check --format json`: a recipe error as one JSON object for
-- editors and CI, {"file","line","step","word","message"}, with null for
-- what is not known.  The line is Lua's for a syntax error, else the line
-- where the word is written (looked up in the source, after its step's
-- name when there is a step).
local json = require 'tokrun.json'
local sys = require 'tokrun.sys'

local M = {}

local tonumber, ipairs = tonumber, ipairs

local function escape(s) return (s:gsub('%p', '%%%0')) end

-- The source's lines, or nil.
local function lines_of(path)
  local src = path and sys.read_file(path, 1024 * 1024)
  if not src then return nil end
  local lines = {}
  for line in (src .. '\n'):gmatch('([^\n]*)\n') do lines[#lines + 1] = line end
  return lines
end

-- The line number where `word` is written (after the step named `step`), or nil.
function M.line_of(lines, step, word)
  if not lines or not word then return nil end
  local from = 1
  if step then
    local want = "name%s*=%s*['\"]" .. escape(step) .. "['\"]"
    for i, line in ipairs(lines) do
      if line:find(want) then from = i; break end
    end
  end
  local w = escape(word)
  local patterns = { '^%s*' .. w .. '%s*=', '[{,;]%s*' .. w .. '%s*=', "%[%s*['\"]" .. w .. "['\"]%s*%]%s*=" }
  for i = from, #lines do
    for _, p in ipairs(patterns) do
      if lines[i]:find(p) then return i end
    end
  end
  return nil
end

-- M.of(err, path) -> {file, line, step, word, message}
function M.of(err, path)
  local f = err.finding or {}
  local message = f.message or err.message
  local line = tonumber(err.message:match('^' .. escape(path) .. ':(%d+):'))
  local step, word = f.step, f.word
  if not line and word then line = M.line_of(lines_of(path), step, word) end
  return { file = f.file or path, line = line or json.null, step = step or json.null,
    word = word or json.null, message = message }
end

-- M.json(err, path) -> one JSON object and a newline
function M.json(err, path)
  return json.encode(M.of(err, path)) .. '\n'
end

return M
