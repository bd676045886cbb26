-- velafi.lua against a mock that enforces Velafi's contract: an HMAC-SHA256-signed GET, the 5000 ms recvWindow checked against
-- the clock passed with --now, and BHEX error codes that count whatever
-- the HTTP status says.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'

local RECIPE = cli.recipe('velafi')
local NOW = 1740568725231            -- 2025-02-26T11:18:45.231Z
local KEY = 'vK9/a8Bc+DeF=gh1 jK2lMn3oP4qR5s'
local SECRET = 'sEc/r3T+kEy=with space/9Zq0xY+w=='
local TOKEN = '09ef3523-7a1b-4c2d-9e8f-0a1b2c3d4e5f'

local function start(config)
  local c = { api_key = KEY, api_secret = SECRET, token = TOKEN, now_ms = NOW, ttl_ms = 3600000 }
  for k, v in pairs(config or {}) do c[k] = v end
  return mock.start { routes = 'tests/mocks/velafi.lua', config = c }
end

local function env(srv, extra)
  local e = { VELAFI_API_KEY = KEY, VELAFI_API_SECRET = SECRET, VELAFI_BASE_URL = srv and srv.url }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function run(srv, args, extra)
  local argv = { '--now', tostring(NOW), '--retries', '0' }
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = RECIPE
  return cli.run(argv, env(srv, extra))
end

-- A failure: the exit code, the kind, one line on stderr naming the
-- recipe and step, no traceback, and the error envelope on stdout.
local function assert_failure(r, code, kind, provider_code)
  assert.equal(code, r.code, r.stderr)
  assert.equal(kind, r.json.error.kind)
  assert.equal(false, r.json.ok)
  assert.equal('velafi', r.json.recipe)
  if provider_code then assert.equal(provider_code, r.json.error.provider_code) end
  assert.matches('velafi: step generate', r.json.error.message, 1, true)
  assert.not_matches('stack traceback', r.stderr, 1, true)
  assert.equal(1, select(2, r.stderr:gsub('\n', '')), r.stderr)
  cli.assert_clean(r, { KEY, SECRET })
end

describe('velafi', function()
  local srv
  before_each(function() srv = start() end)
  after_each(function() srv:stop() end)

  it('mints a token and prints the envelope with expireTime read to the second', function()
    srv:stop()
    srv = start { ttl_ms = 3600999 }   -- expireTime 1740572326230
    local r = run(srv)
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"recipe":"velafi","ok":true,"token":"' .. TOKEN .. '","token_type":"api_token",'
      .. '"expires_at":"2025-02-26T12:18:46Z","obtained_at":"2025-02-26T11:18:45Z",'
      .. '"cached":false,"data":{}}\n', r.stdout)
    assert.equal('', r.stderr)
  end)

  it('signs timestamp=MS with the secret and sends the key in X-BH-APIKEY', function()
    assert.equal(0, run(srv).code)
    local req = srv:last()
    assert.equal('GET', req.method)
    assert.equal('/v2/token/generate', req.path)
    local hmac = require 'tokrun.hmac'
    local sig = hmac.hexdigest('sha256', SECRET, 'timestamp=' .. NOW)
    assert.equal('timestamp=' .. NOW .. '&signature=' .. sig, req.query)
    assert.equal(KEY, req.headers['x-bh-apikey'])
    assert.is_nil(req.error)
  end)

  it('prints only the token with -f token', function()
    local r = run(srv, { '-f', 'token' })
    assert.equal(0, r.code)
    assert.equal(TOKEN .. '\n', r.stdout)
  end)

  for _, http in ipairs({ 'HTTP 400/401', 'HTTP 200' }) do
    describe('when errors come with ' .. http, function()
      before_each(function()
        if http == 'HTTP 200' then srv:stop(); srv = start { error_status = 200 } end
      end)

      it('reports a wrong secret (-1022, bad signature) as an auth failure', function()
        local r = run(srv, {}, { VELAFI_API_SECRET = 'wr0ng/Secret+value=' })
        assert_failure(r, 77, 'auth', '-1022')
        assert.matches('Signature for this request is not valid', r.stderr, 1, true)
      end)

      it('reports a rejected API key (-2015) as an auth failure', function()
        local r = run(srv, {}, { VELAFI_API_KEY = 'not/the+right=key' })
        assert_failure(r, 77, 'auth', '-2015')
      end)

      it('reports a timestamp outside the recvWindow (-1021) as clock skew, a config error', function()
        local r = cli.run({ '--now', tostring(NOW - 6000), '--retries', '0', RECIPE }, env(srv))
        assert_failure(r, 78, 'config', '-1021')
        assert.matches('clock skew', r.stderr, 1, true)
      end)
    end)
  end

  it('reports an API key of invalid format (-2014) as an auth failure, under HTTP 400 or 200', function()
    local body = { code = -2014, msg = 'API-key format invalid.' }
    srv:script('GET /v2/token/generate', { { status = 400, json = body }, { status = 200, json = body } })
    assert_failure(run(srv), 77, 'auth', '-2014')
    assert_failure(run(srv), 77, 'auth', '-2014')
  end)

  it('retries a 503 with a fresh timestamp and signature', function()
    srv:stop()
    srv = start { now_ms = false }   -- the mock checks the wall clock
    srv:script('GET /v2/token/generate', { { status = 503, headers = { ['Retry-After'] = '1' }, body = 'busy' } })
    local r = cli.run({ '--retries', '1', RECIPE }, env(srv))
    assert.equal(0, r.code, r.stderr)
    local reqs = srv:requests()
    assert.equal(2, #reqs)
    local t1, t2 = tonumber(reqs[1].params.timestamp), tonumber(reqs[2].params.timestamp)
    assert.is_true(t2 - t1 >= 1000)
    assert.not_equal(reqs[1].params.signature, reqs[2].params.signature)
    assert.is_nil(reqs[2].error)
  end)

  it('accepts a timestamp just inside the 5000 ms recvWindow', function()
    assert.equal(0, cli.run({ '--now', tostring(NOW + 4999), RECIPE }, env(srv)).code)
  end)

  it('treats any other body code as a provider error even under HTTP 200', function()
    srv:script('GET /v2/token/generate',
      { { status = 200, json = { code = -1000, msg = 'An unknown error occured.' } } })
    local r = run(srv)
    assert_failure(r, 78, 'provider', '-1000')
    assert.equal(200, r.json.error.http_status)
  end)

  it('gives a clean protocol error for malformed JSON', function()
    srv:script('GET /v2/token/generate', { { status = 200, headers = { ['Content-Type'] = 'application/json' },
      body = '{"code":200,"msg":"SUCCESS","data":{"token":' } })
    local r = run(srv)
    assert_failure(r, 76, 'protocol')
    assert.matches('is not JSON [application/json', r.stderr, 1, true)
  end)

  it('gives a clean error for an HTML error page', function()
    srv:script('GET /v2/token/generate', { { status = 502, headers = { ['Content-Type'] = 'text/html' },
      body = '<html><body><h1>502 Bad Gateway</h1></body></html>' } })
    local r = run(srv)
    assert_failure(r, 69, 'provider')
    assert.matches('text/html', r.stderr, 1, true)
  end)

  it('gives a clean protocol error for an HTML page answered with HTTP 200', function()
    srv:script('GET /v2/token/generate', { { status = 200, headers = { ['Content-Type'] = 'text/html' },
      body = '<html><body>Maintenance</body></html>' } })
    local r = run(srv)
    assert_failure(r, 76, 'protocol')
    assert.matches('is not JSON [text/html', r.stderr, 1, true)
  end)

  it('gives a clean protocol error for JSON of the wrong shape', function()
    srv:script('GET /v2/token/generate', { { status = 200, json = { code = 200, msg = 'SUCCESS', data = { 'x' } } } })
    assert_failure(run(srv), 76, 'protocol')
    srv:script('GET /v2/token/generate',
      { { status = 200, json = { code = 200, data = { token = TOKEN, expireTime = 'soon' } } } })
    assert_failure(run(srv), 76, 'protocol')
  end)

  it('names every missing parameter at once (exit 78)', function()
    local r = cli.run({ '--now', tostring(NOW), RECIPE }, {})
    assert.equal(78, r.code)
    assert.equal('config', r.json.error.kind)
    assert.matches('api_key (set VELAFI_API_KEY or VELAFI_API_KEY_FILE)', r.stderr, 1, true)
    assert.matches('api_secret (set VELAFI_API_SECRET or VELAFI_API_SECRET_FILE)', r.stderr, 1, true)
    assert.equal(0, #srv:requests())
  end)

  it('refuses a secret given with -p (exit 64) and says which variable to use', function()
    local r = cli.run({ '-p', 'api_secret=' .. SECRET, RECIPE }, { VELAFI_API_KEY = KEY })
    assert.equal(64, r.code)
    assert.matches('VELAFI_API_SECRET', r.stderr, 1, true)
    cli.assert_clean(r, { SECRET })
  end)

  it('never prints the key or the secret, nor the token outside the result, under -v', function()
    local r = run(srv, { '-v' })
    assert.equal(0, r.code, r.stderr)
    assert.matches('< HTTP 200', r.stderr, 1, true)
    cli.assert_clean(r, { KEY, SECRET, TOKEN }, true)
    cli.assert_clean(r, { KEY, SECRET })
  end)

  it('never prints the key or the secret under --dry-run, and sends nothing', function()
    local r = run(srv, { '--dry-run' })
    assert.equal(0, r.code, r.stderr)
    cli.assert_clean(r, { KEY, SECRET })
    assert.equal(0, #srv:requests())
  end)

  it('shows under --dry-run the signature openssl computes for timestamp=MS', function()
    local p = io.popen("printf 'timestamp=" .. NOW .. "' | openssl dgst -sha256 -hmac '" .. SECRET .. "'")
    local want = p:read('a'):match('(%x+)%s*$')
    p:close()
    assert.equal(64, #want)
    local r = run(nil, { '--dry-run' })
    assert.equal(0, r.code, r.stderr)
    assert.matches('timestamp=' .. NOW .. '&signature=' .. want, r.stdout, 1, true)
    assert.matches('string-to-sign: timestamp=' .. NOW, r.stdout, 1, true)
  end)
end)
