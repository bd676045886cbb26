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

  it('reads an HTTP Date header (IMF-fixdate, RFC 9110 section 5.6.7)', function()
    assert.equal(784111777, timefmt.parse_http_date('Sun, 06 Nov 1994 08:49:37 GMT'))
    assert.equal(1795357371, timefmt.parse_http_date('Sun, 22 Nov 2026 14:22:51 GMT'))
    assert.is_nil(timefmt.parse_http_date('Sunday, 06-Nov-94 08:49:37 GMT'))
    assert.is_nil(timefmt.parse_http_date('Sun, 06 Nov 1994 08:49:37 +0200'))
    assert.is_nil(timefmt.parse_http_date('Sun, 06 Foo 1994 08:49:37 GMT'))
    assert.is_nil(timefmt.parse_http_date(nil))
  end)

  it('refuses what is not a time', function()
    assert.is_nil(timefmt.parse_rfc3339('yesterday'))
    assert.is_nil(timefmt.offset('two hours'))
  end)
end)
