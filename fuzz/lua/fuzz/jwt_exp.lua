-- response.jwt_exp never raises, whatever the token: arbitrary strings,
-- and JWT-shaped tokens whose payload (or whose exp) is fuzz bytes.  What
-- it returns is a time the result can carry (timefmt.rfc3339, as the
-- engine writes expires_at).
local codec = require 'tokrun.codec'
local response = require 'tokrun.response'
local timefmt = require 'tokrun.timefmt'
local fuzz = require 'fuzz.lib'

local pcall, type, tostring = pcall, type, tostring

local function check(token)
  local ok, exp = pcall(response.jwt_exp, token)
  fuzz.check(ok, 'jwt_exp raised on %s: %s', fuzz.show(token), tostring(exp))
  fuzz.check(exp == nil or type(exp) == 'number', 'jwt_exp(%s) returned a %s', fuzz.show(token), type(exp))
  if exp ~= nil then
    local ok2, when = pcall(timefmt.rfc3339, exp)
    fuzz.check(ok2, 'jwt_exp(%s) = %s, which expires_at cannot carry: %s', fuzz.show(token),
      tostring(exp), tostring(when))
  end
end

return function(data)
  check(data)
  local r = fuzz.reader(data)
  local header, payload = r:str(32), r:rest()
  check(codec.base64url(header) .. '.' .. codec.base64url(payload) .. '.c2ln')
  check('eyJhbGciOiJIUzI1NiJ9.' .. codec.base64url('{"exp":' .. payload .. '}') .. '.')
  check('eyJhbGciOiJIUzI1NiJ9.' .. codec.base64(payload) .. '.x')
end
