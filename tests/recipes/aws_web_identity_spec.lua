-- aws_web_identity.lua against an STS mock speaking the Query protocol:
-- the web identity token from AWS_WEB_IDENTITY_TOKEN_FILE or from another
-- recipe (uses), the XML answer read by path, STS's error codes, and the
-- aws-credential-process output.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local json = require 'tokrun.json'

local RECIPE = cli.recipe('aws_web_identity')
local ECHO = cli.root .. '/tests/cli/fixtures/echo_token.lua'
local ROLE = 'arn:aws:iam::123456789012:role/deploy'
local JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl'

-- the form the last request to srv posted
local function posted(srv)
  return require('tokrun.mock.http').parse_query(srv:last().body)
end

local function token_file(text)
  local path = cli.tmpdir() .. '/token'
  local f = assert(io.open(path, 'w'))
  f:write(text or JWT, '\n')
  f:close()
  return path
end

local function run(srv, args, env)
  local argv = { '--retries', '0' }
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = RECIPE
  local e = { AWS_ROLE_ARN = ROLE, AWS_ENDPOINT_URL_STS = srv.url .. '/' }
  for k, v in pairs(env or {}) do e[k] = v end
  return cli.run(argv, e)
end

describe('aws_web_identity', function()
  local srv
  before_each(function()
    srv = mock.start { routes = 'tests/mocks/aws_sts.lua', config = { role_arn = ROLE, web_identity_token = JWT } }
  end)
  after_each(function() srv:stop(); cli.cleanup() end)

  it('exchanges the token file for keys, read from the XML answer', function()
    local r = run(srv, {}, { AWS_WEB_IDENTITY_TOKEN_FILE = token_file() })
    assert.equal(0, r.code, r.stderr)
    assert.equal('IQoJb3JpZ2luX2VjE1//mock+session&token=1', r.json.token)
    assert.equal('aws_session', r.json.token_type)
    assert.equal('ASIAMOCK0001', r.json.data.access_key_id)
    assert.equal('arn:aws:sts::123456789012:assumed-role/deploy/tokrun', r.json.data.assumed_role)
    assert.matches('^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$', r.json.expires_at)
    local req = srv:last()
    assert.equal('POST', req.method)
    assert.same({ Action = 'AssumeRoleWithWebIdentity', Version = '2011-06-15', RoleArn = ROLE,
      RoleSessionName = 'tokrun', WebIdentityToken = JWT, DurationSeconds = '3600' }, posted(srv))
    assert.is_nil(req.headers.authorization)
  end)

  it('prints what credential_process expects with -f aws-credential-process', function()
    local r = run(srv, { '-f', 'aws-credential-process', '-p', 'duration=900', '-p', 'role_session_name=ci@build' },
      { AWS_WEB_IDENTITY_TOKEN_FILE = token_file() })
    assert.equal(0, r.code, r.stderr)
    local keys = {}
    for k in r.stdout:gmatch('"(%u%w+)":') do keys[#keys + 1] = k end
    assert.same({ 'Version', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration' }, keys)
    local t = json.decode(r.stdout)
    assert.same({ 1, 'ASIAMOCK0001', 'mock/Secret+1/Key', 'IQoJb3JpZ2luX2VjE1//mock+session&token=1' },
      { t.Version, t.AccessKeyId, t.SecretAccessKey, t.SessionToken })
    assert.equal('900', posted(srv).DurationSeconds)
    assert.equal('ci@build', posted(srv).RoleSessionName)
  end)

  it('exports the keys with -f env', function()
    local r = run(srv, { '-f', 'env' }, { AWS_WEB_IDENTITY_TOKEN_FILE = token_file() })
    assert.equal(0, r.code, r.stderr)
    assert.matches("export AWS_ACCESS_KEY_ID='ASIAMOCK0001'\n", r.stdout, 1, true)
    assert.matches("export AWS_SECRET_ACCESS_KEY='mock/Secret+1/Key'\n", r.stdout, 1, true)
  end)

  it('takes the web identity token from another recipe (uses), redacted in the traces', function()
    local r = run(srv, { '-v', '-p', 'identity_recipe=' .. ECHO }, { ECHO_TOKEN = JWT })
    assert.equal(0, r.code, r.stderr)
    assert.equal('ASIAMOCK0001', r.json.data.access_key_id)
    assert.equal(JWT, posted(srv).WebIdentityToken)
    assert.matches('> POST', r.stderr, 1, true)
    cli.assert_clean(r, { JWT, 'mock/Secret+1/Key', 'IQoJb3JpZ2luX2VjE1//mock+session&token=1' }, true)
  end)

  it('serves the dependency from the cache under --cache', function()
    local cache, count = cli.tmpdir(), cli.tmpdir() .. '/count'
    local env = { ECHO_TOKEN = JWT, ECHO_COUNT_FILE = count, XDG_CACHE_HOME = cache }
    assert.equal(0, run(srv, { '--cache', '-p', 'identity_recipe=' .. ECHO }, env).code)
    assert.equal(0, run(srv, { '--cache', '-p', 'identity_recipe=' .. ECHO, '-p', 'duration=1800' }, env).code)
    local f = assert(io.open(count))
    assert.equal('minted\n', f:read('a'))   -- two exchanges, one identity token
    f:close()
  end)

  it('reports a rejected token as auth (77) with STS\'s code and message', function()
    local r = run(srv, {}, { AWS_WEB_IDENTITY_TOKEN_FILE = token_file('eyJ.forged.token') })
    assert.equal(77, r.code, r.stderr)
    assert.equal('InvalidIdentityToken', r.json.error.provider_code)
    assert.matches('verification key', r.json.error.message, 1, true)
    cli.assert_clean(r, { 'eyJ.forged.token' })
  end)

  it('reports a role it may not assume as auth (77) and a bad duration as config (78)', function()
    local r = run(srv, {}, { AWS_WEB_IDENTITY_TOKEN_FILE = token_file(),
      AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/other' })
    assert.equal(77, r.code, r.stderr)
    assert.equal('AccessDenied', r.json.error.provider_code)
    r = run(srv, { '-p', 'duration=60' }, { AWS_WEB_IDENTITY_TOKEN_FILE = token_file() })
    assert.equal(78, r.code, r.stderr)
    assert.equal('ValidationError', r.json.error.provider_code)
  end)

  it('says how to give the token when there is none (78), before any request', function()
    local r = run(srv, {}, {})
    assert.equal(78, r.code, r.stderr)
    assert.matches('AWS_WEB_IDENTITY_TOKEN_FILE', r.json.error.message, 1, true)
    assert.same({}, cli.seen(srv))
  end)

  it('refuses an answer with a DOCTYPE (76), expanding nothing', function()
    srv:script('POST /', { { status = 200, headers = { ['Content-Type'] = 'text/xml' },
      body = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        .. '<AssumeRoleWithWebIdentityResponse>&x;</AssumeRoleWithWebIdentityResponse>' } })
    local r = run(srv, {}, { AWS_WEB_IDENTITY_TOKEN_FILE = token_file() })
    assert.equal(76, r.code, r.stderr)
    assert.matches('not XML', r.json.error.message, 1, true)
    assert.matches('DOCTYPE', r.json.error.message, 1, true)
    assert.not_matches('root:', r.stdout .. r.stderr, 1, true)
  end)

  it('refuses an XML answer without the credentials (76)', function()
    srv:script('POST /', { { status = 200, body = '<AssumeRoleWithWebIdentityResponse/>' } })
    local r = run(srv, {}, { AWS_WEB_IDENTITY_TOKEN_FILE = token_file() })
    assert.equal(76, r.code, r.stderr)
    assert.matches('AccessKeyId', r.json.error.message, 1, true)
  end)

  it('refuses a role ARN that is not one (78)', function()
    local r = run(srv, {}, { AWS_WEB_IDENTITY_TOKEN_FILE = token_file(), AWS_ROLE_ARN = 'deploy' })
    assert.equal(78, r.code, r.stderr)
    assert.same({}, cli.seen(srv))
  end)
end)

describe('uses', function()
  it('is a recipe error (65) for a cycle', function()
    local r = cli.run({ cli.root .. '/tests/recipes/fixtures/uses_cycle_a.lua' }, {})
    assert.equal(65, r.code, r.stderr)
    assert.matches('a cycle of uses', r.json.error.message, 1, true)
    cli.assert_one_line(r)
  end)

  it('refuses a dependency that yields a lease (65) before it checks out', function()
    local log = cli.tmpdir() .. '/lease.log'
    local r = cli.run({ '-p', 'identity_recipe=' .. cli.root .. '/tests/cli/fixtures/lease_log.lua', RECIPE },
      { AWS_ROLE_ARN = ROLE, LEASE_LOG = log, LEASE_PASSWORD = 'pw' })
    assert.equal(65, r.code, r.stderr)
    assert.matches('yields a lease', r.json.error.message, 1, true)
    assert.is_nil(io.open(log))
    cli.cleanup()
  end)
end)
