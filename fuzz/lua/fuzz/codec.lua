-- tokrun.codec: every encoder round-trips through its decoder, and the
-- decoders take any input, failing with nil, message or giving bytes that
-- re-encode to a string decoding to the same bytes.
local codec = require 'tokrun.codec'
local fuzz = require 'fuzz.lib'

local pcall, type, tostring, ipairs = pcall, type, tostring, ipairs
local find, lower = string.find, string.lower

local unpct_form = function(s) return codec.unpct(s, true) end

local CODECS = {
  { name = 'pct', enc = codec.pct, dec = codec.unpct, alphabet = '^[%w%-._~%%]*$' },
  { name = 'form', enc = codec.form, dec = unpct_form, alphabet = '^[%w%-._~%%+]*$' },
  { name = 'base64', enc = codec.base64, dec = codec.unbase64, alphabet = '^[%w+/]*=?=?$' },
  { name = 'base64url', enc = codec.base64url, dec = codec.unbase64url, alphabet = '^[%w%-_]*$' },
  { name = 'hex', enc = codec.hex, dec = codec.unhex, alphabet = '^[0-9a-f]*$' },
}

return function(data)
  for _, c in ipairs(CODECS) do
    local e = c.enc(data)
    fuzz.check(find(e, c.alphabet), '%s(%s) = %s is outside its alphabet', c.name, fuzz.show(data), fuzz.show(e))
    local d, msg = c.dec(e)
    fuzz.check(d == data, '%s does not round-trip %s: %s gives %s (%s)', c.name,
      fuzz.show(data), fuzz.show(e), fuzz.show(d), tostring(msg))

    local ok, x, xmsg = pcall(c.dec, data)
    fuzz.check(ok, 'un%s raised on %s: %s', c.name, fuzz.show(data), tostring(x))
    if x == nil then
      fuzz.check(type(xmsg) == 'string' and find(xmsg, '^invalid '), 'un%s failed without a message', c.name)
    else
      local again = c.dec(c.enc(x))
      fuzz.check(again == x, 'un%s(%s) = %s does not re-encode', c.name, fuzz.show(data), fuzz.show(x))
      if c.name == 'hex' then
        fuzz.check(c.enc(x) == lower(data), 'hex(unhex(%s)) is not its lowercase', fuzz.show(data))
      end
    end
  end
end
