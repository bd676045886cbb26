-- tokrun.http: one exchange over libcurl.  Any response is data; failing to
-- get one is nil, {kind=, message=, code=}.  Every server here is a mock on
-- 127.0.0.1 (tests/mocks/http_echo.lua).
local http = require 'tokrun.http'
local mock = require 'tokrun.mock'
local codec = require 'tokrun.codec'
local json = require 'tokrun.json'
local socket = require 'socket'

local MiB = 1024 * 1024
local ROUTES = 'tests/mocks/http_echo.lua'

local function echoed(res)
  assert.equal(200, res.status)
  return json.decode(res.body)
end

local function failure(opts)
  local res, err = http.request(opts)
  assert.is_nil(res)
  assert.is_table(err)
  return err
end

describe('tokrun.http.request', function()
  local srv

  setup(function()
    srv = mock.start{ routes = ROUTES }
  end)

  teardown(function()
    srv:stop()
  end)

  before_each(function()
    srv:reset()
  end)

  describe('sends', function()
    it('a GET by default, with no body, no Content-Type and no Expect', function()
      local res = assert(http.request{ url = srv.url .. '/echo' })
      local req = srv:last()
      assert.equal('GET', req.method)
      assert.equal('/echo', req.path)
      assert.equal('', req.body or '')
      assert.is_nil(req.headers['content-type'])
      assert.is_nil(req.headers['expect'])
      assert.equal('GET', echoed(res).method)
    end)

    for _, method in ipairs{ 'POST', 'PUT', 'DELETE', 'PATCH' } do
      it('a ' .. method .. ' with the body and headers given', function()
        local body = '{"grant_type":"client_credentials","n":' .. ('x'):rep(70000) .. '"}'
        assert(http.request{ method = method, url = srv.url .. '/echo', body = body,
                             headers = { ['Content-Type'] = 'application/json',
                                         ['X-Request-Id'] = 'r-1', Authorization = 'Bearer t0k' } })
        local req = srv:last()
        assert.equal(method, req.method)
        assert.equal(body, req.body)
        assert.equal(tostring(#body), req.headers['content-length'])
        assert.equal('application/json', req.headers['content-type'])
        assert.equal('r-1', req.headers['x-request-id'])
        assert.equal('Bearer t0k', req.headers['authorization'])
        assert.is_nil(req.headers['expect'])
      end)
    end

    it('a POST without a body as Content-Length: 0 and no Content-Type', function()
      assert(http.request{ method = 'POST', url = srv.url .. '/echo' })
      local req = srv:last()
      assert.equal('POST', req.method)
      assert.equal('0', req.headers['content-length'])
      assert.is_nil(req.headers['content-type'])
    end)

    it('a body with NUL bytes intact', function()
      assert(http.request{ method = 'PUT', url = srv.url .. '/echo', body = 'a\0b\0c' })
      assert.equal('a\0b\0c', srv:last().body)
    end)

    it('a HEAD, whose response has no body', function()
      local res = assert(http.request{ method = 'HEAD', url = srv.url .. '/echo' })
      assert.equal('HEAD', srv:last().method)
      assert.equal(200, res.status)
      assert.equal('', res.body)
    end)

    it('a header with an empty value', function()
      assert(http.request{ url = srv.url .. '/echo', headers = { ['X-Empty'] = '' } })
      assert.equal('', srv:last().headers['x-empty'])
    end)

    it('query pairs percent-encoded exactly as codec.query', function()
      local pairs_ = { { 'q', 'a b&c/é' }, { 'k~-._', '*+=' }, { 'n', 42 } }
      assert(http.request{ url = srv.url .. '/echo', query = pairs_ })
      local req = srv:last()
      assert.equal('q=a%20b%26c%2F%C3%A9&k~-._=%2A%2B%3D&n=42', req.query)
      assert.equal(codec.query(pairs_), req.query)
      assert.equal('/echo', req.path)
    end)

    it('query pairs after a query already in the URL', function()
      assert(http.request{ url = srv.url .. '/echo?x=1', query = { { 'y', '2' } } })
      assert.equal('x=1&y=2', srv:last().query)
    end)

    it('query pairs before a fragment', function()
      local res = assert(http.request{ url = srv.url .. '/echo#frag', query = { { 'y', '2' } } })
      assert.equal('y=2', srv:last().query)
      assert.equal(200, res.status)
    end)
  end)

  describe('returns as a response', function()
    for _, status in ipairs{ 200, 404, 500, 503 } do
      it('a ' .. status, function()
        local res = assert(http.request{ url = srv.url .. '/status/' .. status })
        assert.equal(status, res.status)
        assert.equal('status ' .. status, res.body)
        assert.equal(tostring(status), res.headers['x-status'])
      end)
    end

    it('headers with lower-cased names', function()
      local res = assert(http.request{ url = srv.url .. '/headers' })
      assert.equal('Value', res.headers['x-mixed-case'])
      assert.equal('text/plain', res.headers['content-type'])
      assert.is_nil(res.headers['X-Mixed-Case'])
    end)

    it('repeated headers joined with a comma', function()
      local res = assert(http.request{ url = srv.url .. '/repeated' })
      assert.equal('a=1, b=2', res.headers['set-cookie'])
    end)

    it('a chunked body of up to max_body bytes', function()
      local res = assert(http.request{ url = srv.url .. '/chunked/' .. 4096 * 20, max_body = 4096 * 20 })
      assert.equal(4096 * 20, #res.body)
    end)

    it('the effective URL and the time taken', function()
      local res = assert(http.request{ url = srv.url .. '/echo', query = { { 'a', '1' } } })
      assert.equal(srv.url .. '/echo?a=1', res.url)
      assert.is_number(res.time)
      assert.is_true(res.time >= 0 and res.time < 5)
    end)

    it('a redirect, not followed', function()
      local res = assert(http.request{ url = srv.url .. '/redirect' })
      assert.equal(302, res.status)
      assert.equal('/echo?from=redirect', res.headers.location)
      assert.equal('moved', res.body)
      assert.equal(1, #srv:requests())
    end)

    it('the end of a redirect when asked to follow', function()
      local res = assert(http.request{ url = srv.url .. '/redirect', follow = true })
      assert.equal(200, res.status)
      assert.equal(srv.url .. '/echo?from=redirect', res.url)
      assert.equal('from=redirect', echoed(res).query)
    end)

    it('a body of up to max_body bytes', function()
      local res = assert(http.request{ url = srv.url .. '/big/' .. 5 * MiB, max_body = 10 * MiB })
      assert.equal(5 * MiB, #res.body)
      res = assert(http.request{ url = srv.url .. '/big/1000', max_body = 1000 })
      assert.equal(1000, #res.body)
    end)
  end)

  describe('fails', function()
    it('with connect on a closed port', function()
      local err = failure{ url = 'http://127.0.0.1:' .. mock.closed_port() .. '/' }
      assert.equal('connect', err.kind)
      assert.equal(7, err.code)
      assert.matches('^could not connect', err.message)
    end)

    it('with dns on a name that does not resolve', function()
      -- .invalid never resolves (RFC 6761); a resolver that asks the network
      -- anyway is bounded by the timeout.
      local err = failure{ url = 'http://nonexistent.invalid/', timeout = 3 }
      assert.is_true(err.kind == 'dns' or err.kind == 'timeout', err.kind)
    end)

    it('with timeout when the answer comes after the deadline', function()
      local t0 = socket.gettime()
      local err = failure{ url = srv.url .. '/delay/3', timeout = 0.5 }
      assert.equal('timeout', err.kind)
      assert.matches('waiting for the response', err.message)
      assert.is_true(socket.gettime() - t0 < 2.5)
    end)

    it('with timeout when the body is slower than the deadline', function()
      local err = failure{ url = srv.url .. '/slow/3', timeout = 0.5 }
      assert.equal('timeout', err.kind)
    end)

    it('with timeout when the connection is never accepted', function()
      local hole = mock.blackhole()
      local t0 = socket.gettime()
      local res, err = http.request{ url = 'http://127.0.0.1:' .. hole.port .. '/', connect_timeout = 1 }
      hole.close()
      assert.is_nil(res)
      assert.equal('timeout', err.kind)
      assert.matches('while connecting', err.message)
      assert.is_true(socket.gettime() - t0 < 3)
    end)

    it('with too_large on a body over the default 1 MiB', function()
      local err = failure{ url = srv.url .. '/big/' .. 5 * MiB }
      assert.equal('too_large', err.kind)
      assert.matches('1048576', err.message)
    end)

    it('with too_large one byte over max_body', function()
      assert.equal('too_large', failure{ url = srv.url .. '/big/1001', max_body = 1000 }.kind)
    end)

    it('with too_large on a chunked body over max_body, while receiving it', function()
      local err = failure{ url = srv.url .. '/chunked/' .. 4096 * 20, max_body = 4096 * 20 - 1 }
      assert.equal('too_large', err.kind)
    end)

    it('with too_large on response headers over 64 KiB', function()
      local err = failure{ url = srv.url .. '/big-headers' }
      assert.equal('too_large', err.kind)
      assert.matches('headers', err.message)
    end)

    it('with dropped when the server closes without answering', function()
      assert.equal('dropped', failure{ url = srv.url .. '/drop' }.kind)
    end)

    it('with dropped when the server closes in the middle of the body', function()
      assert.equal('dropped', failure{ url = srv.url .. '/drop-after-headers' }.kind)
    end)

    it('with protocol on a scheme other than http and https', function()
      assert.equal('protocol', failure{ url = 'file:///etc/passwd' }.kind)
      assert.equal('protocol', failure{ url = 'ftp://127.0.0.1/' }.kind)
    end)

    it('with protocol on too many redirects', function()
      assert.equal('protocol', failure{ url = srv.url .. '/redirect-loop', follow = true }.kind)
      assert.equal(6, #srv:requests())
    end)

    it('without the request headers or body in the message', function()
      local err = failure{ method = 'POST', url = 'http://127.0.0.1:' .. mock.closed_port() .. '/',
                           headers = { Authorization = 'Bearer s3cr3t' }, body = 'password=hunter2' }
      assert.is_nil(err.message:find('s3cr3t', 1, true))
      assert.is_nil(err.message:find('hunter2', 1, true))
    end)
  end)

  describe('over TLS', function()
    local tls

    setup(function()
      tls = mock.start{ routes = ROUTES, tls = true }
    end)

    teardown(function()
      if tls then tls:stop() end
    end)

    it('fails with tls against an unknown CA by default', function()
      local err = failure{ url = tls.url .. '/echo' }
      assert.equal('tls', err.kind)
    end)

    it('verifies the server against cacert', function()
      local res = assert(http.request{ url = tls.url .. '/echo', cacert = tls.cacert })
      assert.equal('GET', echoed(res).method)
    end)

    it('fails with tls when cacert cannot be read', function()
      local err = failure{ url = tls.url .. '/echo', cacert = '/nonexistent/ca.pem' }
      assert.equal('tls', err.kind)
    end)

    it('skips verification when insecure', function()
      local res = assert(http.request{ url = tls.url .. '/echo', insecure = true })
      assert.equal(200, res.status)
    end)

    it('fails with tls when speaking TLS to a plain server', function()
      local err = failure{ url = srv.url:gsub('^http:', 'https:') .. '/echo', timeout = 3 }
      assert.equal('tls', err.kind)
    end)
  end)

  describe('raises on misuse', function()
    it('of every argument', function()
      local url = srv.url .. '/echo'
      for _, opts in ipairs{
        {}, { url = 42 }, { url = url, method = 1 }, { url = url, method = 'G T' },
        { url = url, headers = 'x' }, { url = url, headers = { [1] = 'x' } },
        { url = url, headers = { ['Bad Name'] = 'x' } },
        { url = url, headers = { ['X-A'] = 'a\r\nX-B: b' } },
        { url = url, headers = { ['X-A'] = {} } },
        { url = url, body = {} }, { url = url, timeout = 0 }, { url = url, timeout = '1' },
        { url = url, connect_timeout = -1 }, { url = url, max_body = -1 },
        { url = url, max_body = 1.5 }, { url = url, insecure = 'yes' },
        { url = url, query = 'a=b' }, { url = url, query = { 'a=b' } },
        { url = url, query = { { 'a' } } }, { url = url, cacert = 1 },
      } do
        assert.has_error(function() http.request(opts) end)
      end
      assert.has_error(function() http.request() end)
      assert.has_error(function() http.request('http://127.0.0.1/') end)
      assert.equal(0, #srv:requests())
    end)
  end)
end)
