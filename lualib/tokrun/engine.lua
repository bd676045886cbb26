-- Running a recipe: parameters in, steps in order (each request rebuilt and
-- re-signed on every attempt, retried by policy within the run's deadline),
-- captures into vars, and the result out.  Leases taken by a step are
-- released again when the run fails before delivering them.
local errors = require 'tokrun.errors'
local json = require 'tokrun.json'
local request = require 'tokrun.request'
local response = require 'tokrun.response'
local template = require 'tokrun.template'
local timefmt = require 'tokrun.timefmt'
local sys = require 'tokrun.sys'

local M = {}

local type, pairs, ipairs, tostring, tonumber, pcall, error =
  type, pairs, ipairs, tostring, tonumber, pcall, error
local string_format, concat, sort = string.format, table.concat, table.sort
local random, min, max = math.random, math.min, math.max

M.BACKOFF_BASE = 0.25   -- seconds; doubles per attempt, full jitter
M.BACKOFF_CAP = 8
M.MAX_REDIRECTS = 5
M.MAX_OUTPUT = 1024 * 1024

local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }
local REDIRECT = { [301] = true, [302] = true, [303] = true, [307] = true, [308] = true }
local TRANSPORT_KIND = { connect = 'network', dns = 'network', dropped = 'network',
  timeout = 'timeout', tls = 'tls', too_large = 'protocol', protocol = 'protocol' }

local function remaining(ctx) return ctx.deadline - sys.monotonic() end

local function trace(ctx, fmt, ...)
  if ctx.verbose then ctx.log(string_format(fmt, ...)) end
end

-- The vars templates see: builtins, then captures and derived values, then
-- parameters.
local function new_vars(ctx)
  local values, decl = ctx.values, ctx.decl
  local vars = setmetatable({}, { __index = function(_, k)
    if k == 'now_ms' then return ctx.now_ms() end
    if k == 'now' then return ctx.now_ms() // 1000 end
    if k == 'recipe' then return decl.name end
    if k == 'use' then return ctx.use end
    return values[k]
  end })
  local names = {}
  for name in pairs(decl.derive or {}) do names[#names + 1] = name end
  sort(names)
  for _, name in ipairs(names) do
    local d = decl.derive[name]
    if type(d) == 'table' then   -- alternatives: the first that is set
      for _, alt in ipairs(d) do
        local v = template.value(alt, vars)
        if v ~= nil then vars[name] = v; break end
      end
      if vars[name] == nil and d.missing then   -- the recipe says how to set one
        errors.raise('config', string_format('%s: %s is not set: %s', decl.name, name, d.missing))
      end
    else
      vars[name] = template.value(d, vars)
    end
  end
  return vars
end

local function loopback(host)
  return host == '127.0.0.1' or host == 'localhost' or host == '[::1]' or host:match('^127%.%d+%.%d+%.%d+$')
end

local function url_parts(url)
  local scheme, host, port = url:match('^(https?)://([^/?#:]+):?(%d*)')
  if host and host:sub(1, 1) == '[' then host = url:match('^https?://(%[[^%]]+%])') end
  return scheme, host, port
end

-- Secrets never travel over plain http, except to this machine.
local function check_transport(ctx, req, where)
  local scheme, host = url_parts(req.url)
  if scheme ~= 'http' or loopback(host) then return end
  local probe = req.url .. '\n' .. json.encode(req.headers) .. '\n' .. (req.body or '')
  for _, kv in ipairs(req.query) do probe = probe .. '\n' .. kv[2] end
  if ctx.secrets:apply(probe) ~= probe then
    errors.raise('config', string_format('%s: refusing to send secrets over plain http:// to %s; use https://',
      where, host))
  end
end

local function show_request(ctx, emit, req, heading)
  emit(heading .. req.method .. ' ' .. request.full_url(req))
  local names = {}
  for name in pairs(req.headers) do names[#names + 1] = name end
  sort(names)
  local headers = ctx.secrets:headers(req.headers)
  for _, name in ipairs(names) do emit(string_format('%s%s: %s', heading, name, headers[name])) end
  if req.body then emit(heading .. ctx.secrets:json_text(req.body)) end
end

-- withhold: say this instead of tracing the body
local function show_response(ctx, resp, withhold)
  trace(ctx, '< HTTP %d (%d bytes, %.3fs)', resp.status, #resp.body, resp.time or 0)
  local names = {}
  for name in pairs(resp.headers) do names[#names + 1] = name end
  sort(names)
  local headers = ctx.secrets:headers(resp.headers)
  for _, name in ipairs(names) do trace(ctx, '< %s: %s', name, headers[name]) end
  if resp.body ~= '' then
    if withhold then trace(ctx, '< [%s]', withhold) else trace(ctx, '< %s', ctx.secrets:json_text(resp.body)) end
  end
end

local function captures_secret(step)
  for _, spec in pairs(step.capture or {}) do
    if type(spec) == 'table' and spec.secret then return true end
  end
  return false
end

local function origin(url)
  local scheme, host, port = url_parts(url)
  if port == '' then port = scheme == 'https' and '443' or '80' end
  return scheme .. '://' .. host:lower() .. ':' .. port
end

-- Headers that must not follow a request to another origin.
local function strip_secret_headers(ctx, headers)
  local out = {}
  for name, v in pairs(headers) do
    local l = name:lower()
    local sensitive = l == 'authorization' or l == 'proxy-authorization' or l == 'cookie'
      or l:find('key', 1, true) or l:find('token', 1, true) or l:find('secret', 1, true)
      or ctx.secrets:apply(v) ~= v
    if not sensitive then out[name] = v end
  end
  return out
end

-- One exchange, following redirects one hop at a time when the step allows.
local function exchange(ctx, step, req, where)
  local http = require 'tokrun.http'
  local hops = step.follow_redirects == true and M.MAX_REDIRECTS or tonumber(step.follow_redirects) or 0
  local cur = req
  for hop = 0, hops do
    local left = remaining(ctx)
    if left <= 0 then return nil, { kind = 'timeout', message = 'the run ran out of time (--timeout)' } end
    if ctx.verbose then show_request(ctx, ctx.log, cur, hop == 0 and '> ' or '> (redirect) ') end
    local resp, err = http.request {
      method = cur.method, url = cur.url, query = cur.query, headers = cur.headers,
      body = cur.body, timeout = min(left, step.timeout or left),
      connect_timeout = min(left, 10), max_body = step.max_body,
      cacert = ctx.tls.cacert, insecure = ctx.tls.insecure,
      client_cert = ctx.tls.client_cert, client_key = ctx.tls.client_key,
    }
    if err then return nil, err end
    local location = resp.headers.location
    if not REDIRECT[resp.status] or not location or hops == 0 then return resp end
    if hop == hops then
      errors.raise('protocol', string_format(
        '%s: stopped after %d redirects (the most a step follows); the last was to %s', where, hops, location),
        { http_status = resp.status })
    end
    if ctx.verbose then show_response(ctx, resp) end   -- the caller shows the final answer
    local from = request.full_url(cur)
    if location:sub(1, 1) == '/' then location = from:match('^https?://[^/?#]+') .. location end
    if not location:match('^https?://') then
      errors.raise('protocol', string_format('%s: cannot follow a redirect to %s', where, location))
    end
    if from:match('^https:') and location:match('^http:') then
      errors.raise('protocol', string_format('%s: refusing a redirect from https to plain http (%s)', where, location))
    end
    local nxt = { method = cur.method, url = location, query = {}, headers = cur.headers, body = cur.body }
    if resp.status == 303 then nxt.method, nxt.body = 'GET', nil end
    if origin(location) ~= origin(from) then
      if nxt.method ~= 'GET' or nxt.body then
        errors.raise('protocol', string_format('%s: refusing a cross-origin redirect of a %s with a body to %s',
          where, cur.method, origin(location)))
      end
      nxt.headers = strip_secret_headers(ctx, cur.headers)
    end
    cur = nxt
  end
end

local function retry_after(resp)
  local v = resp and resp.headers['retry-after']
  return v and tonumber(v:match('^%s*(%d+)%s*$'))
end

-- Waits before attempt n+1; false when the deadline does not allow it.
local function backoff(ctx, attempt, floor)
  local wait = random() * min(M.BACKOFF_CAP, M.BACKOFF_BASE * 2 ^ (attempt - 1))
  wait = max(wait, floor or 0)
  if wait >= remaining(ctx) then return false end
  trace(ctx, '* retrying in %.2fs', wait)
  sys.sleep(wait)
  return true
end

-- The final answer of a step: success or the error it declares, captures.
-- The answer's body as a table: JSON, or XML with `parse = 'xml'`.
local function decode_body(step, body)
  if body == '' then return nil end
  if step.parse == 'xml' then return require('tokrun.xml').decode(body, step.max_body) end
  return json.decode(body)
end

local function read_answer(ctx, step, resp, vars, where)
  local body = decode_body(step, resp.body)
  local status = response.status(step, resp, body)
  if not response.ok(step, status, body) then
    error(response.failure(ctx.decl, step, resp, body, status, where), 0)
  end
  if body == nil and resp.body ~= '' and next(step.capture or {}) then   -- a 2xx we cannot read
    local _, why = decode_body(step, resp.body)
    errors.raise('protocol', string_format('%s: the response (HTTP %d) is not %s [%s, %d bytes]%s', where,
      resp.status, step.parse == 'xml' and 'XML' or 'JSON', resp.headers['content-type'] or 'unknown type',
      #resp.body, step.parse == 'xml' and why and (': ' .. why) or ''), { http_status = resp.status })
  end
  response.capture(step, body, vars, where, ctx.secrets)
end

local function http_step(ctx, step, vars, where)
  local method = step.method or 'GET'
  -- never_resend: once the request reached the server, any answer is final
  -- (a rotation whose old token dies at once), even a 429 or 503
  local once = step.never_resend
  local repeatable = (IDEMPOTENT[method] or step.safe_to_repeat) and not once
  local attempts = 1 + (step.retries or ctx.retries)
  local req, resp, err, to_sign, shown
  for attempt = 1, attempts do
    req, to_sign = request.build(step, vars, where, ctx.secrets)
    check_transport(ctx, req, where)
    if ctx.dry_run then
      ctx.out('# ' .. where)
      show_request(ctx, ctx.out, req, '')
      if to_sign then ctx.out('string-to-sign: ' .. to_sign) end
      return
    end
    resp, err = exchange(ctx, step, req, where)
    local retry, floor = false, nil
    if err then
      retry = err.kind == 'connect' or err.kind == 'dns'
        or (repeatable and (err.kind == 'timeout' or err.kind == 'dropped'))
    elseif resp.status == 429 or resp.status == 503 then
      retry, floor = not once, retry_after(resp)
    elseif resp.status == 502 or resp.status == 504 then
      retry = repeatable
    elseif resp.status == 500 then   -- a POST declared safe to repeat: minting again is harmless
      retry = step.safe_to_repeat and not once
    end
    if not retry or attempt == attempts then break end
    if ctx.verbose and resp then show_response(ctx, resp) end
    shown = resp
    if not backoff(ctx, attempt, floor) then break end
  end
  if err then
    local msg = string_format('%s: %s', where, err.message)
    if err.kind == 'tls' then msg = string_format('%s (host %s)', msg, select(2, url_parts(req.url))) end
    errors.raise(TRANSPORT_KIND[err.kind] or 'network', msg)
  end
  -- The answer is traced after its captures are known secrets, so a token
  -- inside a message ("New token for X is T") is redacted too.
  local ok, failure = pcall(read_answer, ctx, step, resp, vars, where)
  if ctx.verbose and resp ~= shown then
    -- an answer that could not be read (cut short, not JSON) may hold the
    -- credential uncaptured, so unknown to the redactor: not traced
    local unread = not ok and errors.is(failure) and failure.kind == 'protocol' and captures_secret(step)
    show_response(ctx, resp, unread and 'body not shown: it could not be read and may hold the credential')
  end
  if not ok then
    -- an answer missing a captured field still had a status: report it
    if errors.is(failure) and failure.http_status == nil then failure.http_status = resp.status end
    error(failure, 0)
  end
end

-- argv items are templates or groups like {"-n", "{name}"} that drop out
-- whole when a value is not set.
local function render_argv(step, vars, where)
  local argv = {}
  for _, item in ipairs(step.run.argv or step.run) do
    if type(item) == 'table' then
      local group = {}
      for _, a in ipairs(item) do
        local v = template.value(a, vars)
        if v == nil then group = nil; break end
        group[#group + 1] = template.filters.string(v)
      end
      for _, a in ipairs(group or {}) do argv[#argv + 1] = a end
    else
      local v = template.value(item, vars)
      if v == nil then
        errors.raise('config', string_format('%s: the command needs %s, which is not set', where, item))
      end
      argv[#argv + 1] = template.filters.string(v)
    end
  end
  return argv
end

local function process_step(ctx, step, vars, where)
  local argv = render_argv(step, vars, where)
  local cmdline = ctx.secrets:apply(concat(argv, ' '))
  if ctx.dry_run then ctx.out('# ' .. where); ctx.out('$ ' .. cmdline); return end
  trace(ctx, '$ %s', cmdline)
  local process = require 'tokrun.process'
  local res, err = process.run { argv = argv, timeout = min(remaining(ctx), step.timeout or 60),
    max_output = M.MAX_OUTPUT }
  if not res then
    local kind = err.kind == 'not_found' and 'config' or err.kind == 'timeout' and 'timeout'
      or err.kind == 'too_large' and 'protocol' or 'internal'
    errors.raise(kind, string_format("%s: cannot run '%s': %s", where, argv[1], err.message))
  end
  trace(ctx, '$ exit %d', res.status)
  if res.status ~= 0 then
    local line = res.stderr:match('[^\r\n]*%S[^\r\n]*') or res.stdout:match('[^\r\n]*%S[^\r\n]*') or ''
    errors.raise('provider', string_format("%s: '%s' failed with status %d: %s", where, argv[1], res.status, line),
      { unavailable = true })
  end
  local body = { stdout = res.stdout }
  if step.parse == 'table' then
    local rows, msg = require('tokrun.texttable').parse(res.stdout)
    if not rows then
      errors.raise('protocol', string_format("%s: cannot read the output of '%s': %s", where, argv[1], msg))
    end
    body.rows = rows
  elseif step.parse == 'json' then
    body = json.decode(res.stdout)
    if body == nil then errors.raise('protocol', where .. ': the command did not print JSON') end
  end
  response.capture(step, body, vars, where, ctx.secrets)
end

local SIGNAL_NAMES = { [1] = 'SIGHUP', [2] = 'SIGINT', [15] = 'SIGTERM' }

-- A termination signal deferred while a lease recipe runs ends the run at
-- the next step boundary; the failure path then releases the lease.
local function check_interrupted(ctx)
  local sig = sys.caught_signal()
  if sig then
    errors.raise('timeout', string_format('%s: interrupted by %s', ctx.decl.name, SIGNAL_NAMES[sig] or sig),
      { signal = sig })
  end
end

local function run_step(ctx, step, vars)
  local where = string_format('%s: step %s', ctx.decl.name, step.name)
  if type(step.when) == 'table' then   -- {name = value, ...}: every one equal
    for name, want in pairs(step.when) do
      if vars[name] == nil or tostring(vars[name]) ~= tostring(want) then return end
    end
  elseif step.when ~= nil then
    local w = template.value(step.when, vars)
    if w == nil or w == false or w == 'false' or w == '' then return end
  end
  if ctx.dry_run then   -- later steps see what this one would capture
    for name in pairs(step.capture or {}) do vars[name] = '<' .. name .. '>' end
  end
  if step.run then return process_step(ctx, step, vars, where) end
  return http_step(ctx, step, vars, where)
end

local function ttl_seconds(ttl, vars)
  if type(ttl) == 'table' then
    local unit = ttl.seconds and 1 or ttl.minutes and 60 or ttl.hours and 3600
    local v = tonumber(template.value(ttl.seconds or ttl.minutes or ttl.hours, vars))
    return v and unit and v * unit
  end
  return tonumber(template.value(ttl, vars))
end

-- emit words copied to the result as strings: name -> secret
M.NAMED = { username = false, access_key_id = false, secret_access_key = true, session_token = true }

local function emit(ctx, vars)
  local e, decl = ctx.decl.emit, ctx.decl
  local where = decl.name .. ': emit'
  local token = template.value(e.token, vars)
  if token == nil or token == '' then errors.raise('protocol', where .. ': the provider returned no token') end
  if type(token) == 'table' then errors.raise('protocol', where .. ': the token is not a string') end
  token = template.filters.string(token)
  ctx.secrets:add(token)
  local obtained = ctx.now_ms() // 1000
  local expires = e.expires_at and template.value(e.expires_at, vars)
  if type(expires) ~= 'number' and e.ttl ~= nil then
    local ttl = ttl_seconds(e.ttl, vars)
    expires = ttl and obtained + math.floor(ttl)
  end
  if type(expires) ~= 'number' then expires = nil end
  local data = e.data and template.value(e.data, vars, json.array) or {}
  local env = {}
  for name, v in pairs(e.env or { TOKRUN_TOKEN = '{token}', TOKRUN_EXPIRES_AT = '{expires_at}' }) do
    env[name] = template.value(v, setmetatable({ token = token,
      expires_at = expires and timefmt.rfc3339(expires) }, { __index = vars }))
  end
  local lease = decl.release and vars[decl.release.lease]
  local result = {
    recipe = decl.name, ok = true, token = token,
    token_type = template.value(e.token_type, vars) or json.null,
    expires_at = expires and timefmt.rfc3339(expires) or json.null,
    obtained_at = timefmt.rfc3339(obtained), cached = false, data = data,
    -- not printed in the JSON envelope:
    expires_epoch = expires, obtained_epoch = obtained, env = env,
    lease = lease and tostring(lease),
  }
  -- named fields the helper formats read (git's username, AWS keys)
  for name, secret in pairs(M.NAMED) do
    local v = e[name] ~= nil and template.value(e[name], vars)
    if v ~= nil and v ~= false then
      if type(v) == 'table' then errors.raise('protocol', string_format('%s: %s is not a string', where, name)) end
      v = template.filters.string(v)
      if secret then ctx.secrets:add(v) end
      result[name] = v
    end
  end
  return result
end

-- M.release(ctx, lease_id) -> true | raises a `release` error (75).  The
-- release steps run with the lease id in their capture's name, retried with
-- backoff within the deadline.
function M.release(ctx, lease, vars)
  local decl = ctx.decl
  vars = vars or new_vars(ctx)
  vars[decl.release.lease] = lease
  local last
  for attempt = 1, 1 + ctx.retries do
    local ok, err = pcall(function()
      for _, step in ipairs(decl.release.steps) do run_step(ctx, step, vars) end
    end)
    if ok then return true end
    last = errors.wrap(err)
    if not backoff(ctx, attempt) then break end
  end
  errors.raise('release', string_format('%s: releasing lease %s failed: %s', decl.name, tostring(lease), last.message),
    { http_status = last.http_status, provider_code = last.provider_code, lease = lease })
end

-- M.run(ctx) -> result | nil (dry run).  ctx: decl, values, secrets,
-- now_ms(), deadline, retries, tls, dry_run, verbose, log(line), out(line).
-- A `deliver` step's failure does not lose the credential: it is returned
-- as result.deferred and the caller exits non-zero after delivering.
function M.run(ctx)
  local decl = ctx.decl
  local vars = new_vars(ctx)
  local lease_name = decl.release and decl.release.lease
  local ok, res = pcall(function()
    local deferred
    for _, step in ipairs(decl.steps) do
      check_interrupted(ctx)
      if step.on_failure == 'deliver' then
        local sok, err = pcall(run_step, ctx, step, vars)
        if not sok then
          err = errors.wrap(err)
          local note = step.failure_note and template.value(step.failure_note, vars)
          deferred = errors.new('release', err.message .. '; the new credential was still delivered'
            .. (note and ('; ' .. note) or ''), { http_status = err.http_status, provider_code = err.provider_code })
        end
      else
        run_step(ctx, step, vars)
      end
    end
    if ctx.dry_run then return nil end
    check_interrupted(ctx)
    local result = emit(ctx, vars)
    result.deferred = deferred
    return result
  end)
  if ok then return res end
  local err = errors.wrap(res)
  local lease = lease_name and rawget(vars, lease_name)
  if lease ~= nil and not ctx.dry_run then   -- never leave a checkout behind
    ctx.deadline = sys.monotonic() + (ctx.timeout or 60)
    local rok, rerr = pcall(M.release, ctx, lease, vars)
    err.message = err.message .. (rok and string_format('; lease %s was released', tostring(lease))
      or ('; ' .. errors.wrap(rerr).message))
  end
  error(err, 0)
end

return M
