-- `cmake --install` lays out a tokrun that works away from the source tree:
-- bin/tokrun, its http module, the library and the recipes.
local cli = require 'cli_helper'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'

describe('an installed tokrun', function()
  local prefix, bin
  setup(function()
    prefix = cli.tmpdir()
    local builddir = cli.bin:match('^(.*)/[^/]+$')
    local r = assert(process.run { argv = { 'cmake', '--install', builddir, '--prefix', prefix }, timeout = 60 })
    assert.equal(0, r.status, r.stderr)
    bin = prefix .. '/bin/tokrun'
  end)
  teardown(cli.cleanup)

  local function run(args, env)
    local argv = { bin }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    local e = { PATH = os.getenv('PATH') }
    for k, v in pairs(env or {}) do e[k] = v end
    return assert(process.run { argv = argv, env = e, timeout = 30 })
  end

  it('lists the shipped recipes from PREFIX/share/tokrun/recipes', function()
    local r = run({ 'list' })
    assert.equal(0, r.status, r.stderr)
    for _, name in ipairs({ 'velafi', 'velt', 'pam_checkout', 'signalwire', 'dataos', 'dataverse',
      'oauth2_client_credentials' }) do
      assert.truthy(r.stdout:find(name, 1, true), name)
    end
    assert.truthy(r.stdout:find(prefix .. '/share/tokrun/recipes/velafi.lua', 1, true))
  end)

  it('runs a recipe by bare name', function()
    local r = run({ '--dry-run', '--now', '1740568725231', 'velafi' },
      { VELAFI_API_KEY = 'key-123456', VELAFI_API_SECRET = 'secret-123456' })
    assert.equal(0, r.status, r.stderr)
    assert.truthy(r.stdout:find('timestamp=1740568725231&signature=', 1, true))
  end)

  it('loads the http module from PREFIX/lib/tokrun', function()
    local script = prefix .. '/h.lua'
    assert(sys.write_atomic(script, 'io.write(type(require("tokrun.http").request))'))
    local r = run({ 'lua', script })
    assert.equal('function', r.stdout, r.stderr)
  end)
end)
