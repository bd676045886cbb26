-- The README walkthrough's recipe (docs/examples/zephyr.lua) against its
-- mock: what a recipe author's own spec looks like.
local mock = require 'tokrun.mock'
local cli = require 'cli_helper'

local RECIPE = cli.root .. '/docs/examples/zephyr.lua'
local NOW = 1767225600   -- 2026-01-01T00:00:00Z
local SECRET = 'zs/+ canary=='

describe('zephyr', function()
  local srv
  setup(function()
    srv = mock.start { routes = cli.root .. '/tests/mocks/zephyr.lua',
      config = { key_id = 'kid-1', key_secret = SECRET, token = 'zt_canary_token', now = NOW } }
  end)
  teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  local function zephyr(args, env)
    local a = { '--now', tostring(NOW * 1000) }
    for _, x in ipairs(args) do a[#a + 1] = x end
    a[#a + 1] = RECIPE
    local e = { ZEPHYR_BASE_URL = srv.url, ZEPHYR_KEY_ID = 'kid-1', ZEPHYR_KEY_SECRET = SECRET }
    for k, v in pairs(env or {}) do e[k] = v end
    return cli.run(a, e)
  end

  it('mints a deploy token that expires after the requested ttl', function()
    local r = zephyr({ '-p', 'scopes=deploy,logs', '-p', 'ttl=600' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"recipe":"zephyr","ok":true,"token":"zt_canary_token","token_type":"bearer",'
      .. '"expires_at":"2026-01-01T00:10:00Z","obtained_at":"2026-01-01T00:00:00Z",'
      .. '"cached":false,"data":{}}\n', r.stdout)
    assert.same({ 'deploy', 'logs' }, srv:last().json.scopes)
  end)

  it('reports a bad secret as an auth failure (77) with the provider code', function()
    local r = zephyr({}, { ZEPHYR_KEY_SECRET = 'wrong' })
    assert.equal(77, r.code)
    assert.equal('auth', r.json.error.kind)
    assert.equal('bad_signature', r.json.error.provider_code)
    assert.truthy(r.json.error.message:find('zephyr: step mint', 1, true))
  end)

  it('refuses an unknown scope before sending anything (78)', function()
    local r = zephyr({ '-p', 'scopes=root' })
    assert.equal(78, r.code)
    assert.equal(0, #srv:requests())
  end)

  it('never prints the secret or the token outside the result', function()
    for _, mode in ipairs({ '-v', '--dry-run' }) do
      local r = zephyr({ mode })
      cli.assert_clean(r, { SECRET, 'zt_canary_token' }, mode == '-v')
      cli.assert_clean({ stdout = '', stderr = r.stderr }, { 'zt_canary_token' })
    end
  end)
end)
