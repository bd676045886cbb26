-- Reading a provider's answer by declaration: is it a success (`expect`,
-- `status_from`), which error kind if not (`errors` rules, then the HTTP
-- status), and what to keep (`capture`, with conversions).
local codec = require 'tokrun.codec'
local json = require 'tokrun.json'
local errors = require 'tokrun.errors'
local template = require 'tokrun.template'
local timefmt = require 'tokrun.timefmt'

local M = {}

local type, pairs, ipairs, tostring, tonumber = type, pairs, ipairs, tostring, tonumber
local string_format, math_tointeger = string.format, math.tointeger

-- M.path(value, "a.b.1.c") -> the value there | nil
function M.path(v, path)
  for seg in path:gmatch('[^.]+') do
    if type(v) ~= 'table' then return nil end
    local i = math_tointeger(tonumber(seg))
    local nv = v[seg]
    if nv == nil and i then nv = v[i] end
    v = nv
  end
  if v == json.null then return nil end
  return v
end

local function first(v, paths)
  if type(paths) == 'string' then paths = { paths } end
  for _, p in ipairs(paths) do
    local r = M.path(v, p)
    if r ~= nil and type(r) ~= 'table' then return r end
  end
end

local function one_of(v, want)
  if type(want) ~= 'table' then want = { want } end
  for _, w in ipairs(want) do
    if v == w or (v ~= nil and tostring(v) == tostring(w)) then return true end
  end
  return false
end

local DEFAULT_MESSAGE = { 'error_description', 'error.message', 'message', 'msg', 'error' }
local DEFAULT_CODE = { 'error.status', 'error.code', 'code', 'error' }

-- M.status(step, resp, body) -> the status that counts: the body's own
-- (`status_from`) when it has one, else HTTP's.
function M.status(step, resp, body)
  if step.status_from then
    local s = math_tointeger(tonumber(M.path(body, step.status_from)))
    if s then return s end
  end
  return resp.status
end

-- M.ok(step, status, body) -> boolean
function M.ok(step, status, body)
  local expect = step.expect or {}
  if expect.status then
    if not one_of(status, expect.status) then return false end
  elseif status < 200 or status > 299 then
    return false
  end
  for p, want in pairs(expect.body or {}) do
    if not one_of(M.path(body, p), want) then return false end
  end
  return true
end

local function default_kind(status)
  if status == 401 or status == 403 then return 'auth' end
  if status == 429 then return 'rate_limited' end
  return 'provider'
end

local KIND_TEXT = {
  auth = 'the provider rejected the credentials',
  config = 'the provider rejected the request',
  provider = 'the provider returned an error',
  rate_limited = 'rate limited by the provider',
  protocol = 'unexpected response',
}

-- M.failure(decl, step, resp, body, status, where) -> error object
function M.failure(decl, step, resp, body, status, where)
  local code = first(body, step.code_from or DEFAULT_CODE)
  local text = first(body, step.message_from or DEFAULT_MESSAGE)
  if code ~= nil then code = tostring(code) end
  if text ~= nil then text = tostring(text) end
  local rule
  for _, rules in ipairs({ step.errors or {}, decl.errors or {} }) do
    for _, r in ipairs(rules) do
      if (r.status == nil or one_of(status, r.status) or one_of(resp.status, r.status))
        and (r.code == nil or one_of(code, r.code))
        and (r.provider_message == nil or one_of(text, r.provider_message)) then
        rule = r
        break
      end
    end
    if rule then break end
  end
  local kind = rule and rule.kind or default_kind(status)
  if not rule and status >= 200 and status <= 299 then
    kind = 'protocol'   -- a 2xx that does not have the declared shape
  end
  local detail = 'HTTP ' .. resp.status
  if status ~= resp.status then detail = detail .. ', status ' .. status end
  if code and code ~= tostring(status) then detail = detail .. ', code ' .. code end
  local msg = string_format('%s: %s (%s)', where, rule and rule.report or KIND_TEXT[kind] or kind, detail)
  if text then msg = msg .. ': ' .. text end
  if body == nil and resp.body ~= '' then
    local ctype = resp.headers['content-type'] or 'unknown type'
    msg = msg .. string_format(' [body is not JSON: %s, %d bytes]', ctype, #resp.body)
  end
  if rule and rule.hint then msg = msg .. '; ' .. rule.hint end
  return errors.new(kind, msg, { http_status = resp.status, provider_code = code,
    unavailable = kind == 'provider' and status >= 500 or nil })
end

-- Seconds since the epoch, whole, if a time within years 1..9999 (what
-- RFC 3339, and so expires_at, can write); else nil, as a missing time.
local function epoch(n)
  if type(n) ~= 'number' or n ~= n then return nil end
  n = math.floor(n)
  if n < -62135596800 or n > 253402300799 then return nil end
  return math_tointeger(n)
end

local function jwt_exp(token)
  if type(token) ~= 'string' then return nil end
  local payload = token:match('^[%w_-]+%.([%w_-]+)%.[%w_-]*$')
  local raw = payload and codec.unbase64url(payload)
  local claims = raw and json.decode(raw)
  return type(claims) == 'table' and epoch(claims.exp) or nil
end
M.jwt_exp = jwt_exp

local convert = {
  string = function(v) return type(v) ~= 'table' and tostring(v) or nil end,
  integer = function(v) return math_tointeger(tonumber(v)) end,
  epoch_ms = function(v) local n = tonumber(v); return n and epoch(n / 1000) end,
  epoch_s = function(v) return epoch(tonumber(v)) end,
  jwt_exp = jwt_exp,
  rfc3339 = timefmt.parse_rfc3339,
  datetime = function(v, off) return timefmt.parse_datetime(v, off) end,
}

-- M.capture(step, body, vars, where, secrets) -> captured values (into
-- vars).  A missing field the recipe relies on is a protocol error (76).
-- Every usable value is kept before a missing one is reported, so a lease
-- id is known (and released) even when the password beside it is missing.
function M.capture(step, body, vars, where, secrets)
  local names, missing = {}, nil
  for name in pairs(step.capture or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local spec = step.capture[name]
    if type(spec) == 'string' then spec = { path = spec } end
    local v = M.path(body, spec.path)
    if v ~= nil and spec.match then
      v = type(v) == 'string' and v:match(spec.match) or nil
    end
    if v ~= nil and spec.as then
      local off = spec.utc_offset and template.value(spec.utc_offset, vars)
      if spec.as == 'datetime' and off ~= nil and timefmt.offset(off) == nil then
        errors.raise('config', string_format("%s: 'utc_offset' must be a UTC offset like +02:00, got '%s'",
          where, tostring(off)))
      end
      v = convert[spec.as](v, off)
    end
    if v == nil and not spec.optional then
      missing = (missing and missing .. ', ' or '') .. string_format('%s (%s)', spec.path,
        spec.as and ('expected ' .. spec.as) or 'missing')
    end
    if spec.secret and v ~= nil and secrets then secrets:add(tostring(v)) end
    vars[name] = v
  end
  if missing then errors.raise('protocol', string_format('%s: the response has no usable %s', where, missing)) end
end

return M
