-- snowflake_keypair.lua: the JWT is the token.  It is checked by the
-- openssl command, then used against a mock of Snowflake's SQL API that
-- verifies it as Snowflake does (RS256 under a registered public key, iss
-- with that key's fingerprint, sub, lifetime).  Keys are made by
-- `openssl genpkey` at test time.
local cli = require 'cli_helper'
local keys = require 'keys_helper'
local mock = require 'tokrun.mock'
local jwt = require 'tokrun.jwt'
local codec = require 'tokrun.codec'
local http = require 'tokrun.http'

local RECIPE = cli.recipe('snowflake_keypair')
local NOW = 1740568725             -- 2025-02-26T11:18:45Z

describe('snowflake_keypair', function()
  local dir, pem, srv

  local function run(args, env)
    local argv = { '--now', tostring(NOW * 1000) }
    for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
    argv[#argv + 1] = RECIPE
    local e = { SNOWFLAKE_ACCOUNT = 'xy12345.us-east-2.aws', SNOWFLAKE_USER = 'etl_loader',
      SNOWFLAKE_PRIVATE_KEY = pem }
    for k, v in pairs(env or {}) do e[k] = v ~= false and v or nil end
    return cli.run(argv, e)
  end

  -- What a client does with the token: one SQL API call.
  local function query(token, token_type)
    return assert(http.request { method = 'POST', url = srv.url .. '/api/v2/statements', timeout = 10,
      headers = { Authorization = 'Bearer ' .. token, ['Content-Type'] = 'application/json',
        ['X-Snowflake-Authorization-Token-Type'] = token_type or 'KEYPAIR_JWT' },
      body = '{"statement":"select current_user()"}' })
  end

  local function fingerprint(name)
    return 'SHA256:' .. codec.base64(dir:spki_sha256(name))
  end

  setup(function()
    dir = keys.dir(cli.tmpdir())
    pem = dir:key('user', 'rsa2048')
    dir:key('next', 'rsa2048')
  end)
  teardown(cli.cleanup)
  before_each(function()
    srv = mock.start { routes = 'tests/mocks/snowflake_keypair.lua', config = { account = 'XY12345',
      user = 'ETL_LOADER', public_keys = { dir:pub('user') }, now = NOW } }
  end)
  after_each(function() srv:stop() end)

  it('makes the key-pair JWT, valid for an hour, without any request', function()
    local r = run()
    assert.equal(0, r.code, r.stderr)
    assert.same({ 'snowflake_keypair', true, 'KEYPAIR_JWT', '2025-02-26T12:18:45Z', '2025-02-26T11:18:45Z' },
      { r.json.recipe, r.json.ok, r.json.token_type, r.json.expires_at, r.json.obtained_at })
    assert.equal('', r.stderr)
    assert.equal(0, #srv:requests())
  end)

  it('signs RS256: sub ACCOUNT.USER upper case without the region, iss with the key fingerprint', function()
    local token = run().json.token
    local header, claims = jwt.decode(token)
    assert.same({ alg = 'RS256' }, header)
    assert.same({ iss = 'XY12345.ETL_LOADER.' .. fingerprint('user'), sub = 'XY12345.ETL_LOADER',
      iat = NOW, exp = NOW + 3600 }, claims)
    assert.is_true(dir:verify_jwt(token, 'user'))
  end)

  it('is accepted by the SQL API as a KEYPAIR_JWT bearer token', function()
    local resp = query(run().json.token)
    assert.equal(200, resp.status, resp.body)
    assert.matches('"code":"090001"', resp.body, 1, true)
    assert.equal(401, query(run().json.token, 'OAUTH').status)
  end)

  it('keeps an organization account name whole', function()
    local claims = select(2, jwt.decode(run({}, { SNOWFLAKE_ACCOUNT = 'acme-analytics' }).json.token))
    assert.equal('ACME-ANALYTICS.ETL_LOADER', claims.sub)
  end)

  it('is refused for another user, or a key that is not registered', function()
    local other = run({}, { SNOWFLAKE_USER = 'someone' }).json.token
    assert.equal(401, query(other).status)
    local unregistered = run({}, { SNOWFLAKE_PRIVATE_KEY = keys.read(dir:file('next.pem')) }).json.token
    local resp = query(unregistered)
    assert.equal(401, resp.status)
    assert.matches('390144', resp.body, 1, true)
  end)

  it('signs with the second key during a rotation (RSA_PUBLIC_KEY_2)', function()
    srv:stop()
    srv = mock.start { routes = 'tests/mocks/snowflake_keypair.lua', config = { account = 'XY12345',
      user = 'ETL_LOADER', public_keys = { dir:pub('user'), dir:pub('next') }, now = NOW } }
    local token = run({}, { SNOWFLAKE_PRIVATE_KEY = keys.read(dir:file('next.pem')) }).json.token
    assert.equal(200, query(token).status)
    assert.matches(fingerprint('next'), select(2, jwt.decode(token)).iss, 1, true)
  end)

  it('is refused once it has expired', function()
    local token = run({}, {}).json.token
    srv:stop()
    srv = mock.start { routes = 'tests/mocks/snowflake_keypair.lua', config = { account = 'XY12345',
      user = 'ETL_LOADER', public_keys = { dir:pub('user') }, now = NOW + 3601 } }
    assert.equal(401, query(token).status)
  end)

  it('loads an encrypted PKCS#8 key with SNOWFLAKE_PRIVATE_KEY_PASSPHRASE', function()
    local enc = dir:convert('user', { 'pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'pass:rotate-me' },
      'user.p8')
    local r = run({}, { SNOWFLAKE_PRIVATE_KEY = enc, SNOWFLAKE_PRIVATE_KEY_PASSPHRASE = 'rotate-me' })
    assert.equal(0, r.code, r.stderr)
    assert.equal(200, query(r.json.token).status)
    r = run({}, { SNOWFLAKE_PRIVATE_KEY = enc })
    assert.equal(78, r.code)
    assert.equal("snowflake_keypair: step keypair_jwt: parameter 'private_key': the key is encrypted and needs its "
      .. "passphrase (parameter 'passphrase')", r.json.error.message)
    cli.assert_one_line(r)
  end)

  it('-f token prints the JWT alone; --dry-run shows its claims, not the JWT', function()
    local r = run({ '-f', 'token' })
    assert.equal(0, r.code, r.stderr)
    assert.matches('^[%w_-]+%.[%w_-]+%.[%w_-]+\n$', r.stdout)
    local dry = run({ '--dry-run' })
    assert.equal(0, dry.code, dry.stderr)
    assert.matches('jwt header {"alg":"RS256"} claims {"exp":' .. (NOW + 3600), dry.stdout, 1, true)
    assert.not_matches(r.stdout:match('[^.]+\n$'):sub(1, -2), dry.stdout, 1, true)
    cli.assert_clean(dry, { pem:match('\n(.-)\n') })
  end)
end)
