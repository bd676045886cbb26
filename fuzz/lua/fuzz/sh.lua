-- Reads one sh word as POSIX sh does (XCU 2.2, Quoting), for the part of
-- the language output.shell_quote writes: '...' keeps every byte up to the
-- next '; outside quotes \c is c, and \newline is removed.  A byte sh would
-- treat specially, unquoted, is not part of such a word.  No shell is run;
-- tests/lualib/output_spec.lua checks this reader against a real sh.
local M = {}

local find, sub, concat = string.find, string.sub, table.concat

local SPECIAL = '[%z|&;<>()$`"\\ \t\n*?%[#~{}!]'

-- unquote(word) -> the string sh makes of word | nil, message
function M.unquote(w)
  if w == '' then return nil, 'empty word' end
  local out, i, n = {}, 1, #w
  while i <= n do
    local c = sub(w, i, i)
    if c == "'" then
      local j = find(w, "'", i + 1, true)
      if not j then return nil, 'unterminated single quote at byte ' .. i end
      out[#out + 1] = sub(w, i + 1, j - 1)
      i = j + 1
    elseif c == '\\' then
      if i == n then return nil, 'backslash at the end' end
      local d = sub(w, i + 1, i + 1)
      if d ~= '\n' then out[#out + 1] = d end
      i = i + 2
    elseif find(c, SPECIAL) then
      return nil, 'unquoted special byte at ' .. i
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  return concat(out)
end

return M
