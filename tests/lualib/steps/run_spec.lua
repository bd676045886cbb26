-- The run step kind: argv from templates (groups drop out when unset), the
-- secret in the child's environment rather than on its argv, and a failing
-- command reported as the provider's failure.
local run = require 'tokrun.steps.run'
local redact = require 'tokrun.redact'
local sys = require 'tokrun.sys'

local function ctx()
  return { secrets = redact.new(), deadline = sys.monotonic() + 10, secret_env = { 'RUN_SPEC_SECRET' },
    log = function() end, out = function() end }
end

describe('a run step', function()
  it('passes run.env to the child and drops the variables that supplied secrets', function()
    sys.setenv('RUN_SPEC_SECRET', 'from-env')
    local vars = { token = 'child-secret' }
    local step = { name = 's', parse = 'json',
      run = { argv = { 'sh', '-c', 'printf \'{"t":"%s","leak":"%s"}\' "$CHILD_TOKEN" "$RUN_SPEC_SECRET"' },
        env = { CHILD_TOKEN = '{token}' } },
      capture = { got = 't', leak = { path = 'leak', optional = true } } }
    run(ctx(), step, vars, 'spec: step s')
    assert.equal('child-secret', vars.got)
    assert.equal('', vars.leak)
  end)

  it('drops a group whose value is unset', function()
    local vars = {}
    local step = { name = 's', run = { 'printf', '%s|', 'a', { '-n', '{name}' }, 'b' }, capture = { out = 'stdout' } }
    run(ctx(), step, vars, 'w')
    assert.equal('a|b|', vars.out)
    vars.name = 'n1'
    run(ctx(), step, vars, 'w')
    assert.equal('a|-n|n1|b|', vars.out)
  end)

  it('reports a failing command as unavailable, with its first line of stderr', function()
    local ok, err = pcall(run, ctx(), { name = 's', run = { 'sh', '-c', 'echo nope >&2; exit 3' } }, {}, 'w')
    assert.is_false(ok)
    assert.equal('provider', err.kind)
    assert.equal(69, require('tokrun.errors').exit_code(err))
    assert.matches("'sh' failed with status 3: nope", err.message, 1, true)
  end)
end)
