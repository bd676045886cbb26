-- recipe.validate answers any declaration with the declaration or a recipe
-- error (65) naming the field; never with an internal error (70).  Cases
-- found by fuzz/recipe_validate.
local recipe = require 'tokrun.recipe'

local function decl_with_derive(derive)
  return { name = 'd', derive = derive, steps = { { name = 's', url = 'https://e.test/{x}' } },
    emit = { token = 'x' } }
end

local function recipe_error(decl)
  local ok, err = pcall(recipe.validate, decl, 'd.lua')
  assert.is_false(ok)
  assert.equal('table', type(err), tostring(err))
  assert.equal('recipe', err.kind)
  return err.message
end

describe('recipe.validate', function()
  it('accepts derived values named by strings', function()
    assert.is_table(recipe.validate(decl_with_derive({ x = 'a' }), 'd.lua'))
  end)

  it('is a recipe error when a derive entry is not named by a string', function()
    assert.matches('derive: names must be strings, got a boolean key', recipe_error(decl_with_derive({ [true] = 'a' })))
    assert.matches('got a number key', recipe_error(decl_with_derive({ 'a', x = 'b' })))
    assert.matches('got a table key', recipe_error(decl_with_derive({ [{}] = 'a' })))
  end)
end)
