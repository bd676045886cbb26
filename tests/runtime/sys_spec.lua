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
