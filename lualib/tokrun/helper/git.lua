-- tokrun as a git credential helper (gitcredentials(7)):
--
--   credential.helper = "!tokrun git-credential [OPTIONS] RECIPE"
--
-- git appends get, store or erase and writes key=value lines on stdin.
-- `get` answers username/password/password_expiry_utc, or, when git
-- announced capability[]=authtype (git 2.46+) and the token is a bearer
-- token, authtype=Bearer/credential/ephemeral; `erase` drops the cached
-- credential git rejected, so the next `get` mints a new one; `store` does
-- nothing (tokrun mints, it does not keep what git hands it).
local errors = require 'tokrun.errors'
local helper = require 'tokrun.helper'

local M = {}

local pairs, ipairs, type = pairs, ipairs, type
local string_format, concat = string.format, table.concat

local NAME = 'git-credential'

-- keys git sends (gitcredentials(7), git-credential(1)); true: may repeat
local KEYS = {
  protocol = false, host = false, path = false, username = false, password = false,
  password_expiry_utc = false, oauth_refresh_token = false, url = false,
  authtype = false, credential = false, ephemeral = false, continue = false, quit = false,
  ['wwwauth[]'] = true, ['capability[]'] = true, ['state[]'] = true,
}

-- protocol://[host]/path from a url= line; userinfo is refused.
local function parse_url(v)
  local protocol, rest = v:match('^(%a[%w+.-]*)://(.*)$')
  if not protocol then return nil, 'url= is not a URL with a scheme' end
  local authority, path = rest:match('^([^/?#]*)(.*)$')
  if authority:find('@', 1, true) then return nil, 'url= has userinfo (user@host); git sends username= instead' end
  local host, herr = helper.host(authority)
  if not host then return nil, 'url=: ' .. herr end
  path = path:gsub('^/', ''):gsub('[?#].*$', '')
  return protocol:lower(), host, path ~= '' and path or nil
end

-- M.parse(text) -> request {key = value, ['capability[]'] = {...}} | nil,
-- message.  Strict: every line is key=value with a key git defines, at
-- most MAX_LINE bytes, no NUL or CR; the request ends with a newline (a
-- blank line may end it early: nothing may follow); a key given twice, a
-- url= that disagrees with host=, or a host that is not a plain host name
-- is refused.
function M.parse(text)
  if #text > helper.MAX_INPUT then return nil, 'the request is too long' end
  if text:find('\0', 1, true) then return nil, 'the request holds a NUL byte' end
  if text:find('\r', 1, true) then return nil, 'the request holds a carriage return' end
  if text ~= '' and text:sub(-1) ~= '\n' then return nil, 'the request does not end with a newline' end
  local req, n = {}, 0
  local pos, ended = 1, false
  while pos <= #text do
    local eol = text:find('\n', pos, true)
    local line = text:sub(pos, eol - 1)
    pos = eol + 1
    n = n + 1
    if ended then return nil, string_format('line %d follows the blank line that ended the request', n) end
    if #line > helper.MAX_LINE then return nil, string_format('line %d is over %d bytes', n, helper.MAX_LINE) end
    if line == '' then
      ended = true
    else
      local key, value = line:match('^([^=]+)=(.*)$')
      if not key then return nil, string_format('line %d is not key=value', n) end
      local multi = KEYS[key]
      if multi == nil then return nil, string_format('line %d: unknown key %s', n, helper.show(key)) end
      if multi then
        req[key] = req[key] or {}
        req[key][#req[key] + 1] = value
      elseif req[key] ~= nil then
        return nil, string_format('line %d: %s given twice', n, key)
      else
        req[key] = value
      end
    end
  end
  if req.host then
    local host, err = helper.host(req.host)
    if not host then return nil, 'host=: ' .. err end
    req.host = host
  end
  if req.protocol and not req.protocol:match('^%a[%w+.-]*$') then return nil, 'protocol= is not a scheme' end
  if req.protocol then req.protocol = req.protocol:lower() end
  if req.url then
    local protocol, host, path = parse_url(req.url)
    if not protocol then return nil, host end
    for key, v in pairs({ protocol = protocol, host = host, path = path }) do
      if req[key] ~= nil and req[key] ~= v then return nil, string_format('url= and %s= disagree', key) end
      req[key] = v
    end
  end
  return req
end

local function has(list, value)
  for _, v in ipairs(list or {}) do if v == value then return true end end
  return false
end

local function bearer(result)
  return type(result.token_type) == 'string' and result.token_type:lower() == 'bearer'
end

-- M.answer(req, result, username) -> the lines `get` prints
function M.answer(req, result, username)
  local lines = {}
  local function add(key, v) lines[#lines + 1] = key .. '=' .. helper.line_value(NAME, key, v) end
  if has(req['capability[]'], 'authtype') and bearer(result) and not result.username then
    add('capability[]', 'authtype')
    add('authtype', 'Bearer')
    add('credential', result.token)
    add('ephemeral', 'true')
  else
    add('username', result.username or username or 'x-access-token')
    add('password', result.token)
  end
  if type(result.expires_epoch) == 'number' then
    add('password_expiry_utc', string_format('%d', result.expires_epoch))
  end
  return concat(lines, '\n') .. '\n'
end

-- The request must name a host git may send this credential to: never a
-- credential over plain http to another machine.
local function check_target(req)
  if not req.protocol or not req.host then
    helper.bad_request(NAME, 'get needs protocol= and host=')
  end
  if req.protocol ~= 'https' and not (req.protocol == 'http' and helper.loopback(req.host)) then
    errors.raise('config', string_format('%s: refusing to answer for %s://%s: a token goes over https only '
      .. '(plain http only to this machine)', NAME, req.protocol, req.host))
  end
end

-- -p username=NAME is the helper's own unless the recipe declares it
-- (looked at only when given).
local function take_username(opts, recipe_name)
  local kept, username = {}, nil
  for _, kv in ipairs(opts.params or {}) do
    local v = kv:match('^username=(.*)$')
    if v then username = v else kept[#kept + 1] = kv end
  end
  if username == nil then return end
  local recipe = require 'tokrun.recipe'
  local ok, decl = pcall(recipe.load, recipe.find(recipe_name) or recipe_name)
  for _, p in ipairs(ok and decl.params or {}) do
    if p.name == 'username' then return end
  end
  opts.params = kept
  return username
end

-- M.main(opts) -> exit status.  opts.args: RECIPE, ACTION.
function M.main(opts)
  local recipe, action = opts.args[1], opts.args[2]
  if #opts.args ~= 2 or not (action == 'get' or action == 'store' or action == 'erase') then
    errors.raise('usage', "git-credential: expected RECIPE get|store|erase (git appends the action); "
      .. "see 'tokrun --help'")
  end
  local text, rerr = helper.read_input()
  if not text then helper.bad_request(NAME, rerr) end
  local req, perr = M.parse(text)
  if not req then helper.bad_request(NAME, perr) end
  if action == 'store' then return 0 end
  local username = take_username(opts, recipe)
  local ctx = helper.prepare(opts, recipe, NAME)
  if action == 'erase' then
    helper.forget(opts, ctx, req.password or req.credential)
    return 0
  end
  check_target(req)
  local result = helper.obtain(opts, ctx)
  io.stdout:write(M.answer(req, result, username))
  return result.deferred_code or 0
end

return M
