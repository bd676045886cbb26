-- github_app.lua against a mock of GitHub's installation token endpoint
-- that verifies the App JWT (RS256 under the App's public key, iss, iat
-- and exp as GitHub bounds them).  The key is made by `openssl genpkey`
-- and the JWT is checked again by the openssl command.
local cli = require 'cli_helper'
local keys = require 'keys_helper'
local mock = require 'tokrun.mock'
local json = require 'tokrun.json'
local jwt = require 'tokrun.jwt'

local RECIPE = cli.recipe('github_app')
local NOW = 1740568725             -- 2025-02-26T11:18:45Z
local TOKEN = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a'
local REPOS = { ['octo-repo'] = 1296269, ['hello-world'] = 1300192 }

describe('github_app', function()
  local dir, pem, srv

  local function start(extra)
    local c = { public_key = dir:pub('app'), app_id = 123456, client_id = 'Iv23liAbCdEf', installation_id = 4242,
      now = NOW, token = TOKEN, repositories = REPOS, permissions = { contents = 'write', metadata = 'read' } }
    for k, v in pairs(extra or {}) do c[k] = v end
    return mock.start { routes = 'tests/mocks/github_app.lua', config = c }
  end

  local function run(args, env, now)
    local argv = { '--now', tostring((now or NOW) * 1000), '--retries', '0' }
    for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
    argv[#argv + 1] = RECIPE
    local e = { GITHUB_API_URL = srv.url, GITHUB_APP_ID = '123456', GITHUB_APP_PRIVATE_KEY = pem,
      GITHUB_APP_INSTALLATION_ID = '4242' }
    for k, v in pairs(env or {}) do e[k] = v ~= false and v or nil end
    return cli.run(argv, e)
  end

  local function sent_jwt()
    return srv:last().headers.authorization:match('^Bearer (.+)$')
  end

  local function assert_failure(r, code, kind)
    assert.equal(code, r.code, r.stderr)
    assert.same({ 'github_app', false, kind }, { r.json.recipe, r.json.ok, r.json.error.kind })
    cli.assert_one_line(r)
    cli.assert_clean(r, { pem, pem:match('\n(.-)\n') })
  end

  setup(function()
    dir = keys.dir(cli.tmpdir())
    pem = dir:key('app', 'rsa2048')
  end)
  teardown(cli.cleanup)
  before_each(function() srv = start() end)
  after_each(function() srv:stop() end)

  it('mints an installation token with an App JWT', function()
    local r = run()
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"recipe":"github_app","ok":true,"token":"' .. TOKEN .. '","token_type":"github_installation",'
      .. '"expires_at":"2025-02-26T12:18:45Z","obtained_at":"2025-02-26T11:18:45Z","cached":false,'
      .. '"data":{"permissions":{"contents":"write","metadata":"read"},"repository_selection":"all"}}\n', r.stdout)
    assert.equal('', r.stderr)
    local req = srv:last()
    assert.same({ 'POST', '/app/installations/4242/access_tokens' }, { req.method, req.path })
    assert.equal('application/vnd.github+json', req.headers.accept)
    assert.equal('2022-11-28', req.headers['x-github-api-version'])
  end)

  it('signs the JWT with RS256: iss the app ID, iat 60 s back, exp 9 minutes ahead', function()
    assert.equal(0, run().code)
    local token = sent_jwt()
    local header, claims = jwt.decode(token)
    assert.same({ alg = 'RS256' }, header)
    assert.same({ iss = 123456, iat = NOW - 60, exp = NOW + 540 }, claims)
    assert.is_true(dir:verify_jwt(token, 'app'))
  end)

  it('uses the client ID as iss when it is set', function()
    assert.equal(0, run({}, { GITHUB_APP_ID = false, GITHUB_APP_CLIENT_ID = 'Iv23liAbCdEf' }).code)
    assert.equal('Iv23liAbCdEf', select(2, jwt.decode(sent_jwt())).iss)
  end)

  it('needs the app ID or the client ID (78)', function()
    local r = run({}, { GITHUB_APP_ID = false })
    assert_failure(r, 78, 'config')
    assert.matches('set GITHUB_APP_CLIENT_ID or GITHUB_APP_ID', r.stderr, 1, true)
    assert.equal(0, #srv:requests())
  end)

  it('reads the key from GITHUB_APP_PRIVATE_KEY_FILE, or with its newlines written as \\n', function()
    local path = keys.write(dir:file('app-key.pem'), pem)
    assert.equal(0, run({}, { GITHUB_APP_PRIVATE_KEY = false, GITHUB_APP_PRIVATE_KEY_FILE = path }).code)
    assert.equal(0, run({}, { GITHUB_APP_PRIVATE_KEY = pem:gsub('\n', '\\n') }).code)
  end)

  it('narrows the token to repositories and permissions', function()
    local r = run({ '-p', 'repositories=octo-repo', '-p', 'repository_ids=1300192',
      '-p', 'permissions={"contents":"read"}' })
    assert.equal(0, r.code, r.stderr)
    local body = srv:last().json
    assert.same({ 'octo-repo' }, body.repositories)
    assert.same({ 1300192 }, body.repository_ids)
    assert.same({ contents = 'read' }, body.permissions)
    assert.same({ permissions = { contents = 'read' }, repository_selection = 'selected' }, r.json.data)
  end)

  it('sends no body fields that were not asked for', function()
    assert.equal(0, run().code)
    assert.same({}, srv:last().json)
  end)

  it('reports a repository or permission the installation lacks (422) as config', function()
    assert_failure(run({ '-p', 'repositories=nope' }), 78, 'config')
    local r = run({ '-p', 'permissions={"administration":"write"}' })
    assert_failure(r, 78, 'config')
    assert.matches('not granted to this installation', r.stderr, 1, true)
    assert.equal(422, r.json.error.http_status)
  end)

  it('reports an unknown installation (404) as config', function()
    assert_failure(run({}, { GITHUB_APP_INSTALLATION_ID = '999' }), 78, 'config')
  end)

  it('refuses permissions that are not JSON before sending anything', function()
    local r = run({ '-p', 'permissions=contents:read' })
    assert_failure(r, 78, 'config')
    assert.matches("github_app: step token: parameter 'permissions' is not valid JSON", r.stderr, 1, true)
    assert.equal(0, #srv:requests())
  end)

  it('reports a JWT signed by another key as an auth failure (77)', function()
    local other = dir:key('other', 'rsa2048')
    local r = run({}, { GITHUB_APP_PRIVATE_KEY = other })
    assert_failure(r, 77, 'auth')
    assert.matches('github_app: step token:', r.stderr, 1, true)
    assert.matches('JSON web token could not be decoded', r.stderr, 1, true)
  end)

  it('reports a wrong app ID as an auth failure', function()
    assert_failure(run({}, { GITHUB_APP_ID = '999' }), 77, 'auth')
  end)

  describe('bad keys are config errors naming the parameter, before anything is sent', function()
    local cases = {
      { 'an EC key', function() return dir:key('ec', 'p256') end, 'the key is EC P-256, RS256 needs an RSA key' },
      { 'a certificate', function() return dir:cert('app') end, 'this is a certificate, not a private key' },
      { 'an encrypted key', function()
          return dir:convert('app', { 'pkcs8', '-topk8', '-passout', 'pass:pw' }, 'app.enc.pem')
        end, 'the key is encrypted and needs its passphrase' },
      { 'a public key', function() return dir:pub('app') end, 'this is a public key, not a private key' },
      { 'text that is no key', function() return 'ghp_notakey' end, 'not a private key' },
      { 'a small RSA key', function() return dir:key('small', 'rsa1024') end, 'the key is RSA 1024, RS256 needs an RSA key of 2048 bits' },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local data = c[2]()
        local r = run({}, { GITHUB_APP_PRIVATE_KEY = data })
        assert_failure(r, 78, 'config')
        assert.matches("github_app: step app_jwt: parameter 'private_key': " .. c[3], r.json.error.message, 1, true)
        cli.assert_clean(r, { data })
        assert.equal(0, #srv:requests())
      end)
    end
  end)

  it('--dry-run shows the JWT header and claims, never its signature or the key', function()
    local r = run({ '--dry-run' })
    assert.equal(0, r.code, r.stderr)
    assert.matches('# github_app: step app_jwt\njwt header {"alg":"RS256"} claims '
      .. '{"exp":' .. (NOW + 540) .. ',"iat":' .. (NOW - 60) .. ',"iss":123456} signature ***\n', r.stdout, 1, true)
    assert.matches('Authorization: ***', r.stdout, 1, true)
    assert.equal(0, #srv:requests())
    cli.assert_clean(r, { pem, pem:match('\n(.-)\n') })
  end)

  it('never traces the JWT or the token under -v', function()
    local r = run({ '-v' })
    assert.equal(0, r.code, r.stderr)
    assert.matches('* jwt header {"alg":"RS256"}', r.stderr, 1, true)
    local token = sent_jwt()
    assert.not_matches(token, r.stderr, 1, true)
    assert.not_matches(token:match('[^.]+$'), r.stderr, 1, true)
    assert.not_matches(TOKEN, r.stderr, 1, true)
  end)

  describe("when this machine's clock is off", function()
    local function claims_sent(n)
      local reqs = srv:requests()
      return select(2, jwt.decode(reqs[n].headers.authorization:match('^Bearer (.+)$')))
    end

    it('rebuilds the JWT on GitHub\'s clock (its Date header) when this clock is behind, and warns', function()
      srv:stop()
      srv = start { now = NOW + 700 }   -- our exp (now + 540) is already past for GitHub
      local r = run()
      assert.equal(0, r.code, r.stderr)
      assert.equal(2, #srv:requests())
      assert.same({ iss = 123456, iat = NOW + 640, exp = NOW + 1240 }, claims_sent(2))
      assert.equal("tokrun: warning: github_app: this machine's clock is 700 s behind the provider's (Date: "
        .. os.date('!%a, %d %b %Y %H:%M:%S GMT', NOW + 700) .. "); the JWT was rebuilt on the provider's clock: "
        .. 'set this machine\'s clock (NTP)\n', r.stderr)
      assert.equal(TOKEN, r.json.token)
    end)

    it('rebuilds it when this clock is ahead (iat in GitHub\'s future)', function()
      srv:stop()
      srv = start { now = NOW - 120 }
      local r = run()
      assert.equal(0, r.code, r.stderr)
      assert.same({ iss = 123456, iat = NOW - 180, exp = NOW + 420 }, claims_sent(2))
      assert.matches("clock is 120 s ahead of the provider's", r.stderr, 1, true)
    end)

    it('retries only once', function()
      local skew = { status = 401, headers = { Date = os.date('!%a, %d %b %Y %H:%M:%S GMT', NOW + 900) },
        json = { message = "'Expiration time' claim ('exp') is too far in the future" } }
      srv:script('POST /app/installations/*', { skew, skew, skew })
      local r = run()
      assert.equal(2, #srv:requests())
      assert.equal(77, r.code)
      assert.matches('too far in the future', r.json.error.message, 1, true)
    end)

    it('does not retry without a Date header, or when the clocks agree', function()
      srv:script('POST /app/installations/*', {
        { status = 401, json = { message = "'Expiration time' claim ('exp') is too far in the future" } },
        { status = 401, headers = { Date = os.date('!%a, %d %b %Y %H:%M:%S GMT', NOW) },
          json = { message = "'Expiration time' claim ('exp') is too far in the future" } } })
      assert_failure(run(), 77, 'auth')
      assert_failure(run(), 77, 'auth')
      assert.equal(2, #srv:requests())
    end)
  end)

  it('delivers the token with -f token', function()
    local r = run({ '-f', 'token' })
    assert.equal(0, r.code, r.stderr)
    assert.equal(TOKEN .. '\n', r.stdout)
    assert.is_nil(json.decode(r.stdout))
  end)
end)
