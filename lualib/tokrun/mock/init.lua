-- The mock-server kit for specs.  mock.start runs a provider mock (a routes
-- file) in its own process on 127.0.0.1 -- HTTP, or HTTPS with a test CA --
-- and the returned object reads what it saw and queues faults through the
-- server's control port.  See docs/mock.md.
local socket = require "socket"
local cjson = require "cjson"
local http = require "tokrun.mock.http"

local gettime, sleep = socket.gettime, socket.sleep
local format, tostring, type, pairs, ipairs = string.format, tostring, type, pairs, ipairs

local M = {}

local START_TIMEOUT = 5     -- seconds for a server to say it is listening
local CONTROL_TIMEOUT = 5   -- seconds for one control request
local STOP_TIMEOUT = 3      -- seconds for a stopped server to exit

local started = {}          -- servers not stopped yet
local tmpdir, tls_files, serial = nil, nil, 0

-- The tokrun binary running this spec: the server runs under it too.
local function tokrun_exe()
  local ok, sys = pcall(require, "tokrun.sys")
  if ok and type(sys) == "table" and sys.paths then return sys.paths().exe end
  return os.getenv("TOKRUN_BIN") or "build/tokrun"
end

local function quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- Whether process `pid` runs (a zombie does not count).
local function alive(pid)
  local stat = read_file("/proc/" .. pid .. "/stat")
  if stat then return stat:match("%) (%a)") ~= "Z" end
  if read_file("/proc/self/stat") then return false end
  return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true
end

local function own_pid()
  local stat = read_file("/proc/self/stat")
  return stat and tonumber(stat:match("^%d+"))
end

-- Holds the kit's temporary directory; when the Lua state closes, stops
-- the servers still running and removes the directory.
local cleanup = setmetatable({}, { __gc = function(self)
  pcall(M.stop_all)
  if self.dir then os.execute("rm -rf " .. quote(self.dir)) end
end })

local function temp_dir()
  if not tmpdir then
    local p = io.popen('mktemp -d "${TMPDIR:-/tmp}/tokrun-mock.XXXXXX"')
    tmpdir = p:read("l")
    p:close()
    assert(tmpdir and tmpdir ~= "", "mock: mktemp -d failed")
    cleanup.dir = tmpdir
  end
  return tmpdir
end

-- A test CA and a server certificate for 127.0.0.1 and localhost, made
-- once per process with the openssl command; nil, err if that fails.
local function tls()
  if tls_files then return tls_files end
  local dir = temp_dir() .. "/tls"
  local f = { ca = dir .. "/ca.pem", cert = dir .. "/server.pem", key = dir .. "/server.key" }
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  local log = temp_dir() .. "/openssl.log"
  local script = table.concat({
    "set -e", "mkdir -p " .. quote(dir), "cd " .. quote(dir),
    "openssl req -x509 " .. ec .. " -keyout ca.key -out ca.pem -days 7"
      .. " -subj '/CN=tokrun mock test CA'"
      .. " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
    "openssl req -new " .. ec .. " -keyout server.key -out server.csr -subj /CN=127.0.0.1",
    "printf '%s\\n' subjectAltName=IP:127.0.0.1,DNS:localhost basicConstraints=CA:FALSE"
      .. " keyUsage=critical,digitalSignature extendedKeyUsage=serverAuth > server.ext",
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 7"
      .. " -extfile server.ext -out server.pem",
  }, "\n")
  if os.execute("(" .. script .. "\n) >" .. quote(log) .. " 2>&1") ~= true then
    return nil, "cannot make the test CA with openssl:\n" .. (read_file(log) or "")
  end
  tls_files = f
  return f
end

local Server = {}
Server.__index = Server

-- One request to the control port: body of a 200, else raises.
local function control(self, method, path, body)
  body = body or ""
  local c = socket.tcp()
  c:settimeout(CONTROL_TIMEOUT, "t")
  local ok, err = c:connect("127.0.0.1", self.control_port)
  if ok then
    ok, err = c:send(format("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n"
                            .. "Connection: close\r\n\r\n%s", method, path, #body, body))
  end
  local data
  if ok then data, err = c:receive("*a") end
  c:close()
  local status, answer = (data or ""):match("^HTTP/1%.1 (%d+) [^\r]*\r\n.-\r\n\r\n(.*)$")
  if status ~= "200" then
    error(format("mock: %s %s to the server at %s failed: %s\n%s", method, path, self.url,
                 err or answer or "bad answer", read_file(self.log) or ""), 3)
  end
  return answer
end

-- Every request seen, in order: { method=, path=, query=, headers=, body=,
-- json=, params=, error= }.
function Server:requests()
  local list = cjson.decode(control(self, "GET", "/requests"))
  for _, r in ipairs(list) do
    r.params = http.parse_query(r.query)
    r.json = r.body ~= "" and http.json_decode(r.body) or nil
  end
  return list
end

-- The last request seen, or nil.
function Server:last()
  local list = self:requests()
  return list[#list]
end

-- Queues responses for `route` ("METHOD /path", a route's key, or "*"),
-- served one per request before the handler; {pass=true, delay=N} waits
-- and falls through to the handler.
function Server:script(route, responses)
  assert(type(route) == "string", "mock: script(route, responses): route must be a string")
  assert(type(responses) == "table", "mock: script(route, responses): responses must be a table")
  local list = {}
  for i, r in ipairs(responses) do
    if type(r) == "table" and r.pass then
      list[i] = { pass = true, delay = r.delay }
    else
      local prepared, err = http.prepare(r)
      if not prepared then error("mock: script " .. route .. " response " .. i .. ": " .. err, 2) end
      list[i] = prepared
    end
  end
  control(self, "POST", "/script", cjson.encode({ route = route, responses = list }))
  return self
end

-- Forgets the requests seen and the queued responses (handler state stays).
function Server:reset()
  control(self, "POST", "/reset")
  return self
end

-- Stops the server process; safe to call twice.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  started[self] = nil
  pcall(control, self, "POST", "/stop")
  local deadline = gettime() + STOP_TIMEOUT
  while alive(self.pid) and gettime() < deadline do sleep(0.02) end
  if alive(self.pid) then os.execute("kill -9 " .. self.pid .. " 2>/dev/null") end
end

-- Starts a mock: opts.routes (path of the routes file), opts.config (plain
-- data for it), opts.tls.  Raises, with the server's log, if it cannot start.
function M.start(opts)
  assert(type(opts) == "table" and type(opts.routes) == "string",
         "mock.start{routes=PATH, config=, tls=}: routes must be a path")
  serial = serial + 1
  local base = format("%s/server%d", temp_dir(), serial)
  local setup = { routes = opts.routes, config = opts.config or {}, parent = own_pid() }
  if opts.tls then
    local f, err = tls()
    if not f then error("mock.start: " .. err, 2) end
    setup.tls = { cert = f.cert, key = f.key }
  end
  local ok, encoded = pcall(cjson.encode, setup)
  if not ok then error("mock.start: config is not plain JSON data: " .. tostring(encoded), 2) end
  local log, ready = base .. ".log", base .. ".ready"
  write_file(base .. ".json", encoded)
  local script = package.searchpath("tokrun.mock.serve", package.path)
  assert(script, "mock.start: tokrun/mock/serve.lua is not on package.path")
  -- The server must not hold the spec's stdout open: its output goes to log.
  local p = io.popen(format("%s lua %s %s %s >%s 2>&1 </dev/null & echo $!", quote(tokrun_exe()),
                            quote(script), quote(base .. ".json"), quote(ready), quote(log)))
  local pid = tonumber(p:read("l"))
  p:close()
  assert(pid, "mock.start: cannot start the server process")

  local deadline, answer = gettime() + START_TIMEOUT, nil
  for _ = 1, START_TIMEOUT * 100 do
    answer = read_file(ready)
    if answer or not alive(pid) or gettime() > deadline then break end
    sleep(0.01)
  end
  answer = answer or read_file(ready)
  local port, control_port = (answer or ""):match("^ok (%d+) (%d+)")
  if not port then
    local why = answer and "it failed" or not alive(pid) and "it exited"
                or format("no answer within %d s", START_TIMEOUT)
    os.execute("kill -9 " .. pid .. " 2>/dev/null")
    error(format("mock.start(%s): the server did not start (%s):\n%s", opts.routes, why,
                 read_file(log) or ""), 2)
  end
  local srv = setmetatable({
    port = tonumber(port), control_port = tonumber(control_port), pid = pid, log = log,
    url = (opts.tls and "https" or "http") .. "://127.0.0.1:" .. port,
    cacert = opts.tls and tls_files.ca or nil,
  }, Server)
  started[srv] = true
  return srv
end

-- Stops every server this process started and has not stopped.
function M.stop_all()
  for srv in pairs(started) do srv:stop() end
end

-- A port on 127.0.0.1 that refuses connections.
function M.closed_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

-- A port on 127.0.0.1 where connecting times out: a listener with backlog 1
-- that nobody accepts from, its queue filled by connections held here
-- (Linux drops a SYN when the accept queue is full).  close() frees it.
function M.blackhole()
  local server = socket.tcp()
  assert(server:bind("127.0.0.1", 0))
  assert(server:listen(1))
  local _, port = server:getsockname()
  local held, full = {}, false
  for _ = 1, 8 do
    local c = socket.tcp()
    c:settimeout(0.3)
    if not c:connect("127.0.0.1", port) then
      c:close()
      full = true
      break
    end
    held[#held + 1] = c
  end
  local hole = { port = tonumber(port) }
  function hole.close()
    for _, c in ipairs(held) do c:close() end
    held = {}
    server:close()
  end
  if not full then
    hole.close()
    error("mock.blackhole: connections to a full backlog still succeed on this system", 2)
  end
  return hole
end

return M
