-- google_service_account.lua against a mock of Google's token endpoint
-- that verifies the JWT bearer assertion (RS256 under the account's key,
-- kid, iss, aud, scope, iat and exp as Google bounds them).  The key is
-- made by `openssl genpkey`, the key file is written as Google writes it,
-- and the assertion is checked again by the openssl command.
local cli = require 'cli_helper'
local keys = require 'keys_helper'
local mock = require 'tokrun.mock'
local json = require 'tokrun.json'
local jwt = require 'tokrun.jwt'
local codec = require 'tokrun.codec'

local RECIPE = cli.recipe('google_service_account')
local NOW = 1740568725             -- 2025-02-26T11:18:45Z
local TOKEN = 'ya29.c.b0AXv0zTOsn4tDvRpLkvf3'
local EMAIL = 'reporter@acme-prod.iam.gserviceaccount.com'
local KEY_ID = '2c7a1b9e4d5f60718293a4b5c6d7e8f901234567'
local CLOUD = 'https://www.googleapis.com/auth/cloud-platform'

describe('google_service_account', function()
  local dir, pem, srv, key_path

  local function start(extra)
    local c = { public_key = dir:pub('sa'), key_id = KEY_ID, client_email = EMAIL, now = NOW, token = TOKEN,
      scopes = { CLOUD, 'https://www.googleapis.com/auth/bigquery.readonly' } }
    for k, v in pairs(extra or {}) do c[k] = v end
    return mock.start { routes = 'tests/mocks/google_service_account.lua', config = c }
  end

  -- the key file as the Cloud console downloads it
  local function key_file(overrides, name)
    local doc = { type = 'service_account', project_id = 'acme-prod', private_key_id = KEY_ID, private_key = pem,
      client_email = EMAIL, client_id = '104593811234567890123', token_uri = srv.url .. '/token',
      auth_uri = 'https://accounts.google.com/o/oauth2/auth' }
    for k, v in pairs(overrides or {}) do doc[k] = v ~= false and v or nil end
    return keys.write(dir:file(name or 'key.json'), json.encode(doc))
  end

  local function run(args, path)
    local argv = { '--now', tostring(NOW * 1000), '--retries', '0' }
    for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
    argv[#argv + 1] = RECIPE
    return cli.run(argv, { GOOGLE_APPLICATION_CREDENTIALS = path or key_path })
  end

  local function assertion()
    local body = srv:last().body
    return codec.unpct(body:match('assertion=([^&]+)'), true)
  end

  local function assert_failure(r, code, kind)
    assert.equal(code, r.code, r.stderr)
    assert.same({ 'google_service_account', false, kind }, { r.json.recipe, r.json.ok, r.json.error.kind })
    cli.assert_one_line(r)
    cli.assert_clean(r, { pem, pem:match('\n(.-)\n') })
  end

  setup(function()
    dir = keys.dir(cli.tmpdir())
    pem = dir:key('sa', 'rsa2048')
  end)
  teardown(cli.cleanup)
  before_each(function()
    srv = start()
    key_path = key_file()
  end)
  after_each(function() srv:stop() end)

  it('exchanges a signed assertion for an access token', function()
    local r = run()
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"recipe":"google_service_account","ok":true,"token":"' .. TOKEN .. '","token_type":"Bearer",'
      .. '"expires_at":"2025-02-26T12:18:44Z","obtained_at":"2025-02-26T11:18:45Z","cached":false,"data":{}}\n',
      r.stdout)
    assert.equal('', r.stderr)
    local req = srv:last()
    assert.same({ 'POST', '/token' }, { req.method, req.path })
    assert.matches('^grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant%-type%%3Ajwt%-bearer&assertion=', req.body)
  end)

  it('signs RS256 with kid the key id, for one hour, iss the account and aud the token URI', function()
    assert.equal(0, run().code)
    local token = assertion()
    local header, claims = jwt.decode(token)
    assert.same({ alg = 'RS256', kid = KEY_ID, typ = 'JWT' }, header)
    assert.same({ iss = EMAIL, scope = CLOUD, aud = srv.url .. '/token', iat = NOW, exp = NOW + 3600 }, claims)
    assert.is_true(dir:verify_jwt(token, 'sa'))
  end)

  it('asks for the scopes joined by spaces, and for a subject when one is given', function()
    srv:stop()
    srv = start { delegation = true }
    key_path = key_file()
    local r = run({ '-p', 'scopes=' .. CLOUD .. ',https://www.googleapis.com/auth/bigquery.readonly',
      '-p', 'subject=admin@acme.example' })
    assert.equal(0, r.code, r.stderr)
    local claims = select(2, jwt.decode(assertion()))
    assert.equal(CLOUD .. ' https://www.googleapis.com/auth/bigquery.readonly', claims.scope)
    assert.equal('admin@acme.example', claims.sub)
  end)

  it('reports a subject without delegation (unauthorized_client) and an unknown scope as config', function()
    assert_failure(run({ '-p', 'subject=admin@acme.example' }), 78, 'config')
    local r = run({ '-p', 'scopes=https://www.googleapis.com/auth/drive' })
    assert_failure(r, 78, 'config')
    assert.equal('invalid_scope', r.json.error.provider_code)
  end)

  it('reports a revoked key (another key id) as auth (invalid_grant)', function()
    local r = run({}, key_file({ private_key_id = 'ffff' }, 'revoked.json'))
    assert_failure(r, 77, 'auth')
    assert.equal('invalid_grant', r.json.error.provider_code)
    assert.matches('Invalid JWT Signature.', r.stderr, 1, true)
  end)

  it("rebuilds the assertion on Google's clock when this one is far off", function()
    srv:stop()
    srv = start { now = NOW + 4000 }
    key_path = key_file()
    local r = run()
    assert.equal(0, r.code, r.stderr)
    assert.equal(2, #srv:requests())
    assert.same({ NOW + 4000, NOW + 7600 }, { select(2, jwt.decode(assertion())).iat,
      select(2, jwt.decode(assertion())).exp })
    assert.matches("this machine's clock is 4000 s behind the provider's", r.stderr, 1, true)
  end)

  describe('a key file that cannot be used is a config error naming it, before anything is sent', function()
    local function refused(path, message)
      local r = run({}, path)
      assert_failure(r, 78, 'config')
      assert.matches(message, r.json.error.message, 1, true)
      assert.equal(0, #srv:requests())
    end

    it('not JSON', function()
      refused(keys.write(dir:file('notjson.json'), pem), "parameter 'key_file': " .. dir:file('notjson.json')
        .. ' (from GOOGLE_APPLICATION_CREDENTIALS) is not a JSON key file')
    end)

    it('without private_key, or without client_email', function()
      refused(key_file({ private_key = false }, 'nokey.json'), "has no field 'private_key'")
      refused(key_file({ client_email = false }, 'nomail.json'), "has no field 'client_email'")
    end)

    it('whose private_key is not a key', function()
      refused(key_file({ private_key = dir:cert('sa') }, 'cert.json'),
        "google_service_account: step assertion: parameter 'key_file' (field private_key): this is a certificate")
      refused(key_file({ private_key = 'MIIE-not-a-key' }, 'junk.json'), "(field private_key): not a private key")
    end)

    it('that does not exist', function()
      refused(dir:file('absent.json'), "parameter 'key_file': cannot read the key file")
    end)
  end)

  it('caches by the key file\'s content: a rewritten key file is a new entry', function()
    srv:stop()
    srv = start { now = os.time() }
    key_path = key_file()
    local cache = cli.tmpdir()
    local function cached_run()
      local r = cli.run({ '--cache=' .. cache, '--retries', '0', RECIPE }, { GOOGLE_APPLICATION_CREDENTIALS = key_path })
      assert.equal(0, r.code, r.stderr)
      return r.json.cached
    end
    assert.is_false(cached_run())
    assert.is_true(cached_run())
    key_file({ client_id = '999' })   -- same path, other content
    assert.is_false(cached_run())
    assert.equal(2, #srv:requests())
    for _, f in ipairs(require('tokrun.sys').readdir(cache) or {}) do
      local text = keys.read(cache .. '/' .. f)
      assert.not_matches(pem:match('\n(.-)\n'), text, 1, true)
    end
  end)

  it('never prints the private key, the assertion or the token under -v or --dry-run', function()
    for _, flag in ipairs({ '-v', '--dry-run' }) do
      local r = run({ flag })
      assert.equal(0, r.code, r.stderr)
      cli.assert_clean(r, { pem, pem:match('\n(.-)\n') })
      if flag == '-v' then
        assert.not_matches(assertion(), r.stderr, 1, true)
        assert.not_matches(TOKEN, r.stderr, 1, true)
      else
        assert.matches('jwt header {"alg":"RS256","kid":"' .. KEY_ID .. '","typ":"JWT"} claims {', r.stdout, 1, true)
        assert.matches('signature ***', r.stdout, 1, true)
        assert.matches('assertion=***', r.stdout, 1, true)
      end
    end
  end)
end)
