-- texttable.parse never raises on text: rows and a header, or nil and a
-- message.  Tried on the input and on it as rows under a DataOS header.
local texttable = require 'tokrun.texttable'
local fuzz = require 'fuzz.lib'

local pcall, type, tostring, ipairs = pcall, type, tostring, ipairs

local function check(text)
  local ok, rows, header = pcall(texttable.parse, text)
  fuzz.check(ok, 'texttable.parse raised on %s: %s', fuzz.show(text), tostring(rows))
  if rows == nil then
    fuzz.check(type(header) == 'string', 'texttable.parse returned nil without a message')
    return
  end
  fuzz.check(type(rows) == 'table' and #rows > 0 and type(header) == 'table' and #header > 0,
    'texttable.parse(%s): not rows and a header', fuzz.show(text))
  for _, row in ipairs(rows) do
    for _, name in ipairs(header) do
      fuzz.check(type(row[name]) == 'string', 'row without column %s in %s', name, fuzz.show(text))
    end
  end
end

return function(data)
  check(data)
  check('  TOKEN │ TYPE │ EXPIRATION │ NAME\n───┼───┼───┼───\n' .. data)
end
