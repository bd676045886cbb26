-- The shared cache backend: Redis (or Valkey) for a whole fleet.  Nothing
-- stored is readable: key names are "tokrun:v1:" and an HMAC of the key
-- material under the shared cache key (TOKRUN_CACHE_KEY), values are
-- AES-256-GCM under a key derived from it, with the key name as associated
-- data.  Single flight is a lock key taken with SET NX PX and released by
-- compare-and-delete.  A failure to reach Redis raises an error marked
-- `cache_down`, on which tokrun.cache falls back (or fails).
local codec = require 'tokrun.codec'
local errors = require 'tokrun.errors'
local hmac = require 'tokrun.hmac'
local sys = require 'tokrun.sys'

local string_format, concat, tostring = string.format, table.concat, tostring
local math_floor, math_min = math.floor, math.min

local M = {}

M.TIMEOUT = 2   -- seconds, for connecting and for each command (within --timeout)

-- Deletes the lock only while it is still ours.
local UNLOCK = [[if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0]]
-- Stores a value only when it outlives the one there (PTTL -2: none).
local PUT = [[local t = redis.call('PTTL', KEYS[1])
if t == -2 or (t >= 0 and t < tonumber(ARGV[2])) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end return 0]]

-- M.parse(location) -> {scheme=, host=, port=, path=, db=, tls=, label=} | nil, message
-- redis://HOST[:PORT][/DB], rediss://..., unix:///path.sock[?db=N]
function M.parse(s)
  local scheme, rest = s:match('^(%a+)://(.*)$')
  if scheme == 'unix' then
    local path, db = rest:match('^(/[^?]+)%?db=(%d+)$')
    path = path or rest:match('^(/[^?]+)$')
    if not path then return nil, 'expected unix:///path/to/redis.sock[?db=N]' end
    return { scheme = scheme, path = path, db = tonumber(db) or 0, label = s }
  end
  if scheme ~= 'redis' and scheme ~= 'rediss' then return nil, 'expected redis://, rediss:// or unix://' end
  if rest:find('@', 1, true) then
    return nil, 'credentials do not go in the URL (argv is world-readable): '
      .. 'set TOKRUN_REDIS_USERNAME and TOKRUN_REDIS_PASSWORD (or _FILE)'
  end
  local host, port, db = rest:match('^%[([%x:]+)%]:?(%d*)/?(%d*)$')
  if not host then host, port, db = rest:match('^([%w%.%-]+):?(%d*)/?(%d*)$') end
  if not host then return nil, 'expected ' .. scheme .. '://HOST[:PORT][/DB]' end
  port = tonumber(port) or 6379
  if port < 1 or port > 65535 then return nil, 'port out of range' end
  return { scheme = scheme, host = host, port = port, db = tonumber(db) or 0, tls = scheme == 'rediss',
    label = string_format('%s://%s:%d/%d', scheme, host:find(':', 1, true) and '[' .. host .. ']' or host,
      port, tonumber(db) or 0) }
end

-- A value from NAME or the file named by NAME_FILE (trailing newline dropped).
local function env_or_file(name)
  local v = os.getenv(name)
  if v and v ~= '' then return v end
  local file = os.getenv(name .. '_FILE')
  if not file or file == '' then return nil end
  local data, err = sys.read_file(file, 4096)
  if not data then errors.raise('config', string_format('cannot read %s_FILE %s', name, err)) end
  return (data:gsub('\r?\n$', ''))
end

-- The shared cache key -> (key for names, key for values)
local function shared_keys()
  local b64 = env_or_file('TOKRUN_CACHE_KEY')
  if not b64 then
    errors.raise('config', 'a shared cache needs TOKRUN_CACHE_KEY (32 random bytes, base64; '
      .. 'or TOKRUN_CACHE_KEY_FILE), the same on every host: e.g. openssl rand -base64 32')
  end
  local key = codec.unbase64((b64:gsub('%s', '')))
  if not key or #key ~= 32 then
    errors.raise('config', 'TOKRUN_CACHE_KEY must be 32 bytes in base64 (openssl rand -base64 32)')
  end
  return hmac.digest('sha256', key, 'tokrun cache key names v1'),
    hmac.digest('sha256', key, 'tokrun cache values v1')
end

local Redis = {}
Redis.__index = Redis

local function down(self, err)
  local e = errors.new(err.kind == 'tls' and 'tls' or 'network',
    string_format('shared cache %s: %s', self.where.label, err.message), { cache_down = true })
  return e
end

-- How a command shows under -v: the command and key names; values are
-- lengths only.
local SHOWN = { SET = 2, GET = 2, DEL = 2, EVAL = 0, PING = 1, SELECT = 2, AUTH = 0 }
local function trace(argv)
  local shown = SHOWN[argv[1]] or 1
  local out = { argv[1] }
  if argv[1] == 'AUTH' then return 'AUTH <redacted>' end
  if argv[1] == 'EVAL' then
    out[2] = '<script>'
    for i = 3, 3 + (tonumber(argv[3]) or 0) do out[#out + 1] = argv[i] end
    if #argv > 3 + (tonumber(argv[3]) or 0) then out[#out + 1] = '<values redacted>' end
    return concat(out, ' ')
  end
  for i = 2, #argv do
    if i <= shown then out[i] = tostring(argv[i])
    elseif argv[1] == 'SET' and i >= 4 then out[i] = tostring(argv[i])
    else out[i] = string_format('<%d bytes>', #tostring(argv[i])) end
  end
  return concat(out, ' ')
end

-- self:call(argv) -> reply; raises cache_down when Redis cannot answer
function Redis:call(argv)
  local t = math.max(0.05, math_min(M.TIMEOUT, self.deadline - sys.monotonic()))
  if t < self.io_timeout then   -- never past --timeout
    self.conn:settimeout(t)
    self.io_timeout = t
  end
  if self.verbose then self.log('tokrun: redis: ' .. trace(argv)) end
  local reply, err = self.conn:command(argv)
  if reply == nil then error(down(self, err), 0) end
  return reply
end

function Redis:name(parts, secret_lines)
  local all = concat(parts, '\n') .. '\nsecrets=' .. hmac.hexdigest('sha256', self.name_key, concat(secret_lines, '\0'))
  return 'tokrun:v1:' .. hmac.hexdigest('sha256', self.name_key, all)
end

-- b:get(key) -> text | nil.  A value that does not open (another
-- TOKRUN_CACHE_KEY, tampering) is a miss with a warning.
function Redis:get(key)
  local sealed = self:call({ 'GET', key })
  if not sealed then
    self:check_key()
    return nil
  end
  local text = self.redis.open(self.value_key, key, sealed)
  if not text then
    self.warn(string_format('warning: shared cache %s: an entry does not decrypt with this '
      .. 'TOKRUN_CACHE_KEY (another key, or altered); minting a new one', self.where.label))
  end
  return text
end

-- On a miss, once per run: a record every host seals under its key tells
-- a host whose TOKRUN_CACHE_KEY differs from the fleet's (its entries,
-- named under another key, are never found).
local CHECK = 'tokrun:v1:key-check'
function Redis:check_key()
  if self.checked then return end
  self.checked = true
  local sealed = self:call({ 'GET', CHECK })
  if not sealed then
    self:call({ 'SET', CHECK, self.redis.seal(self.value_key, CHECK, 'tokrun cache key'), 'NX' })
  elseif not self.redis.open(self.value_key, CHECK, sealed) then
    self.warn(string_format('warning: shared cache %s: entries there were stored under another '
      .. 'TOKRUN_CACHE_KEY; this host cannot share them (minting its own)', self.where.label))
  end
end

function Redis:lock(key)
  local owner = codec.hex(sys.random(16))
  local ok = self:call({ 'SET', key .. ':lock', owner, 'NX', 'PX', tostring(self.lock_ms) })
  return ok and { key = key .. ':lock', owner = owner } or false
end

-- Never raises: a lock that cannot be released expires on its own.
function Redis:unlock(lock)
  pcall(self.call, self, { 'EVAL', UNLOCK, '1', lock.key, lock.owner })
end

-- b:put(key, text, ttl_ms) -> true | nil, message (never raises: the
-- credential is minted and will be delivered)
function Redis:put(key, text, ttl_ms)
  if ttl_ms < 1 then return true end
  local sealed = self.redis.seal(self.value_key, key, text)
  local ok, err = pcall(self.call, self, { 'EVAL', PUT, '1', key, sealed, tostring(math_floor(ttl_ms)) })
  if not ok then return nil, errors.wrap(err).message end
  return true
end

function Redis:drop(key)
  self:call({ 'DEL', key })
end

-- M.open(where, opts, ctx) -> backend; raises cache_down when Redis
-- cannot be reached, config when the shared key is missing.
function M.open(where, opts, ctx)
  local name_key, value_key = shared_keys()
  local redis = require 'tokrun.redis'
  local self = setmetatable({ where = where, redis = redis, name_key = name_key, value_key = value_key,
    verbose = ctx.verbose, log = ctx.log, lock_ms = math.max(1, math_floor(opts.timeout * 1000)),
    warn = function(line) io.stderr:write('tokrun: ', ctx.secrets:line(line), '\n') end,
    poll = { 0.01, 0.25 }, label = 'redis', shared = true }, Redis)
  local timeout = math.max(0.05, math_min(M.TIMEOUT, ctx.deadline - sys.monotonic()))
  self.deadline, self.io_timeout = ctx.deadline, timeout
  if self.verbose then self.log('tokrun: redis: connect ' .. where.label) end
  local conn, err = redis.connect { host = where.host, port = where.port, path = where.path,
    tls = where.tls, cacert = opts.cache_cacert, timeout = timeout }
  if not conn then error(down(self, err), 0) end
  self.conn = conn
  local user, password = env_or_file('TOKRUN_REDIS_USERNAME'), env_or_file('TOKRUN_REDIS_PASSWORD')
  if password then
    ctx.secrets:add(password)
    self:call(user and { 'AUTH', user, password } or { 'AUTH', password })
  end
  if where.db ~= 0 then self:call({ 'SELECT', tostring(where.db) }) end
  return self
end

return M
