-- `tokrun exec RECIPE -- CMD...`: check out, run CMD with the credential
-- in its environment, and release whatever happened to CMD (its status,
-- a signal, --exec-timeout).  tokrun's status is CMD's; a failed release
-- turns a 0 into 75.
local errors = require 'tokrun.errors'
local session = require 'tokrun.session'
local sys = require 'tokrun.sys'

local M = {}

local pairs, ipairs, tostring, pcall = pairs, ipairs, tostring, pcall
local string_format = string.format

-- The child's environment: tokrun's own, minus every variable that supplied
-- a secret (and its _FILE twin), plus the recipe's env names.
local function child_env(ctx, result)
  local env = sys.environ()
  for _, name in ipairs(ctx.secret_env or {}) do env[name] = nil end
  for name, v in pairs(result.env or {}) do env[name] = tostring(v) end
  return env
end

-- M.run(opts) -> exit status
function M.run(opts)
  if #opts.args ~= 1 then errors.raise('usage', "exec: expected RECIPE -- CMD... (see 'tokrun --help')") end
  if not opts.cmd or #opts.cmd == 0 then
    errors.raise('usage', "exec: no command given after '--' (see 'tokrun --help')")
  end
  if opts.dry_run then errors.raise('usage', 'exec: --dry-run would not run the command; use it with a plain run') end
  if opts.insecure then session.warn(nil, 'warning: --insecure: TLS certificates are not verified') end
  local ctx = session.prepare(opts, opts.args[1])
  session.refuse_lease(opts, ctx, 'exec')
  local result, cache_status
  if session.cacheable(opts) then
    -- a cached credential serves exec as it serves a plain run (the cache
    -- reports a deferred failure itself); its lock is released before CMD starts
    cache_status = require('tokrun.cache').run(opts, ctx, function() return session.checkout(ctx) end,
      function(_, _, r) result = r; return 0 end)
    result.deferred = nil
  else
    -- signals stay deferred from checkout to release: process.exec forwards
    -- them to the command, and nothing ends tokrun with a lease held
    result = session.checkout(ctx, true)
  end
  for name, v in pairs(result.env or {}) do   -- an environment cannot hold a NUL byte
    if tostring(v):find('\0', 1, true) then
      session.undeliverable(ctx, result, { kind = 'protocol',
        message = string_format('the credential cannot be passed in the environment: %s holds a NUL byte', name) })
    end
  end
  local process = require 'tokrun.process'
  local r = process.exec { argv = opts.cmd, env = child_env(ctx, result), timeout = opts.exec_timeout }
  if r.exec_error then session.warn(ctx, 'exec: cannot run ' .. r.exec_error) end
  if r.timed_out then
    session.warn(ctx, string_format('exec: %s ran past --exec-timeout %gs and was stopped',
      opts.cmd[1], opts.exec_timeout))
  end
  local status = r.status
  if result.lease then
    ctx.deadline = sys.monotonic() + ctx.timeout
    local ok, err = pcall(session.bounded, ctx, require('tokrun.engine').release, ctx, result.lease)
    if ok and ctx.journal then ctx.journal:remove() end
    if not ok then
      err = errors.wrap(err)
      session.warn(ctx, err.message)
      if status == 0 then status = errors.exit_code(err) end
    end
  end
  if result.deferred then
    session.warn(ctx, result.deferred.message)
    if status == 0 then status = errors.exit_code(result.deferred) end
  end
  if status == 0 and cache_status and cache_status ~= 0 then status = cache_status end
  return status
end

return M
