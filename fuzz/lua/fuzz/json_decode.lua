-- tokrun.json.decode on arbitrary bytes never raises; what it decodes
-- encodes (unless a string is not UTF-8), and encode(decode(encode(v)))
-- is encode(v).
local json = require 'tokrun.json'
local fuzz = require 'fuzz.lib'

local pcall, type, tostring = pcall, type, tostring
local find, utf8_len = string.find, utf8.len

return function(data)
  local ok, v, msg = pcall(json.decode, data)
  fuzz.check(ok, 'json.decode raised on %s: %s', fuzz.show(data), tostring(v))
  if v == nil then
    fuzz.check(type(msg) == 'string', 'json.decode returned nil without a message')
    return
  end
  local ok1, e1 = pcall(json.encode, v)
  if not ok1 then
    -- raw bytes in a JSON string pass through cjson; only those may fail,
    -- never what a valid UTF-8 input (escapes included) decodes to
    fuzz.check(find(tostring(e1), 'invalid UTF-8', 1, true) and not utf8_len(data),
      'json.encode of json.decode(%s) raised: %s', fuzz.show(data), tostring(e1))
    return
  end
  local v2, m2 = json.decode(e1)
  fuzz.check(v2 ~= nil, 'json.decode(json.encode(v)) failed on %s: %s', fuzz.show(e1), tostring(m2))
  local ok2, e2 = pcall(json.encode, v2)
  fuzz.check(ok2 and e2 == e1, 'encode(decode(e)) ~= e: %s then %s (input %s)',
    fuzz.show(e1), fuzz.show(e2), fuzz.show(data))
end
