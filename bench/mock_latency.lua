-- How long the bench's servers take to answer one signed Velafi request,
-- measured from one client process so no process start-up is counted:
--   tokrun lua bench/mock_latency.lua N NGINX_HTTP_PORT MOCK_PORT
-- Times N requests (a new connection each, as every run opens its own)
-- against nginx (what the rows are timed against) and against the Lua mock
-- (which checks signatures), and prints one JSON object:
-- {"nginx_us":median, "mock_us":median, "n":N}.  The client signs each
-- request itself, so the figures are an upper bound for the server's work.
local socket = require "socket"
local hmac = require "tokrun.hmac"
local cjson = require "cjson"

local n, nginx_port, mock_port = tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3])
assert(n and n > 0 and n <= 100000 and nginx_port and mock_port,
       "usage: mock_latency.lua N NGINX_HTTP_PORT MOCK_PORT")
local key, secret = os.getenv("VELAFI_API_KEY"), os.getenv("VELAFI_API_SECRET")

local function one(port)
  local q = "timestamp=" .. math.floor(socket.gettime() * 1000)
  q = q .. "&signature=" .. hmac.hexdigest("sha256", secret, q)
  local c = socket.tcp()
  c:settimeout(5)
  assert(c:connect("127.0.0.1", port))
  assert(c:send("GET /v2/token/generate?" .. q .. " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                .. "X-BH-APIKEY: " .. key .. "\r\nConnection: close\r\n\r\n"))
  -- read to the end of the body (nginx keeps connections alive)
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

print(cjson.encode({ n = n, nginx_us = median_us(nginx_port), mock_us = median_us(mock_port) }))
