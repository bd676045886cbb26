-- -v traces a step's answer only after its captures are known secrets, so
-- a token that arrives inside a message (Dataverse: "New token for X is
-- T and expires on ...") is redacted in the trace like one under a
-- "token" key.
local engine = require 'tokrun.engine'
local recipe = require 'tokrun.recipe'
local redact = require 'tokrun.redact'
local mock = require 'tokrun.mock'
local sys = require 'tokrun.sys'

describe('the -v trace of a response', function()
  it('redacts a secret captured from inside a message', function()
    local new = 'f00dfeed-1234-4abc-8def-0123456789ab'
    local srv = mock.start { routes = 'tests/mocks/dataverse.lua',
      config = { user = 'admin', api_token = 'old-token-value', new_token = new, now_ms = 0 } }
    local secrets = redact.new()
    secrets:add('old-token-value')
    local lines = {}
    local result = engine.run { decl = recipe.load('recipes/dataverse.lua'),
      values = { base_url = srv.url, api_token = 'old-token-value' }, secrets = secrets,
      now_ms = function() return 0 end, deadline = sys.monotonic() + 10, retries = 0, tls = {},
      verbose = true, log = function(l) lines[#lines + 1] = secrets:apply(l) end, out = function() end }
    srv:stop()
    assert.equal(new, result.token)
    local trace = table.concat(lines, '\n')
    assert.matches('New token for admin is *** and expires on', trace, 1, true)
    assert.not_matches(new, trace, 1, true)
  end)
end)
