-- tokrun as a Terraform credentials helper, run through its installed
-- link (the plugin directory's terraform-credentials-tokrun):
--
--   credentials_helper "tokrun" {}
--
-- Terraform runs `terraform-credentials-tokrun [ARGS] get|store|forget
-- HOST`.  get answers {"token": ...} for a host the terraform.lua config
-- maps to a recipe, and {} for any other; store reads the credential
-- Terraform offers and keeps nothing (tokrun mints); forget drops the
-- cached credential.  Errors: a message on stderr, a non-zero exit.
local errors = require 'tokrun.errors'
local helper = require 'tokrun.helper'
local json = require 'tokrun.json'

local M = {}

local type, pairs = type, pairs

local NAME = 'terraform-credentials-tokrun'

-- M.parse_host(s) -> host | nil, message (Terraform sends a bare host
-- name, possibly with a port)
function M.parse_host(s)
  if type(s) ~= 'string' or #s > 255 then return nil, 'the host name is missing or too long' end
  return helper.host(s)
end

-- M.parse_store(text) -> the credential object | nil, message
function M.parse_store(text)
  if #text > helper.MAX_INPUT then return nil, 'the credential is too long' end
  local t = json.decode(text)
  if type(t) ~= 'table' or type(t.token) ~= 'string' then
    return nil, 'store expects a JSON object with a token'
  end
  for k in pairs(t) do
    if type(k) ~= 'string' then return nil, 'store expects a JSON object' end
  end
  return t
end

local ACTIONS = { get = true, store = true, forget = true }

-- M.main(opts) -> exit status.  opts.args: the action and HOST.
function M.main(opts)
  local action, arg = opts.args[1], opts.args[2]
  if #opts.args ~= 2 or not ACTIONS[action] then
    errors.raise('usage', NAME .. ': expected get|store|forget HOST')
  end
  local host, herr = M.parse_host(arg)
  if not host then helper.bad_request(NAME, herr) end
  if action == 'store' then
    local text, rerr = helper.read_input()
    if not text then helper.bad_request(NAME, rerr) end
    local ok, err = M.parse_store(text)
    if not ok then helper.bad_request(NAME, err) end
    return 0
  end
  local hosts = require('tokrun.helper.config').load('terraform')
  local entry = hosts[host]
  if not entry then
    if action == 'get' then io.stdout:write('{}\n') end
    return 0
  end
  opts.params = entry.params
  local ctx = helper.prepare(opts, entry.recipe, NAME)
  if action == 'forget' then
    helper.forget(opts, ctx)
    return 0
  end
  local result = helper.obtain(opts, ctx)
  if not require('tokrun.output').check_text(result.token, false) then
    errors.raise('protocol', NAME .. ': the credential cannot be printed as JSON (NUL or invalid UTF-8)')
  end
  io.stdout:write(json.encode({ token = result.token }), '\n')
  return result.deferred_code or 0
end

return M
