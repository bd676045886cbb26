-- Every error kind has one exit code, as cron and systemd tell failures apart.
local errors = require 'tokrun.errors'

describe('errors', function()
  it('map each kind to its sysexits code', function()
    local want = { usage = 64, recipe = 65, config = 78, auth = 77, provider = 78, network = 69, tls = 69,
      timeout = 69, protocol = 76, rate_limited = 75, locked = 75, io = 74, release = 75, internal = 70 }
    for kind, code in pairs(want) do assert.equal(code, errors.exit_code(errors.new(kind, 'x')), kind) end
  end)

  it('report a provider failure that is a 5xx as unavailable (69)', function()
    assert.equal(69, errors.exit_code(errors.new('provider', 'x', { unavailable = true })))
  end)

  it('report an interrupted run as 128 + the signal, as a shell does', function()
    assert.equal(143, errors.exit_code(errors.new('timeout', 'x', { signal = 15 })))
  end)

  it('wrap anything else as internal, keeping tokrun errors as they are', function()
    local e = errors.new('auth', 'no')
    assert.equal(e, errors.wrap(e))
    assert.equal('internal', errors.wrap('boom').kind)
    assert.is_false(errors.is('boom'))
  end)
end)
