-- Words added to the recipe language for the PAM, SignalWire and DataOS
-- recipes: required_if on parameters, `missing` advice on derived
-- alternatives, and captures that keep every value found before reporting a
-- missing one (so a lease id survives a response without its password).
local params = require 'tokrun.params'
local response = require 'tokrun.response'
local engine = require 'tokrun.engine'
local redact = require 'tokrun.redact'

local ROTATE = {
  { name = 'rotate', type = 'boolean', default = false },
  { name = 'old_token_id', env = 'OLD_ID', required_if = 'rotate' },
  { name = 'name', required = true },
}

describe('required_if', function()
  it('is not required while the other parameter is unset or false', function()
    assert.truthy(params.resolve(ROTATE, { cli = { name = 'n' } }))
    assert.truthy(params.resolve(ROTATE, { cli = { name = 'n', rotate = 'false' } }))
  end)

  it('is reported with the other missing parameters when the other one is set', function()
    local v, err = params.resolve(ROTATE, { cli = { rotate = 'true' } })
    assert.is_nil(v)
    assert.equal('config', err.kind)
    assert.equal('missing required parameters: name (-p name=...), '
      .. 'old_token_id (-p old_token_id=... or OLD_ID; needed when rotate is set)', err.message)
  end)

  it('is satisfied by a value', function()
    local v = params.resolve(ROTATE, { cli = { name = 'n', rotate = 'yes', old_token_id = 'o1' } })
    assert.equal('o1', v.old_token_id)
    assert.is_true(v.rotate)
  end)

  it('must name a declared parameter', function()
    local ok, msg = params.validate_decls({ { name = 'a', required_if = 'nope' } })
    assert.is_nil(ok)
    assert.matches("parameter 'a': required_if must name a declared parameter", msg, 1, true)
  end)
end)

local function ctx_for(decl, values)
  return { decl = decl, values = values, secrets = redact.new(), now_ms = function() return 0 end,
    deadline = math.huge, retries = 0, tls = {}, dry_run = true,
    out = function() end, log = function() end }
end

describe('derive with missing advice', function()
  local decl = {
    name = 'acme', params = {},
    derive = { base = { '{base_url}', 'https://{space}.example.com', missing = 'set ACME_SPACE' } },
    steps = { { name = 's', url = '{base}/x' } }, emit = { token = 'x' },
  }

  it('fails at once, as config, with the advice', function()
    local ok, err = pcall(engine.run, ctx_for(decl, {}))
    assert.is_false(ok)
    assert.equal('config', err.kind)
    assert.equal('acme: base is not set: set ACME_SPACE', err.message)
  end)

  it('takes the first alternative that is set', function()
    assert.is_nil(engine.run(ctx_for(decl, { space = 'corp' })))   -- a dry run returns nil
  end)
end)

describe('capture', function()
  local step = { capture = {
    lease_id = { path = 'CheckOut.Request.id', as = 'string' },
    password = { path = 'CheckOut.passwd', secret = true },
    zz_account = 'CheckOut.account',
  } }

  it('keeps every value it found before reporting the one that is missing', function()
    local vars = {}
    local ok, err = pcall(response.capture, step, { CheckOut = { Request = { id = 42 }, account = 'root' } },
      vars, 'pam: step checkout', redact.new())
    assert.is_false(ok)
    assert.equal('protocol', err.kind)
    assert.equal('pam: step checkout: the response has no usable CheckOut.passwd (missing)', err.message)
    assert.equal('42', vars.lease_id)
    assert.equal('root', vars.zz_account)
  end)
end)
