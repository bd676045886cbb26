-- A session prepares a run from the command line's options: the recipe
-- found and checked, parameters resolved with secrets known to the
-- redactor, and lease recipes refused where a lease id cannot go.
local session = require 'tokrun.session'
local cli = require 'cli_helper'

local function opts(extra)
  local o = { timeout = 5, retries = 0, format = 'json', params = {}, report = {} }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

describe('session.prepare', function()
  it('loads the recipe, resolves its parameters and knows its secrets', function()
    require('tokrun.sys').setenv('VELAFI_API_KEY', 'session-key')
    require('tokrun.sys').setenv('VELAFI_API_SECRET', 'session-secret')
    local o = opts()
    local ctx = session.prepare(o, cli.recipe('velafi'))
    assert.equal('velafi', ctx.decl.name)
    assert.equal('session-key', ctx.values.api_key)
    assert.equal('***', ctx.secrets:apply('session-secret'))
    assert.equal('velafi', o.report.recipe)
    assert.equal(ctx.secrets, o.report.secrets)
  end)

  it('refuses -p for a secret parameter (64) and names where it should come from', function()
    local ok, err = pcall(session.prepare, opts({ params = { 'api_secret=nope' } }), cli.recipe('velafi'))
    assert.is_false(ok)
    assert.equal('usage', err.kind)
    assert.matches('VELAFI_API_SECRET', err.message, 1, true)
  end)

  it('refuses a lease recipe with --cache before anything is checked out', function()
    require('tokrun.sys').setenv('PAM_API_TOKEN', 't')
    local o = opts({ cache = true, params = { 'base_url=https://pam.test', 'run_host=h', 'reason=r' } })
    local ctx = session.prepare(o, cli.recipe('pam_checkout'))
    local ok, err = pcall(session.refuse_lease, o, ctx, 'run')
    assert.is_false(ok)
    assert.equal('usage', err.kind)
  end)
end)
