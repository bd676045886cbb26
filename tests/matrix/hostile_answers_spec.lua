-- Providers that answer in ways meant to break tokrun's promises: echoing
-- a secret percent-encoded as other languages' libraries write it, sending
-- terminal escapes and line breaks, out-of-range numbers, a 60K-character
-- token under -v, a rate limit whose body carries its own code; and
-- parameters that would put a line break into a header or pad an
-- --env-file line with 100 KB of spaces.  Each cell: the documented exit
-- code, one line on stderr, no secret in any form, no internal error.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local codec = require 'tokrun.codec'

local NOW = 1740568725231   -- 2025-02-26T11:18:45Z
local OBTAINED = 1740568725

local byte, format, gsub = string.byte, string.format, string.gsub

-- Percent-encoders as other languages write them, written here from their
-- documentation (not from tokrun's redactor): what each leaves as is.
local ENCODERS = {
  ["Python's urllib.parse.quote"] = "A-Za-z0-9_.~/-",
  ["JavaScript's encodeURIComponent"] = "A-Za-z0-9_.!~*'()-",
  ["Go's url.PathEscape"] = "A-Za-z0-9_.~$&+:=@-",
}

local function encode(s, keep, hex)
  return (gsub(s, '[^' .. keep .. ']', function(c) return format(hex, byte(c)) end))
end

-- A secret with every character those encoders disagree on.
local KEY = [[k/+&<>"!*'() ey]]
local SECRET = 'sEc/r3T+kEy=with space/9Zq0xY+w=='

local function velafi(srv, args, extra_env)
  local argv = { '--now', tostring(NOW), '--retries', '0' }
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = cli.recipe('velafi')
  local env = { VELAFI_API_KEY = KEY, VELAFI_API_SECRET = SECRET, VELAFI_BASE_URL = srv.url }
  for k, v in pairs(extra_env or {}) do env[k] = v end
  return cli.run(argv, env)
end

local function one_line(r)
  assert.matches('^tokrun: [^\n]*\n$', r.stderr)
  assert.is_nil(r.stderr:find('[%z\1-\9\11-\31\127]'), 'a control character on stderr: ' .. r.stderr)
  assert.is_nil(r.stderr:find('stack traceback', 1, true))
end

describe('a provider that echoes the secret percent-encoded', function()
  local srv
  before_each(function()
    srv = mock.start { routes = 'tests/mocks/velafi.lua',
      config = { api_key = KEY, api_secret = SECRET, token = 't', now_ms = NOW } }
  end)
  after_each(function() srv:stop() end)

  for name, keep in pairs(ENCODERS) do
    for _, hex in ipairs({ '%%%02X', '%%%02x' }) do
      it(format('never prints it as %s writes it (%s hex)', name, hex == '%%%02X' and 'upper' or 'lower'), function()
        local echoed = encode(KEY, keep, hex)
        assert.are_not.equal(KEY, echoed)
        srv:script('GET /v2/token/generate', { { status = 401, json = { code = -2015,
          msg = 'Invalid API-key, IP, or permissions for action: ' .. echoed } } })
        local r = velafi(srv)
        assert.equal(77, r.code, r.stderr)
        one_line(r)
        for _, text in ipairs({ r.stdout, r.stderr }) do
          assert.is_nil(text:find(echoed, 1, true), 'the echoed key was printed: ' .. text)
          assert.is_nil(text:find(KEY, 1, true))
        end
        assert.truthy(r.json.error.message:find('action: ***', 1, true), r.json.error.message)
      end)
    end
  end
end)

describe('a provider that sends control characters', function()
  local srv
  before_each(function()
    srv = mock.start { routes = 'tests/mocks/velafi.lua',
      config = { api_key = KEY, api_secret = SECRET, token = 't', now_ms = NOW } }
  end)
  after_each(function() srv:stop() end)

  local HOSTILE = 'Invalid key\27[2J\27[31m\r\ntokrun: ok, token printed\7\0\127 done'

  it('gets them escaped in the error: one event, one line', function()
    srv:script('GET /v2/token/generate', { { status = 401, json = { code = -2015, msg = HOSTILE } } })
    local r = velafi(srv)
    assert.equal(77, r.code, r.stderr)
    one_line(r)
    assert.truthy(r.stderr:find('Invalid key\\x1b[2J\\x1b[31m\\r\\ntokrun: ok, token printed\\x07\\x00\\x7f done',
      1, true), r.stderr)
  end)

  it('gets them escaped in a -v trace: one line per event', function()
    srv:script('GET /v2/token/generate', { { status = 401, headers = { ['X-Note'] = 'a\27[31mb' },
      body = '{"code":-2015,"msg":"x"}\n\27]0;title\7\r\nHTTP/1.1 200 OK' } })
    local r = velafi(srv, { '-v' })
    assert.equal(77, r.code, r.stderr)
    assert.is_nil(r.stderr:find('[%z\1-\9\11-\31\127]'), 'a control character on stderr: ' .. r.stderr)
    assert.truthy(r.stderr:find('\\x1b]0;title\\x07\\r\\nHTTP/1.1 200 OK', 1, true), r.stderr)
    for line in r.stderr:gmatch('[^\n]+') do
      assert.is_nil(line:find('^HTTP/1.1 200'), 'a forged line: ' .. line)
    end
  end)
end)

describe('a rate limit whose body carries its own code', function()
  local srv
  before_each(function()
    srv = mock.start { routes = 'tests/mocks/velafi.lua',
      config = { api_key = KEY, api_secret = SECRET, token = 't', now_ms = NOW } }
  end)
  after_each(function() srv:stop() end)

  it('is rate_limited (75) once retries run out, whatever status_from reads', function()
    local busy = { status = 429, json = { code = -1003, msg = 'Too many requests.' } }
    srv:script('GET /v2/token/generate', { busy, busy })
    local r = velafi(srv, { '--retries', '1' })
    assert.equal(75, r.code, r.stderr)
    assert.equal('rate_limited', r.json.error.kind)
    assert.equal(429, r.json.error.http_status)
    assert.equal('-1003', r.json.error.provider_code)
    one_line(r)
  end)

  it('is a provider outage (69) for a 503 or 500 with a body code', function()
    for _, status in ipairs({ 503, 500 }) do
      srv:script('GET /v2/token/generate', { { status = status, json = { code = -1001, msg = 'Internal error.' } } })
      local r = velafi(srv)
      assert.equal(69, r.code, r.stderr)
      assert.equal('provider', r.json.error.kind)
      assert.equal(status, r.json.error.http_status)
      one_line(r)
    end
  end)
end)

describe('out-of-range numbers from a provider', function()
  local srv
  after_each(function() srv:stop() end)

  local function oauth2(expires_in, body)
    srv = mock.start { routes = 'tests/mocks/oauth2_client_credentials.lua',
      config = { client_id = 'svc', client_secret = 'cl/ent+S3cret', token = 'at.Hq7/Zx9', expires_in = expires_in } }
    if body then
      srv:script('POST /token', { { status = 200, headers = { ['Content-Type'] = 'application/json' }, body = body } })
    end
    return cli.run({ '--now', tostring(NOW), '--retries', '0', cli.recipe('oauth2_client_credentials') },
      { OAUTH2_TOKEN_URL = srv.url .. '/token', OAUTH2_CLIENT_ID = 'svc', OAUTH2_CLIENT_SECRET = 'cl/ent+S3cret' })
  end

  it('floors a fractional expires_in (3599.9 s is 3599 s)', function()
    local r = oauth2(3599.9)
    assert.equal(0, r.code, r.stderr)
    assert.equal('2025-02-26T12:18:44Z', r.json.expires_at)
  end)

  it('never prints expires_at with a year RFC 3339 cannot write (expires_in 1e15)', function()
    local r = oauth2(1e15)
    assert.equal(0, r.code, r.stderr)
    assert.matches('^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$', r.json.expires_at)
  end)

  for _, n in ipairs({ '1180591620717411303424', '-1e308' }) do
    it('reports expires_in ' .. n .. ' as a protocol error naming the field, not a crash', function()
      local r = oauth2(nil, '{"access_token":"at.Hq7/Zx9","token_type":"Bearer","expires_in":' .. n .. '}')
      assert.equal(76, r.code, r.stderr)
      assert.equal('protocol', r.json.error.kind)
      assert.truthy(r.json.error.message:find('expires_in', 1, true), r.json.error.message)
      one_line(r)
    end)
  end
end)

describe('the exp claim of a JWT from a provider', function()
  local srv
  before_each(function()
    srv = mock.start { routes = 'tests/mocks/velt.lua',
      config = { api_key = 'vElT/ApiKey', auth_token = 'aUtH/t0ken', now_ms = NOW, ttl_s = 3600 } }
  end)
  after_each(function() srv:stop() end)

  local function velt(exp_json)
    local payload = exp_json and codec.base64url('{"userId":"u-42","exp":' .. exp_json .. '}') or 'not*base64'
    local token = 'eyJhbGciOiJIUzI1NiJ9.' .. payload .. '.c2ln'
    srv:script('POST /v1/auth/token/get', { { status = 200, json = { result = { status = 'success',
      message = 'Token generated successfully.', data = { token = token } } } } })
    return cli.run({ '--now', tostring(NOW), '--retries', '0', '-p', 'user_id=u-42', '-p', 'organization_id=org-7',
      cli.recipe('velt') }, { VELT_API_KEY = 'vElT/ApiKey', VELT_AUTH_TOKEN = 'aUtH/t0ken', VELT_BASE_URL = srv.url })
  end

  it('is read from a numeric string', function()
    local r = velt('"' .. (OBTAINED + 600) .. '"')
    assert.equal(0, r.code, r.stderr)
    assert.equal('2025-02-26T11:28:45Z', r.json.expires_at)
    assert.equal('', r.stderr)
  end)

  local IMPLAUSIBLE = {
    ['in milliseconds'] = tostring((OBTAINED + 600) * 1000),
    absurd = '1e300',
    negative = '-5',
    ['not a number'] = '"soon"',
  }
  for what, exp in pairs(IMPLAUSIBLE) do
    it('is a protocol error naming the claim when ' .. what, function()
      local r = velt(exp)
      assert.equal(76, r.code, r.stderr)
      assert.equal('protocol', r.json.error.kind)
      assert.truthy(r.json.error.message:find("claim 'exp'", 1, true), r.json.error.message)
      one_line(r)
    end)
  end

  it('is a protocol error when the JWT payload does not decode', function()
    local r = velt(nil)
    assert.equal(76, r.code, r.stderr)
    assert.truthy(r.json.error.message:find('JWT payload', 1, true), r.json.error.message)
  end)

  it('warns when the token has already expired', function()
    local r = velt(tostring(OBTAINED - 60))
    assert.equal(0, r.code, r.stderr)
    assert.equal('2025-02-26T11:17:45Z', r.json.expires_at)
    assert.matches('^tokrun: warning: velt: step token: the token has already expired', r.stderr)
    assert.equal(1, select(2, r.stderr:gsub('\n', '')))
  end)
end)

describe('a long token under -v', function()
  local srv
  after_each(function() srv:stop() end)

  -- 60K and 120K characters, repetitive (the worst case of the old
  -- redactor): -v with --timeout 20 finished in 9.4 s and 37 s before.
  for _, n in ipairs({ 60000, 120000 }) do
    it(format('is redacted within the deadline (%d characters)', n), function()
      local token = ('a'):rep(n - 1) .. 'b'
      srv = mock.start { routes = 'tests/mocks/oauth2_client_credentials.lua',
        config = { client_id = 'svc', client_secret = 'cl/ent+S3cret', token = token, expires_in = 3600 } }
      -- the provider echoes the token, almost, in a header and a message
      srv:script('POST /token', { { status = 200, headers = { ['X-Debug'] = ('a'):rep(50000) },
        json = { access_token = token, token_type = 'Bearer', expires_in = 3600,
          note = ('a'):rep(n) .. ' issued ' .. token } } })
      local r = cli.run({ '-v', '--timeout', '20', '--now', tostring(NOW), cli.recipe('oauth2_client_credentials') },
        { OAUTH2_TOKEN_URL = srv.url .. '/token', OAUTH2_CLIENT_ID = 'svc', OAUTH2_CLIENT_SECRET = 'cl/ent+S3cret' },
        { timeout = 60 })
      assert.equal(0, r.code, r.stderr:sub(1, 300))
      assert.is_nil(r.stderr:find(token, 1, true), 'the token reached the trace')
      assert.truthy(r.stderr:find('issued ***', 1, true))
    end)
  end
end)

describe('a parameter that would break a header', function()
  it('is a config error (78) naming the parameter, for CR, LF and NUL', function()
    local srv = mock.start { routes = 'tests/mocks/velafi.lua',
      config = { api_key = KEY, api_secret = SECRET, token = 't', now_ms = NOW } }
    local dir = cli.tmpdir()
    for _, bad in ipairs({ 'key\r\nX-Injected: 1', 'key\nmore', 'key\0tail' }) do
      local f = assert(io.open(dir .. '/key', 'wb'))   -- a NUL cannot be in the environment
      f:write(bad)
      f:close()
      local r = cli.run({ '--now', tostring(NOW), cli.recipe('velafi') },
        { VELAFI_API_KEY_FILE = dir .. '/key', VELAFI_API_SECRET = SECRET, VELAFI_BASE_URL = srv.url })
      assert.equal(78, r.code, r.stderr)
      assert.equal('config', r.json.error.kind)
      assert.truthy(r.stderr:find("parameter 'api_key'", 1, true), r.stderr)
      one_line(r)
    end
    assert.same({}, cli.seen(srv))
    srv:stop()
    cli.cleanup()
  end)
end)

describe('an --env-file line padded with 100 KB of spaces', function()
  -- trimmed by a quadratic pattern, it took about 50 s to read
  it('is read at once, and the run goes on', function()
    local dir = cli.tmpdir()
    local f = assert(io.open(dir .. '/env', 'wb'))
    f:write('VELAFI_BASE_URL=', (' '):rep(100000), 'http://127.0.0.1:9', (' '):rep(100000), '\n')
    f:close()
    local r = cli.run({ '--dry-run', '--now', tostring(NOW), '--timeout', '20', '--env-file', dir .. '/env',
      cli.recipe('velafi') }, { VELAFI_API_KEY = KEY, VELAFI_API_SECRET = SECRET }, { timeout = 15 })
    assert.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find('GET http://127.0.0.1:9/v2/token/generate', 1, true), r.stdout)
    cli.cleanup()
  end)
end)
