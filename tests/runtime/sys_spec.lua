-- tokrun.sys: the OS primitives the cache, -o and exec are built on.
local sys = require 'tokrun.sys'

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(sys.mkdir(p, tonumber('700', 8)))
  return p
end

describe('tokrun.sys', function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  it('write_atomic creates a new file 0600 and replaces it whole', function()
    local path = dir .. '/f'
    assert.is_true(sys.write_atomic(path, 'one'))
    assert.equal(tonumber('600', 8), sys.lstat(path).mode)
    assert.is_true(sys.write_atomic(path, 'two'))
    assert.equal('two', (sys.read_file(path, 100)))
    assert.same({ 'f' }, sys.readdir(dir))
  end)

  it('write_atomic fails cleanly in a missing directory', function()
    local ok, msg, errno = sys.write_atomic(dir .. '/no/such/f', 'x')
    assert.is_nil(ok)
    assert.truthy(msg:find('no/such/f', 1, true))
    assert.equal('number', math.type(errno) and 'number')
  end)

  it('read_file with nofollow refuses a symlink', function()
    assert(sys.write_atomic(dir .. '/real', 'secret'))
    os.execute("ln -s '" .. dir .. "/real' '" .. dir .. "/link'")
    assert.equal('secret', (sys.read_file(dir .. '/link', 100)))
    assert.is_nil((sys.read_file(dir .. '/link', 100, true)))
  end)

  it('read_file refuses a file larger than its bound', function()
    assert(sys.write_atomic(dir .. '/big', string.rep('x', 1000)))
    local data, msg = sys.read_file(dir .. '/big', 999)
    assert.is_nil(data)
    assert.truthy(msg:find('large', 1, true))
  end)

  it('read_file refuses a FIFO at once, without waiting for a writer', function()
    local fifo = dir .. '/fifo'
    assert(os.execute("mkfifo '" .. fifo .. "'"))
    local data, msg = sys.read_file(fifo, 100)
    assert.is_nil(data)
    assert.equal(fifo .. ': is a FIFO, not a regular file', msg)
  end)

  it('read_file refuses a directory and a device, naming what they are', function()
    local _, msg = sys.read_file(dir, 100)
    assert.equal(dir .. ': is a directory, not a regular file', msg)
    _, msg = sys.read_file('/dev/null', 100)
    assert.equal('/dev/null: is a character device, not a regular file', msg)
  end)

  it('write_atomic keeps the group of an existing file and drops what others had', function()
    local path = dir .. '/shared'
    assert(sys.write_atomic(path, 'one'))
    os.execute("chmod 0664 '" .. path .. "'")
    assert(sys.write_atomic(path, 'two'))
    assert.equal(tonumber('660', 8), sys.lstat(path).mode)
  end)

  it('write_atomic leaves no temporary file when killed while writing', function()
    -- A child rewrites a 64 MiB file over and over; however it is killed,
    -- the data was in an unnamed file (O_TMPFILE), so nothing is left.
    local script = dir .. '/writer.lua'
    local f = assert(io.open(script, 'w'))
    f:write(("local sys = require 'tokrun.sys'\nlocal data = ('x'):rep(64 * 1024 * 1024)\n" ..
      "for _ = 1, 200 do sys.write_atomic('%s/out', data) end\n"):format(dir))
    f:close()
    local bin = os.getenv('TOKRUN_BIN') or sys.paths().exe
    local h = assert(io.popen(("'%s' lua '%s' >/dev/null 2>&1 & echo $!"):format(bin, script)))
    local pid = assert(tonumber(h:read('l')))
    h:close()
    for _ = 1, 400 do   -- at most 20 s for the first file
      if sys.lstat(dir .. '/out') then break end
      sys.sleep(0.05)
    end
    sys.sleep(0.1)
    os.execute('kill -KILL ' .. pid)
    for _ = 1, 200 do   -- at most 10 s for it to be gone
      if not io.open('/proc/' .. pid .. '/stat') then break end
      sys.sleep(0.05)
    end
    local left = {}
    for _, name in ipairs(assert(sys.readdir(dir))) do
      if name:find('^%.tokrun%-') then left[#left + 1] = name end
    end
    assert.same({}, left)
  end)

  describe('write_atomic onto a symlink', function()
    it('writes through it to a file in a directory the user owns, widening nothing', function()
      assert(sys.mkdir(dir .. '/mine'))
      assert(sys.write_atomic(dir .. '/mine/target', 'old'))
      os.execute("chmod 0664 '" .. dir .. "/mine/target'")
      os.execute("ln -s mine/target '" .. dir .. "/link'")
      assert(sys.write_atomic(dir .. '/link', 'new'))
      assert.equal('link', sys.lstat(dir .. '/link').type)
      assert.equal('new', (sys.read_file(dir .. '/mine/target', 100)))
      assert.equal(tonumber('660', 8), sys.lstat(dir .. '/mine/target').mode)
    end)

    it('creates the file a dangling link names, 0600', function()
      os.execute("ln -s '" .. dir .. "/fresh' '" .. dir .. "/link'")
      assert(sys.write_atomic(dir .. '/link', 'x'))
      assert.equal(tonumber('600', 8), sys.lstat(dir .. '/fresh').mode)
    end)

    it('refuses a link into a directory owned by someone else', function()
      local other = dir .. '/other'
      assert(sys.mkdir(other))
      if sys.geteuid() == 0 then
        assert(os.execute("chown 65534 '" .. other .. "'"))
      else
        other = '/tmp'   -- root's
      end
      os.execute("ln -s '" .. other .. "/victim' '" .. dir .. "/link'")
      local ok, msg = sys.write_atomic(dir .. '/link', 'x')
      assert.is_nil(ok)
      assert.matches('link: is a symlink into a directory you do not own', msg, 1, true)
      assert.is_nil(sys.lstat(other .. '/victim'))
    end)

    it('refuses a link to a link or to a directory', function()
      assert(sys.write_atomic(dir .. '/f', 'x'))
      os.execute("cd '" .. dir .. "' && ln -s f l1 && ln -s l1 l2 && mkdir d && ln -s d l3")
      assert.is_nil((sys.write_atomic(dir .. '/l2', 'y')))
      assert.is_nil((sys.write_atomic(dir .. '/l3', 'y')))
      assert.equal('x', (sys.read_file(dir .. '/f', 10)))
    end)
  end)

  it('lstat tells a directory, a file and a link apart', function()
    assert(sys.write_atomic(dir .. '/f', 'x'))
    os.execute("ln -s f '" .. dir .. "/l'")
    assert.equal('dir', sys.lstat(dir).type)
    assert.equal('file', sys.lstat(dir .. '/f').type)
    assert.equal('link', sys.lstat(dir .. '/l').type)
    assert.equal(sys.geteuid(), sys.lstat(dir).uid)
  end)

  it('lock excludes a second holder until released, within the timeout', function()
    local a = assert(sys.lock(dir .. '/lk', 1))
    local t0 = sys.monotonic()
    local b, msg = sys.lock(dir .. '/lk', 0.2)
    assert.is_nil(b)
    assert.truthy(msg)
    assert.is_true(sys.monotonic() - t0 >= 0.19)
    a:unlock()
    local c = assert(sys.lock(dir .. '/lk', 0.2))
    c:unlock()
    c:unlock()   -- idempotent
  end)

  it('environ and setenv agree', function()
    sys.setenv('TOKRUN_SPEC_VAR', 'v1')
    assert.equal('v1', sys.environ().TOKRUN_SPEC_VAR)
    sys.setenv('TOKRUN_SPEC_VAR', nil)
    assert.is_nil(sys.environ().TOKRUN_SPEC_VAR)
  end)

  it('now_ms is the wall clock in milliseconds', function()
    assert.is_true(math.abs(sys.now_ms() // 1000 - os.time()) <= 1)
  end)

  it('set_memory_limit makes an oversized allocation fail with a Lua memory error', function()
    local used = sys.memory_used()
    sys.set_memory_limit(used + 4 * 1024 * 1024)
    local ok, err = pcall(string.rep, 'x', 64 * 1024 * 1024)
    sys.set_memory_limit(0)
    assert.is_false(ok)
    assert.equal('not enough memory', err)
  end)

  it('random returns the number of bytes asked for, different each time', function()
    assert.equal(1, #sys.random(1))
    assert.equal(32, #sys.random(32))
    assert.equal(1024, #sys.random(1024))
    assert.not_equal(sys.random(16), sys.random(16))
  end)

  it('random raises for a count outside 1..1024', function()
    assert.has_error(function() sys.random(0) end)
    assert.has_error(function() sys.random(1025) end)
    assert.has_error(function() sys.random(-1) end)
    assert.has_error(function() sys.random(1.5) end)
    assert.has_error(function() sys.random() end)
  end)
end)

describe('tokrun.sys.watchdog', function()
  local process = require 'tokrun.process'
  local bin = os.getenv('TOKRUN_BIN') or require('tokrun.sys').paths().exe

  -- Runs a script in a child tokrun; its status and stderr.
  local function child(script)
    local r = assert(process.run{ argv = { bin, 'lua', '-' }, stdin = script, timeout = 60 })
    return r.status, r.stderr
  end

  it('ends work stuck inside a C function with one line and 69', function()
    local status, err = child([[
      local sys = require 'tokrun.sys'
      sys.watchdog(0.2, 'velafi')
      -- exponential backtracking inside string.find: no hook runs in there
      local s = ('a'):rep(40)
      s:find(('a*'):rep(40) .. 'b')
      os.exit(0)]])
    assert.equal(69, status)
    assert.equal('tokrun: velafi: still running after the deadline (--timeout)\n', err)
  end)

  it('ends table.move over 10^15 slots', function()
    local status, err = child([[
      require('tokrun.sys').watchdog(0.1)
      table.move({}, 1, 1e15, 2)
      os.exit(0)]])
    assert.equal(69, status)
    assert.equal('tokrun: the run: still running after the deadline (--timeout)\n', err)
  end)

  it('never fires once disarmed, nor when armed again further away', function()
    local status, err = child([[
      local sys = require 'tokrun.sys'
      sys.watchdog(0)
      sys.watchdog(nil)
      sys.watchdog(0.01)
      sys.watchdog(600)
      sys.sleep(1.5)
      os.exit(0)]])
    assert.equal('', err)
    assert.equal(0, status)
  end)

  it('raises on misuse', function()
    assert.has_error(function() sys.watchdog(-1) end)
    assert.has_error(function() sys.watchdog('soon') end)
  end)
end)
