-- The loopback providers bench/jwt measures against:
--   tokrun lua bench/jwt_mocks.lua READY DIR NOW [PARENT_PID]
-- Starts, with the spec kit, the GitHub App mock (tests/mocks/github_app.lua:
-- it verifies each RS256 App JWT) and the Nimbus mock (tests/mocks/nimbus.lua:
-- each ES256 assertion), keyed by DIR/rsa.pub.pem and DIR/ec.pub.pem, on
-- the clock NOW (seconds).  Writes "GITHUB_URL NIMBUS_URL" to READY, then
-- stays until its parent is gone (bounded: 30 minutes at most).
local mock = require 'tokrun.mock'
local socket = require 'socket'

local ready, dir, now, parent = arg[1], arg[2], math.tointeger(tonumber(arg[3])), tonumber(arg[4])
assert(ready and dir and now, 'usage: tokrun lua bench/jwt_mocks.lua READY DIR NOW [PARENT_PID]')

local function read(path)
  local f = assert(io.open(path, 'rb'))
  local s = f:read('a')
  f:close()
  return s
end

local github = mock.start { routes = 'tests/mocks/github_app.lua', config = {
  public_key = read(dir .. '/rsa.pub.pem'), app_id = 123456, installation_id = 4242, now = now,
  token = 'ghs_bench_token', repositories = {}, permissions = { contents = 'read' } } }
local nimbus = mock.start { routes = 'tests/mocks/nimbus.lua', config = {
  service_id = 'svc-bench', keys = { k1 = read(dir .. '/ec.pub.pem') }, token = 'nt_bench_token', now = now } }

local f = assert(io.open(ready .. '.tmp', 'w'))
f:write(github.url, ' ', nimbus.url, '\n')
f:close()
os.rename(ready .. '.tmp', ready)

local deadline = socket.gettime() + 1800
while socket.gettime() < deadline do
  if parent and os.execute('kill -0 ' .. math.tointeger(parent) .. ' 2>/dev/null') ~= true then break end
  socket.sleep(0.5)
end
github:stop()
nimbus:stop()
