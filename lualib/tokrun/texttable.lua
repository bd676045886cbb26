-- Reads the tables CLIs print for people (`dataos-ctl user apikey create`):
-- log lines and rules skipped, a header row, cells split on | or │.
local M = {}

local type, ipairs, error, format = type, ipairs, error, string.format
local find, gsub, upper = string.find, string.gsub, string.upper

local BAR = '\u{2502}'  -- │, the box-drawing column separator

-- logrus-style level prefixes: INFO[0000] ...
local LOG_LINE = { '^%s*INFO%[', '^%s*WARN%[', '^%s*DEBU%[', '^%s*ERRO%[' }

local function is_log(line)
  for _, p in ipairs(LOG_LINE) do
    if find(line, p) then return true end
  end
  return false
end

-- A rule is made of - = + | and spaces, or of box-drawing characters
-- (U+2500..U+257F: ─ │ ┼ and their kin, all \226\148 or \226\149 + one byte).
local function is_rule(line)
  local rest = gsub(line, '\226[\148\149][\128-\191]', '')
  return find(rest, '^[%-=+|%s]*$') ~= nil
end

local trim = require('tokrun.text').trim   -- linear on long runs of spaces

-- Cells of one row: separators at either end ignored, cells trimmed.
local function cells(line)
  line = trim(gsub(line, BAR, '|'))
  line = gsub(gsub(line, '^|', ''), '|$', '')
  local out = {}
  for cell in (line .. '|'):gmatch('([^|]*)|') do
    out[#out + 1] = trim(cell)
  end
  return out
end

-- texttable.parse(text) -> rows, header | nil, message
-- rows: array of {HEADER = cell}; header: the column names in order.
function M.parse(text)
  if type(text) ~= 'string' then
    error(format("bad argument #1 to 'parse' (string expected, got %s)", type(text)), 2)
  end
  text = gsub(text, '\27%[[%d;]*m', '')  -- colour, should a CLI add it
  local header, rows, lineno = nil, {}, 0
  for line in (text .. '\n'):gmatch('([^\n]*)\n') do
    lineno = lineno + 1
    line = gsub(line, '\r$', '')
    if not (find(line, '^%s*$') or is_log(line) or is_rule(line)) then
      local row = cells(line)
      if not header then
        for i, name in ipairs(row) do
          if name == '' then return nil, format('line %d: column %d has no name', lineno, i) end
          row[i] = upper(name)
        end
        header = row
      elseif #row ~= #header then
        return nil, format('line %d: expected %d cells, got %d', lineno, #header, #row)
      else
        local r = {}
        for i, name in ipairs(header) do r[name] = row[i] end
        rows[#rows + 1] = r
      end
    end
  end
  if not header then return nil, 'no table in the output' end
  if #rows == 0 then return nil, 'the table has a header but no rows' end
  return rows, header
end

return M
