-- azure_client_certificate.lua against a mock of the Microsoft identity
-- platform's token endpoint that verifies the client assertion under the
-- registered certificate (PS256 + x5t#S256 or RS256 + x5t, aud, iss, sub,
-- jti, nbf, exp).  Key and certificate are made by openssl at test time,
-- and the assertion is checked again by the openssl command.
local cli = require 'cli_helper'
local keys = require 'keys_helper'
local mock = require 'tokrun.mock'
local jwt = require 'tokrun.jwt'
local codec = require 'tokrun.codec'

local RECIPE = cli.recipe('azure_client_certificate')
local NOW = 1740568725             -- 2025-02-26T11:18:45Z
local TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
local CLIENT = '6731de76-14a6-49ae-97bc-6eba6914391e'
local TOKEN = 'eyJ0eXAiOiJKV1QiLCJub25jZSI6Im1zLWFjY2Vzcy10b2tlbiJ9.e30.c2ln'
local GRAPH = 'https://graph.microsoft.com/.default'

describe('azure_client_certificate', function()
  local dir, pem, cert, srv

  local function start(extra)
    local c = { certificate = cert, tenant = TENANT, client_id = CLIENT, now = NOW, token = TOKEN,
      scopes = { GRAPH, 'https://vault.azure.net/.default' } }
    for k, v in pairs(extra or {}) do c[k] = v end
    return mock.start { routes = 'tests/mocks/azure_client_certificate.lua', config = c }
  end

  local function run(args, env)
    local argv = { '--now', tostring(NOW * 1000), '--retries', '0' }
    for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
    argv[#argv + 1] = RECIPE
    local e = { AZURE_AUTHORITY_HOST = srv.url, AZURE_TENANT_ID = TENANT, AZURE_CLIENT_ID = CLIENT,
      AZURE_CLIENT_CERTIFICATE = cert, AZURE_CLIENT_KEY = pem }
    for k, v in pairs(env or {}) do e[k] = v ~= false and v or nil end
    return cli.run(argv, e)
  end

  local function form(n)
    local req = n and srv:requests()[n] or srv:last()
    local out = {}
    for k, v in req.body:gmatch('([^&=]+)=([^&]*)') do out[#out + 1] = { k, codec.unpct(v, true) } end
    return out
  end

  local function assertion(n)
    for _, kv in ipairs(form(n)) do
      if kv[1] == 'client_assertion' then return kv[2] end
    end
  end

  local function assert_failure(r, code, kind)
    assert.equal(code, r.code, r.stderr)
    assert.same({ 'azure_client_certificate', false, kind }, { r.json.recipe, r.json.ok, r.json.error.kind })
    cli.assert_one_line(r)
    cli.assert_clean(r, { pem, pem:match('\n(.-)\n') })
  end

  setup(function()
    dir = keys.dir(cli.tmpdir())
    pem = dir:key('app', 'rsa2048')
    cert = dir:cert('app', '/CN=reporting-daemon')
  end)
  teardown(cli.cleanup)
  before_each(function() srv = start() end)
  after_each(function() srv:stop() end)

  it('gets an access token with a PS256 client assertion', function()
    local r = run()
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"recipe":"azure_client_certificate","ok":true,"token":"' .. TOKEN .. '","token_type":"Bearer",'
      .. '"expires_at":"2025-02-26T12:18:44Z","obtained_at":"2025-02-26T11:18:45Z","cached":false,"data":{}}\n',
      r.stdout)
    assert.equal('/' .. TENANT .. '/oauth2/v2.0/token', srv:last().path)
    local f = form()
    assert.same({ 'client_id', CLIENT }, f[1])
    assert.same({ 'scope', GRAPH }, f[2])
    assert.same({ 'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' }, f[3])
    assert.same({ 'grant_type', 'client_credentials' }, f[5])
    assert.equal(5, #f)
  end)

  it('signs PS256 with x5t#S256 the certificate thumbprint; aud the token URL, iss = sub = the client', function()
    assert.equal(0, run().code)
    local token = assertion()
    local header, claims = jwt.decode(token)
    assert.same({ alg = 'PS256', typ = 'JWT', ['x5t#S256'] = codec.base64url(dir:thumbprint('app', 'sha256')) },
      header)
    assert.matches('^%x+%-%x+%-4%x+%-%x+%-%x+$', claims.jti)
    claims.jti = nil
    assert.same({ aud = srv.url .. '/' .. TENANT .. '/oauth2/v2.0/token', iss = CLIENT, sub = CLIENT,
      nbf = NOW, iat = NOW, exp = NOW + 600 }, claims)
    assert.is_true(dir:verify_jwt(token, dir:file('app.crt')))
  end)

  it('with thumbprint=sha1 signs RS256 with x5t, for older tenants', function()
    assert.equal(0, run({ '-p', 'thumbprint=sha1' }).code)
    local token = assertion()
    local header = jwt.decode(token)
    assert.same({ alg = 'RS256', typ = 'JWT', x5t = codec.base64url(dir:thumbprint('app', 'sha1')) }, header)
    assert.is_true(dir:verify_jwt(token, 'app'))
  end)

  it('signs with an encrypted key given its passphrase', function()
    local enc = dir:convert('app', { 'pkcs8', '-topk8', '-passout', 'pass:s3cret pass' }, 'app.enc.pem')
    local r = run({}, { AZURE_CLIENT_KEY = enc, AZURE_CLIENT_KEY_PASSPHRASE = 's3cret pass' })
    assert.equal(0, r.code, r.stderr)
    r = run({}, { AZURE_CLIENT_KEY = enc })
    assert_failure(r, 78, 'config')
    assert.matches("step assertion: parameter 'private_key': the key is encrypted and needs its passphrase "
      .. "(parameter 'passphrase')", r.json.error.message, 1, true)
    r = run({}, { AZURE_CLIENT_KEY = enc, AZURE_CLIENT_KEY_PASSPHRASE = 'wrong' })
    assert_failure(r, 78, 'config')
    assert.matches('the passphrase does not decrypt the key', r.json.error.message, 1, true)
    cli.assert_clean(r, { 's3cret pass', 'wrong' })
    assert.equal(1, #srv:requests())
  end)

  it('refuses a key where the certificate goes, and the reverse, naming the parameter', function()
    local r = run({}, { AZURE_CLIENT_CERTIFICATE = pem })
    assert_failure(r, 78, 'config')
    assert.matches("parameter 'certificate': not a certificate", r.json.error.message, 1, true)
    r = run({}, { AZURE_CLIENT_KEY = cert })
    assert_failure(r, 78, 'config')
    assert.matches("parameter 'private_key': this is a certificate, not a private key", r.json.error.message, 1, true)
    assert.equal(0, #srv:requests())
  end)

  it('reports a certificate that is not registered (AADSTS700027) as auth', function()
    dir:key('other', 'rsa2048')
    local r = run({}, { AZURE_CLIENT_CERTIFICATE = dir:cert('other'), AZURE_CLIENT_KEY = keys.read(dir:file('other.pem')) })
    assert_failure(r, 77, 'auth')
    assert.equal('700027', r.json.error.provider_code)
  end)

  it('reports an unknown tenant and an invalid scope as config', function()
    local r = run({}, { AZURE_TENANT_ID = 'contoso.onmicrosoft.com' })
    assert_failure(r, 78, 'config')
    assert.equal('90002', r.json.error.provider_code)
    r = run({ '-p', 'scope=https://example.com/.default' })
    assert_failure(r, 78, 'config')
    assert.equal('1002012', r.json.error.provider_code)
  end)

  it('refuses a tenant that could change the URL before sending anything', function()
    local r = run({}, { AZURE_TENANT_ID = 'evil.example/x?' })
    assert_failure(r, 78, 'config')
    assert.equal(0, #srv:requests())
  end)

  it('rebuilds the assertion, with a fresh jti, on the server clock (AADSTS700024)', function()
    srv:stop()
    srv = start { now = NOW + 900 }
    local r = run()
    assert.equal(0, r.code, r.stderr)
    assert.equal(2, #srv:requests())
    local first, second = select(2, jwt.decode(assertion(1))), select(2, jwt.decode(assertion(2)))
    assert.equal(NOW + 900, second.nbf)
    assert.not_equal(first.jti, second.jti)
    assert.matches("clock is 900 s behind the provider's", r.stderr, 1, true)
  end)

  it('never prints the key, the assertion or the token under -v or --dry-run', function()
    for _, flag in ipairs({ '-v', '--dry-run' }) do
      local r = run({ flag })
      assert.equal(0, r.code, r.stderr)
      cli.assert_clean(r, { pem, pem:match('\n(.-)\n') })
      cli.assert_clean(r, { TOKEN }, flag == '-v')
      if flag == '--dry-run' then
        assert.matches('jwt header {"alg":"PS256","typ":"JWT","x5t#S256":"', r.stdout, 1, true)
        assert.matches('client_assertion=***', r.stdout, 1, true)
      else
        assert.not_matches(assertion(), r.stderr, 1, true)
      end
    end
  end)
end)
