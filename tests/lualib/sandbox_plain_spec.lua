-- sandbox.plain: the copy of a recipe's declaration that library code
-- reads, made of plain tables, with a cycle or an oversized recipe named by
-- its place.
local sandbox = require 'tokrun.sandbox'

-- fail(at, fmt, ...) as validate.lua passes it: raises "AT | MESSAGE".
local function fail(at, fmt, ...)
  error(at .. ' | ' .. string.format(fmt, ...), 0)
end

local function plain_error(v)
  local ok, err = pcall(sandbox.plain, v, 'recipe', fail)
  assert.is_false(ok)
  return err
end

describe('sandbox.plain', function()
  it('copies nested tables without their metatables', function()
    local inner = setmetatable({ 1, 2, { x = 'y' } }, { __index = function() return 'recipe code' end })
    local decl = setmetatable({ steps = inner, name = 'n' }, { __newindex = error })
    local copy = sandbox.plain(decl, 'recipe', fail)
    assert.is_nil(getmetatable(copy))
    assert.is_nil(getmetatable(copy.steps))
    assert.are_not.equal(inner, copy.steps)
    assert.same({ steps = { 1, 2, { x = 'y' } }, name = 'n' }, copy)
    assert.is_nil(copy.steps.missing)
  end)

  it('keeps a table shared by two places (it is not a cycle)', function()
    local shared = { 'a' }
    local copy = sandbox.plain({ one = shared, two = shared }, 'recipe', fail)
    assert.same({ 'a' }, copy.one)
    assert.same({ 'a' }, copy.two)
  end)

  it('names the place of a cycle through lists and fields', function()
    local decl = { steps = { { name = 'x', query = { { 'a', 'b' } } } } }
    decl.steps[1].query[1][3] = decl.steps
    assert.equal('recipe.steps[1].query[1][3] | refers back to a table that contains it (the recipe holds a cycle)',
      plain_error(decl))
  end)

  it('names a cycle under a key that is not a string or a number', function()
    local decl = { x = { [true] = { y = {} } } }
    decl.x[true].y.z = decl.x
    assert.matches('^recipe%.x%.true%.y%.z | refers back', plain_error(decl))
  end)

  it('names the place after a cycle was left: the path is only what leads to it', function()
    local decl = { a = { b = { c = 1 } }, d = {} }
    decl.d.e = decl.d
    assert.matches('^recipe%.d%.e | ', plain_error(decl))
  end)

  it('refuses a recipe of more than 200000 table entries, naming the table', function()
    local big = {}
    for i = 1, 200001 do big[i] = i end
    assert.equal('recipe.list | the recipe is too large (more than 200000 table entries)',
      plain_error({ list = big }))
  end)
end)
