-- Every delivery path is total: a credential a format cannot carry (a NUL
-- byte, invalid UTF-8) is a protocol error (76) that still checks a lease
-- back in; a format that cannot carry a lease id is refused before
-- checkout; exec-credential answers the apiVersion kubectl asked for; and
-- aws-credential-process prints what the AWS CLI reads.
local cli = require 'cli_helper'
local json = require 'tokrun.json'
local run = cli.run

local TOKEN = cli.root .. '/tests/cli/fixtures/bytes_token.lua'
local LEASE = cli.root .. '/tests/cli/fixtures/bytes_lease.lua'
local ECHO = cli.root .. '/tests/cli/fixtures/echo_token.lua'
local NOW = '1767225600000'   -- 2026-01-01T00:00:00Z

local function read(path)
  local f = io.open(path, 'rb')
  if not f then return '' end
  local s = f:read('a')
  f:close()
  return s
end

local function log_path()
  return cli.tmpdir() .. '/lease.log'
end

after_each(cli.cleanup)

describe('a credential a format cannot carry', function()
  local cases = {
    { 'json', 'tok\\377en', 'invalid UTF-8' },
    { 'token', 'tok\\000en', 'NUL' },
    { 'token', 'tok\\377en', 'invalid UTF-8' },
    { 'env', 'tok\\000en', 'NUL' },
    { 'exec-credential', 'tok\\000en', 'NUL' },
    { 'exec-credential', 'tok\\377en', 'invalid UTF-8' },
    { 'aws-credential-process', 'tok\\000en', 'NUL' },
  }
  for _, c in ipairs(cases) do
    it(string.format('is a protocol error (76) with --format %s and %s', c[1], c[3]), function()
      local r = run({ '-f', c[1], TOKEN }, { BYTES_TOKEN = c[2] })
      assert.equal(76, r.code, r.stderr)
      cli.assert_one_line(r)
      assert.matches('cannot be printed as', r.stderr, 1, true)
      if c[1] == 'json' then
        assert.equal('protocol', r.json.error.kind)
      else
        assert.equal('', r.stdout)
      end
    end)
  end

  it('with --format json escapes a NUL byte', function()
    local r = run({ TOKEN }, { BYTES_TOKEN = 'tok\\000en' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('tok\0en', r.json.token)
    assert.matches('"token":"tok\\u0000en"', r.stdout, 1, true)
  end)

  it('checks the lease back in before exiting 76 (json, invalid UTF-8)', function()
    local log = log_path()
    local r = run({ LEASE }, { BYTES_TOKEN = 'pa\\377ss', BYTES_LOG = log })
    assert.equal(76, r.code, r.stderr)
    assert.equal('protocol', r.json.error.kind)
    assert.matches('lease L-7 was released', r.json.error.message, 1, true)
    assert.equal('checkout\ncheckin L-7\n', read(log))
  end)

  it('checks the lease back in before exiting 76 (env, NUL)', function()
    local log = log_path()
    local r = run({ '-f', 'env', LEASE }, { BYTES_TOKEN = 'pa\\000ss', BYTES_LOG = log })
    assert.equal(76, r.code, r.stderr)
    assert.equal('', r.stdout)
    cli.assert_one_line(r)
    assert.equal('checkout\ncheckin L-7\n', read(log))
  end)

  it('checks the lease back in when exec cannot pass a NUL byte to the child', function()
    local log = log_path()
    local r = run({ 'exec', LEASE, '--', 'sh', '-c', 'echo ran' }, { BYTES_TOKEN = 'pa\\000ss', BYTES_LOG = log })
    assert.equal(76, r.code, r.stderr)
    assert.equal('', r.stdout)
    assert.matches('NUL byte', r.stderr, 1, true)
    assert.equal('checkout\ncheckin L-7\n', read(log))
  end)
end)

describe('a format that cannot carry a lease id', function()
  for _, fmt in ipairs({ 'token', 'exec-credential', 'aws-credential-process' }) do
    it('is refused (64) before checkout: --format ' .. fmt, function()
      local log = log_path()
      local r = run({ '-f', fmt, LEASE }, { BYTES_TOKEN = 'pass', BYTES_LOG = log })
      assert.equal(64, r.code, r.stderr)
      assert.equal('', r.stdout)
      cli.assert_one_line(r)
      assert.matches('no place for the lease id', r.stderr, 1, true)
      assert.equal('', read(log))
    end)
  end

  it('leaves json and env alone', function()
    local log = log_path()
    local r = run({ '-f', 'env', LEASE }, { BYTES_TOKEN = 'pass', BYTES_LOG = log })
    assert.equal(0, r.code, r.stderr)
    assert.matches("export BYTES_LEASE='L-7'", r.stdout, 1, true)
  end)
end)

describe('--format exec-credential', function()
  local function exec_info(version)
    return json.encode({ apiVersion = version, kind = 'ExecCredential', spec = { interactive = false } })
  end

  it('answers v1 when KUBERNETES_EXEC_INFO is absent', function()
    local r = run({ '-f', 'exec-credential', '--now', NOW, ECHO }, { ECHO_TOKEN = 'k8s' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('client.authentication.k8s.io/v1', r.json.apiVersion)
  end)

  for _, v in ipairs({ 'client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1' }) do
    it('answers the apiVersion kubectl sent: ' .. v, function()
      local r = run({ '-f', 'exec-credential', '--now', NOW, ECHO },
        { ECHO_TOKEN = 'k8s', KUBERNETES_EXEC_INFO = exec_info(v) })
      assert.equal(0, r.code, r.stderr)
      assert.equal('{"apiVersion":"' .. v .. '","kind":"ExecCredential",'
        .. '"status":{"expirationTimestamp":"2026-01-01T01:00:00Z","token":"k8s"}}\n', r.stdout)
    end)
  end

  it('refuses an apiVersion it does not speak (78) and prints nothing', function()
    local r = run({ '-f', 'exec-credential', ECHO },
      { ECHO_TOKEN = 'k8s', KUBERNETES_EXEC_INFO = exec_info('client.authentication.k8s.io/v1alpha1') })
    assert.equal(78, r.code, r.stderr)
    assert.equal('', r.stdout)
    assert.matches('v1alpha1', r.stderr, 1, true)
  end)
end)

describe('--format aws-credential-process', function()
  it('prints Version 1 with the keys and an RFC 3339 Expiration', function()
    local r = run({ '-f', 'aws-credential-process', '--now', NOW, TOKEN }, { BYTES_TOKEN = 'sekrit' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"Version":1,"AccessKeyId":"AKIDBYTES","SecretAccessKey":"sekrit",'
      .. '"Expiration":"2026-01-01T00:10:00Z"}\n', r.stdout)
  end)

  it('is refused (64) for a recipe that emits no AWS keys', function()
    local r = run({ '-f', 'aws-credential-process', ECHO }, { ECHO_TOKEN = 'x' })
    assert.equal(64, r.code, r.stderr)
    assert.matches('emits access_key_id', r.stderr, 1, true)
    assert.equal('', r.stdout)
  end)
end)
