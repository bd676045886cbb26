-- tokrun as a Docker credential helper (the docker-credential-helpers
-- protocol), run through its installed link:
--
--   ~/.docker/config.json: { "credHelpers": { "registry.example.com": "tokrun" } }
--
-- docker runs `docker-credential-tokrun get|store|erase|list` with the
-- server URL (or, for store, a JSON credential) on stdin.  Which recipe
-- serves which registry comes from the docker.lua config (helper/config).
-- Errors are answered as the protocol says: the message on stdout, a
-- non-zero exit; an unknown registry is "credentials not found".
local errors = require 'tokrun.errors'
local helper = require 'tokrun.helper'
local json = require 'tokrun.json'

local M = {}

local type, pairs, ipairs = type, pairs, ipairs
local string_format = string.format

local NAME = 'docker-credential-tokrun'
M.NOT_FOUND = 'credentials not found in native keychain'

-- M.parse_server(text) -> host ("name[:port]"), server URL as sent |
-- nil, message.  One line (a trailing newline allowed): a host or an
-- http(s) URL without userinfo.
function M.parse_server(text)
  if #text > helper.MAX_LINE then return nil, 'the server URL is over ' .. helper.MAX_LINE .. ' bytes' end
  local url = text:gsub('\r?\n$', '', 1)
  if url == '' then return nil, 'no server URL on stdin' end
  if url:find('[%z\1-\31\127 ]') then return nil, 'the server URL holds a control character, a space or a newline' end
  local rest = url:match('^[hH][tT][tT][pP][sS]?://(.*)$') or url
  if rest:find('://', 1, true) then return nil, 'the server URL is not http(s)' end
  local authority = rest:match('^([^/?#]*)')
  if authority:find('@', 1, true) then return nil, 'the server URL has userinfo (user@host)' end
  local host, err = helper.host(authority)
  if not host then return nil, 'the server URL: ' .. err end
  return host, url
end

-- M.parse_store(text) -> {ServerURL, Username, Secret} | nil, message
function M.parse_store(text)
  if #text > helper.MAX_INPUT then return nil, 'the credential is too long' end
  local t = json.decode(text)
  if type(t) ~= 'table' or type(t.ServerURL) ~= 'string' then
    return nil, 'store expects a JSON object with ServerURL, Username and Secret'
  end
  for k in pairs(t) do
    if k ~= 'ServerURL' and k ~= 'Username' and k ~= 'Secret' then
      return nil, 'store: unknown key ' .. helper.show(k)
    end
  end
  local host, err = M.parse_server(t.ServerURL)
  if not host then return nil, err end
  return t
end

local function entry_for(opts, text)
  local host, url = M.parse_server(text)
  if not host then helper.bad_request(NAME, url) end
  local hosts = require('tokrun.helper.config').load('docker')
  local entry = hosts[host]
  if not entry then return nil, url, host end
  opts.params = entry.params
  return entry, url, host
end

local function not_found(host)
  io.stderr:write(string_format('tokrun: %s: no recipe is configured for %s (%s)\n', NAME, host,
    require('tokrun.helper.config').path('docker')))
  io.stdout:write(M.NOT_FOUND, '\n')
  return 1
end

local ACTIONS = { get = true, store = true, erase = true, list = true }

-- M.main(opts) -> exit status.  opts.args: the action.
function M.main(opts)
  opts.fail_answer = function(msg) return msg .. '\n' end
  local action = opts.args[1]
  if #opts.args ~= 1 or not ACTIONS[action] then
    errors.raise('usage', NAME .. ': expected get, store, erase or list')
  end
  if action == 'list' then
    local hosts = require('tokrun.helper.config').load('docker')
    local names, out = {}, {}
    for host, entry in pairs(hosts) do
      names[#names + 1] = host
      out[host] = entry.username or '<token>'
    end
    table.sort(names)
    io.stdout:write(json.encode(json.ordered(out, names)), '\n')
    return 0
  end
  local text, rerr = helper.read_input()
  if not text then helper.bad_request(NAME, rerr) end
  if action == 'store' then
    local ok, err = M.parse_store(text)
    if not ok then helper.bad_request(NAME, err) end
    return 0   -- tokrun mints the credential; it keeps nothing docker hands it
  end
  local entry, url, host = entry_for(opts, text)
  if not entry then
    if action == 'erase' then return 0 end
    return not_found(host)
  end
  local ctx = helper.prepare(opts, entry.recipe, NAME)
  if action == 'erase' then
    helper.forget(opts, ctx)
    return 0
  end
  local result = helper.obtain(opts, ctx)
  local username = entry.username or result.username or '<token>'
  for _, v in ipairs({ username, result.token }) do
    local ok = require('tokrun.output').check_text(v, false)
    if not ok then
      errors.raise('protocol', NAME .. ': the credential cannot be printed as JSON (NUL or invalid UTF-8)')
    end
  end
  io.stdout:write(json.encode(json.ordered({ ServerURL = url, Username = username, Secret = result.token },
    { 'ServerURL', 'Username', 'Secret' })), '\n')
  return result.deferred_code or 0
end

return M
