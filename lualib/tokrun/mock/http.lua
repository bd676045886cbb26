-- HTTP/1.1 for the mock server: reading a request and writing a response
-- with the faults a test asks for (delay, drop, truncated or trickled
-- bodies).  Also the JSON and query-string helpers the kit shares.
local loop = require "tokrun.mock.loop"
local cjson_safe = require "cjson.safe"

local receive_line, receive, send, sleep = loop.receive_line, loop.receive, loop.send, loop.sleep
local concat, floor, ceil, max, min = table.concat, math.floor, math.ceil, math.max, math.min
local tointeger, tonumber, tostring, type, pairs = math.tointeger, tonumber, tostring, type, pairs
local char, format = string.char, string.format

local M = {}

local MAX_LINE = 16384
local MAX_HEADERS = 200
local MAX_BODY = 64 * 1024 * 1024
local CHUNK = 65536

-- tokrun.json when the host has it (integers, json.array, json.null),
-- else lua-cjson; decode never raises.
do
  local ok, json = pcall(require, "tokrun.json")
  if ok and type(json) == "table" and json.encode and json.decode then
    M.json_encode = json.encode
    M.json_decode = function(s)
      local dok, v = pcall(json.decode, s)
      if dok then return v end
      return nil
    end
  else
    M.json_encode = require("cjson").encode
    M.json_decode = cjson_safe.decode
  end
end

-- Integral floats (lua-cjson decodes 503 as 503.0) back to integers, in place.
function M.integers(v)
  if type(v) == "number" then return tointeger(v) or v end
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = M.integers(x) end
  end
  return v
end

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

-- "a=1&b=x%20y" -> { a = "1", b = "x y" }; a repeated name keeps the last.
function M.parse_query(q)
  local params = {}
  for pair in (q or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    params[unescape(k)] = unescape(v)
  end
  return params
end

local function read_chunked(c, deadline)
  local parts, size = {}, 0
  for _ = 1, MAX_BODY do
    local line, err = receive_line(c, deadline, MAX_LINE)
    if not line then return nil, err end
    local n = tonumber(line:match("^%x+"), 16)
    if not n then return nil, "bad chunk size" end
    if n == 0 then
      for _ = 1, MAX_HEADERS do   -- trailers, up to the empty line
        local t, terr = receive_line(c, deadline, MAX_LINE)
        if not t then return nil, terr end
        if t == "" then return concat(parts) end
      end
      return nil, "too many trailers"
    end
    size = size + n
    if size > MAX_BODY then return nil, "body too large" end
    local data, derr = receive(c, n + 2, deadline)   -- the chunk and its CRLF
    if not data then return nil, derr end
    parts[#parts + 1] = data:sub(1, n)
  end
  return nil, "too many chunks"
end

-- Reads one request: { method=, path=, query=, headers=, body= }, keep_alive
-- or nil, err (also when the client closed an idle keep-alive connection).
function M.read_request(c, deadline)
  local line, err = receive_line(c, deadline, MAX_LINE)
  if line == "" then line, err = receive_line(c, deadline, MAX_LINE) end
  if not line then return nil, err end
  local method, target, version = line:match("^(%u+) (%S+) HTTP/(%d%.%d)$")
  if not method then return nil, "bad request line" end
  local headers = {}
  for i = 1, MAX_HEADERS + 1 do
    if i > MAX_HEADERS then return nil, "too many headers" end
    local h, herr = receive_line(c, deadline, MAX_LINE)
    if not h then return nil, herr end
    if h == "" then break end
    local name, value = h:match("^([^:%s]+):%s*(.-)%s*$")
    if not name then return nil, "bad header line" end
    name = name:lower()
    headers[name] = headers[name] and headers[name] .. ", " .. value or value
  end
  local path, query = target:match("^([^?]*)%??(.*)$")
  local req = { method = method, path = path, query = query, headers = headers, body = "" }

  local expect = (headers["expect"] or ""):lower()
  local length = tonumber(headers["content-length"] or "0")
  local chunked = (headers["transfer-encoding"] or ""):lower():find("chunked", 1, true)
  if not length or length < 0 or length > MAX_BODY then return nil, "bad content-length" end
  if (chunked or length > 0) and expect == "100-continue" then
    local ok, serr = send(c, "HTTP/1.1 100 Continue\r\n\r\n", deadline)
    if not ok then return nil, serr end
  end
  local body, berr = "", nil
  if chunked then
    body, berr = read_chunked(c, deadline)
  elseif length > 0 then
    body, berr = receive(c, length, deadline)
  end
  if not body then return nil, berr end
  req.body = body

  local conn = (headers["connection"] or ""):lower()
  local keep_alive
  if version == "1.0" then keep_alive = conn == "keep-alive" else keep_alive = conn ~= "close" end
  return req, keep_alive
end

local function has(headers, name)
  for k in pairs(headers) do
    if k:lower() == name then return true end
  end
  return false
end

-- A response table made ready to write: json encoded into body, integers
-- checked.  Returns it, or nil, message for a response a handler got wrong.
function M.prepare(resp)
  if type(resp) ~= "table" then return nil, "not a response table: " .. type(resp) end
  local out = {}
  for k, v in pairs(resp) do out[k] = v end
  out.headers = {}
  for k, v in pairs(resp.headers or {}) do out.headers[k] = tostring(v) end
  out.status = tointeger(resp.status or 200)
  if not out.status or out.status < 100 or out.status > 999 then
    return nil, "bad status: " .. tostring(resp.status)
  end
  if resp.json ~= nil then
    local ok, body = pcall(M.json_encode, resp.json)
    if not ok then return nil, "cannot encode json: " .. tostring(body) end
    out.body, out.json = body, nil
    if not has(out.headers, "content-type") then out.headers["Content-Type"] = "application/json" end
  elseif resp.body ~= nil and type(resp.body) ~= "string" then
    return nil, "body is a " .. type(resp.body) .. ", not a string"
  end
  if out.body == nil and resp.body_size then
    out.body_size = tointeger(resp.body_size)
    if not out.body_size or out.body_size < 0 then return nil, "bad body_size" end
  end
  return out
end

local REASONS = {
  [200] = "OK", [201] = "Created", [204] = "No Content", [301] = "Moved Permanently",
  [302] = "Found", [304] = "Not Modified", [400] = "Bad Request", [401] = "Unauthorized",
  [403] = "Forbidden", [404] = "Not Found", [409] = "Conflict", [422] = "Unprocessable Entity",
  [429] = "Too Many Requests", [500] = "Internal Server Error", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout",
}

local filler = ("x"):rep(CHUNK)

-- Writes a prepared response for a request with `method`.  Returns true when
-- the connection may carry another request.
function M.write_response(c, resp, method, keep_alive, deadline)
  sleep(resp.delay)
  if resp.drop then return false end

  -- The body is resp.body, or body_size bytes of 'x' made on the fly.
  local body, size = resp.body, resp.body_size
  if body ~= nil or not size then body = body or ""; size = #body end
  if resp.drop_after_headers and size < 2 then body, size = filler:sub(1, 16), 16 end
  local function piece(from, n)   -- bytes from+1 .. from+n
    if body then return body:sub(from + 1, from + n) end
    return n <= CHUNK and filler:sub(1, n) or ("x"):rep(n)
  end

  local headers = resp.headers
  local own_length = has(headers, "content-length")
  keep_alive = keep_alive and not own_length and not resp.drop_after_headers
  local head = { format("HTTP/1.1 %d %s\r\n", resp.status, REASONS[resp.status] or "Status") }
  for k, v in pairs(headers) do head[#head + 1] = k .. ": " .. v .. "\r\n" end
  if not own_length then head[#head + 1] = "Content-Length: " .. size .. "\r\n" end
  if not keep_alive then head[#head + 1] = "Connection: close\r\n" end
  head[#head + 1] = "\r\n"
  if not send(c, concat(head), deadline) then return false end
  if method == "HEAD" then return keep_alive end

  if resp.drop_after_headers then
    send(c, piece(0, floor(size / 2)), deadline)
    return false
  end
  local pieces, step = 1, CHUNK
  if resp.slow_body and size > 0 then
    pieces = max(1, min(size, 10))
    step = ceil(size / pieces)
  end
  local sent = 0
  while sent < size do
    if resp.slow_body then sleep(resp.slow_body / pieces) end
    local n = min(step, size - sent)
    if not send(c, piece(sent, n), deadline) then return false end
    sent = sent + n
  end
  return keep_alive
end

return M
