-- {name|form}: the value form-urlencoded, as RFC 6749 section 2.3.1 asks of
-- a client id and secret before they go into HTTP Basic.
local template = require 'tokrun.template'

describe('the |form template filter', function()
  it('form-urlencodes a value, space as +', function()
    assert.equal('a%2Fb%2Bc%3D+d', template.string('{v|form}', { v = 'a/b+c= d' }))
  end)

  it('leaves unreserved characters alone and drops out when unset', function()
    assert.equal('id-1.x_y~z:', template.string('{v|form}:', { v = 'id-1.x_y~z' }))
    assert.is_nil(template.string('{v|form}', {}))
  end)
end)

-- Dotted placeholders: {key_file.client_email} reads a field of a table
-- value (a JSON key file, a step's result), and a recipe that uses one is
-- valid when the head of the path is known.
do
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
end

describe('the filters JWT recipes use', function()
  it('|jwt_exp reads the exp claim of a JWT', function()
    local codec = require 'tokrun.codec'
    local token = 'eyJhbGciOiJFUzI1NiJ9.' .. codec.base64url('{"exp":1740569925}') .. '.c2ln'
    assert.equal(1740569925, template.string('{t|jwt_exp}', { t = token }))
    assert.is_nil(template.string('{t|jwt_exp}', { t = 'not a jwt' }))
  end)

  it('|spaces joins a list with spaces, |upper upper-cases, |integers makes numbers of a list', function()
    assert.equal('a b c', template.string('{s|spaces}', { s = { 'a', 'b', 'c' } }))
    assert.equal('XY12345', template.string('{s|upper}', { s = 'xy12345' }))
    assert.same({ 1, 22 }, template.string('{s|integers}', { s = { '1', '22' } }))
    local ok, err = pcall(template.string, '{s|integers}', { s = { '1', 'x' } })
    assert.is_false(ok)
    assert.same({ 'config', "parameter 's' must be a list of integers, got 'x'" }, { err.kind, err.message })
  end)

  it('|json decodes JSON text; an object stays an object inside a JSON body', function()
    local json = require 'tokrun.json'
    local v = template.value({ p = '{p|json}' }, { p = '{"contents":"read"}' }, json.array)
    assert.equal('{"p":{"contents":"read"}}', json.encode(v))
    local ok, err = pcall(template.string, '{p|json}', { p = 'contents:read' })
    assert.is_false(ok)
    assert.same({ 'config', "parameter 'p' is not valid JSON" }, { err.kind, err.message })
  end)
end)
