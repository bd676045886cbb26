-- A minimal, fast Velafi provider for the benchmarks:
--   tokrun lua bench/velafi_mock.lua READY [PARENT_PID]
-- Serves tests/mocks/velafi.lua's own handler (same signature check, same
-- answer) on 127.0.0.1 with a plain blocking accept loop: one request per
-- connection, answered and closed, nothing recorded, so it costs a few
-- microseconds where the spec kit (coroutines, recording, a control port)
-- costs more.  Credentials come from VELAFI_API_KEY / VELAFI_API_SECRET; the
-- recvWindow is widened to a day so one pre-signed URL serves every curl run.
-- Writes "PORT" to READY once listening.  GET /stats answers
-- {"requests":N,"ok":N,"failed":N} for the bench's own checks.
local socket = require "socket"
local cjson = require "cjson"

local IDLE_LIMIT = 600     -- seconds without a connection before exiting
local LIFETIME = 3600      -- hard cap, whatever happens
local CONN_TIMEOUT = 2     -- seconds a client may take to send its request

local ready, parent = arg[1], tonumber(arg[2])
assert(ready, "usage: tokrun lua bench/velafi_mock.lua READY [PARENT_PID]")

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local make = assert(loadfile(here .. "/../tests/mocks/velafi.lua"))()
local routes = make {
  api_key = assert(os.getenv("VELAFI_API_KEY"), "VELAFI_API_KEY is not set"),
  api_secret = assert(os.getenv("VELAFI_API_SECRET"), "VELAFI_API_SECRET is not set"),
  token = "vlf-bench-token",
  recv_window_ms = 86400000,
}
local generate = routes["GET /v2/token/generate"]

local REASONS = { [200] = "OK", [400] = "Bad Request", [401] = "Unauthorized", [404] = "Not Found" }
local stats = { requests = 0, ok = 0, failed = 0 }

local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "rb")
  if not f then return false end
  local s = f:read("a")
  f:close()
  return s:match("%) (%a)") ~= "Z"
end

-- [status, body] for one request head.
local function answer(c)
  local line = c:receive("*l")
  if not line then return nil end
  local method, target = line:match("^(%u+) (%S+) HTTP/1%.[01]$")
  local headers = {}
  for _ = 1, 100 do
    local h = c:receive("*l")
    if not h or h == "" then break end
    local name, value = h:match("^([^:]+):%s*(.-)%s*$")
    if name then headers[name:lower()] = value end
  end
  local path, query = (target or ""):match("^([^?]*)%??(.*)$")
  stats.requests = stats.requests + 1
  if method == "GET" and path == "/stats" then
    return 200, cjson.encode(stats)
  end
  if method ~= "GET" or path ~= "/v2/token/generate" then
    stats.failed = stats.failed + 1
    return 404, '{"error":"no route"}'
  end
  local resp = generate { method = method, path = path, query = query, headers = headers, body = "" }
  local status = resp.status or 200
  if status == 200 then stats.ok = stats.ok + 1 else stats.failed = stats.failed + 1 end
  return status, cjson.encode(resp.json)
end

local server = assert(socket.bind("127.0.0.1", 0, 128))
server:settimeout(1)
local _, port = server:getsockname()
local f = assert(io.open(ready .. ".tmp", "wb"))
f:write(port, "\n")
f:close()
assert(os.rename(ready .. ".tmp", ready))

local started, last = socket.gettime(), socket.gettime()
while true do
  local c = server:accept()
  local now = socket.gettime()
  if c then
    last = now
    c:settimeout(CONN_TIMEOUT)
    local status, body = answer(c)
    if status then
      c:send(string.format("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                           .. "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                           status, REASONS[status] or "Status", #body, body))
    end
    c:close()
  elseif now - last > IDLE_LIMIT or now - started > LIFETIME or (parent and not alive(parent)) then
    break
  end
end
server:close()
