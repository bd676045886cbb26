-- Real redis-server instances for the shared-cache specs: each on free
-- loopback ports (plain, and TLS with a CA and certificates made at test
-- time by the openssl command), a unix socket, optionally an ACL user,
-- no persistence, its own directory; stopped by PID.
local socket = require 'socket'
local sys = require 'tokrun.sys'

local M = {}

local format = string.format
local START_TIMEOUT = 10   -- seconds
local started = {}

local function sh(cmd)
  local ok = os.execute(cmd)
  assert(ok, 'command failed: ' .. cmd)
end

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(sys.mkdir(p, 448))
  return p
end

local function free_port()
  local s = assert(socket.bind('127.0.0.1', 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function alive(pid)
  return os.execute('kill -0 ' .. pid .. ' 2>/dev/null') == true
end

-- M.certs(dir) -> {ca=, cert=, key=, other_cert=, other_key=}: a CA, a
-- server certificate for 127.0.0.1 and localhost, and one for another name.
function M.certs(dir)
  local q = function(name) return quote(dir .. '/' .. name) end
  local quiet = ' >/dev/null 2>&1'
  sh(format('openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=tokrun-test-ca '
    .. '-keyout %s -out %s' .. quiet, q('ca.key'), q('ca.pem')))
  for _, c in ipairs({ { 'server', 'DNS:localhost,IP:127.0.0.1' }, { 'other', 'DNS:other.invalid' } }) do
    local name, san = c[1], c[2]
    sh(format('openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=%s -keyout %s -out %s' .. quiet,
      name, q(name .. '.key'), q(name .. '.csr')))
    local ext = dir .. '/' .. name .. '.ext'
    local f = assert(io.open(ext, 'w'))
    f:write('subjectAltName=', san, '\n')
    f:close()
    sh(format('openssl x509 -req -in %s -CA %s -CAkey %s -CAcreateserial -days 1 -extfile %s -out %s' .. quiet,
      q(name .. '.csr'), q('ca.pem'), q('ca.key'), quote(ext), q(name .. '.pem')))
  end
  return { ca = dir .. '/ca.pem', cert = dir .. '/server.pem', key = dir .. '/server.key',
    other_cert = dir .. '/other.pem', other_key = dir .. '/other.key' }
end

local Server = {}
Server.__index = Server

-- srv:command(argv) -> reply (raises on failure), over the plain port or socket
function Server:command(argv)
  local conn = assert(require('tokrun.redis').connect(self.path and { path = self.path, timeout = 5 }
    or { host = '127.0.0.1', port = self.port, timeout = 5 }))
  if self.admin then assert(conn:command({ 'AUTH', 'admin', self.admin })) end
  local reply, err = conn:command(argv)
  conn:close()
  assert(reply ~= nil, err and err.message)
  return reply
end

function Server:pause() sh('kill -STOP ' .. self.pid) end
function Server:resume() sh('kill -CONT ' .. self.pid) end

-- srv:monitor() -> stop(): starts redis-cli MONITOR; stop() ends it and
-- returns what it captured.
function Server:monitor()
  local out = self.dir .. '/monitor.' .. free_port()
  local auth = self.admin and format('--user admin --pass %s --no-auth-warning ', quote(self.admin)) or ''
  local p = io.popen(format('redis-cli -h 127.0.0.1 -p %d %smonitor >%s 2>&1 </dev/null & echo $!',
    self.port, auth, quote(out)))
  local pid = tonumber(p:read('l'))
  p:close()
  for _ = 1, 500 do   -- until MONITOR answered OK (at most 5 s)
    local f = io.open(out)
    local text = f and f:read('a') or ''
    if f then f:close() end
    if text:find('OK', 1, true) then break end
    socket.sleep(0.01)
  end
  return function()
    socket.sleep(0.1)
    os.execute('kill ' .. pid .. ' 2>/dev/null')
    for _ = 1, 200 do
      if not alive(pid) then break end
      socket.sleep(0.01)
    end
    local f = assert(io.open(out))
    local text = f:read('a')
    f:close()
    return text
  end
end

-- Stops the server (a paused one too); safe to call twice.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  started[self] = nil
  os.execute('kill -CONT ' .. self.pid .. ' 2>/dev/null; kill ' .. self.pid .. ' 2>/dev/null')
  for _ = 1, 500 do
    if not alive(self.pid) then break end
    socket.sleep(0.01)
  end
  if alive(self.pid) then os.execute('kill -9 ' .. self.pid .. ' 2>/dev/null') end
  os.execute('rm -rf ' .. quote(self.dir))
end

-- M.start{tls=, user={name, password}, admin=PASSWORD} -> server.  tls:
-- also a TLS port (srv.tls_port, srv.certs); user: an ACL user with every
-- permission, the default user then off (admin: the password of the
-- "admin" user the support code itself uses).
function M.start(opts)
  opts = opts or {}
  local dir = tmpdir()
  local srv = setmetatable({ dir = dir, path = nil, sock = dir .. '/redis.sock' }, Server)
  local args = { 'redis-server', '--bind', '127.0.0.1', '--save', "''", '--appendonly', 'no',
    '--dir', quote(dir), '--unixsocket', quote(srv.sock), '--unixsocketperm', '700',
    '--daemonize', 'no', '--logfile', quote(dir .. '/redis.log') }
  srv.port = free_port()
  args[#args + 1] = '--port ' .. srv.port
  if opts.tls then
    M.cert_dir = M.cert_dir or tmpdir()
    M.cert_files = M.cert_files or M.certs(M.cert_dir)
    srv.certs = M.cert_files
    local cert, key = srv.certs.cert, srv.certs.key
    if opts.tls == 'other' then cert, key = srv.certs.other_cert, srv.certs.other_key end
    srv.tls_port = free_port()
    args[#args + 1] = format('--tls-port %d --tls-cert-file %s --tls-key-file %s --tls-ca-cert-file %s '
      .. '--tls-auth-clients no', srv.tls_port, quote(cert), quote(key), quote(srv.certs.ca))
  end
  if opts.user then
    srv.admin = 'admin-' .. free_port()
    local function user(words)
      for i, w in ipairs(words) do words[i] = quote(w) end
      args[#args + 1] = '--user ' .. table.concat(words, ' ')
    end
    user({ 'default', 'off' })
    user({ opts.user[1], 'on', '>' .. opts.user[2], '~tokrun:*', '+@all' })
    user({ 'admin', 'on', '>' .. srv.admin, '~*', '&*', '+@all' })
  end
  local p = io.popen(table.concat(args, ' ') .. ' >/dev/null 2>&1 </dev/null & echo $!')
  srv.pid = tonumber(p:read('l'))
  p:close()
  assert(srv.pid, 'cannot start redis-server')
  started[srv] = true
  local deadline = socket.gettime() + START_TIMEOUT
  while socket.gettime() < deadline do
    local ok = pcall(Server.command, srv, { 'PING' })
    if ok then
      srv.url = format('redis://127.0.0.1:%d/0', srv.port)
      srv.unix_url = 'unix://' .. srv.sock
      srv.tls_url = srv.tls_port and format('rediss://127.0.0.1:%d/0', srv.tls_port)
      return srv
    end
    if not alive(srv.pid) then break end
    socket.sleep(0.02)
  end
  local f = io.open(dir .. '/redis.log')
  local log = f and f:read('a') or ''
  if f then f:close() end
  srv:stop()
  error('redis-server did not start:\n' .. log, 2)
end

function M.stop_all()
  for srv in pairs(started) do srv:stop() end
  if M.cert_dir then os.execute('rm -rf ' .. quote(M.cert_dir)) end
  M.cert_dir, M.cert_files = nil, nil
end

return M
