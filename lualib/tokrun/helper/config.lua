-- Which recipe serves which host, for the Docker and Terraform helpers:
-- $XDG_CONFIG_HOME/tokrun/NAME.lua (else ~/.config/tokrun/NAME.lua), a
-- file that returns a table and nothing else:
--
--   return {
--     ['registry.example.com'] = { recipe = 'oauth2_client_credentials',
--       params = { scope = 'repository:app:pull' }, username = 'oauth2accesstoken' },
--   }
--
-- It runs in the recipe sandbox under the same bounds, and is then checked
-- as data: host names as keys, and per host only recipe (required),
-- params (name -> string, number or boolean; never a secret) and username.
local errors = require 'tokrun.errors'
local helper = require 'tokrun.helper'
local sys = require 'tokrun.sys'

local M = {}

local type, pairs, tostring, load, pcall = type, pairs, tostring, load, pcall
local string_format = string.format

M.MAX_SIZE = 256 * 1024
local FIELDS = { recipe = 'string', params = 'table', username = 'string' }
local PARAM_TYPES = { string = true, number = true, boolean = true }

local function fail(path, fmt, ...)
  errors.raise('config', path .. ': ' .. string_format(fmt, ...))
end

-- M.path(name) -> the config file's path
function M.path(name)
  local base = os.getenv('XDG_CONFIG_HOME')
  if not base or base:sub(1, 1) ~= '/' then
    local home = os.getenv('HOME')
    if not home then errors.raise('config', 'neither XDG_CONFIG_HOME nor HOME is set') end
    base = home .. '/.config'
  end
  return base .. '/tokrun/' .. name .. '.lua'
end

-- M.check(t, path) -> {host = {recipe, params = {"k=v", ...}, username}}
function M.check(t, path)
  if type(t) ~= 'table' then fail(path, 'must return a table, got %s', type(t)) end
  local out = {}
  for key, entry in pairs(t) do
    local host, herr = helper.host(key)
    if not host then fail(path, 'key %s: %s', helper.show(key), herr) end
    if out[host] then fail(path, 'host %s is listed twice', host) end
    if type(entry) ~= 'table' then fail(path, "%s: must be a table like { recipe = 'NAME' }", host) end
    for field, v in pairs(entry) do
      local want = FIELDS[field]
      if not want then
        fail(path, "%s: unknown field %s (expected recipe, params, username)", host, helper.show(field))
      end
      if type(v) ~= want then fail(path, "%s: field '%s' must be a %s, got %s", host, field, want, type(v)) end
    end
    if not entry.recipe then fail(path, "%s: missing field 'recipe'", host) end
    local params = {}
    for name, v in pairs(entry.params or {}) do
      if type(name) ~= 'string' or not name:match('^[%a_][%w_]*$') then
        fail(path, '%s: params: %s is not a parameter name', host, helper.show(name))
      end
      if not PARAM_TYPES[type(v)] then
        fail(path, "%s: params: '%s' must be a string, number or boolean, got %s", host, name, type(v))
      end
      params[#params + 1] = name .. '=' .. tostring(v)
    end
    table.sort(params)
    out[host] = { recipe = entry.recipe, params = params, username = entry.username }
  end
  return out
end

-- M.load(name) -> the checked table (empty when there is no file)
function M.load(name)
  local path = M.path(name)
  local st = sys.lstat(path)
  if not st then return {}, path end
  if st.type ~= 'file' then fail(path, 'is not a regular file') end
  if (st.uid ~= sys.geteuid() and st.uid ~= 0) or st.mode & 18 ~= 0 then   -- 022
    fail(path, 'must be owned by this user (or root) and not writable by others')
  end
  local src, err = sys.read_file(path, M.MAX_SIZE)
  if not src then fail(path, 'cannot be read: %s', err) end
  if src:byte(1) == 27 then fail(path, 'binary chunks are refused') end
  local recipe, sandbox = require 'tokrun.recipe', require 'tokrun.sandbox'
  local chunk, msg = load(src, '@' .. path, 't', sandbox.new())
  if not chunk then errors.raise('config', msg) end
  sys.set_memory_limit(sys.memory_used() + recipe.MAX_HEAP)
  local ok, t = pcall(function()
    local v = sandbox.bounded(path, recipe.LOAD_TIMEOUT, chunk)
    -- a plain copy: no metatable of the file's runs when it is read
    return type(v) == 'table' and sandbox.plain(v, 'the table', function(_, fmt, ...) fail(path, fmt, ...) end) or v
  end)
  sys.set_memory_limit(0)
  if not ok then errors.raise('config', errors.is(t) and t.message or tostring(t)) end
  return M.check(t, path), path
end

return M
