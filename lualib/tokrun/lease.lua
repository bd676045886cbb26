-- Leases (SPEC section 8): `tokrun exec` checks out, runs the command with
-- the credential in its environment, and releases whatever happened to the
-- command; `tokrun release` needs only the parameters its steps use.
local errors = require 'tokrun.errors'
local template = require 'tokrun.template'
local sys = require 'tokrun.sys'

local M = {}

local pairs, ipairs, type, tostring = pairs, ipairs, type, tostring
local string_format, sort = string.format, table.sort

local function collect(v, out)
  if type(v) == 'string' then
    for _, head in template.names(v) do out[head] = true end
  elseif type(v) == 'table' then
    for _, item in pairs(v) do collect(item, out) end
  end
end

-- M.params_for_release(decl) -> set of parameter names the release steps
-- (and the derived values they use) refer to.
function M.params_for_release(decl)
  local used = {}
  collect(decl.release.steps, used)
  for name, d in pairs(decl.derive or {}) do
    if used[name] then collect(d, used) end
  end
  local out = {}
  for _, p in ipairs(decl.params or {}) do
    if used[p.name] then out[p.name] = true end
  end
  return out
end

-- The child's environment: tokrun's own, minus every variable that supplied
-- a secret (and its _FILE twin), plus the recipe's env names.
local function child_env(ctx, result)
  local env = sys.environ()
  for _, name in ipairs(ctx.secret_env or {}) do env[name] = nil end
  for name, v in pairs(result.env or {}) do env[name] = tostring(v) end
  local list = {}
  for name, v in pairs(env) do list[#list + 1] = name .. '=' .. v end
  sort(list)
  return list
end

-- M.exec(opts, cli) -> exit status: the child's, or 75 when it was 0 and
-- the release failed.
function M.exec(opts, cli)
  if #opts.args ~= 1 then errors.raise('usage', "exec: expected RECIPE -- CMD... (see 'tokrun --help')") end
  if not opts.cmd or #opts.cmd == 0 then
    errors.raise('usage', "exec: no command given after '--' (see 'tokrun --help')")
  end
  if opts.insecure then io.stderr:write('tokrun: warning: --insecure: TLS certificates are not verified\n') end
  local ctx = cli.prepare(opts, opts.args[1])
  if opts.dry_run then errors.raise('usage', 'exec: --dry-run would not run the command; use it with a plain run') end
  local result, cache_status
  if opts.cache and ctx.decl.release then
    errors.raise('usage', ctx.decl.name .. ': a recipe that yields a lease is never cached; drop --cache')
  elseif opts.cache and not opts.insecure and not opts.now then
    -- a cached credential serves exec as it serves a plain run (the cache
    -- reports a deferred failure itself)
    cache_status = require('tokrun.cache').run(opts, ctx, function() return cli.checkout(ctx) end,
      function(_, _, r) result = r; return 0 end)
    result.deferred = nil
  else
    -- signals stay deferred from checkout to release: exec_child forwards
    -- them to the command, and nothing ends tokrun with a lease held
    result = cli.checkout(ctx, true)
  end
  for name, v in pairs(result.env or {}) do   -- an environment cannot hold a NUL byte
    if tostring(v):find('\0', 1, true) then
      cli.undeliverable(ctx, result, { kind = 'protocol',
        message = string_format('the credential cannot be passed in the environment: %s holds a NUL byte', name) })
    end
  end
  local r = sys.exec_child { argv = opts.cmd, env = child_env(ctx, result), timeout = opts.exec_timeout }
  if r.exec_error then io.stderr:write('tokrun: exec: cannot run ', r.exec_error, '\n') end
  if r.timed_out then
    io.stderr:write(string_format('tokrun: exec: %s ran past --exec-timeout %gs and was stopped\n',
      opts.cmd[1], opts.exec_timeout))
  end
  local status = r.status
  if result.lease then
    ctx.deadline = sys.monotonic() + ctx.timeout
    local ok, err = pcall(cli.bounded, ctx, require('tokrun.engine').release, ctx, result.lease)
    if not ok then
      err = errors.wrap(err)
      io.stderr:write('tokrun: ', ctx.secrets:apply(err.message), '\n')
      if status == 0 then status = errors.exit_code(err) end
    end
  end
  if result.deferred then
    io.stderr:write('tokrun: ', ctx.secrets:apply(result.deferred.message), '\n')
    if status == 0 then status = errors.exit_code(result.deferred) end
  end
  if status == 0 and cache_status and cache_status ~= 0 then status = cache_status end
  return status
end

return M
