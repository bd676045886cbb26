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
local string_format, math_tointeger, math_floor = string.format, math.tointeger, math.floor

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
local DEFAULT_FIELD = {}

-- HTTP statuses that are about the transport, whatever the body says: the
-- provider is busy (429) or failing (5xx).
local function transport_status(status)
  return status == 429 or status >= 500
end

-- M.status(step, resp, body) -> the status that counts: HTTP's for a 429
-- or a 5xx, else the body's own (`status_from`) when it has one, else HTTP's.
function M.status(step, resp, body)
  if step.status_from and not transport_status(resp.status) then
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
  local field = first(body, step.field_from or DEFAULT_FIELD)
  if code ~= nil then code = tostring(code) end
  if text ~= nil then text = tostring(text) end
  -- a busy or failing provider is that, whatever code its body carries:
  -- only a rule naming the HTTP status applies then
  local transport = transport_status(resp.status)
  local rule
  for _, rules in ipairs({ step.errors or {}, decl.errors or {} }) do
    for _, r in ipairs(rules) do
      if (r.status == nil and not transport or one_of(status, r.status) or one_of(resp.status, r.status))
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
  if field ~= nil then detail = detail .. ', field ' .. tostring(field) end
  local msg = string_format('%s: %s (%s)', where, rule and rule.report or KIND_TEXT[kind] or kind, detail)
  if text then msg = msg .. ': ' .. text end
  if body == nil and resp.body ~= '' then
    local ctype = resp.headers['content-type'] or 'unknown type'
    msg = msg .. string_format(' [body is not JSON: %s, %d bytes]', ctype, #resp.body)
  end
  if rule and rule.hint then msg = msg .. '; ' .. rule.hint end
  -- a rejection of a JWT's time claims carries the provider's clock, so
  -- the run can rebuild the JWT on it (engine.lua)
  local skew = rule and rule.clock_skew or nil
  return errors.new(kind, msg, { http_status = resp.status, provider_code = code,
    unavailable = kind == 'provider' and status >= 500 or nil,
    clock_skew = skew, server_date = skew and resp.headers.date or nil })
end

-- Conversions: value -> converted | nil, why.  nil alone: the value is not
-- of this kind (as a missing value); nil, why: it is, but unusable (a
-- protocol error naming the field, even for an optional capture).

-- Seconds since the epoch, whole, if a time within years 1..9999 (what
-- RFC 3339, and so expires_at, can write).
local function epoch(n)
  if type(n) ~= 'number' then return nil end
  if n ~= n or n < timefmt.MIN_EPOCH or n >= timefmt.MAX_EPOCH + 1 then
    return nil, string_format('%.17g is not a time within years 1..9999', n)
  end
  return math_tointeger(math_floor(n))
end

-- A number, or a string that is only one (JSON numbers and "123" alike).
local function number(v)
  if type(v) == 'number' then return v end
  if type(v) == 'string' and v:match('^%s*[-+]?%d+%.?%d*[eE]?[-+]?%d*%s*$') then return tonumber(v) end
  return nil
end

-- Whole numbers as a double holds them exactly; a fraction is floored
-- (an expires_in of 3599.9 is 3599 seconds).
local function integer(v)
  local n = number(v)
  if n == nil then return nil end
  if n ~= n or n >= 2 ^ 53 or n <= -2 ^ 53 then
    return nil, string_format('%.17g is out of range', n)
  end
  return math_tointeger(math_floor(n))
end

-- The expiry of a JWT (its exp claim, seconds) -> epoch | nil [, why].  A
-- token that is not header.payload.signature is not a JWT (nil); one whose
-- payload does not decode, or whose exp is not a plausible time in
-- seconds (milliseconds, negative, beyond year 9999), is unusable.
local function jwt_exp(token)
  if type(token) ~= 'string' then return nil end
  local payload = token:match('^[%w_-]+%.([^.]*)%.[^.]*$')
  if not payload then return nil end
  local raw = payload:match('^[%w_-]+$') and codec.unbase64url(payload)
  local claims = raw and json.decode(raw)
  if type(claims) ~= 'table' then return nil, 'the JWT payload is not a JSON object' end
  local exp = claims.exp
  if exp == nil or exp == json.null then return nil end
  local n = number(exp)
  if n == nil then return nil, string_format("the JWT claim 'exp' is not a number") end
  if n ~= n or n <= 0 or n > timefmt.MAX_EPOCH then
    return nil, string_format("the JWT claim 'exp' (%.17g) is not a plausible time in seconds", n)
  end
  return math_tointeger(math_floor(n))
end
M.jwt_exp = jwt_exp

local function time_of(parse)
  return function(v, off)
    if type(v) ~= 'string' then return nil end
    local t = parse(v, off)
    if t == nil then return nil, 'not a time in the declared format' end
    return epoch(t)
  end
end

local convert = {
  string = function(v) return type(v) ~= 'table' and tostring(v) or nil end,
  integer = integer,
  epoch_ms = function(v) local n = number(v); if n == nil then return nil end; return epoch(n / 1000) end,
  epoch_s = function(v) return epoch(number(v)) end,
  jwt_exp = jwt_exp,
  rfc3339 = time_of(timefmt.parse_rfc3339),
  datetime = time_of(timefmt.parse_datetime),
}

-- M.warn(secrets, message): one warning line on stderr, redacted.
function M.warn(secrets, msg)
  io.stderr:write('tokrun: warning: ', secrets and secrets:line(msg) or require('tokrun.redact').oneline(msg), '\n')
end

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
      local why
      v, why = convert[spec.as](v, off)
      if why then
        errors.raise('protocol', string_format("%s: the response's %s (expected %s) is unusable: %s",
          where, spec.path, spec.as, why))
      end
      local now = spec.as == 'jwt_exp' and v and vars.now
      if now and v < now then
        M.warn(secrets, string_format('%s: the token has already expired (its exp is %s, %d seconds ago)',
          where, timefmt.rfc3339(v), now - v))
      end
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
