-- tokrun.redis: a connection to a real redis-server on loopback (TCP, unix
-- socket, TLS with a CA made here), replies as Lua values, failures as
-- nil, {kind=, message=}; and the AES-256-GCM seal/open of cache values.
local redis = require 'tokrun.redis'
local server = require 'redis_server'
local mock = require 'tokrun.mock'

describe('tokrun.redis', function()
  local srv, other

  setup(function()
    srv = server.start { tls = true, user = { 'cacheuser', 'cache-pass' } }
    other = server.start { tls = 'other' }
  end)
  teardown(function() server.stop_all() end)

  local function connect(o)
    o.timeout = o.timeout or 2
    local conn = assert(redis.connect(o))
    assert.equal('OK', conn:command { 'AUTH', 'cacheuser', 'cache-pass' })
    return conn
  end

  it('sends commands over TCP and returns strings, integers, false for nil, and arrays', function()
    local c = connect { host = '127.0.0.1', port = srv.port }
    assert.equal('OK', c:command { 'SET', 'tokrun:a', 'x\0y', 'PX', '10000' })
    assert.equal('x\0y', c:command { 'GET', 'tokrun:a' })
    assert.is_false(c:command { 'GET', 'tokrun:none' })
    assert.is_false(c:command { 'SET', 'tokrun:a', 'z', 'NX' })
    assert.equal(1, c:command { 'DEL', 'tokrun:a' })
    local arr = c:command { 'EVAL', 'return {1, "two"}', '0' }
    assert.same({ 1, 'two' }, arr)
    c:close()
  end)

  it('returns an error reply as nil and kind redis', function()
    local c = connect { host = '127.0.0.1', port = srv.port }
    local r, err = c:command { 'NOSUCHCOMMAND' }
    assert.is_nil(r)
    assert.equal('redis', err.kind)
    r, err = c:command { 'GET', 'outside:acl' }   -- the ACL user may touch tokrun:* only
    assert.is_nil(r)
    assert.equal('redis', err.kind)
    assert.matches('NOPERM', err.message)
  end)

  it('is refused by an ACL server without AUTH', function()
    local c = assert(redis.connect { host = '127.0.0.1', port = srv.port, timeout = 2 })
    local r, err = c:command { 'GET', 'tokrun:x' }
    assert.is_nil(r)
    assert.matches('NOAUTH', err.message)
  end)

  it('speaks over a unix socket', function()
    local c = connect { path = srv.sock }
    assert.equal('PONG', c:command { 'PING' })
  end)

  it('speaks TLS, verifying the server against the given CA', function()
    local c = connect { host = '127.0.0.1', port = srv.tls_port, tls = true, cacert = srv.certs.ca }
    assert.equal('OK', c:command { 'SET', 'tokrun:t', string.rep('v', 100000) })
    assert.equal(100000, #c:command { 'GET', 'tokrun:t' })
    c:close()
    c = connect { host = 'localhost', port = srv.tls_port, tls = true, cacert = srv.certs.ca }
    assert.equal('PONG', c:command { 'PING' })
  end)

  it('refuses a TLS server whose certificate the system store does not trust', function()
    local c, err = redis.connect { host = '127.0.0.1', port = srv.tls_port, tls = true, timeout = 2 }
    assert.is_nil(c)
    assert.equal('tls', err.kind)
  end)

  it('refuses a TLS server whose certificate names another host', function()
    local c, err = redis.connect { host = '127.0.0.1', port = other.tls_port, tls = true,
      cacert = other.certs.ca, timeout = 2 }
    assert.is_nil(c)
    assert.equal('tls', err.kind)
    assert.matches('127.0.0.1', err.message)
  end)

  it('reports a refused connection as connect', function()
    local port = mock.closed_port()
    for _, tls_on in ipairs { false, true } do
      local c, err = redis.connect { host = '127.0.0.1', port = port, tls = tls_on, timeout = 1 }
      assert.is_nil(c)
      assert.equal('connect', err.kind)
    end
  end)

  it('times out on a server that does not answer, over TCP and TLS', function()
    srv:pause()
    local ok, e = pcall(function()
      local c = assert(redis.connect { host = '127.0.0.1', port = srv.port, timeout = 0.3 })
      local r, err = c:command { 'PING' }
      assert.is_nil(r)
      assert.equal('timeout', err.kind)
      local t, terr = redis.connect { host = '127.0.0.1', port = srv.tls_port, tls = true,
        cacert = srv.certs.ca, timeout = 0.3 }
      assert.is_nil(t)
      assert.equal('timeout', terr.kind)
    end)
    srv:resume()
    assert(ok, e)
  end)

  it('bounds later commands by settimeout', function()
    local c = assert(redis.connect { host = '127.0.0.1', port = srv.port, timeout = 30 })
    c:settimeout(0.2)
    srv:pause()
    local r, err = c:command { 'PING' }
    srv:resume()
    assert.is_nil(r)
    assert.equal('timeout', err.kind)
    assert.has_error(function() c:settimeout(0) end)
  end)

  it('times out connecting to a full backlog', function()
    local hole = mock.blackhole()
    local c, err = redis.connect { host = '127.0.0.1', port = hole.port, timeout = 0.3 }
    local t, terr = redis.connect { host = '127.0.0.1', port = hole.port, tls = true, timeout = 0.3 }
    hole.close()
    assert.is_nil(c)
    assert.equal('timeout', err.kind)
    assert.is_nil(t)
    assert.equal('timeout', terr.kind)
  end)

  it('turns a server that went away into an io error, not a signal', function()
    local s = server.start {}
    local c = assert(redis.connect { host = '127.0.0.1', port = s.port, timeout = 2 })
    s:stop()
    local r, err = c:command { 'SET', 'k', string.rep('x', 1 << 20) }
    assert.is_nil(r)
    assert.is_string(err.kind)
    r, err = c:command { 'PING' }
    assert.is_nil(r)
    assert.equal('io', err.kind)
  end)

  it('raises on misuse', function()
    assert.has_error(function() redis.connect { port = 1 } end)
    assert.has_error(function() redis.connect { host = '127.0.0.1', timeout = -1 } end)
    local c = connect { host = '127.0.0.1', port = srv.port }
    assert.has_error(function() c:command {} end)
    assert.has_error(function() c:command { {} } end)
  end)

  describe('seal and open', function()
    local key = string.rep('k', 32)

    it('round-trips, and a sealed value hides the plaintext', function()
      local s = redis.seal(key, 'name', 'the token')
      assert.equal(12 + #'the token' + 16, #s)
      assert.is_nil(s:find('the token', 1, true))
      assert.equal('the token', redis.open(key, 'name', s))
      assert.are_not.equal(s, redis.seal(key, 'name', 'the token'))   -- a fresh nonce each time
    end)

    it('refuses another key, another name, and any altered byte', function()
      local s = redis.seal(key, 'name', 'the token')
      assert.is_nil(redis.open(string.rep('j', 32), 'name', s))
      assert.is_nil(redis.open(key, 'other', s))
      for i = 1, #s do
        local b = s:byte(i) ~ 1
        assert.is_nil(redis.open(key, 'name', s:sub(1, i - 1) .. string.char(b) .. s:sub(i + 1)))
      end
      assert.is_nil(redis.open(key, 'name', s:sub(1, 20)))
    end)

    it('raises for a key that is not 32 bytes', function()
      assert.has_error(function() redis.seal('short', 'n', 'v') end)
      assert.has_error(function() redis.open('short', 'n', 'v') end)
    end)
  end)
end)
