-- oauth2_client_credentials.lua against a token endpoint that enforces RFC
-- 6749: the client credentials grant (4.4), client authentication by HTTP
-- Basic over form-urlencoded id and secret or in the body (2.3.1), and the
-- error responses of 5.2.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local codec = require 'tokrun.codec'

local RECIPE = cli.recipe('oauth2_client_credentials')
local NOW = 1740568725231            -- 2025-02-26T11:18:45Z
local CLIENT_ID = 'svc:reporting@acme'
local SECRET = 'cl/ent+S3cret=with space&more'
local TOKEN = 'at.Hq7/Zx9+Lm2=Pq'

local function start(config)
  local c = { client_id = CLIENT_ID, client_secret = SECRET, token = TOKEN, expires_in = 3600,
    scopes = { 'read', 'write' } }
  for k, v in pairs(config or {}) do c[k] = v end
  return mock.start { routes = 'tests/mocks/oauth2_client_credentials.lua', config = c }
end

local function env(srv, extra)
  local e = { OAUTH2_TOKEN_URL = srv and srv.url .. '/token', OAUTH2_CLIENT_ID = CLIENT_ID,
    OAUTH2_CLIENT_SECRET = SECRET }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function run(srv, args, extra)
  local argv = { '--now', tostring(NOW), '--retries', '0' }
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = RECIPE
  return cli.run(argv, env(srv, extra))
end

local function assert_failure(r, code, kind, provider_code, step)
  assert.equal(code, r.code, r.stderr)
  assert.same({ 'oauth2_client_credentials', false, kind }, { r.json.recipe, r.json.ok, r.json.error.kind })
  if provider_code then assert.equal(provider_code, r.json.error.provider_code) end
  assert.matches('oauth2_client_credentials: step ' .. (step or 'token') .. ':', r.json.error.message, 1, true)
  assert.not_matches('stack traceback', r.stderr, 1, true)
  assert.equal(1, select(2, r.stderr:gsub('\n', '')), r.stderr)
  cli.assert_clean(r, { SECRET })
end

describe('oauth2_client_credentials', function()
  local srv
  before_each(function() srv = start() end)
  after_each(function() srv:stop() end)

  it('gets an access token; expires_at is obtained_at plus expires_in', function()
    local r = run(srv)
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"recipe":"oauth2_client_credentials","ok":true,"token":"' .. TOKEN .. '",'
      .. '"token_type":"Bearer","expires_at":"2025-02-26T12:18:45Z","obtained_at":"2025-02-26T11:18:45Z",'
      .. '"cached":false,"data":{}}\n', r.stdout)
    assert.equal('', r.stderr)
  end)

  it('authenticates with HTTP Basic over the form-urlencoded id and secret by default', function()
    assert.equal(0, run(srv).code)
    local req = srv:last()
    assert.same({ 'POST', '/token' }, { req.method, req.path })
    assert.matches('^application/x%-www%-form%-urlencoded', req.headers['content-type'])
    assert.equal('Basic ' .. codec.base64(codec.form(CLIENT_ID) .. ':' .. codec.form(SECRET)),
      req.headers.authorization)
    assert.equal('grant_type=client_credentials', req.body)
    assert.is_nil(req.error)
  end)

  it('sends scope and audience when they are set', function()
    srv:stop()
    srv = start { audience = 'https://api.example.com' }
    local r = run(srv, { '-p', 'scope=read write', '-p', 'audience=https://api.example.com' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('grant_type=client_credentials&scope=read+write&audience=https%3A%2F%2Fapi.example.com',
      srv:last().body)
  end)

  it('sends a resource indicator (RFC 8707) and reports the scope granted in data', function()
    srv:stop()
    srv = start { resources = { 'https://api.example.com/reports' }, granted_scope = 'read' }
    local r = run(srv, { '-p', 'scope=read write', '-p', 'resource=https://api.example.com/reports' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('grant_type=client_credentials&scope=read+write&resource=https%3A%2F%2Fapi.example.com%2Freports',
      srv:last().body)
    assert.same({ scope = 'read' }, r.json.data)
    r = run(srv, { '-p', 'auth_method=client_secret_post', '-p', 'resource=https://api.example.com/reports' })
    assert.equal(0, r.code, r.stderr)
    assert.matches('&resource=https%3A%2F%2Fapi.example.com%2Freports&client_id=', srv:last().body, 1, true)
  end)

  it('reports an unknown resource (invalid_target, RFC 8707) as a config error', function()
    srv:stop()
    srv = start { resources = { 'https://api.example.com/reports' } }
    local r = run(srv, { '-p', 'resource=https://other.example.com/' })
    assert_failure(r, 78, 'config', 'invalid_target')
    assert.matches('the resource is invalid, unknown or malformed', r.stderr, 1, true)
  end)

  it('with auth_method=client_secret_post puts the credentials in the form, not a header', function()
    srv:stop()
    srv = start { auth_method = 'client_secret_post' }
    local r = run(srv, { '-p', 'auth_method=client_secret_post' })
    assert.equal(0, r.code, r.stderr)
    local req = srv:last()
    assert.is_nil(req.headers.authorization)
    assert.equal('grant_type=client_credentials&client_id=' .. codec.form(CLIENT_ID)
      .. '&client_secret=' .. codec.form(SECRET), req.body)
  end)

  it('takes token_type from the response and leaves expires_at null without expires_in', function()
    srv:stop()
    srv = start { token_type = 'bearer', expires_in = false }
    local r = run(srv)
    assert.equal(0, r.code, r.stderr)
    assert.equal('bearer', r.json.token_type)
    assert.equal(require('tokrun.json').null, r.json.expires_at)
  end)

  it('reports invalid_client with HTTP 401 (Basic) as an auth failure', function()
    local r = run(srv, {}, { OAUTH2_CLIENT_SECRET = 'wr0ng/secret+=' })
    assert_failure(r, 77, 'auth', 'invalid_client')
    assert.equal(401, r.json.error.http_status)
    assert.matches('client authentication failed', r.stderr, 1, true)
  end)

  it('reports invalid_client with HTTP 400 (client_secret_post) as an auth failure', function()
    local r = run(srv, { '-p', 'auth_method=client_secret_post' }, { OAUTH2_CLIENT_SECRET = 'wr0ng/secret+=' })
    assert_failure(r, 77, 'auth', 'invalid_client', 'token_post')
    assert.equal(400, r.json.error.http_status)
  end)

  it('reports a client registered for the other auth method as invalid_client', function()
    srv:stop()
    srv = start { auth_method = 'client_secret_post' }
    assert_failure(run(srv), 77, 'auth', 'invalid_client')
  end)

  it('reports invalid_scope as a config error naming the scope', function()
    local r = run(srv, { '-p', 'scope=read admin' })
    assert_failure(r, 78, 'config', 'invalid_scope')
    assert.matches('unknown scope: read admin', r.stderr, 1, true)
  end)

  it('reports unauthorized_client as a config error', function()
    srv:stop()
    srv = start { unauthorized = true }
    assert_failure(run(srv), 78, 'config', 'unauthorized_client')
  end)

  it('reports invalid_request (an audience the server does not know) as a config error', function()
    srv:stop()
    srv = start { audience = 'https://api.example.com' }
    assert_failure(run(srv, { '-p', 'audience=https://other.example.com' }), 78, 'config', 'invalid_request')
  end)

  it('reports invalid_grant and unsupported_grant_type as config errors', function()
    for _, code in ipairs({ 'invalid_grant', 'unsupported_grant_type' }) do
      srv:script('POST /token', { { status = 400, json = { error = code, error_description = 'no' } } })
      assert_failure(run(srv), 78, 'config', code)
    end
  end)

  it('reports a 500 as the provider being unavailable (69)', function()
    srv:script('POST /token', { { status = 500, json = { error = 'server_error' } } })
    assert_failure(run(srv), 69, 'provider')
  end)

  it('re-sends the request after a dropped connection, since minting a token is safe to repeat', function()
    srv:script('POST /token', { { drop = true } })
    local r = cli.run({ '--retries', '1', RECIPE }, env(srv))
    assert.equal(0, r.code, r.stderr)
    assert.equal(2, #srv:requests())
  end)

  it('gives clean errors for malformed JSON, an HTML page and JSON of the wrong shape', function()
    srv:script('POST /token', {
      { status = 200, headers = { ['Content-Type'] = 'application/json' }, body = '{"access_token":"abc' },
      { status = 200, headers = { ['Content-Type'] = 'text/html' }, body = '<html>Sign in</html>' },
      { status = 200, json = { token = 'x', token_type = 'Bearer' } },
      { status = 200, json = { access_token = { 'x' }, token_type = 'Bearer' } },
    })
    assert_failure(run(srv), 76, 'protocol')
    local html = run(srv)
    assert_failure(html, 76, 'protocol')
    assert.matches('not JSON [text/html', html.stderr, 1, true)
    assert_failure(run(srv), 76, 'protocol')
    assert_failure(run(srv), 76, 'protocol')
  end)

  it('names every missing parameter at once (exit 78)', function()
    local r = cli.run({ RECIPE }, {})
    assert.equal(78, r.code)
    assert.matches('token_url (-p token_url=... or OAUTH2_TOKEN_URL)', r.stderr, 1, true)
    assert.matches('client_id (-p client_id=... or OAUTH2_CLIENT_ID)', r.stderr, 1, true)
    assert.matches('client_secret (set OAUTH2_CLIENT_SECRET or OAUTH2_CLIENT_SECRET_FILE)', r.stderr, 1, true)
  end)

  it('refuses the client secret given with -p (exit 64)', function()
    local r = run(srv, { '-p', 'client_secret=' .. SECRET })
    assert.equal(64, r.code)
    assert.matches('OAUTH2_CLIENT_SECRET', r.stderr, 1, true)
    cli.assert_clean(r, { SECRET })
    assert.equal(0, #srv:requests())
  end)

  it('never prints the secret, nor the token outside the result, under -v or --dry-run', function()
    srv:stop()
    srv = start { auth_method = 'client_secret_post' }
    for _, flag in ipairs({ '-v', '--dry-run' }) do
      for _, method in ipairs({ 'client_secret_basic', 'client_secret_post' }) do
        local r = run(srv, { flag, '-p', 'auth_method=' .. method })
        cli.assert_clean(r, { SECRET, TOKEN }, flag == '-v')
        cli.assert_clean(r, { SECRET })
      end
    end
  end)
end)
