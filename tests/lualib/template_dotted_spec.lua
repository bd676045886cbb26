-- Dotted placeholders: {key_file.client_email} reads a field of a table
-- value (a JSON key file, a step's result), and a recipe that uses one is
-- valid when the head of the path is known.
local template = require 'tokrun.template'
local recipe = require 'tokrun.recipe'

local vars = { key_file = { client_email = 'svc@p.iam.gserviceaccount.com', nested = { n = 3 } }, plain = 'x' }

describe('dotted template paths', function()
  it('read a field of a table value, whole or inside text', function()
    assert.equal('svc@p.iam.gserviceaccount.com', template.string('{key_file.client_email}', vars))
    assert.equal(3, template.string('{key_file.nested.n}', vars))
    assert.equal('to svc@p.iam.gserviceaccount.com (3)',
      template.string('to {key_file.client_email} ({key_file.nested.n})', vars))
    assert.equal('3', template.string('{key_file.nested.n|string}', vars))
  end)

  it('make the string unset when a field is missing or the head is not a table', function()
    assert.is_nil(template.string('{key_file.nope}', vars))
    assert.is_nil(template.string('a {key_file.nested.n.deeper} b', vars))
    assert.is_nil(template.string('{plain.field}', vars))
    assert.is_nil(template.string('{absent.field}', vars))
  end)

  it('name the whole path and its head', function()
    local got = {}
    for name, head in template.names('{key_file.client_email} {plain|form} {use.mint.token}') do
      got[#got + 1] = name .. '>' .. head
    end
    assert.same({ 'key_file.client_email>key_file', 'plain>plain', 'use.mint.token>use' }, got)
  end)

  it('pass validation when the head is declared, and fail naming it when not', function()
    local function decl(url)
      return { name = 'd', params = { { name = 'key_file' } },
        steps = { { name = 's', url = url } }, emit = { token = 't' } }
    end
    assert.is_table(recipe.validate(decl('{key_file.token_uri}'), 'd.lua'))
    local ok, err = pcall(recipe.validate, decl('{other.token_uri}'), 'd.lua')
    assert.is_false(ok)
    assert.matches("undeclared placeholder '{other.token_uri}'", err.message, 1, true)
  end)
end)
