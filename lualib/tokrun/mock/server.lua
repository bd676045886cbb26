-- The mock server, run in its own process by tokrun.mock (through the
-- entry point tokrun/mock/serve.lua).  Serves a routes file on 127.0.0.1
-- (HTTP, or HTTPS with the given certificate) and, on a second port, a
-- plain-HTTP control API through which the spec reads the requests seen
-- and queues scripted responses.
local socket = require "socket"
local cjson = require "cjson"
local cjson_safe = require "cjson.safe"
local loop_mod = require "tokrun.mock.loop"
local http = require "tokrun.mock.http"

local gettime, sleep = socket.gettime, loop_mod.sleep
local remove, type, tostring, pairs, ipairs = table.remove, type, tostring, pairs, ipairs

local IDLE_LIMIT = 600        -- seconds without a request before exiting
local LIFETIME = 3600         -- hard cap, whatever happens
local CONN_IDLE = 30          -- seconds a keep-alive connection may sit idle
local MAX_PER_CONN = 1000     -- requests on one connection
local WRITE_TIME = 120        -- seconds to write one response, beyond its delays

local function fail(msg) error(msg, 0) end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

local function write_atomic(path, s)
  local tmp = path .. ".tmp"
  local f = assert(io.open(tmp, "wb"))
  f:write(s)
  f:close()
  assert(os.rename(tmp, path))
end

-- Whether process `pid` is still running (not gone, not a zombie).
local function alive(pid)
  local s = read_file("/proc/" .. pid .. "/stat")
  return s ~= nil and s:match("%) (%a)") ~= "Z"
end

-- The routes file returns function(config, mock) -> { ["METHOD /path"] = handler }.
local function load_routes(path, config, mock)
  local chunk, err = loadfile(path)
  if not chunk then fail("routes file: " .. err) end
  local ok, make = pcall(chunk)
  if not ok then fail("routes file " .. path .. ": " .. tostring(make)) end
  if type(make) ~= "function" then
    fail("routes file " .. path .. " must return function(config, mock), not a " .. type(make))
  end
  local routes
  ok, routes = pcall(make, config, mock)
  if not ok then fail("routes file " .. path .. ": " .. tostring(routes)) end
  if type(routes) ~= "table" then
    fail("routes file " .. path .. ": the function must return a routes table, not a " .. type(routes))
  end
  local exact, prefixes = {}, {}
  for key, handler in pairs(routes) do
    local method, p = tostring(key):match("^(%u+) (/%S*)$")
    if not method then fail("routes file " .. path .. ": bad route '" .. tostring(key) .. "', want 'METHOD /path'") end
    if type(handler) ~= "function" then fail("routes file " .. path .. ": route '" .. key .. "' is not a function") end
    local prefix = p:match("^(.*)%*$")
    if prefix then
      prefixes[#prefixes + 1] = { key = key, method = method, prefix = prefix, handler = handler }
    else
      exact[key] = handler
    end
  end
  -- The longest prefix wins.
  table.sort(prefixes, function(a, b) return #a.prefix > #b.prefix end)
  return function(method, target)
    local key = method .. " " .. target
    if exact[key] then return key, exact[key] end
    for _, r in ipairs(prefixes) do
      if r.method == method and target:sub(1, #r.prefix) == r.prefix then return r.key, r.handler end
    end
    return nil
  end
end

local M = {}

-- Binds both ports for the setup file -> run (a function serving until
-- stopped), port, control_port.  Raises if the setup or routes are bad.
function M.prepare(setup_path)
  local setup = http.integers(cjson.decode(assert(read_file(setup_path))))
  local config = setup.config
  local ctx
  if setup.tls then
    local ssl = require "ssl"
    local err
    ctx, err = ssl.newcontext{ mode = "server", protocol = "any",
                               key = setup.tls.key, certificate = setup.tls.cert,
                               options = { "all", "no_sslv2", "no_sslv3" } }
    if not ctx then fail("TLS context: " .. tostring(err)) end
  end
  local server = assert(socket.bind("127.0.0.1", 0, 128))
  local control = assert(socket.bind("127.0.0.1", 0, 16))
  local _, port = server:getsockname()
  local _, control_port = control:getsockname()

  local loop = loop_mod.new(function(msg) io.stderr:write("mock server: ", msg, "\n") end)
  local state, requests, scripts = {}, {}, {}
  local last_activity = gettime()
  local url = (ctx and "https" or "http") .. "://127.0.0.1:" .. port
  local match = load_routes(setup.routes, config, { url = url, port = port, state = state })

  -- The next scripted response for this request, if any: the literal
  -- "METHOD /path" first, then the matched route's key, then "*".
  local function scripted(key, route_key)
    for _, k in ipairs{ key, route_key or key, "*" } do
      local q = scripts[k]
      if q and #q > 0 then return remove(q, 1) end
    end
    return nil
  end

  -- The response to a request, which is recorded first.
  local function respond(req)
    local record = { method = req.method, path = req.path, query = req.query,
                     headers = req.headers, body = req.body }
    requests[#requests + 1] = record
    local route_key, handler = match(req.method, req.path)
    local s = scripted(req.method .. " " .. req.path, route_key)
    if s and not s.pass then return s end
    if s then sleep(s.delay) end
    if not handler then
      return { status = 404, headers = { ["Content-Type"] = "application/json" },
               body = '{"error":"no route"}' }
    end
    local view, headers = {}, {}   -- the handler's copy: the record stays as seen
    for k, v in pairs(record) do view[k] = v end
    for k, v in pairs(record.headers) do headers[k] = v end
    view.headers = headers
    view.json = req.body ~= "" and http.json_decode(req.body) or nil
    view.params = http.parse_query(req.query)
    local ok, resp = pcall(handler, view, state)
    local err
    if ok then
      resp, err = http.prepare(resp)
      if not resp then err = "route '" .. route_key .. "': " .. err end
    else
      err = tostring(resp)
    end
    if err then
      record.error = err
      io.stderr:write("mock server: ", err, "\n")
      return { status = 500, body = err }
    end
    return resp
  end

  local function serve(box)
    local c = box.sock
    if ctx then
      local ssl = require "ssl"
      c = assert(ssl.wrap(c, ctx))
      box.sock = c
      c:settimeout(0)
      local deadline = gettime() + 10
      while true do
        local ok, err = c:dohandshake()
        if ok then break end
        local mode = err == "wantread" and "r" or err == "wantwrite" and "w"
        if not mode or not loop_mod.wait(mode, c, deadline) then return end
      end
    end
    for _ = 1, MAX_PER_CONN do
      local req, keep_alive = http.read_request(c, gettime() + CONN_IDLE)
      if not req then return end
      last_activity = gettime()
      local resp = respond(req)
      local prepared, err = http.prepare(resp)
      if not prepared then prepared = { status = 500, headers = {}, body = "scripted response: " .. err } end
      local deadline = gettime() + WRITE_TIME + (prepared.delay or 0) + (prepared.slow_body or 0)
      if not http.write_response(c, prepared, req.method, keep_alive, deadline) then return end
    end
  end

  local function control_answer(req)
    local key = req.method .. " " .. req.path
    if key == "GET /requests" then
      return 200, cjson.encode(requests)
    elseif key == "POST /script" then
      local s = http.integers(cjson_safe.decode(req.body))
      if type(s) ~= "table" or type(s.route) ~= "string" or type(s.responses) ~= "table" then
        return 400, "want {route=, responses=[...]}"
      end
      local q = scripts[s.route] or {}
      for _, r in ipairs(s.responses) do q[#q + 1] = r end
      scripts[s.route] = q
      return 200, "ok"
    elseif key == "POST /reset" then
      requests, scripts = {}, {}
      return 200, "ok"
    elseif key == "POST /stop" then
      return 200, "ok", true
    end
    return 404, "no such control request"
  end

  local function serve_control(box)
    local deadline = gettime() + 10
    local req = http.read_request(box.sock, deadline)
    if not req then return end
    local status, body, stop = control_answer(req)
    http.write_response(box.sock, { status = status, headers = {}, body = body }, req.method, false, deadline)
    if stop then loop:stop() end
  end

  loop:listen(server, serve)
  loop:listen(control, serve_control)
  -- Exits on its own once the spec process is gone or all went quiet.
  loop:spawn(function()
    for _ = 1, LIFETIME do
      sleep(1)
      if (setup.parent and not alive(setup.parent)) or gettime() - last_activity > IDLE_LIMIT then
        loop:stop()
        return
      end
    end
  end)
  return function() loop:run(LIFETIME) end, port, control_port
end

-- Serves SETUP.json; writes "ok PORT CONTROL_PORT" to `ready` once
-- listening, or "fail" (the reason goes to stderr, which tokrun.mock
-- shows) -> exit status.
function M.serve(setup_path, ready)
  local ok, run, port, control_port = pcall(M.prepare, setup_path)
  if not ok then
    io.stderr:write("mock server: ", tostring(run), "\n")
    if ready then write_atomic(ready, "fail\n") end
    return 1
  end
  write_atomic(ready, ("ok %d %d\n"):format(port, control_port))
  run()
  return 0
end

return M
