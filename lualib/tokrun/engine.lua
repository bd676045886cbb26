-- Running a recipe: parameters in, steps in order (each request rebuilt and
-- re-signed on every attempt, retried by policy within the run's deadline),
-- captures into vars, and the result out.  Leases taken by a step are
-- released again when the run fails before delivering them.
local errors = require 'tokrun.errors'
local json = require 'tokrun.json'
local steps = require 'tokrun.steps'
local template = require 'tokrun.template'
local timefmt = require 'tokrun.timefmt'
local sys = require 'tokrun.sys'

local M = {}

local type, pairs, ipairs, tostring, tonumber, pcall, error =
  type, pairs, ipairs, tostring, tonumber, pcall, error
local string_format, sort = string.format, table.sort
local random, min = math.random, math.min

M.BACKOFF_BASE = 0.25   -- seconds between release attempts; doubles, full jitter
M.BACKOFF_CAP = 8

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

local SIGNAL_NAMES = { [1] = 'SIGHUP', [2] = 'SIGINT', [15] = 'SIGTERM' }

-- A termination signal deferred while a lease recipe runs ends the run at
-- the next step boundary; the failure path then releases the lease.
local function check_interrupted(ctx)
  local sig = require('tokrun.signal').caught()
  if sig then
    errors.raise('timeout', string_format('%s: interrupted by %s', ctx.decl.name, SIGNAL_NAMES[sig] or sig),
      { signal = sig })
  end
end

local dispatch

-- A config error raised below the step (a template filter's) names it too.
local function run_step(ctx, step, vars)
  local where = string_format('%s: step %s', ctx.decl.name, step.name)
  local ok, err = pcall(dispatch, ctx, step, vars, where)
  if ok then return end
  if errors.is(err) and err.kind == 'config' and err.message:sub(1, #ctx.decl.name + 1) ~= ctx.decl.name .. ':' then
    err.message = where .. ': ' .. err.message
  end
  error(err, 0)
end

function dispatch(ctx, step, vars, where)
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
  return steps.handler(steps.kind_of(step))(ctx, step, vars, where)
end

-- Waits before release attempt n+1; false when the deadline does not allow it.
local function backoff(ctx, attempt)
  local wait = random() * min(M.BACKOFF_CAP, M.BACKOFF_BASE * 2 ^ (attempt - 1))
  if wait >= ctx.deadline - sys.monotonic() then return false end
  if ctx.verbose then ctx.log(string_format('* retrying the release in %.2fs', wait)) end
  sys.sleep(wait)
  return true
end

local function ttl_seconds(ttl, vars)
  if type(ttl) == 'table' then
    local unit = ttl.seconds and 1 or ttl.minutes and 60 or ttl.hours and 3600
    local v = tonumber(template.value(ttl.seconds or ttl.minutes or ttl.hours, vars))
    return v and unit and v * unit
  end
  return tonumber(template.value(ttl, vars))
end

-- emit words copied to the result as strings: name -> whether a secret
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
  -- named fields the helper formats read (git's username, the AWS keys)
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

-- A step failed because the provider rejected a JWT's time claims (an
-- error rule with clock_skew) and said what time it is (Date): the index of
-- the jwt step to rebuild from, on the provider's clock, after a warning
-- about this machine's.  nil when there is nothing to correct.
local function skew_restart(ctx, list, i, err)
  if not (errors.is(err) and err.clock_skew) then return nil end
  local server = timefmt.parse_http_date(err.server_date)
  local from
  for j = 1, i - 1 do   -- from the first JWT on: all are rebuilt
    if list[j].jwt then from = j; break end
  end
  if not (server and from) then return nil end
  local offset = server - (ctx.now_ms() // 1000 + (ctx.clock_offset or 0))
  if offset > -2 and offset < 2 then return nil end   -- the clocks agree: the claims are wrong otherwise
  ctx.clock_offset = (ctx.clock_offset or 0) + offset
  ctx.log(string_format("tokrun: warning: %s: this machine's clock is %d s %s the provider's (Date: %s); "
    .. "the JWT was rebuilt on the provider's clock: set this machine's clock (NTP)", ctx.decl.name,
    math.abs(offset), offset > 0 and 'behind' or 'ahead of', err.server_date))
  return from
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
    local i, skew_retried = 1, false
    while i <= #decl.steps do
      local step = decl.steps[i]
      local next_step = i + 1
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
        local sok, err = pcall(run_step, ctx, step, vars)
        local from = not sok and not skew_retried and skew_restart(ctx, decl.steps, i, err)
        if not sok and not from then error(err, 0) end
        if from then skew_retried, next_step = true, from end
      end
      local id = lease_name and ctx.journal and rawget(vars, lease_name)
      if id then ctx.journal:set_lease(id) end   -- the checkout answered
      i = next_step
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
    if ctx.journal then ctx.journal:set_lease(lease) end
    ctx.deadline = sys.monotonic() + (ctx.timeout or 60)
    local rok, rerr = pcall(M.release, ctx, lease, vars)
    err.lease_held = not rok and lease or nil   -- the journal keeps it for release --pending
    err.message = err.message .. (rok and string_format('; lease %s was released', tostring(lease))
      or ('; ' .. errors.wrap(rerr).message))
  end
  error(err, 0)
end

return M
