-- The README's asymmetric walkthrough (docs/examples/nimbus.lua) against
-- its mock, with a key made by `openssl genpkey` at test time and the
-- assertion checked again by the openssl command.
local mock = require 'tokrun.mock'
local cli = require 'cli_helper'
local keys = require 'keys_helper'
local codec = require 'tokrun.codec'

local RECIPE = cli.root .. '/docs/examples/nimbus.lua'
local NOW = 1767225600   -- 2026-01-01T00:00:00Z

describe('nimbus', function()
  local srv, dir, pem
  setup(function()
    dir = keys.dir(cli.tmpdir())
    pem = dir:key('svc', 'p256')
    srv = mock.start { routes = cli.root .. '/tests/mocks/nimbus.lua',
      config = { service_id = 'svc-reports', keys = { k1 = dir:pub('svc') }, token = 'nt_canary', now = NOW } }
  end)
  teardown(function() srv:stop(); cli.cleanup() end)
  before_each(function() srv:reset() end)

  local function nimbus(args, env)
    local a = { '--now', tostring(NOW * 1000) }
    for _, x in ipairs(args) do a[#a + 1] = x end
    a[#a + 1] = RECIPE
    local e = { NIMBUS_BASE_URL = srv.url, NIMBUS_SERVICE_ID = 'svc-reports', NIMBUS_KEY_ID = 'k1',
      NIMBUS_PRIVATE_KEY = pem }
    for k, v in pairs(env or {}) do e[k] = v end
    return cli.run(a, e)
  end

  it('exchanges a signed assertion for an access token', function()
    local r = nimbus({})
    assert.equal(0, r.code, r.stderr)
    assert.equal('nt_canary', r.json.token)
    local assertion = codec.unpct(srv:last().body:match('assertion=([^&]+)'), true)
    assert.is_true(dir:verify_jwt(assertion, 'svc'))
  end)

  it('reports an unknown key as an auth failure (77)', function()
    local r = nimbus({}, { NIMBUS_KEY_ID = 'k2' })
    assert.equal(77, r.code)
    assert.equal('invalid_grant', r.json.error.provider_code)
  end)

  it('never prints the key or the assertion', function()
    for _, mode in ipairs({ '-v', '--dry-run' }) do
      local r = nimbus({ mode })
      assert.equal(0, r.code, r.stderr)
      cli.assert_clean(r, { pem, pem:match('\n(.-)\n') })
      cli.assert_clean({ stdout = '', stderr = r.stderr }, { 'nt_canary' })
    end
  end)
end)
