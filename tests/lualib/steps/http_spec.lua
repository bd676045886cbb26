-- Answers a recipe cannot use are protocol errors (76) that say why: a 2xx
-- whose body is not JSON names its content type (rather than listing
-- "missing" fields), and a token that is a JSON object or array is refused
-- rather than printed as its flattened items.
local engine = require 'tokrun.engine'
local recipe = require 'tokrun.recipe'
local redact = require 'tokrun.redact'
local mock = require 'tokrun.mock'

describe('a step that captures from a body that is not JSON', function()
  it('fails as a protocol error naming the content type', function()
    local srv = mock.start { routes = 'tests/mocks/http_echo.lua' }
    local decl = recipe.validate({ name = 'plain', steps = { { name = 'get', url = srv.url .. '/headers',
      capture = { token = 'token' } } }, emit = { token = '{token}' } }, 'plain.lua')
    local ok, err = pcall(engine.run, { decl = decl, values = {}, secrets = redact.new(),
      now_ms = function() return 0 end, deadline = require('tokrun.sys').monotonic() + 10, retries = 0,
      tls = {}, log = function() end, out = function() end })
    srv:stop()
    assert.is_false(ok)
    assert.equal('protocol', err.kind)
    assert.equal(200, err.http_status)
    assert.matches('plain: step get: the response (HTTP 200) is not JSON [text/plain, 2 bytes]', err.message, 1, true)
  end)

  it('refuses a token that is not a string', function()
    local srv = mock.start { routes = 'tests/mocks/http_echo.lua' }
    local decl = recipe.validate({ name = 'shape', steps = { { name = 'get', url = srv.url .. '/echo',
      capture = { token = 'headers' } } }, emit = { token = '{token}' } }, 'shape.lua')
    local ok, err = pcall(engine.run, { decl = decl, values = {}, secrets = redact.new(),
      now_ms = function() return 0 end, deadline = require('tokrun.sys').monotonic() + 10, retries = 0,
      tls = {}, log = function() end, out = function() end })
    srv:stop()
    assert.is_false(ok)
    assert.equal('protocol', err.kind)
    assert.matches('shape: emit: the token is not a string', err.message, 1, true)
  end)
end)
