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

  it('refuses, with a reason naming the claim, an exp that is no plausible time in seconds', function()
    for _, exp in ipairs({ '-9e99', '1e17', '9223372036854775807', '253402300800', '1740569325000', '0', '"soon"' }) do
      local v, why = response.jwt_exp(jwt('{"exp":' .. exp .. '}'))
      assert.is_nil(v, exp)
      assert.matches("claim 'exp'", why, 1, true)
    end
    assert.equal('9999-12-31T23:59:59Z', timefmt.rfc3339(response.jwt_exp(jwt('{"exp":253402300799}'))))
  end)

  it('reads an exp sent as a numeric string', function()
    assert.equal(1700000000, response.jwt_exp(jwt('{"exp":"1700000000"}')))
  end)

  it('has no exp for a token that is not a JWT or a JWT without one, and refuses a payload that is not JSON', function()
    assert.is_nil(response.jwt_exp('opaque-token'))
    assert.is_nil(select(2, response.jwt_exp('opaque-token')))
    assert.is_nil(select(2, response.jwt_exp(jwt('{"sub":"x"}'))))
    local v, why = response.jwt_exp('eyJhbGciOiJIUzI1NiJ9.' .. codec.base64url('not json') .. '.c2ln')
    assert.is_nil(v)
    assert.equal('the JWT payload is not a JSON object', why)
  end)
end)

describe('timefmt.rfc3339', function()
  it('always writes a four-digit year, clamping what RFC 3339 cannot write', function()
    assert.equal('9999-12-31T23:59:59Z', timefmt.rfc3339(1e15))
    assert.equal('9999-12-31T23:59:59Z', timefmt.rfc3339(math.huge))
    assert.equal('0001-01-01T00:00:00Z', timefmt.rfc3339(-1e308))
    assert.equal('0099-03-01T00:00:00Z', timefmt.rfc3339(timefmt.parse_rfc3339('0099-03-01T00:00:00Z')))
    assert.equal('2025-02-26T11:18:45Z', timefmt.rfc3339(1740568725.9))
    assert.is_nil(timefmt.rfc3339(0 / 0))
  end)

  it('agrees with os.date on every day of four centuries', function()
    for t = 946684800, 946684800 + 400 * 365 * 86400, 86400 * 7 + 3607 do
      assert.equal(os.date('!%Y-%m-%dT%H:%M:%SZ', t), timefmt.rfc3339(t))
    end
  end)
end)

describe('capture conversions of numbers', function()
  local function capture(value, optional)
    local vars = {}
    local ok, err = pcall(response.capture, { capture = { n = { path = 'n', as = 'integer', optional = optional } } },
      { n = value }, vars, "step 'get'")
    return ok and vars.n, err
  end

  it('floor a fractional integer (an expires_in of 3599.9 is 3599)', function()
    assert.equal(3599, capture(3599.9))
    assert.equal('integer', math.type(capture(3599.9)))
    assert.equal(3600, capture('3600'))
  end)

  it('refuse an integer out of range as a protocol error naming the field, even when optional', function()
    for _, n in ipairs({ 1180591620717411303424, -1e308, math.huge }) do
      local v, err = capture(n, true)
      assert.is_false(v)
      assert.equal('protocol', err.kind)
      assert.matches("the response's n (expected integer) is unusable", err.message, 1, true)
    end
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
