-- The mock-server kit serves routes concurrently from its
-- own process, records requests, injects faults, and speaks HTTPS with a
-- test CA.  curl is the client, as it is independent of the kit.
local mock = require 'tokrun.mock'
local socket = require 'socket'

local gettime = socket.gettime

local function quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

-- curl's output (stdout and stderr) and exit status.
local function curl(...)
  local args = {}
  for i, a in ipairs{ ... } do args[i] = quote(a) end
  local p = io.popen('curl -sS ' .. table.concat(args, ' ') .. ' 2>&1; echo "=$?"')
  local out = p:read('a')
  p:close()
  local body, code = out:match('^(.-)\n?=(%d+)\n$')
  return body, tonumber(code)
end

local function running(pid)
  local f = io.open('/proc/' .. pid .. '/stat')
  if not f then return false end
  local stat = f:read('a')
  f:close()
  return stat:match('%) (%a)') ~= 'Z'
end

local function write_temp(text)
  local path = os.tmpname()
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
  return path
end

describe('mock', function()
  local srv

  lazy_setup(function()
    srv = mock.start{ routes = 'tests/mocks/echo.lua', config = { secret = 's3cr3t' } }
  end)
  lazy_teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  it('listens on a loopback port and hands config to the routes file', function()
    assert.matches('^http://127%.0%.0%.1:%d+$', srv.url)
    assert.equal(srv.url, 'http://127.0.0.1:' .. srv.port)
    assert.same({ 's3cr3t', 0 }, { curl(srv.url .. '/secret') })
    assert.same({ srv.url, 0 }, { curl(srv.url .. '/self') })
  end)

  it('serves a route and records method, path, query, headers and body', function()
    local body, code = curl('-X', 'POST', '-H', 'X-Trace: Abc', '-H', 'Content-Type: application/json',
                            '-d', '{"n":12345}', srv.url .. '/echo?a=1&b=x%20y')
    assert.equal(0, code)
    assert.matches('"method":"POST"', body, 1, true)
    local reqs = srv:requests()
    assert.equal(1, #reqs)
    local r = reqs[1]
    assert.equal('POST', r.method)
    assert.equal('/echo', r.path)
    assert.equal('a=1&b=x%20y', r.query)
    assert.equal('Abc', r.headers['x-trace'])
    assert.equal('{"n":12345}', r.body)
    assert.same({ a = '1', b = 'x y' }, r.params)
    assert.equal(12345, r.json.n)
    assert.same(r, srv:last())
  end)

  it('answers an unknown route 404 with a JSON error', function()
    local body = curl('-w', ' %{http_code}', srv.url .. '/nowhere')
    assert.equal('{"error":"no route"} 404', body)
  end)

  it('answers a handler error 500 with its message, and records it', function()
    local body = curl('-w', ' %{http_code}', srv.url .. '/boom')
    assert.matches('boom from the handler 500$', body)
    assert.matches('boom from the handler', srv:last().error, 1, true)
  end)

  it('keeps per-server state between requests', function()
    local first = tonumber((curl(srv.url .. '/count')))
    assert.equal(tostring(first + 1), (curl(srv.url .. '/count')))
  end)

  it('serves a scripted status sequence, then falls through to the handler', function()
    srv:script('GET /echo', { { status = 503, headers = { ['Retry-After'] = '1' } },
                              { status = 429, json = { error = 'slow down' } } })
    assert.equal('503', (curl('-o', '/dev/null', '-w', '%{http_code}', srv.url .. '/echo')))
    assert.equal('{"error":"slow down"} 429', (curl('-w', ' %{http_code}', srv.url .. '/echo')))
    assert.matches('"method":"GET"', (curl(srv.url .. '/echo')), 1, true)
    assert.equal(3, #srv:requests())
  end)

  it('scripts any route with "*" and forgets scripts on reset', function()
    srv:script('*', { { status = 502 }, { status = 502 } })
    assert.equal('502', (curl('-o', '/dev/null', '-w', '%{http_code}', srv.url .. '/secret')))
    srv:reset()
    assert.equal('s3cr3t', (curl(srv.url .. '/secret')))
    assert.equal(1, #srv:requests())
  end)

  it('delays a scripted pass, then answers from the handler', function()
    srv:script('GET /secret', { { pass = true, delay = 0.5 } })
    local t0 = gettime()
    assert.equal('s3cr3t', (curl(srv.url .. '/secret')))
    assert.is_true(gettime() - t0 >= 0.45)
  end)

  it('does not let a delayed answer block another connection', function()
    local t0 = gettime()
    local slow = io.popen('curl -sS ' .. quote(srv.url .. '/delay/1.5') .. ' 2>&1')
    socket.sleep(0.1)
    assert.equal('s3cr3t', (curl(srv.url .. '/secret')))
    local quick = gettime() - t0
    assert.equal('late', slow:read('a'))
    slow:close()
    local total = gettime() - t0
    assert.is_true(quick < 0.8, 'the second request waited ' .. quick .. ' s')
    assert.is_true(total >= 1.4, 'the delayed answer came after ' .. total .. ' s')
  end)

  it('drops the connection without an answer', function()
    local _, code = curl(srv.url .. '/drop')
    assert.equal(52, code)   -- empty reply from server
    assert.equal('/drop', srv:last().path)
  end)

  it('closes the connection mid-body after the headers', function()
    local _, code = curl('-o', '/dev/null', srv.url .. '/truncated')
    assert.equal(18, code)   -- transfer closed with bytes remaining
  end)

  it('streams a 5 MiB body', function()
    local size, code = curl('-o', '/dev/null', '-w', '%{size_download}', srv.url .. '/big/5242880')
    assert.same({ '5242880', 0 }, { size, code })
  end)

  it('trickles a slow body over the given seconds', function()
    local t0 = gettime()
    assert.equal(('y'):rep(20), (curl(srv.url .. '/slow')))
    assert.is_true(gettime() - t0 >= 0.9)
    local _, code = curl('-m', '0.5', srv.url .. '/slow')
    assert.equal(28, code)
  end)
end)

describe('mock over TLS', function()
  local srv

  lazy_setup(function()
    srv = mock.start{ routes = 'tests/mocks/echo.lua', config = { secret = 'tls' }, tls = true }
  end)
  lazy_teardown(function() srv:stop() end)

  it('serves HTTPS verified with the test CA, for 127.0.0.1 and localhost', function()
    assert.matches('^https://127%.0%.0%.1:%d+$', srv.url)
    assert.same({ 'tls', 0 }, { curl('--cacert', srv.cacert, srv.url .. '/secret') })
    assert.same({ 'tls', 0 }, { curl('--cacert', srv.cacert, 'https://localhost:' .. srv.port .. '/secret') })
  end)

  it('fails verification without the test CA', function()
    local _, code = curl(srv.url .. '/secret')
    assert.equal(60, code)
  end)

  it('streams a 5 MiB body over TLS', function()
    local size = curl('--cacert', srv.cacert, '-o', '/dev/null', '-w', '%{size_download}',
                      srv.url .. '/big/5242880')
    assert.equal('5242880', size)
  end)
end)

describe('mock ports', function()
  it('closed_port refuses connections', function()
    local _, code = curl('http://127.0.0.1:' .. mock.closed_port() .. '/')
    assert.equal(7, code)
  end)

  it('blackhole makes a connect time out', function()
    local hole = mock.blackhole()
    local t0 = gettime()
    local _, code = curl('--connect-timeout', '1', 'http://127.0.0.1:' .. hole.port .. '/')
    hole.close()
    assert.equal(28, code)
    assert.is_true(gettime() - t0 >= 0.9)
  end)
end)

describe('mock.start', function()
  it('raises with the server log for a routes file with a syntax error', function()
    local path = write_temp('return function(config, mock)\n  return { ["GET /"] = \nend\n')
    local ok, err = pcall(mock.start, { routes = path })
    os.remove(path)
    assert.is_false(ok)
    assert.matches('did not start', err, 1, true)
    assert.matches(path .. ':%d+:', err)
  end)

  it('raises for a routes file that does not return a function', function()
    local path = write_temp('return { ["GET /"] = function() end }\n')
    local ok, err = pcall(mock.start, { routes = path })
    os.remove(path)
    assert.is_false(ok)
    assert.matches('must return function(config, mock)', err, 1, true)
  end)

  it('raises for a bad route key', function()
    local path = write_temp('return function() return { ["/no-method"] = function() end } end\n')
    local ok, err = pcall(mock.start, { routes = path })
    os.remove(path)
    assert.is_false(ok)
    assert.matches("bad route '/no-method'", err, 1, true)
  end)

  it('stop ends the server process, and may be called twice', function()
    local srv = mock.start{ routes = 'tests/mocks/echo.lua' }
    assert.is_true(running(srv.pid))
    srv:stop()
    srv:stop()
    assert.is_false(running(srv.pid))
    local _, code = curl(srv.url .. '/secret')
    assert.equal(7, code)
  end)

  it('stop_all stops every server still running', function()
    local a = mock.start{ routes = 'tests/mocks/echo.lua' }
    local b = mock.start{ routes = 'tests/mocks/echo.lua' }
    mock.stop_all()
    assert.is_false(running(a.pid))
    assert.is_false(running(b.pid))
  end)
end)

describe('the mock kit', function()
  it('is a library of its own, not embedded in the credential binary', function()
    local bin = os.getenv('TOKRUN_BIN') or require('tokrun.sys').paths().exe
    local f = assert(io.open(bin, 'rb'))
    local image = f:read('a')
    f:close()
    assert.truthy(image:find('lualib/tokrun/engine.lua', 1, true), 'the library is embedded')
    assert.falsy(image:find('tokrun/mock', 1, true))
    assert.falsy(image:find('tokrun.mock', 1, true))
    for _, m in ipairs({ 'tokrun.mock', 'tokrun.mock.server', 'tokrun.mock.http', 'tokrun.mock.loop' }) do
      assert.truthy(package.searchpath(m, package.path), m)
    end
  end)
end)
