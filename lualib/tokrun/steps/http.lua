-- The http step kind: build the request (afresh, re-signed, for every
-- attempt), send it within the run's deadline, re-send it only as its
-- `resend` policy allows, then read the answer by declaration.
local errors = require 'tokrun.errors'
local json = require 'tokrun.json'
local request = require 'tokrun.request'
local response = require 'tokrun.response'
local trace = require 'tokrun.trace'
local transport = require 'tokrun.transport'
local url = require 'tokrun.url'
local sys = require 'tokrun.sys'

local pairs, type, tonumber, pcall, error, next = pairs, type, tonumber, pcall, error, next
local string_format, random, min, max = string.format, math.random, math.min, math.max

local BACKOFF_BASE = 0.25   -- seconds; doubles per attempt, full jitter
local BACKOFF_CAP = 8

-- a transport failure's kind -> the error kind (proxy: a 407 or a refused CONNECT)
local TRANSPORT_KIND = { connect = 'network', dns = 'network', dropped = 'network',
  timeout = 'timeout', tls = 'tls', too_large = 'protocol', protocol = 'protocol', proxy = 'network' }

-- How a request may be re-sent once it may have reached the server:
--   safe        after any failure, a 500 or a lost answer included (minting again is harmless)
--   idempotent  after a timeout, a dropped connection, 502 or 504 (GET, HEAD, PUT, DELETE, OPTIONS)
--   unprocessed only when the server said it did not act on it: 429, 503 (POST, PATCH)
--   never       never: once it reached the server, any answer is final (a rotation)
-- A request that never reached the server (connect, DNS) is always re-sent.
local DEFAULT_RESEND = { GET = 'idempotent', HEAD = 'idempotent', PUT = 'idempotent',
  DELETE = 'idempotent', OPTIONS = 'idempotent' }
local REPEATABLE = { safe = true, idempotent = true }

local function resend_policy(step)
  return step.resend or DEFAULT_RESEND[step.method or 'GET'] or 'unprocessed'
end

-- should_retry(policy, resp, err) -> retry, wait floor (Retry-After)
local function should_retry(policy, resp, err)
  if err then
    return err.kind == 'connect' or err.kind == 'dns'
      or (REPEATABLE[policy] and (err.kind == 'timeout' or err.kind == 'dropped'))
  end
  local status = resp.status
  if status == 429 or status == 503 then
    local after = resp.headers['retry-after']
    return policy ~= 'never', after and tonumber(after:match('^%s*(%d+)%s*$'))
  end
  if status == 502 or status == 504 then return REPEATABLE[policy] or false end
  if status == 500 then return policy == 'safe' end
  return false
end

-- Waits before attempt n+1; false when the deadline does not allow it.
local function backoff(ctx, attempt, floor)
  local wait = max(random() * min(BACKOFF_CAP, BACKOFF_BASE * 2 ^ (attempt - 1)), floor or 0)
  if wait >= ctx.deadline - sys.monotonic() then return false end
  trace.note(ctx, '* retrying in %.2fs', wait)
  sys.sleep(wait)
  return true
end

local PARSERS = { json = json.decode,
  xml = function(body) return require('tokrun.xml').decode(body) end }

-- The final answer of a step: success or the error it declares, captures.
local function read_answer(ctx, step, resp, vars, where)
  local parse = PARSERS[step.parse or 'json']
  local body = resp.body ~= '' and parse(resp.body) or nil
  local status = response.status(step, resp, body)
  if not response.ok(step, status, body) then
    local failure = response.failure(ctx.decl, step, resp, body, status, where)
    failure.server_date = resp.headers.date
    error(failure, 0)
  end
  if body == nil and resp.body ~= '' and next(step.capture or {}) then   -- a 2xx we cannot read
    local _, why = parse(resp.body)
    errors.raise('protocol', string_format('%s: the response (HTTP %d) is not %s [%s, %d bytes]%s', where,
      resp.status, (step.parse or 'json'):upper(), resp.headers['content-type'] or 'unknown type', #resp.body,
      step.parse == 'xml' and why and (': ' .. why) or ''), { http_status = resp.status })
  end
  response.capture(step, body, vars, where, ctx.secrets)
end

local function captures_secret(step)
  for _, spec in pairs(step.capture or {}) do
    if type(spec) == 'table' and spec.secret then return true end
  end
  return false
end

return function(ctx, step, vars, where)
  local policy = resend_policy(step)
  local attempts = 1 + (step.retries or ctx.retries)
  local req, resp, err, to_sign, shown
  for attempt = 1, attempts do
    req, to_sign = request.build(step, vars, where, ctx.secrets)
    if ctx.dry_run then
      transport.check(ctx, step, req, where)
      ctx.out('# ' .. where)
      trace.request(ctx.secrets, ctx.out, req, '')
      if to_sign then ctx.out('string-to-sign: ' .. to_sign) end
      return
    end
    resp, err = transport.exchange(ctx, step, req, where)
    local retry, floor = should_retry(policy, resp, err)
    if not retry or attempt == attempts then break end
    if resp then trace.response(ctx, resp) end
    shown = resp
    if not backoff(ctx, attempt, floor) then break end
  end
  if err then
    local msg = string_format('%s: %s', where, err.message)
    if err.kind == 'tls' then
      local u = url.parse(req.url)
      msg = string_format('%s (host %s)', msg, u and u.host or req.url)
    end
    errors.raise(TRANSPORT_KIND[err.kind] or 'network', msg)
  end
  -- The answer is traced after its captures are known secrets, so a token
  -- inside a message ("New token for X is T") is redacted too.
  local ok, failure = pcall(read_answer, ctx, step, resp, vars, where)
  if resp ~= shown then
    -- an answer that could not be read (cut short, not JSON) may hold the
    -- credential uncaptured, so unknown to the redactor: not traced
    local unread = not ok and errors.is(failure) and failure.kind == 'protocol' and captures_secret(step)
    trace.response(ctx, resp, unread and 'body not shown: it could not be read and may hold the credential')
  end
  if not ok then
    -- an answer missing a captured field still had a status: report it
    if errors.is(failure) and failure.http_status == nil then failure.http_status = resp.status end
    error(failure, 0)
  end
end
