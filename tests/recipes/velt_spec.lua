-- velt.lua against a mock that enforces Velt's contract (the provider's documented API):
-- v1 with the keys in the JSON body, api_version=2 with them in headers,
-- gRPC-style {"error":{"message","status"}} errors, and a JWT whose exp
-- claim (from the clock passed with --now) becomes expires_at.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local codec = require 'tokrun.codec'
local json = require 'tokrun.json'

local RECIPE = cli.recipe('velt')
local NOW = 1740568725231            -- 2025-02-26T11:18:45Z
local API_KEY = 'vElT/ApiKey+9x=Q2 w7Rt'
local AUTH_TOKEN = 'aUtH/t0ken+Yz8=Kp3 mN4/=='

local function start(config)
  local c = { api_key = API_KEY, auth_token = AUTH_TOKEN, now_ms = NOW, ttl_s = 3600,
    forbidden_org = 'org-locked', unknown_org = 'org-gone' }
  for k, v in pairs(config or {}) do c[k] = v end
  return mock.start { routes = 'tests/mocks/velt.lua', config = c }
end

local function env(srv, extra)
  local e = { VELT_API_KEY = API_KEY, VELT_AUTH_TOKEN = AUTH_TOKEN, VELT_BASE_URL = srv and srv.url }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

-- run(srv, {args...}, env_extra): user u-42 of org-7 unless args say otherwise
local function run(srv, args, extra)
  local argv = { '--now', tostring(NOW), '--retries', '0', '-p', 'user_id=u-42', '-p', 'organization_id=org-7' }
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = RECIPE
  return cli.run(argv, env(srv, extra))
end

local function claims(token)
  return json.decode(codec.unbase64url(token:match('^[^.]+%.([^.]+)%.')))
end

local function assert_failure(r, code, kind, provider_code, step)
  assert.equal(code, r.code, r.stderr)
  assert.same({ 'velt', false, kind }, { r.json.recipe, r.json.ok, r.json.error.kind })
  if provider_code then assert.equal(provider_code, r.json.error.provider_code) end
  assert.matches('velt: step ' .. (step or 'token') .. ':', r.json.error.message, 1, true)
  assert.not_matches('stack traceback', r.stderr, 1, true)
  assert.equal(1, select(2, r.stderr:gsub('\n', '')), r.stderr)
  cli.assert_clean(r, { API_KEY, AUTH_TOKEN })
end

describe('velt', function()
  local srv
  before_each(function() srv = start() end)
  after_each(function() srv:stop() end)

  it('mints a JWT and takes expires_at from its exp claim', function()
    local r = run(srv)
    assert.equal(0, r.code, r.stderr)
    local token = r.json.token
    assert.matches('^[%w_-]+%.[%w_-]+%.[%w_-]+$', token)
    assert.equal('{"recipe":"velt","ok":true,"token":"' .. token .. '","token_type":"jwt",'
      .. '"expires_at":"2025-02-26T12:18:45Z","obtained_at":"2025-02-26T11:18:45Z",'
      .. '"cached":false,"data":{}}\n', r.stdout)
    assert.same({ userId = 'u-42', organizationId = 'org-7', iat = NOW // 1000, exp = NOW // 1000 + 3600 },
      claims(token))
  end)

  it('falls back to 48 hours when the JWT has no exp claim', function()
    srv:stop()
    srv = start { ttl_s = false }
    local r = run(srv)
    assert.equal(0, r.code, r.stderr)
    assert.is_nil(claims(r.json.token).exp)
    assert.equal('2025-02-28T11:18:45Z', r.json.expires_at)
  end)

  it('sends v1 keys in the JSON body and leaves unset is_admin and email out', function()
    assert.equal(0, run(srv).code)
    local req = srv:last()
    assert.equal('POST', req.method)
    assert.equal('/v1/auth/token/get', req.path)
    assert.matches('^application/json', req.headers['content-type'])
    assert.same({ data = { apiKey = API_KEY, authToken = AUTH_TOKEN, userId = 'u-42',
      userProperties = { organizationId = 'org-7' } } }, req.json)
    assert.is_nil(req.error)
  end)

  it('sends is_admin as a JSON boolean and email when they are set', function()
    assert.equal(0, run(srv, { '-p', 'is_admin=true', '-p', 'email=ana@example.com' }).code)
    assert.same({ organizationId = 'org-7', isAdmin = true, email = 'ana@example.com' },
      srv:last().json.data.userProperties)
    assert.equal(0, run(srv, { '-p', 'is_admin=no' }).code)
    assert.equal(false, srv:last().json.data.userProperties.isAdmin)
  end)

  it('with api_version=2 sends the keys as headers and not in the body', function()
    local r = run(srv, { '-p', 'api_version=2', '-p', 'is_admin=false' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('2025-02-26T12:18:45Z', r.json.expires_at)
    local req = srv:last()
    assert.equal('/v2/auth/generate_token', req.path)
    assert.equal(API_KEY, req.headers['x-velt-api-key'])
    assert.equal(AUTH_TOKEN, req.headers['x-velt-auth-token'])
    assert.same({ data = { userId = 'u-42', userProperties = { organizationId = 'org-7', isAdmin = false } } },
      req.json)
    assert.equal(1, #srv:requests())
  end)

  it('rejects an api_version other than 1 or 2 before sending anything (78)', function()
    local r = run(srv, { '-p', 'api_version=3' })
    assert.equal(78, r.code)
    assert.matches("api_version", r.stderr, 1, true)
    assert.equal(0, #srv:requests())
  end)

  for _, v in ipairs({ { '1', 'token' }, { '2', 'generate_token' } }) do
    local version, step = v[1], v[2]
    describe('(api_version=' .. version .. ')', function()
      local function run_v(extra, args)
        local a = { '-p', 'api_version=' .. version }
        for _, x in ipairs(args or {}) do a[#a + 1] = x end
        return run(srv, a, extra)
      end

      it('reports a wrong API key (UNAUTHENTICATED) as an auth failure', function()
        local r = run_v { VELT_API_KEY = 'wrong/key+=' }
        assert_failure(r, 77, 'auth', 'UNAUTHENTICATED', step)
        assert.equal(401, r.json.error.http_status)
      end)

      it('reports "Auth token not found." (INVALID_ARGUMENT) as an auth failure', function()
        local r = run_v { VELT_AUTH_TOKEN = 'stale/token+=' }
        assert_failure(r, 77, 'auth', 'INVALID_ARGUMENT', step)
        assert.matches('Auth token not found.', r.stderr, 1, true)
      end)

      it('reports PERMISSION_DENIED as an auth failure', function()
        local r = run_v(nil, { '-p', 'organization_id=org-locked' })
        assert_failure(r, 77, 'auth', 'PERMISSION_DENIED', step)
        assert.equal(403, r.json.error.http_status)
      end)

      it('reports any other INVALID_ARGUMENT as a config error', function()
        local r = run_v(nil, { '-p', 'email=not-an-email' })
        assert_failure(r, 78, 'config', 'INVALID_ARGUMENT', step)
        assert.matches('email must be an email address', r.stderr, 1, true)
      end)

      it('reports NOT_FOUND as a provider error (78)', function()
        local r = run_v(nil, { '-p', 'organization_id=org-gone' })
        assert_failure(r, 78, 'provider', 'NOT_FOUND', step)
      end)

      it('never prints a key or the auth token under -v or --dry-run', function()
        for _, flag in ipairs({ '-v', '--dry-run' }) do
          local r = run_v(nil, { flag })
          assert.equal(0, r.code, r.stderr)
          cli.assert_clean(r, { API_KEY, AUTH_TOKEN })
        end
      end)
    end)
  end

  it('retries a 429 and then reports rate_limited (75)', function()
    local limited = { status = 429, headers = { ['Retry-After'] = '0' },
      json = { error = { message = 'Too many requests.', status = 'RESOURCE_EXHAUSTED' } } }
    srv:script('POST /v1/auth/token/get', { limited, limited })
    local r = cli.run({ '--retries', '1', '-p', 'user_id=u', '-p', 'organization_id=o', RECIPE }, env(srv))
    assert_failure(r, 75, 'rate_limited', 'RESOURCE_EXHAUSTED')
    assert.equal(2, #srv:requests())
  end)

  it('reports a 500 as the provider being unavailable (69)', function()
    srv:script('POST /v1/auth/token/get',
      { { status = 500, json = { error = { message = 'Internal error.', status = 'INTERNAL' } } } })
    local r = run(srv)
    assert_failure(r, 69, 'provider', 'INTERNAL')
    assert.equal(500, r.json.error.http_status)
  end)

  it('re-sends the request after a dropped connection, since minting a JWT is safe to repeat', function()
    srv:script('POST /v1/auth/token/get', { { drop = true } })
    local r = cli.run({ '--now', tostring(NOW), '--retries', '1', '-p', 'user_id=u', '-p', 'organization_id=o',
      RECIPE }, env(srv))
    assert.equal(0, r.code, r.stderr)
    assert.equal(2, #srv:requests())
  end)

  it('gives clean errors for malformed JSON, an HTML page and JSON of the wrong shape', function()
    srv:script('POST /v1/auth/token/get', {
      { status = 200, headers = { ['Content-Type'] = 'application/json' }, body = '{"result":{"status":"succ' },
      { status = 502, headers = { ['Content-Type'] = 'text/html' }, body = '<html><h1>Bad Gateway</h1></html>' },
      { status = 200, json = { result = { status = 'success', data = { token = json.null } } } },
      { status = 200, json = { result = { status = 'pending' } } },
    })
    assert_failure(run(srv), 76, 'protocol')
    local html = run(srv)
    assert_failure(html, 69, 'provider')
    assert.matches('text/html', html.stderr, 1, true)
    assert_failure(run(srv), 76, 'protocol')
    assert_failure(run(srv), 76, 'protocol')
  end)

  it('names every missing parameter at once (exit 78)', function()
    local r = cli.run({ RECIPE }, {})
    assert.equal(78, r.code)
    for _, name in ipairs({ 'api_key', 'auth_token', 'user_id', 'organization_id' }) do
      assert.matches(name .. ' (', r.stderr, 1, true)
    end
    assert.equal(0, #srv:requests())
  end)

  it('refuses a key given with -p (exit 64) and says which variable to use', function()
    local r = run(srv, { '-p', 'api_key=' .. API_KEY })
    assert.equal(64, r.code)
    assert.matches('VELT_API_KEY', r.stderr, 1, true)
    cli.assert_clean(r, { API_KEY, AUTH_TOKEN })
  end)

  it('never prints a key, the auth token or the JWT outside the result', function()
    local r = run(srv, { '-v' })
    assert.equal(0, r.code)
    cli.assert_clean(r, { API_KEY, AUTH_TOKEN, r.json.token }, true)
    cli.assert_clean(r, { API_KEY, AUTH_TOKEN })
  end)
end)
