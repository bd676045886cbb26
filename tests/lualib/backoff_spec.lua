-- Waiting between attempts: never past the run's deadline, a Retry-After
-- floor honoured, the wait named under -v.
local backoff = require 'tokrun.backoff'
local sys = require 'tokrun.sys'

describe('backoff.wait', function()
  it('refuses at once a wait the deadline does not allow', function()
    local ctx = { deadline = sys.monotonic() + 0.5, verbose = true, log = function() error('logged') end }
    assert.is_false(backoff.wait(ctx, 1, 30))              -- a Retry-After beyond the deadline
    assert.is_false(backoff.wait({ deadline = sys.monotonic() - 1 }, 1))
  end)

  it('waits within the deadline and says what it retries under -v', function()
    local lines = {}
    local ctx = { deadline = sys.monotonic() + 60, verbose = true, log = function(l) lines[#lines + 1] = l end }
    assert.is_true(backoff.wait(ctx, 1, nil, 'the release'))
    assert.equal(1, #lines)
    assert.matches('^%* retrying the release in 0%.%d%ds$', lines[1])
  end)
end)
