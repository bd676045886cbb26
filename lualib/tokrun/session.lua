-- One run of a recipe, from the command line's options to a delivered
-- result: prepare (load, resolve parameters, build the redactor), run the
-- steps under the recipe's bounds, obtain through the cache, deliver.
-- `tokrun`, `tokrun exec`, `tokrun release` and the credential helpers
-- all go through here.
local errors = require 'tokrun.errors'
local recipe = require 'tokrun.recipe'
local sys = require 'tokrun.sys'

local M = {}

local ipairs, pairs, type, tostring, pcall, error = ipairs, pairs, type, tostring, pcall, error
local string_format = string.format
local stdout, stderr = io.stdout, io.stderr

-- M.warn(ctx_or_nil, message): one line on stderr, redacted.
function M.warn(ctx, msg)
  stderr:write('tokrun: ', ctx and ctx.secrets:line(msg) or require('tokrun.redact').oneline(msg), '\n')
end

-- -p NAME=VALUE list -> {name = value}
local function cli_params(list)
  local out = {}
  for _, kv in ipairs(list or {}) do
    local name, value = kv:match('^([^=]+)=(.*)$')
    if not name then
      errors.raise('usage', string_format("-p needs NAME=VALUE, got '%s' (see 'tokrun --help')", kv))
    end
    out[name] = value
  end
  return out
end

-- The environment parameters are looked up in: the process's, overlaid
-- with --env-file lines.
local function lookup_env(opts)
  local env = sys.environ()
  if opts.env_file then
    local text, err = sys.read_file(opts.env_file, 1024 * 1024)
    if not text then errors.raise('config', 'cannot read --env-file ' .. err) end
    local lines, perr = require('tokrun.params').parse_env_file(text, opts.env_file)
    if not lines then errors.raise(perr.kind or 'config', perr.message or tostring(perr)) end
    for k, v in pairs(lines) do env[k] = v end
  end
  return env
end

local function read_secret_file(path)
  return sys.read_file(path, 64 * 1024)
end

-- M.prepare(opts, name [, only [, unchecked]]) -> ctx: the recipe loaded and
-- checked (with `unchecked`, checked later by M.check: ctx.unchecked), its
-- parameters resolved (only those in the set `only`, for a release).
-- opts.report (when present) learns the recipe's name and redactor, so a
-- failure is reported under the recipe's name and redacted.
function M.prepare(opts, name, only, unchecked)
  local report = opts.report or {}
  report.recipe = name:match('([^/]+)%.lua$') or name
  local path = recipe.locate(name)
  local decl, source = recipe.load(path, unchecked)
  report.recipe = decl.name
  local values, sources, secret_env = require('tokrun.params').resolve(decl.params or {}, {
    cli = cli_params(opts.params), env = lookup_env(opts), read_file = read_secret_file, only = only,
  })
  if not values then
    local e = sources
    errors.raise(e.kind or 'config', decl.name .. ': ' .. (e.message or tostring(e)))
  end
  local secrets = require('tokrun.redact').new()
  report.secrets = secrets
  for _, v in ipairs(require('tokrun.params').secret_values(decl.params or {}, values)) do secrets:add(v) end
  local fixed = opts.now
  return {
    decl = decl, path = path, source = source, values = values, sources = sources, opts = opts,
    unchecked = unchecked,
    secret_env = secret_env, secrets = secrets,
    now_ms = fixed and function() return fixed end or sys.now_ms,
    timeout = opts.timeout, deadline = sys.monotonic() + opts.timeout,
    retries = opts.retries,
    tls = { cacert = opts.cacert, client_cert = opts.client_cert,
      client_key = opts.client_key, insecure = opts.insecure },
    dry_run = opts.dry_run, verbose = opts.verbose,
    log = function(line) stderr:write(secrets:line(line), '\n') end,
    out = function(line) stdout:write(secrets:apply(line), '\n') end,
  }
end

-- M.bounded(ctx, fn, ...) -> fn's results, run under the recipe's heap and
-- time bounds.  The time bound is the run's own deadline (--timeout),
-- which the engine moves when a release gets its own time.
function M.bounded(ctx, fn, ...)
  local function left()
    return ctx.deadline - sys.monotonic(), string_format('--timeout %gs', ctx.timeout)
  end
  sys.set_memory_limit(recipe.MAX_HEAP)
  local ok, res = pcall(recipe.bounded, ctx.decl.name, left, fn, ...)
  sys.set_memory_limit(0)
  if not ok then
    if res == 'not enough memory' or errors.is(res) and res.out_of_memory then
      errors.raise('recipe', string_format('%s: the recipe used more than its memory bound (%d MiB)',
        ctx.decl.name, recipe.MAX_HEAP // (1024 * 1024)))
    end
    if errors.is(res) and res.kind == 'recipe' then
      res.message = recipe.full_source(res.message, ctx.path)
      if not res.message:find(ctx.decl.name, 1, true) then res.message = ctx.decl.name .. ': ' .. res.message end
    end
    error(res, 0)
  end
  return res
end

-- M.checkout(ctx [, keep_deferred]) -> result (nil for a dry run).  A
-- recipe that takes a lease runs with SIGINT/TERM/HUP deferred, so an
-- interrupted run releases what it checked out before it ends.
function M.checkout(ctx, keep_deferred)
  if ctx.decl.uses and not ctx.use then ctx.use = require('tokrun.uses').run(ctx.opts, M, ctx) end
  local lease = ctx.decl.release and not ctx.dry_run
  if lease then
    -- recorded before the checkout is sent: even kill -9 leaves its trace
    ctx.journal = require('tokrun.journal').open(ctx, require('tokrun.lease').params_for_release(ctx.decl))
    require('tokrun.signal').defer(true)
  end
  local ok, res = pcall(M.bounded, ctx, require('tokrun.engine').run, ctx)
  if lease and not keep_deferred then require('tokrun.signal').defer(false) end
  if not ok then
    if ctx.journal and not (errors.is(res) and res.lease_held) then ctx.journal:remove() end
    error(res, 0)
  end
  return res
end

-- M.cacheable(opts) -> whether this run may use the cache at all.
function M.cacheable(opts)
  return opts.cache and not opts.insecure and not opts.now and not opts.dry_run
end

-- M.refuse_lease(opts, ctx, what): a lease recipe cannot be cached, nor
-- delivered by a format that cannot carry its id (64, before checkout).
function M.refuse_lease(opts, ctx, what)
  if not ctx.decl.release then return end
  if opts.cache then
    errors.raise('usage', ctx.decl.name .. ': a recipe that yields a lease is never cached; drop --cache')
  end
  local format = require('tokrun.output').formats[opts.format]
  if what ~= 'exec' and type(format) == 'table' and format.lease == false then
    errors.raise('usage', string_format("%s: a recipe that yields a lease cannot be printed as '%s', which "
      .. "has no place for the lease id; use --format json or 'tokrun exec'", ctx.decl.name, opts.format))
  end
end

-- M.refuse_format(opts, ctx): a format the recipe cannot feed at all (64,
-- before it runs): aws-credential-process needs the AWS keys emitted.
function M.refuse_format(opts, ctx)
  local why = require('tokrun.output').refuse(ctx.decl, opts.format)
  if why then errors.raise('usage', why .. " (see 'tokrun --help')") end
end

-- M.undeliverable(ctx, result, err): a result the chosen output cannot
-- carry (a NUL byte, invalid UTF-8).  The lease it holds is checked back
-- in first, never stranded; then the error (protocol, 76) is raised.
function M.undeliverable(ctx, result, err)
  local msg = ctx.decl.name .. ': ' .. err.message
  if result.lease then
    ctx.deadline = sys.monotonic() + ctx.timeout
    local ok, rerr = pcall(M.bounded, ctx, require('tokrun.engine').release, ctx, result.lease)
    msg = msg .. (ok and string_format('; lease %s was released', result.lease)
      or ('; ' .. errors.wrap(rerr).message))
  end
  errors.raise(err.kind, msg)
end

-- M.deliver(opts, ctx, result) -> exit code, delivered: stdout or -o FILE.  A
-- credential that cannot be minted again goes to stdout when the file
-- cannot be written (exit 74).
function M.deliver(opts, ctx, result)
  local text, rerr = require('tokrun.output').render(result, opts.format,
    { exec_info = os.getenv('KUBERNETES_EXEC_INFO') })
  if not text then M.undeliverable(ctx, result, rerr) end
  if not opts.output then
    -- a full disk or a closed pipe is known only once the text is flushed
    local ok, err = stdout:write(text)
    if ok then ok, err = stdout:flush() end
    if ok then return 0, true end
    M.warn(ctx, 'cannot write the result to stdout: ' .. tostring(err))
    return 74, false
  end
  local ok, err = sys.write_atomic(opts.output, text, 384)
  if ok then return 0, true end
  if ctx.decl.mint_once or result.lease then
    local shown = stdout:write(text) and stdout:flush()
    M.warn(ctx, string_format('cannot write %s (the credential is printed on stdout instead: '
      .. 'it cannot be minted again)', err))
    return 74, shown and true or false
  else
    M.warn(ctx, 'cannot write output ' .. err)
  end
  return 74, false
end

-- M.check(ctx): checks a recipe prepared unchecked, before it mints.
function M.check(ctx)
  if not ctx.unchecked then return end
  ctx.decl = recipe.check(ctx.decl, ctx.path)
  ctx.unchecked = nil
end

-- M.prepare_cached(opts, name) -> ctx: as M.prepare; a run that may answer
-- from the cache leaves its recipe unchecked until it mints (M.check), so
-- a hit loads neither the schema nor its checker.  Should the unchecked
-- recipe fail to prepare, it is prepared again checked, so the error is
-- the one a check gives.
function M.prepare_cached(opts, name)
  if not M.cacheable(opts) then return M.prepare(opts, name) end
  local ok, ctx = pcall(M.prepare, opts, name, nil, true)
  return ok and ctx or M.prepare(opts, name)
end

-- M.run(opts, name) -> exit status: `tokrun RECIPE`.
function M.run(opts, name)
  if opts.insecure then M.warn(nil, 'warning: --insecure: TLS certificates are not verified') end
  local ctx = M.prepare_cached(opts, name)
  M.refuse_lease(opts, ctx, 'run')
  M.refuse_format(opts, ctx)
  if M.cacheable(opts) then
    return require('tokrun.cache').run(opts, ctx, function()
      M.check(ctx)
      return M.checkout(ctx)
    end, M.deliver)
  end
  local result = M.checkout(ctx)
  if result == nil then return 0 end   -- dry run
  local code, delivered = M.deliver(opts, ctx, result)
  -- the entry goes once the lease id is printed; a lease nobody was told
  -- of stays journaled, for `tokrun release --pending`
  if ctx.journal and delivered then ctx.journal:remove() end
  if result.deferred then
    M.warn(ctx, result.deferred.message)
    return code ~= 0 and code or errors.exit_code(result.deferred)
  end
  return code
end

-- M.release(opts, name, lease) -> 0: `tokrun release RECIPE LEASE`, with
-- only the parameters the release steps use.
function M.release(opts, name, lease)
  local decl = recipe.load(recipe.locate(name))
  if not decl.release then
    errors.raise('usage', string_format("%s: this recipe has no release steps (see 'tokrun --help')", decl.name))
  end
  local ctx = M.prepare(opts, name, require('tokrun.lease').params_for_release(decl))
  M.bounded(ctx, require('tokrun.engine').release, ctx, lease)
  require('tokrun.journal').forget(ctx.path, lease)
  return 0
end

return M
