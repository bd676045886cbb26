-- tokrun.process: programs run directly, output captured and bounded.
local process = require 'tokrun.process'

local function now()
  return require('socket').gettime()
end

describe('tokrun.process.run', function()
  it('runs a program and captures its standard output', function()
    local r = assert(process.run{ argv = { '/bin/echo', 'hello', 'world' } })
    assert.same({ status = 0, stdout = 'hello world\n', stderr = '' }, r)
  end)

  it('passes arguments verbatim, without a shell', function()
    local r = assert(process.run{ argv = { '/bin/echo', '$HOME;', '*', "'x'" } })
    assert.equal("$HOME; * 'x'\n", r.stdout)
  end)

  it('finds a program on PATH', function()
    local r = assert(process.run{ argv = { 'echo', 'ok' } })
    assert.equal('ok\n', r.stdout)
  end)

  it('reports the exit status', function()
    local r = assert(process.run{ argv = { 'sh', '-c', 'exit 3' } })
    assert.equal(3, r.status)
    assert.is_nil(r.signal)
  end)

  it('reports death by signal as 128 + N', function()
    local r = assert(process.run{ argv = { 'sh', '-c', 'kill -TERM $$' } })
    assert.equal(15, r.signal)
    assert.equal(128 + 15, r.status)
  end)

  it('captures standard error separately', function()
    local r = assert(process.run{ argv = { 'sh', '-c', 'echo out; echo err >&2' } })
    assert.equal('out\n', r.stdout)
    assert.equal('err\n', r.stderr)
  end)

  it('feeds stdin', function()
    local r = assert(process.run{ argv = { 'cat' }, stdin = 'secret\n\0binary' })
    assert.equal('secret\n\0binary', r.stdout)
  end)

  it('feeds a stdin larger than a pipe buffer', function()
    local big = ('0123456789abcdef'):rep(64 * 1024)   -- 1 MiB
    local r = assert(process.run{ argv = { 'wc', '-c' }, stdin = big })
    assert.equal(#big, tonumber(r.stdout))
  end)

  it('survives a program that does not read its stdin', function()
    local r = assert(process.run{ argv = { 'true' }, stdin = ('x'):rep(1024 * 1024) })
    assert.equal(0, r.status)
  end)

  it('gives an empty stdin when none is given', function()
    local r = assert(process.run{ argv = { 'cat' }, timeout = 5 })
    assert.equal('', r.stdout)
  end)

  it('replaces the environment with the env table', function()
    local r = assert(process.run{ argv = { '/usr/bin/env' }, env = { B = '2', A = 'one two' } })
    assert.equal('A=one two\nB=2\n', r.stdout)
  end)

  it('inherits the environment without an env table', function()
    local r = assert(process.run{ argv = { '/usr/bin/env' } })
    assert.truthy(r.stdout:find('PATH=', 1, true))
  end)

  it('returns not_found for a missing program', function()
    local r, err = process.run{ argv = { 'tokrun-no-such-program' } }
    assert.is_nil(r)
    assert.equal('not_found', err.kind)
    assert.matches('tokrun%-no%-such%-program', err.message)
  end)

  it('returns not_found for a file that is not executable', function()
    local r, err = process.run{ argv = { '/etc/passwd' } }
    assert.is_nil(r)
    assert.equal('not_found', err.kind)
  end)

  it('kills a program that outlives its timeout', function()
    local t0 = now()
    local r, err = process.run{ argv = { 'sleep', '5' }, timeout = 0.5 }
    local elapsed = now() - t0
    assert.is_nil(r)
    assert.equal('timeout', err.kind)
    assert.is_true(elapsed >= 0.4 and elapsed < 3, 'elapsed ' .. elapsed)
  end)

  it('kills the whole process group on timeout', function()
    local t0 = now()
    -- The grandchild holds the pipes open; only killing the group ends it.
    local r, err = process.run{ argv = { 'sh', '-c', 'sleep 5 & sleep 5' }, timeout = 0.3 }
    assert.is_nil(r)
    assert.equal('timeout', err.kind)
    assert.is_true(now() - t0 < 3)
  end)

  it('times out a program that closes its output but keeps running', function()
    local r, err = process.run{ argv = { 'sh', '-c', 'exec >&- 2>&-; sleep 5' }, timeout = 0.3 }
    assert.is_nil(r)
    assert.equal('timeout', err.kind)
  end)

  it('refuses output over max_output', function()
    local r, err = process.run{ argv = { 'head', '-c', '2000', '/dev/zero' }, max_output = 1000 }
    assert.is_nil(r)
    assert.equal('too_large', err.kind)
  end)

  it('refuses endless output without waiting for the timeout', function()
    local t0 = now()
    local r, err = process.run{ argv = { 'yes' }, timeout = 10 }
    assert.is_nil(r)
    assert.equal('too_large', err.kind)
    assert.is_true(now() - t0 < 3)
  end)

  it('accepts output of exactly max_output bytes', function()
    local r = assert(process.run{ argv = { 'head', '-c', '1000', '/dev/zero' }, max_output = 1000 })
    assert.equal(1000, #r.stdout)
  end)

  it('bounds each stream separately', function()
    local r = assert(process.run{ argv = { 'sh', '-c', 'printf 12345; printf 67890 >&2' },
                                  max_output = 5 })
    assert.equal('12345', r.stdout)
    assert.equal('67890', r.stderr)
  end)

  it('leaks no file descriptors, over many runs of every outcome', function()
    -- A leak costs one descriptor or more per run: 100 runs of each outcome
    -- would leave hundreds open, while whatever other specs left to the
    -- collector is a handful at most.
    local sys = require 'tokrun.sys'
    local function count()
      collectgarbage()
      collectgarbage()
      return #assert(sys.readdir('/proc/self/fd'))
    end
    local before = count()
    for _ = 1, 100 do
      process.run{ argv = { 'tokrun-no-such-program' } }
      process.run{ argv = { 'yes' }, max_output = 10 }
      process.run{ argv = { 'true' } }
    end
    for _ = 1, 20 do
      process.run{ argv = { 'sleep', '1' }, timeout = 0.01 }
    end
    local after = count()
    assert.is_true(after < before + 20, ('%d open before, %d after'):format(before, after))
  end)

  it("gives the child none of tokrun's descriptors, only its stdio", function()
    local path = os.tmpname()
    local f = assert(io.open(path, 'w'))   -- Lua's io opens without O_CLOEXEC
    local r = assert(process.run{ argv = { 'sh', '-c', 'ls /proc/$$/fd' } })
    f:close()
    os.remove(path)
    assert.equal('0\n1\n2\n', r.stdout)
  end)

  it('raises on misuse', function()
    assert.has_error(function() process.run() end)
    assert.has_error(function() process.run{} end)
    assert.has_error(function() process.run{ argv = {} } end)
    assert.has_error(function() process.run{ argv = { 1 } } end)
    assert.has_error(function() process.run{ argv = { 'echo' }, timeout = 0 } end)
    assert.has_error(function() process.run{ argv = { 'echo' }, timeout = 'x' } end)
    assert.has_error(function() process.run{ argv = { 'echo' }, max_output = -1 } end)
    assert.has_error(function() process.run{ argv = { 'echo' }, env = 'A=1' } end)
    assert.has_error(function() process.run{ argv = { 'echo' }, env = { ['A=B'] = 'x' } } end)
    assert.has_error(function() process.run{ argv = { 'echo' }, stdin = {} } end)
    assert.has_error(function() process.run{ argv = { 'ec\0ho' } } end)
  end)
end)

describe('tokrun.process.exec', function()
  local sys = require 'tokrun.sys'
  local dir
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(sys.mkdir(dir, tonumber('700', 8)))
  end)
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  local function slurp(path)
    local f = io.open(path)
    if not f then return nil end
    local s = f:read('a')
    f:close()
    return s
  end

  it('runs a command with exactly the given environment', function()
    local out = dir .. '/out'
    local r = process.exec{ argv = { 'sh', '-c', 'echo "$A:${B:-none}" > "$0"', out },
      env = { A = '1', PATH = os.getenv('PATH') } }
    assert.equal(0, r.status)
    assert.equal('1:none\n', slurp(out))
  end)

  it('reports 127 for a missing command and 128+N for a signal', function()
    local r = process.exec{ argv = { 'no-such-cmd-tokrun' }, env = {} }
    assert.equal(127, r.status)
    assert.matches('no%-such%-cmd%-tokrun: No such file', r.exec_error)
    r = process.exec{ argv = { 'sh', '-c', 'kill -TERM $$' }, env = {} }
    assert.equal(143, r.status)
    assert.equal(15, r.signal)
  end)

  it('stops a child at its timeout, then kills it after the grace period', function()
    local r = process.exec{ argv = { 'sh', '-c', 'trap "" TERM; sleep 5' }, env = {},
      timeout = 0.2, grace = 0.3 }
    assert.is_true(r.timed_out)
    assert.equal(137, r.status)
  end)

  it("gives the child none of tokrun's descriptors but its stdio", function()
    local out = dir .. '/fds'
    local f = assert(io.open(dir .. '/open', 'w'))   -- without O_CLOEXEC
    local r = process.exec{ argv = { 'sh', '-c', 'exec > "$0"; ls /proc/$$/fd', out } }
    f:close()
    assert.equal(0, r.status)
    -- "exec >" replaces fd 1 for good: the shell saves no copy
    assert.equal('0\n1\n2\n', slurp(out))
  end)

  it('ends the child with SIGTERM when tokrun dies', function()
    local script = dir .. '/parent.lua'
    local f = assert(io.open(script, 'w'))
    f:write(([[require('tokrun.process').exec{ argv = { 'sh', '-c',
      'echo $$ > %s/pid.tmp; mv %s/pid.tmp %s/pid; trap "echo TERM > %s/got; exit 0" TERM; ]] ..
      [[while :; do sleep 0.05; done' } }]]):format(dir, dir, dir, dir))
    f:close()
    local bin = os.getenv('TOKRUN_BIN') or sys.paths().exe
    local h = io.popen(("'%s' lua '%s' >/dev/null 2>&1 & echo $!"):format(bin, script))
    local parent = assert(tonumber(h:read('l')))
    h:close()
    local child
    for _ = 1, 400 do   -- at most 20 s
      child = tonumber(slurp(dir .. '/pid') or '')
      if child then break end
      sys.sleep(0.05)
    end
    assert.is_number(child)
    os.execute('kill -KILL ' .. parent)
    local got
    for _ = 1, 400 do
      got = slurp(dir .. '/got')
      if got and got ~= '' then break end
      sys.sleep(0.05)
    end
    os.execute('kill -KILL ' .. child .. ' 2>/dev/null')
    assert.equal('TERM\n', got)
  end)
end)
