-- tokrun.signal: termination signals recorded while deferred.
local signal = require 'tokrun.signal'

local function own_pid()
  local f = assert(io.open('/proc/self/stat'))
  local pid = f:read('n')
  f:close()
  return pid
end

describe('tokrun.signal', function()
  it('records SIGTERM while deferred instead of ending the process', function()
    signal.defer(true)
    local ok = pcall(os.execute, 'kill -TERM ' .. own_pid())
    local got = signal.caught()
    signal.defer(false)
    assert.is_true(ok)
    assert.equal(15, got)
  end)

  it('is a module of its own, apart from the filesystem', function()
    local sys = require 'tokrun.sys'
    assert.is_nil(sys.defer_signals)
    assert.is_nil(sys.caught_signal)
    assert.is_function(signal.defer)
  end)
end)
