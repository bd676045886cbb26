-- A URL with userinfo (http://127.0.0.1:1@127.0.0.1:PORT/) once fooled the
-- origin checks into sending credentials to the host after the '@'.  Now
-- origins are decided on the host libcurl connects to, and userinfo is
-- refused unless a step allows it.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'

local REDIRECT = cli.root .. '/tests/cli/fixtures/redirect_key.lua'
local KEY = 'userinfo-k3y-secret'

describe('a URL with userinfo', function()
  local srv, other, sneaky
  lazy_setup(function()
    other = mock.start { routes = 'tests/mocks/redirects.lua', config = { token = 'tok-other' } }
    sneaky = 'http://127.0.0.1:1@' .. other.url:match('^http://(.*)$')
    srv = mock.start { routes = 'tests/mocks/redirects.lua', config = { token = 'tok-here', other = sneaky } }
  end)
  lazy_teardown(function() srv:stop(); other:stop() end)
  before_each(function() srv:reset(); other:reset() end)

  local function run(base, path)
    return cli.run({ '--retries', '0', REDIRECT },
      { REDIR_BASE_URL = base, REDIR_API_KEY = KEY, REDIR_PATH = path or 'same' })
  end

  it('as the base URL is refused (78) before anything is sent', function()
    local r = run(sneaky, 'same')
    assert.equal(78, r.code, r.stderr)
    assert.truthy(r.stderr:find('refusing a URL with a user name or password', 1, true), r.stderr)
    assert.equal(0, #other:requests())
    cli.assert_clean(r, { KEY })
  end)

  it('as a redirect target is refused (76) and the other host gets nothing', function()
    local r = run(srv.url, 'cross')
    assert.equal(76, r.code, r.stderr)
    assert.equal(1, #srv:requests())
    assert.equal(0, #other:requests())
    cli.assert_clean(r, { KEY })
  end)
end)
