-- The mock server's event loop: one coroutine per connection, parked on
-- socket.select while its socket is not ready, so a delayed or trickled
-- answer never holds up the other connections.  Works the same for plain
-- luasocket sockets and lua-sec connections ("wantread"/"wantwrite").
local socket = require "socket"

local select, gettime = socket.select, socket.gettime
local co_create, co_resume, co_yield, co_status =
  coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local traceback = debug.traceback
local max, min = math.max, math.min

local M = {}

local MAX_TASKS = 500     -- select() is limited to FD_SETSIZE descriptors
local MAX_ACCEPTS = 64    -- per wake-up, so a burst cannot starve the others

local Loop = {}
Loop.__index = Loop

-- A loop; on_error(message) hears about coroutines that raised.
function M.new(on_error)
  return setmetatable({ tasks = {}, count = 0, listeners = {},
                        on_error = on_error or function() end }, Loop)
end

-- Inside a coroutine: park until `sock` is ready for mode "r" or "w", or
-- until `deadline`.  Returns true when ready, false when the deadline passed.
function M.wait(mode, sock, deadline)
  return co_yield(mode, sock, deadline)
end

-- Inside a coroutine: sleep without blocking the loop.
function M.sleep(seconds)
  if seconds and seconds > 0 then co_yield("t", nil, gettime() + seconds) end
end

-- Which way a non-blocking call that failed with `err` must wait, if at all.
local function want(err, default)
  if err == "timeout" then return default end
  if err == "wantread" then return "r" end
  if err == "wantwrite" then return "w" end
  return nil
end

local function park(err, default, c, deadline)
  local mode = want(err, default)
  if not mode then return nil, err end
  if gettime() >= deadline or not M.wait(mode, c, deadline) then
    return nil, "timeout"
  end
  return true
end

-- Inside a coroutine: one line (CR and LF stripped), at most max_len bytes.
function M.receive_line(c, deadline, max_len)
  local acc = ""
  while true do
    local line, err, partial = c:receive("*l")
    if line then return acc .. line end
    acc = acc .. (partial or "")
    if #acc > max_len then return nil, "line too long" end
    local ok, perr = park(err, "r", c, deadline)
    if not ok then return nil, perr end
  end
end

-- Inside a coroutine: exactly n bytes.
function M.receive(c, n, deadline)
  local parts, left = {}, n
  while left > 0 do
    local data, err, partial = c:receive(min(left, 65536))
    data = data or partial or ""
    parts[#parts + 1] = data
    left = left - #data
    if err then
      local ok, perr = park(err, "r", c, deadline)
      if not ok then return nil, perr end
    end
  end
  return table.concat(parts)
end

-- Inside a coroutine: all of data.
function M.send(c, data, deadline)
  local i = 1
  while i <= #data do
    local last, err, partial = c:send(data, i)
    if last then
      i = last + 1
    else
      i = (partial or i - 1) + 1
      local ok, perr = park(err, "w", c, deadline)
      if not ok then return nil, perr end
    end
  end
  return true
end

function Loop:_resume(co, ...)
  self.tasks[co] = nil
  local ok, mode, sock, deadline = co_resume(co, ...)
  if not ok then
    self.on_error(traceback(co, mode))
  end
  if co_status(co) == "dead" then
    self.count = self.count - 1
    return
  end
  self.tasks[co] = { mode = mode, sock = sock, deadline = deadline or math.huge }
end

-- Runs fn(...) as a new coroutine, at once, up to its first wait.
function Loop:spawn(fn, ...)
  self.count = self.count + 1
  self:_resume(co_create(fn), ...)
end

-- Serves a listening socket: each accepted connection, non-blocking, goes to
-- on_accept(conn) in its own coroutine; the coroutine's return or error
-- closes it.  on_accept may replace box.sock (a TLS wrapper) to be closed.
function Loop:listen(server, on_accept)
  server:settimeout(0)
  self.listeners[#self.listeners + 1] = { sock = server, on_accept = on_accept }
end

function Loop:_accept(l)
  for _ = 1, MAX_ACCEPTS do
    local conn = l.sock:accept()
    if not conn then return end
    if self.count >= MAX_TASKS then
      conn:close()
    else
      conn:settimeout(0)
      self:spawn(function()
        local box = { sock = conn }
        local ok, err = xpcall(l.on_accept, traceback, box)
        box.sock:close()
        if not ok then self.on_error(err) end
      end)
    end
  end
end

-- Asks run() to return after the current wake-up.
function Loop:stop()
  self.stopped = true
end

-- Runs until stop() or for at most `limit` seconds.
function Loop:run(limit)
  local stop_at = gettime() + limit
  while not self.stopped and gettime() < stop_at do
    local recvt, sendt, next_at = {}, {}, stop_at
    for _, l in ipairs(self.listeners) do recvt[#recvt + 1] = l.sock end
    for _, w in pairs(self.tasks) do
      if w.mode == "r" then recvt[#recvt + 1] = w.sock
      elseif w.mode == "w" then sendt[#sendt + 1] = w.sock end
      next_at = min(next_at, w.deadline)
    end
    local readable, writable = select(recvt, sendt, max(0, min(next_at - gettime(), 1)))
    readable, writable = readable or {}, writable or {}
    for _, l in ipairs(self.listeners) do
      if readable[l.sock] then self:_accept(l) end
    end
    local now, ready = gettime(), {}
    for co, w in pairs(self.tasks) do
      if (w.mode == "r" and readable[w.sock]) or (w.mode == "w" and writable[w.sock]) then
        ready[#ready + 1] = { co, true }
      elseif w.deadline <= now then
        ready[#ready + 1] = { co, w.mode == "t" }
      end
    end
    for _, r in ipairs(ready) do self:_resume(r[1], r[2]) end
  end
end

return M
