-- How long a mock takes to answer one signed Velafi request, measured from
-- one client process so no process start-up is counted:
--   tokrun lua bench/mock_latency.lua N BENCH_MOCK_PORT
-- Times N requests (a new connection each, as every tokrun run opens its
-- own) against the bench mock on BENCH_MOCK_PORT and against the spec kit's
-- server running tests/mocks/velafi.lua, and prints one JSON object:
-- {"bench_us":median, "kit_us":median, "n":N}.  The client signs each
-- request itself, so the figures are an upper bound for the server's work.
local socket = require "socket"
local hmac = require "tokrun.hmac"
local cjson = require "cjson"
local mock = require "tokrun.mock"

local n, bench_port = tonumber(arg[1]), tonumber(arg[2])
assert(n and n > 0 and n <= 100000 and bench_port, "usage: mock_latency.lua N BENCH_MOCK_PORT")
local key, secret = os.getenv("VELAFI_API_KEY"), os.getenv("VELAFI_API_SECRET")
local here = arg[0]:match("^(.*)/[^/]*$") or "."

local function one(port)
  local q = "timestamp=" .. math.floor(socket.gettime() * 1000)
  q = q .. "&signature=" .. hmac.hexdigest("sha256", secret, q)
  local c = socket.tcp()
  c:settimeout(5)
  assert(c:connect("127.0.0.1", port))
  assert(c:send("GET /v2/token/generate?" .. q .. " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                .. "X-BH-APIKEY: " .. key .. "\r\nConnection: close\r\n\r\n"))
  -- read to the end of the body (the kit keeps connections alive)
  local status = c:receive("*l")
  local len = 0
  while true do
    local h = assert(c:receive("*l"))
    if h == "" then break end
    len = tonumber(h:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")) or len
  end
  local body = assert(c:receive(len))
  c:close()
  assert(status:match("^HTTP/1%.1 200") and body:find('"SUCCESS"', 1, true),
         "mock answered: " .. tostring(status) .. " " .. tostring(body))
end

local function median_us(port)
  for _ = 1, math.min(n, 20) do one(port) end   -- warm-up
  local t = {}
  for i = 1, n do
    local t0 = socket.gettime()
    one(port)
    t[i] = (socket.gettime() - t0) * 1e6
  end
  table.sort(t)
  return math.floor(t[(n + 1) // 2] + 0.5)
end

local kit = mock.start {
  routes = here .. "/../tests/mocks/velafi.lua",
  config = { api_key = key, api_secret = secret, token = "vlf-kit", recv_window_ms = 86400000 },
}
local result = { n = n, bench_us = median_us(bench_port), kit_us = median_us(kit.port) }
kit:stop()
print(cjson.encode(result))
