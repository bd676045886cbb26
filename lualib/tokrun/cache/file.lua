-- The local cache backend: one file per key in a private directory, an
-- flock per key for single flight.  The secrets in a key are an HMAC under
-- a random key kept 0600 in the directory.  The policy (what is fresh, who
-- mints) is tokrun.cache's; this is storage.
local errors = require 'tokrun.errors'
local hmac = require 'tokrun.hmac'
local sys = require 'tokrun.sys'

local string_format, concat = string.format, table.concat

local M = {}

-- Temporary files (.tokrun-*) a killed run left behind are removed once
-- older than this: an atomic write lasts milliseconds.
M.STALE_TMP = 600

local function config_error(fmt, ...)
  errors.raise('config', string_format(fmt, ...))
end

-- Creates path and any missing parent, each 0700 (as the XDG base
-- directory spec asks for $XDG_CACHE_HOME).
local function mkdirs(path)
  if sys.lstat(path) then return end
  local parent = path:match('^(.+)/[^/]+$')
  if parent then mkdirs(parent) end
  sys.mkdir(path, 448)   -- 0700; a race with another run is fine: lstat decides
end

-- A directory we may trust: real (lstat), ours, private.
local function check_dir(dir)
  mkdirs(dir)
  local st = sys.lstat(dir)
  if not st then config_error('cache directory %s cannot be created', dir) end
  if st.type ~= 'dir' then config_error('cache directory %s is not a directory (symlinks are refused)', dir) end
  if st.uid ~= sys.geteuid() then config_error('cache directory %s is not owned by this user', dir) end
  if st.mode & 63 ~= 0 then config_error('cache directory %s must be mode 0700, is %04o', dir, st.mode) end
end

-- M.dir(opt) -> the cache directory: opt (a path), else $XDG_CACHE_HOME/tokrun,
-- else ~/.cache/tokrun; created and checked.
function M.dir(opt)
  if type(opt) == 'string' then
    check_dir(opt)
    return opt
  end
  local base = os.getenv('XDG_CACHE_HOME')
  if not base or base:sub(1, 1) ~= '/' then
    local home = os.getenv('HOME')
    if not home then config_error('--cache: neither XDG_CACHE_HOME nor HOME is set') end
    base = home .. '/.cache'
  end
  local dir = base .. '/tokrun'
  check_dir(dir)
  return dir
end

-- A private file of ours, or nil (a foreign or odd file is not trusted).
local function read_private(path, max)
  local data, st = sys.read_file(path, max, true)
  if not data or st.uid ~= sys.geteuid() or st.mode & 63 ~= 0 then return nil end
  return data
end

local function secret_key(dir, timeout)
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

-- Removes the temporary files of ours that a killed run left (they may
-- hold a whole credential).
local function sweep(dir)
  local horizon = sys.now_ms() // 1000 - M.STALE_TMP
  for _, name in ipairs(sys.readdir(dir) or {}) do
    if name:sub(1, 8) == '.tokrun-' then
      local st = sys.lstat(dir .. '/' .. name)
      if st and st.type == 'file' and st.uid == sys.geteuid() and st.mtime < horizon then
        os.remove(dir .. '/' .. name)
      end
    end
  end
end

local File = {}
File.__index = File

-- b:name(parts, secret_lines) -> the entry's key (hex)
function File:name(parts, secret_lines)
  local all = { concat(parts, '\n'),
    'secrets=' .. hmac.hexdigest('sha256', secret_key(self.dir, self.timeout), concat(secret_lines, '\0')) }
  return hmac.hexhash('sha256', concat(all, '\n'))
end

-- b:get(key) -> stored text | nil
function File:get(key)
  return read_private(self.dir .. '/' .. key .. '.json', self.max_entry)
end

-- b:lock(key) -> lock | false when another run holds it
function File:lock(key)
  local lock, err, code = sys.lock(self.dir .. '/' .. key .. '.lock', 0)
  if lock then return lock end
  if code ~= nil and code ~= 11 then   -- not EWOULDBLOCK: the directory is unusable
    errors.raise('io', 'cannot lock the cache entry: ' .. err)
  end
  return false
end

function File.unlock(_, lock)
  lock:unlock()
end

-- b:put(key, text): written atomically, 0600; a failure is a warning.
function File:put(key, text)
  sweep(self.dir)
  local ok, err = sys.write_atomic(self.dir .. '/' .. key .. '.json', text, 384)
  if not ok then return nil, 'cannot write the cache ' .. err end
  return true
end

function File:drop(key)
  os.remove(self.dir .. '/' .. key .. '.json')
end

-- M.open(dir, opts, max_entry) -> backend (dir nil: the default directory)
function M.open(dir, opts, max_entry)
  return setmetatable({ dir = M.dir(dir), timeout = opts.timeout, max_entry = max_entry,
    poll = { 0.001, 0.016 }, label = 'file' }, File)
end

return M
