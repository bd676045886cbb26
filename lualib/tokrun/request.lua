-- Turning a recipe step into one HTTP request: URL templates, the ordered
-- query, headers, auth helpers, JSON or form bodies and HMAC signing.
-- Called afresh for every attempt, so a retried request is re-signed with
-- a fresh timestamp.
local codec = require 'tokrun.codec'
local hmac = require 'tokrun.hmac'
local json = require 'tokrun.json'
local errors = require 'tokrun.errors'
local template = require 'tokrun.template'

local M = {}

local pairs, ipairs, tostring, type = pairs, ipairs, tostring, type
local string_format = string.format

local function mark_array(t) return json.array(t) end

-- Placeholders in a URL: the one that starts it is the base URL, checked
-- whole; one that lands in the host accepts only [A-Za-z0-9.-]; anywhere
-- else the value is percent-encoded.
function M.url(tpl, vars, where)
  local host_end
  local url = template.string(tpl, vars, function(v, name, pos)
    if pos == 1 then
      if not v:match('^https?://[^/?#]+') then
        errors.raise('config', string_format("%s: '%s' must be an http:// or https:// URL, got '%s'", where, name, v))
      end
      return (v:gsub('/+$', ''))
    end
    host_end = host_end or (tpl:find('/', (tpl:find('://', 1, true) or -2) + 3, true) or #tpl + 1)
    if pos < host_end then
      if not v:match('^[A-Za-z0-9.-]+$') then
        errors.raise('config', string_format(
          "%s: '%s' forms part of a host name and may only hold letters, digits, '.' and '-'", where, name))
      end
      return v
    end
    return codec.pct(v)
  end)
  if url == nil then
    local missing = {}
    for name in template.names(tpl) do
      if template.get(vars, name) == nil then missing[#missing + 1] = name end
    end
    errors.raise('config', string_format('%s: the URL needs %s, which is not set', where, table.concat(missing, ', ')))
  end
  return url
end

-- Renders an ordered list of {name, value} pairs; pairs whose value is not
-- set drop out.
local function pairs_list(list, vars)
  local out = {}
  for _, kv in ipairs(list or {}) do
    local v = template.value(kv[2], vars)
    if v ~= nil then out[#out + 1] = { kv[1], template.filters.string(v) } end
  end
  return out
end

local function form_encode(list)
  local parts = {}
  for i, kv in ipairs(list) do parts[i] = codec.form(kv[1]) .. '=' .. codec.form(kv[2]) end
  return table.concat(parts, '&')
end

-- A header value holds no CR, LF or NUL (no header can be injected): one
-- that would is the fault of the value a placeholder brought in, named.
local function header_value(name, value, tpl, vars, where)
  if not value:find('[\r\n%z]') then return value end
  if type(tpl) == 'string' then
    for p in template.names(tpl) do
      local v = vars[p]
      if v ~= nil and template.filters.string(v):find('[\r\n%z]') then
        errors.raise('config', string_format("%s: parameter '%s' holds a CR, LF or NUL, which header %s cannot carry",
          where, p, name))
      end
    end
  end
  errors.raise('recipe', string_format('%s: header %s would hold a CR, LF or NUL', where, name))
end

local function apply_auth(auth, headers, vars, secrets, where)
  if not auth then return end
  if auth.basic then
    local user = template.value(auth.basic[1], vars)
    local pass = template.value(auth.basic[2], vars)
    if user and pass then
      headers['Authorization'] = 'Basic ' .. codec.base64(tostring(user) .. ':' .. tostring(pass))
      if secrets then secrets:add_basic(tostring(user), tostring(pass)) end
    end
  elseif auth.bearer then
    local t = template.value(auth.bearer, vars)
    if t then
      headers['Authorization'] = header_value('Authorization', 'Bearer ' .. tostring(t), auth.bearer, vars, where)
    end
  end
end

-- M.build(step, vars, where [, secrets]) -> request, string_to_sign
-- request = {method, url, query (pairs), headers, body}
function M.build(step, vars, where, secrets)
  -- one clock reading per attempt: a timestamp header and the signature
  -- over it must agree
  local t = vars.now_ms
  vars = setmetatable({ now_ms = t, now = t // 1000 }, { __index = vars })
  local req = {
    method = step.method or 'GET',
    url = M.url(step.url, vars, where),
    query = pairs_list(step.query, vars),
    headers = {},
  }
  for name, v in pairs(step.headers or {}) do
    local r = template.value(v, vars)
    if r ~= nil then req.headers[name] = header_value(name, template.filters.string(r), v, vars, where) end
  end
  apply_auth(step.auth, req.headers, vars, secrets, where)
  if step.json ~= nil then
    req.body = json.encode(template.value(step.json, vars, mark_array))
    req.headers['Content-Type'] = req.headers['Content-Type'] or 'application/json'
  elseif step.form then
    req.body = form_encode(pairs_list(step.form, vars))
    req.headers['Content-Type'] = req.headers['Content-Type'] or 'application/x-www-form-urlencoded'
  elseif step.body then
    req.body = template.value(step.body, vars)
  end
  if step.content_type then req.headers['Content-Type'] = step.content_type end
  if req.body then req.headers['Accept'] = req.headers['Accept'] or 'application/json' end

  local to_sign
  if step.sign then
    local s = step.sign
    local path = req.url:match('^https?://[^/]+(/[^?#]*)') or '/'
    local sv = setmetatable({ query = codec.query(req.query), method = req.method,
      path = path, body = req.body or '', url = req.url }, { __index = vars })
    to_sign = template.string(s.message, sv)
    local key = template.value(s.key, sv)
    if to_sign == nil or key == nil then
      errors.raise('config', where .. ': the signature needs a value that is not set')
    end
    local mac = hmac.digest(s.hmac, tostring(key), to_sign)
    local enc = s.encoding or 'hex'
    local sig = enc == 'hex' and codec.hex(mac) or enc == 'base64' and codec.base64(mac) or codec.base64url(mac)
    if s.into.query then req.query[#req.query + 1] = { s.into.query, sig } end
    if s.into.header then req.headers[s.into.header] = sig end
  end
  return req, to_sign
end

-- The full URL a request goes to, query included (what http.request sends).
function M.full_url(req)
  if #req.query == 0 then return req.url end
  return req.url .. (req.url:find('?', 1, true) and '&' or '?') .. codec.query(req.query)
end

return M
