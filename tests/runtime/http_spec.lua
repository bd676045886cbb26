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

  describe('identifies itself and decodes', function()
    it('User-Agent: tokrun/VERSION on every request', function()
      assert(http.request{ url = srv.url .. '/echo' })
      local version = require('tokrun.sys').paths().version
      assert.equal('tokrun/' .. version, srv:last().headers['user-agent'])
    end)

    it('a User-Agent the request gives instead of its own', function()
      assert(http.request{ url = srv.url .. '/echo', headers = { ['User-Agent'] = 'probe/1' } })
      assert.equal('probe/1', srv:last().headers['user-agent'])
    end)

    it('a gzip answer, offering the encodings it decodes', function()
      local res = assert(http.request{ url = srv.url .. '/gzip/5000' })
      assert.equal(('a'):rep(5000), res.body)
      assert.matches('gzip', srv:last().headers['accept-encoding'])
    end)

    it('within max_body counted in decoded bytes', function()
      -- 2 MiB of 'a' is a few KiB of gzip: only the decoded size is over
      local err = failure{ url = srv.url .. '/gzip/' .. 2 * MiB }
      assert.equal('too_large', err.kind)
      local res = assert(http.request{ url = srv.url .. '/gzip/' .. 2 * MiB, max_body = 3 * MiB })
      assert.equal(2 * MiB, #res.body)
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

    describe('trusts CAs as curl(1) does', function()
      local sys = require 'tokrun.sys'
      local VARS = { 'CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'SSL_CERT_DIR' }
      local saved = {}
      before_each(function()
        for _, v in ipairs(VARS) do saved[v] = os.getenv(v); sys.setenv(v, nil) end
      end)
      after_each(function()
        for _, v in ipairs(VARS) do sys.setenv(v, saved[v]) end
      end)

      for _, var in ipairs{ 'CURL_CA_BUNDLE', 'SSL_CERT_FILE' } do
        it('from ' .. var, function()
          sys.setenv(var, tls.cacert)
          local res = assert(http.request{ url = tls.url .. '/echo' })
          assert.equal(200, res.status)
        end)
      end

      it('from SSL_CERT_DIR, a hashed directory', function()
        local dir = os.tmpname()
        os.remove(dir)
        assert(sys.mkdir(dir))
        assert(os.execute(("cp '%s' '%s/ca.pem' && openssl rehash '%s' 2>/dev/null")
          :format(tls.cacert, dir, dir)))
        sys.setenv('SSL_CERT_DIR', dir)
        local res, err = http.request{ url = tls.url .. '/echo' }
        os.execute("rm -rf '" .. dir .. "'")
        assert(res, err and err.message)
        assert.equal(200, res.status)
      end)

      it('with cacert before CURL_CA_BUNDLE, and CURL_CA_BUNDLE before SSL_CERT_FILE', function()
        sys.setenv('CURL_CA_BUNDLE', '/nonexistent/ca.pem')
        assert(http.request{ url = tls.url .. '/echo', cacert = tls.cacert })
        sys.setenv('SSL_CERT_FILE', tls.cacert)
        assert.equal('tls', failure{ url = tls.url .. '/echo' }.kind)
      end)
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
        { url = url, no_proxy = 'yes' },
      } do
        assert.has_error(function() http.request(opts) end)
      end
      assert.has_error(function() http.request() end)
      assert.has_error(function() http.request('http://127.0.0.1/') end)
      assert.equal(0, #srv:requests())
    end)
  end)
end)

-- A proxy of a few lines, answering every request 407 and logging its
-- request line: what reaches it went through the proxy.
local PROXY = [[
local socket = require 'socket'
local log, portfile = arg[1], arg[2]
local srv = assert(socket.bind('127.0.0.1', 0))
srv:settimeout(0.2)
local _, port = srv:getsockname()
local f = assert(io.open(portfile .. '.tmp', 'w'))
f:write(port)
f:close()
os.rename(portfile .. '.tmp', portfile)
local deadline, served = socket.gettime() + 120, 0
while socket.gettime() < deadline and served < 100 do
  local c = srv:accept()
  if c then
    served = served + 1
    c:settimeout(5)
    local line = c:receive('*l')
    repeat local h = c:receive('*l') until not h or h == ''
    local lf = assert(io.open(log, 'a'))
    lf:write((line or '?'), '\n')
    lf:close()
    c:send('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="t"\r\n'
      .. 'Content-Length: 0\r\nConnection: close\r\n\r\n')
    c:close()
  end
end
]]

describe('tokrun.http.request and proxies', function()
  local sys = require 'tokrun.sys'
  local VARS = { 'http_proxy', 'https_proxy', 'HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'all_proxy',
                 'NO_PROXY', 'no_proxy' }
  local srv, dir, pid, proxy_url
  local saved = {}

  local function slurp(path)
    local f = io.open(path)
    if not f then return nil end
    local s = f:read('a')
    f:close()
    return s
  end

  local function proxied()
    return slurp(dir .. '/log') or ''
  end

  setup(function()
    srv = mock.start{ routes = ROUTES }
    dir = os.tmpname()
    os.remove(dir)
    assert(sys.mkdir(dir))
    local f = assert(io.open(dir .. '/proxy.lua', 'w'))
    f:write(PROXY)
    f:close()
    local bin = os.getenv('TOKRUN_BIN') or sys.paths().exe
    local h = assert(io.popen(("'%s' lua '%s/proxy.lua' '%s/log' '%s/port' >/dev/null 2>&1 & echo $!")
      :format(bin, dir, dir, dir)))
    pid = assert(tonumber(h:read('l')))
    h:close()
    local port
    for _ = 1, 400 do   -- at most 20 s
      port = tonumber(slurp(dir .. '/port') or '')
      if port then break end
      sys.sleep(0.05)
    end
    proxy_url = 'http://127.0.0.1:' .. assert(port, 'the proxy did not start')
  end)

  teardown(function()
    if pid then os.execute('kill ' .. pid .. ' 2>/dev/null') end
    if dir then os.execute("rm -rf '" .. dir .. "'") end
    if srv then srv:stop() end
  end)

  before_each(function()
    for _, v in ipairs(VARS) do saved[v] = os.getenv(v); sys.setenv(v, nil) end
    os.remove(dir .. '/log')
    srv:reset()
  end)

  after_each(function()
    for _, v in ipairs(VARS) do sys.setenv(v, saved[v]) end
  end)

  it('sends a loopback request directly, never through http_proxy', function()
    sys.setenv('http_proxy', proxy_url)
    sys.setenv('ALL_PROXY', proxy_url)
    local res = assert(http.request{ url = srv.url .. '/echo' })
    assert.equal(200, res.status)
    local localhost = srv.url:gsub('127%.0%.0%.1', 'localhost')
    assert(http.request{ url = localhost .. '/echo' })
    assert.equal('', proxied())
    assert.equal(2, #srv:requests())
  end)

  it('sends any other request through http_proxy, and reports its 407 as kind proxy', function()
    sys.setenv('http_proxy', proxy_url)
    local res, err = http.request{ url = 'http://tokrun.invalid/token' }
    assert.is_nil(res)
    assert.equal('proxy', err.kind)
    assert.matches('407', err.message)
    assert.equal('GET http://tokrun.invalid/token HTTP/1.1\n', proxied())
  end)

  it('reports a CONNECT the proxy refuses as kind proxy', function()
    sys.setenv('https_proxy', proxy_url)
    local res, err = http.request{ url = 'https://tokrun.invalid/token' }
    assert.is_nil(res)
    assert.equal('proxy', err.kind)
    assert.matches('407', err.message)
    assert.matches('^CONNECT tokrun%.invalid:443 ', proxied())
  end)

  it('connects directly when asked with no_proxy = true', function()
    sys.setenv('http_proxy', proxy_url)
    local res, err = http.request{ url = 'http://tokrun.invalid/token', no_proxy = true, timeout = 5 }
    assert.is_nil(res)
    assert.equal('dns', err.kind)
    assert.equal('', proxied())
  end)

  it('ignores uppercase HTTP_PROXY, as curl does', function()
    sys.setenv('HTTP_PROXY', proxy_url)
    local res, err = http.request{ url = 'http://tokrun.invalid/token', timeout = 5 }
    assert.is_nil(res)
    assert.equal('dns', err.kind)
    assert.equal('', proxied())
  end)
end)

describe('tokrun.http.parse_url', function()
  local parse = http.parse_url

  it('reads every part, filling the default port', function()
    assert.same({ scheme = 'https', host = 'example.com', port = 443, path = '/a/b', query = 'x=1&y',
                  fragment = 'top' }, parse('https://example.com/a/b?x=1&y#top'))
    assert.same({ scheme = 'http', host = 'example.com', port = 80, path = '/' }, parse('http://example.com'))
    assert.same({ scheme = 'http', host = 'example.com', port = 8080, path = '/' },
                parse('HTTP://Example.COM:8080'))
  end)

  it('refuses a host that decodes to a control, space or non-ASCII byte (found by fuzz/url_parse)', function()
    for _, bad in ipairs({ 'http:/0%7f', 'http://a%00b/', 'http://a%20b/', 'http://ex%0aample/', 'http://%c3%a9.test/' }) do
      local u, msg = parse(bad)
      assert.is_nil(u, bad)
      assert.matches('^bad URL: ', msg)
    end
  end)

  it('reads userinfo apart from the host it connects to', function()
    local u = parse('http://127.0.0.1:1@127.1:8080/p')
    assert.equal('127.0.0.1', u.host)
    assert.equal(8080, u.port)
    assert.equal('127.0.0.1', u.user)
    assert.equal('1', u.password)
    u = parse('https://user:p%40ss@api.example.com/')
    assert.equal('api.example.com', u.host)
    assert.equal('user', u.user)
    assert.equal('p%40ss', u.password)
  end)

  it('reads IPv4 in the forms libcurl connects to as dotted quads', function()
    for _, s in ipairs{ 'http://127.1/', 'http://0x7f.1/', 'http://2130706433/' } do
      assert.equal('127.0.0.1', parse(s).host, s)
    end
  end)

  it('gives an IPv6 literal without its brackets', function()
    assert.same({ scheme = 'http', host = '::1', port = 9000, path = '/x' }, parse('http://[::1]:9000/x'))
  end)

  it('returns nil and a message for what libcurl would refuse', function()
    for _, s in ipairs{ '', 'example.com/path', 'http://exa mple.com/', 'http://h:99999/', 'http://[::1/',
                        'http://a\0b/' } do
      local u, msg = parse(s)
      assert.is_nil(u, s)
      assert.matches('^bad URL: ', msg)
    end
  end)

  it('raises on misuse', function()
    assert.has_error(function() parse() end)
    assert.has_error(function() parse({}) end)
  end)
end)
