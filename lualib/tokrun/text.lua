-- Small string helpers shared by the parsers.
local M = {}

local find, sub = string.find, string.sub

-- M.trim(s) -> s without leading and trailing whitespace, in linear time
-- ('^%s*(.-)%s*$' is quadratic on a long run of spaces, and a pattern
-- match cannot be interrupted).
function M.trim(s)
  local i = find(s, '%S')
  if not i then return '' end
  local _, j = find(s, '^.*%S', i)
  return sub(s, i, j)
end

return M
