-- A step's `when` may be a table {name = value}: the step runs only when
-- every named value equals (as text) the one given.  Recipes use it to pick
-- one of two request shapes (Velt v1/v2, OAuth2 client auth) without code.
local engine = require 'tokrun.engine'
local recipe = require 'tokrun.recipe'
local redact = require 'tokrun.redact'

local function dry_run(decl, values)
  local lines = {}
  engine.run {
    decl = recipe.validate(decl, 'test.lua'), values = values, secrets = redact.new(),
    now_ms = function() return 1740568725231 end, deadline = math.huge, retries = 0, tls = {},
    dry_run = true, log = function() end, out = function(l) lines[#lines + 1] = l end,
  }
  return table.concat(lines, '\n')
end

local decl = {
  name = 'pick',
  params = { { name = 'version', type = 'integer', default = 1 }, { name = 'mode', default = 'a' } },
  steps = {
    { name = 'one', when = { version = 1 }, url = 'https://example.test/v1' },
    { name = 'two', when = { version = 2, mode = 'b' }, url = 'https://example.test/v2' },
  },
  emit = { token = 'x' },
}

describe('a step with when = {name = value}', function()
  it('runs when the named value equals the given one', function()
    local out = dry_run(decl, { version = 1, mode = 'a' })
    assert.matches('step one', out, 1, true)
    assert.not_matches('step two', out, 1, true)
  end)

  it('is skipped unless every named value matches', function()
    local out = dry_run(decl, { version = 2, mode = 'a' })
    assert.not_matches('step one', out, 1, true)
    assert.not_matches('step two', out, 1, true)
    assert.matches('step two', dry_run(decl, { version = 2, mode = 'b' }), 1, true)
  end)

  it('is skipped when the named value is not set', function()
    assert.equal('', dry_run(decl, { mode = 'a' }))
  end)

  it('is a recipe error when it names something the recipe does not declare', function()
    local bad = { name = 'bad', steps = { { name = 's', when = { nope = 1 }, url = 'https://e.test' } },
      emit = { token = 'x' } }
    local ok, err = pcall(recipe.validate, bad, 'bad.lua')
    assert.is_false(ok)
    assert.equal('recipe', err.kind)
    assert.matches("when: unknown name 'nope'", err.message, 1, true)
  end)
end)
