-- The credential cache (docs/cli.md, Cache).  One file per key in a private
-- directory; the key covers the recipe (path and content), its non-secret
-- parameters, the TLS options, and an HMAC of the secrets under a random
-- key kept in the directory -- never the secrets themselves.  Concurrent
-- runs on one key serialise on an flock: one mints, the others reuse.
local errors = require 'tokrun.errors'
local hmac = require 'tokrun.hmac'
local json = require 'tokrun.json'
local params = require 'tokrun.params'
local sys = require 'tokrun.sys'

local M = {}

local pairs, ipairs, type, tostring = pairs, ipairs, type, tostring
local string_format, concat, sort = string.format, table.concat, table.sort

M.MAX_ENTRY = 256 * 1024

local function config_error(fmt, ...)
  errors.raise('config', string_format(fmt, ...))
end

-- A directory we may trust: real (lstat), ours, private.
local function check_dir(dir, create)
  local st = sys.lstat(dir)
  if not st and create then
    sys.mkdir(dir, 448)   -- 0700
    st = sys.lstat(dir)
  end
  if not st then config_error('cache directory %s cannot be created', dir) end
  if st.type ~= 'dir' then config_error('cache directory %s is not a directory (symlinks are refused)', dir) end
  if st.uid ~= sys.geteuid() then config_error('cache directory %s is not owned by this user', dir) end
  if st.mode & 63 ~= 0 then config_error('cache directory %s must be mode 0700, is %04o', dir, st.mode) end
end

function M.dir(opt)
  if type(opt) == 'string' then
    check_dir(opt, true)
    return opt
  end
  local base = os.getenv('XDG_CACHE_HOME')
  if not base or base:sub(1, 1) ~= '/' then
    local home = os.getenv('HOME')
    if not home then config_error('--cache: neither XDG_CACHE_HOME nor HOME is set') end
    base = home .. '/.cache'
    if not sys.lstat(base) then sys.mkdir(base, 448) end
  end
  local dir = base .. '/tokrun'
  check_dir(dir, true)
  return dir
end

-- A private file of ours, or nil (a foreign or odd file is not trusted).
local function read_private(path, max)
  local data, st = sys.read_file(path, max, true)
  if not data or st.uid ~= sys.geteuid() or st.mode & 63 ~= 0 then return nil end
  return data
end

local function hmac_key(dir, timeout)
  local path = dir .. '/key'
  local key = read_private(path, 64)
  if key and #key == 32 then return key end
  -- first use: concurrent runs must agree on one key
  local lock = sys.lock(dir .. '/key.lock', timeout)
  if not lock then errors.raise('locked', 'another run is creating the cache key in ' .. dir) end
  key = read_private(path, 64)
  if key and #key == 32 then lock:unlock(); return key end
  key = sys.random(32)
  local ok, err = sys.write_atomic(path, key, 384)
  lock:unlock()
  if not ok then errors.raise('io', 'cannot write the cache key ' .. err) end
  return key
end

-- M.key(ctx, opts, dir) -> hex key
function M.key(ctx, opts, dir)
  local decl = ctx.decl
  local parts = {
    'tokrun-cache-v1',
    'recipe=' .. (sys.realpath(ctx.path) or ctx.path),
    'content=' .. hmac.hexhash('sha256', ctx.source),
    'cacert=' .. tostring(opts.cacert), 'client_cert=' .. tostring(opts.client_cert),
    'client_key=' .. tostring(opts.client_key),
  }
  local secrets = {}
  for _, p in ipairs(decl.params or {}) do
    local v = ctx.values[p.name]
    local file = type(v) == 'table' and params.file_text(v)   -- a JSON key file: its text, a secret
    if type(v) == 'table' then v = file or concat(v, ',') end
    local line = p.name .. '=' .. (v == nil and '' or tostring(v))
    if p.secret or file then secrets[#secrets + 1] = line else parts[#parts + 1] = 'param:' .. line end
  end
  sort(secrets)
  parts[#parts + 1] = 'secrets=' .. hmac.hexdigest('sha256', hmac_key(dir, opts.timeout), concat(secrets, '\0'))
  return hmac.hexhash('sha256', concat(parts, '\n'))
end

-- An entry is used only when it has every field a delivery reads (a
-- corrupt or foreign file is ignored and replaced, never trusted) and is
-- the named recipe's.
local function fresh(entry, recipe, opts, now)
  if type(entry) ~= 'table' or entry.recipe ~= recipe or type(entry.token) ~= 'string'
    or type(entry.obtained_epoch) ~= 'number' or type(entry.env) ~= 'table'
    or type(entry.data) ~= 'table' or type(entry.obtained_at) ~= 'string' then
    return false
  end
  if type(entry.expires_epoch) == 'number' then
    return entry.expires_epoch - now > opts.min_ttl
  end
  return now - entry.obtained_epoch < opts.max_age
end

local function load_entry(path, recipe, opts)
  local data = read_private(path, M.MAX_ENTRY)
  local entry = data and json.decode(data)
  if fresh(entry, recipe, opts, sys.now_ms() // 1000) then
    entry.cached = true
    return entry
  end
end

local function store(path, result, secrets)
  local entry = {}
  for k, v in pairs(result) do
    if k ~= 'deferred' and k ~= 'lease' then entry[k] = v end
  end
  local ok, err = sys.write_atomic(path, json.encode(entry), 384)
  if not ok then io.stderr:write('tokrun: warning: cannot write the cache ', secrets:line(err), '\n') end
end

-- M.run(opts, ctx, mint, deliver) -> exit status.  A fresh entry is
-- delivered with "cached": true and no network; otherwise the lock holder
-- mints and stores, and the others wait for it (within --timeout).
function M.run(opts, ctx, mint, deliver)
  local dir = M.dir(opts.cache)
  local key = M.key(ctx, opts, dir)
  local path = dir .. '/' .. key .. '.json'
  local entry = load_entry(path, ctx.decl.name, opts)
  if entry then
    ctx.secrets:add(entry.token)
    return deliver(opts, ctx, entry)
  end
  local lock, err = sys.lock(dir .. '/' .. key .. '.lock', opts.timeout)
  if not lock then
    errors.raise('locked', string_format('%s: another run holds the cache lock (%s); gave up after %gs',
      ctx.decl.name, err, opts.timeout))
  end
  entry = load_entry(path, ctx.decl.name, opts)   -- minted while we waited?
  if entry then
    lock:unlock()
    ctx.secrets:add(entry.token)
    return deliver(opts, ctx, entry)
  end
  local ok, result = pcall(mint)
  if not ok then
    lock:unlock()
    error(result, 0)
  end
  store(path, result, ctx.secrets)
  lock:unlock()
  local code = deliver(opts, ctx, result)
  if result.deferred then
    io.stderr:write('tokrun: ', ctx.secrets:line(result.deferred.message), '\n')
    return code ~= 0 and code or errors.exit_code(result.deferred)
  end
  return code
end

return M
