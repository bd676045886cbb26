-- Times in and out: RFC 3339 UTC for expires_at, and the server-local
-- datetimes some providers send, read in a given UTC offset.
local timefmt = require 'tokrun.timefmt'

describe('timefmt', function()
  it('writes RFC 3339 UTC and reads it back', function()
    assert.equal('2026-11-22T14:22:51Z', timefmt.rfc3339(1795357371))
    assert.equal(1795357371, timefmt.parse_rfc3339('2026-11-22T14:22:51Z'))
    assert.equal(1795357371, timefmt.parse_rfc3339('2026-11-22T16:22:51+02:00'))
  end)

  it('reads a server-local datetime in its UTC offset', function()
    assert.equal(1795357371, timefmt.parse_datetime('2026-11-22 16:22:51.000', '+02:00'))
    assert.equal(1795357371, timefmt.parse_datetime('2026-11-22 14:22:51', nil))
  end)

  it('refuses what is not a time', function()
    assert.is_nil(timefmt.parse_rfc3339('yesterday'))
    assert.is_nil(timefmt.offset('two hours'))
  end)
end)
