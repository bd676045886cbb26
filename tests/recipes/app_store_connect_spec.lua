-- app_store_connect.lua: the ES256 JWT is the token.  It is checked by the
-- openssl command, then used against a mock of the App Store Connect API
-- that verifies it as Apple does (ES256 under the key its kid names, iss,
-- aud, a 20-minute lifetime, scope).  The .p8 key is made by
-- `openssl genpkey` at test time.
local cli = require 'cli_helper'
local keys = require 'keys_helper'
local mock = require 'tokrun.mock'
local jwt = require 'tokrun.jwt'
local http = require 'tokrun.http'

local RECIPE = cli.recipe('app_store_connect')
local NOW = 1740568725             -- 2025-02-26T11:18:45Z
local ISSUER = '57246542-96fe-1a63-e053-0824d011072a'
local KEY_ID = '2X9R4HXF34'

describe('app_store_connect', function()
  local dir, p8, srv

  local function start(now)
    return mock.start { routes = 'tests/mocks/app_store_connect.lua',
      config = { keys = { [KEY_ID] = dir:pub('asc') }, issuer_id = ISSUER, now = now or NOW } }
  end

  local function run(args, env)
    local argv = { '--now', tostring(NOW * 1000) }
    for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
    argv[#argv + 1] = RECIPE
    local e = { ASC_ISSUER_ID = ISSUER, ASC_KEY_ID = KEY_ID, ASC_PRIVATE_KEY = p8 }
    for k, v in pairs(env or {}) do e[k] = v ~= false and v or nil end
    return cli.run(argv, e)
  end

  local function apps(token)
    return assert(http.request { url = srv.url .. '/v1/apps', timeout = 10,
      headers = { Authorization = 'Bearer ' .. token } })
  end

  setup(function()
    dir = keys.dir(cli.tmpdir())
    p8 = dir:key('asc', 'p256')   -- Apple's .p8 files are PKCS#8 P-256 keys
  end)
  teardown(cli.cleanup)
  before_each(function() srv = start() end)
  after_each(function() srv:stop() end)

  it('makes an ES256 token that expires 20 minutes after iat', function()
    local r = run()
    assert.equal(0, r.code, r.stderr)
    assert.same({ 'app_store_connect', 'jwt', '2025-02-26T11:38:45Z' },
      { r.json.recipe, r.json.token_type, r.json.expires_at })
    local header, claims = jwt.decode(r.json.token)
    assert.same({ alg = 'ES256', kid = KEY_ID, typ = 'JWT' }, header)
    assert.same({ iss = ISSUER, aud = 'appstoreconnect-v1', iat = NOW, exp = NOW + 1200 }, claims)
    assert.is_true(dir:verify_jwt(r.json.token, 'asc'))
  end)

  it('is accepted by the API', function()
    local resp = apps(run().json.token)
    assert.equal(200, resp.status, resp.body)
  end)

  it('limits the token to a scope when one is given', function()
    local token = run({ '-p', 'scope=GET /v1/apps,GET /v1/builds' }).json.token
    assert.same({ 'GET /v1/apps', 'GET /v1/builds' }, select(2, jwt.decode(token)).scope)
    assert.equal(200, apps(token).status)
    assert.equal(401, apps(run({ '-p', 'scope=GET /v1/builds' }).json.token).status)
  end)

  it('is refused with another key id, another issuer, or once expired', function()
    assert.equal(401, apps(run({}, { ASC_KEY_ID = 'ZZZZZZZZZZ' }).json.token).status)
    local resp = apps(run({}, { ASC_ISSUER_ID = '00000000-0000-0000-0000-000000000000' }).json.token)
    assert.equal(401, resp.status)
    assert.matches('NOT_AUTHORIZED', resp.body, 1, true)
    local token = run().json.token
    srv:stop()
    srv = start(NOW + 1201)
    assert.equal(401, apps(token).status)
  end)

  it('reads the .p8 file through ASC_PRIVATE_KEY_FILE', function()
    local r = run({}, { ASC_PRIVATE_KEY = false, ASC_PRIVATE_KEY_FILE = dir:file('asc.pem') })
    assert.equal(0, r.code, r.stderr)
    assert.equal(200, apps(r.json.token).status)
  end)

  it('refuses an RSA key for ES256 as a config error naming the parameter', function()
    local rsa = dir:key('rsa', 'rsa2048')
    local r = run({}, { ASC_PRIVATE_KEY = rsa })
    assert.equal(78, r.code)
    assert.equal("app_store_connect: step asc_jwt: parameter 'private_key': the key is RSA 2048, ES256 needs an "
      .. 'EC P-256 key', r.json.error.message)
    cli.assert_one_line(r)
    cli.assert_clean(r, { rsa, p8 })
  end)

  it('--dry-run shows header and claims, never the signature', function()
    local r = run({ '--dry-run' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('# app_store_connect: step asc_jwt\njwt header {"alg":"ES256","kid":"' .. KEY_ID .. '","typ":"JWT"} '
      .. 'claims {"aud":"appstoreconnect-v1","exp":' .. (NOW + 1200) .. ',"iat":' .. NOW .. ',"iss":"' .. ISSUER
      .. '"} signature ***\n', r.stdout)
  end)
end)
