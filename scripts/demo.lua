-- The README's first command: start the bundled Velafi mock on 127.0.0.1,
-- run `tokrun recipes/velafi.lua` against it exactly as cron would, and show
-- what comes back.  Run with: build/tokrun lua scripts/demo.lua
local mock = require 'tokrun.mock'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'

local root = sys.paths().srcdir or '.'
local srv = mock.start {
  routes = root .. '/tests/mocks/velafi.lua',
  config = { api_key = 'demo-key', api_secret = 'demo-secret', token = 'vlf-demo-' .. sys.now_ms() },
}
local argv = { sys.paths().exe, root .. '/recipes/velafi.lua' }
io.stderr:write('$ VELAFI_BASE_URL=', srv.url, ' VELAFI_API_KEY=... VELAFI_API_SECRET=... tokrun recipes/velafi.lua\n')
local r = assert(process.run { argv = argv, timeout = 30, env = {
  PATH = os.getenv('PATH'), VELAFI_BASE_URL = srv.url,
  VELAFI_API_KEY = 'demo-key', VELAFI_API_SECRET = 'demo-secret' } })
io.stdout:write(r.stdout)
io.stderr:write(r.stderr)
local req = srv:last()
if req then io.stderr:write('(the mock checked the signature on: GET ', req.path, '?', req.query, ')\n') end
srv:stop()
os.exit(r.status)
