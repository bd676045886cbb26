-- Times read from a provider's answer (JWT exp, epoch_s, epoch_ms) become
-- expires_at, which RFC 3339 writes with a four-digit year: a time it
-- cannot write is a missing time, never an internal error.  Found by
-- fuzz/jwt_exp: {"exp":-9e99} made timefmt.rfc3339 raise (exit 70).
local codec = require 'tokrun.codec'
local response = require 'tokrun.response'
local timefmt = require 'tokrun.timefmt'

local function jwt(payload)
  return 'eyJhbGciOiJIUzI1NiJ9.' .. codec.base64url(payload) .. '.c2ln'
end

describe('response.jwt_exp', function()
  it('reads exp to the second, as an integer', function()
    assert.equal(1700000000, response.jwt_exp(jwt('{"exp":1700000000}')))
    assert.equal('integer', math.type(response.jwt_exp(jwt('{"exp":1700000000.9}'))))
  end)

  it('treats an exp that RFC 3339 cannot write as no exp', function()
    for _, exp in ipairs({ '-9e99', '1e17', '9223372036854775807', '253402300800' }) do
      assert.is_nil(response.jwt_exp(jwt('{"exp":' .. exp .. '}')), exp)
    end
    assert.equal('9999-12-31T23:59:59Z', timefmt.rfc3339(response.jwt_exp(jwt('{"exp":253402300799}'))))
  end)
end)

describe('capture conversions of times', function()
  local function capture(as, value)
    local vars = {}
    local ok, err = pcall(response.capture, { capture = { t = { path = 't', as = as } } },
      { t = value }, vars, "step 'get'")
    return ok and vars.t, err
  end

  it('read epoch_s and epoch_ms within years 1..9999', function()
    assert.equal(1700000000, capture('epoch_s', '1700000000'))
    assert.equal(1700000000, capture('epoch_ms', '1700000000123'))
  end)

  it('report a time beyond year 9999 as a protocol error, not an internal one', function()
    for _, c in ipairs({ { 'epoch_s', '1e30' }, { 'epoch_ms', 1e300 } }) do
      local v, err = capture(c[1], c[2])
      assert.is_false(v)
      assert.equal('protocol', err.kind)
      assert.matches('expected ' .. c[1], err.message)
    end
  end)
end)
