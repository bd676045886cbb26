-- tokrun.xml.decode on arbitrary bytes never raises; what it returns is
-- nil and a message, or one root element of strings and tables, no deeper
-- than MAX_DEPTH, all valid UTF-8; and no document with a DOCTYPE (outside
-- comments, CDATA and processing instructions) is ever accepted.
local xml = require 'tokrun.xml'
local fuzz = require 'fuzz.lib'

local pcall, type, pairs, tostring = pcall, type, pairs, tostring
local utf8_len = utf8.len

local function walk(v, depth)
  if type(v) == 'string' then
    fuzz.check(utf8_len(v), 'xml.decode returned a string that is not UTF-8: %s', fuzz.show(v))
    return
  end
  fuzz.check(type(v) == 'table', 'xml.decode returned a %s', type(v))
  fuzz.check(depth <= xml.MAX_DEPTH + 1, 'xml.decode returned a tree deeper than %d', xml.MAX_DEPTH)
  for k, item in pairs(v) do
    fuzz.check(type(k) == 'string' or math.type(k) == 'integer', 'a key is a %s', type(k))
    walk(item, depth + 1)
  end
end

return function(data)
  local max = #data > 0 and (data:byte(1) % 2 == 0 and #data or 1 + data:byte(1)) or 1
  local ok, t, msg = pcall(xml.decode, data, max)
  fuzz.check(ok, 'xml.decode raised on %s: %s', fuzz.show(data), tostring(t))
  if t == nil then
    fuzz.check(type(msg) == 'string' and msg ~= '', 'xml.decode returned nil without a message')
    return
  end
  fuzz.check(#data <= max, 'xml.decode accepted %d bytes with max %d', #data, max)
  local roots = 0
  for _ in pairs(t) do roots = roots + 1 end
  fuzz.check(roots == 1, 'xml.decode returned %d roots', roots)
  walk(t, 0)
  local bare = data:gsub('<!%-%-.-%-%->', ''):gsub('<!%[CDATA%[.-%]%]>', ''):gsub('<%?.-%?>', '')
  fuzz.check(not bare:find('<!DOCTYPE', 1, true), 'xml.decode accepted a DOCTYPE: %s', fuzz.show(data))
end
