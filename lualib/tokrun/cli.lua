-- The command line: parse, dispatch, print, and map every outcome to one
-- exit code (SPEC sections 2 and 4).  main(argv) returns the exit status;
-- it never raises for anything a user can cause.
local errors = require 'tokrun.errors'
local sys = require 'tokrun.sys'

local M = {}

local ipairs, pairs, tostring, tonumber = ipairs, pairs, tostring, tonumber
local string_format, concat = string.format, table.concat
local stdout, stderr = io.stdout, io.stderr

M.HELP = [[
Usage:
  tokrun [OPTIONS] RECIPE                 run a recipe, print the result
  tokrun exec [OPTIONS] RECIPE -- CMD...  run CMD with the credential in its
                                          environment; release the lease after
  tokrun release [OPTIONS] RECIPE LEASE   release a lease printed by a run
  tokrun check RECIPE...                  validate recipes; no network
  tokrun list                             recipes on the search path
  tokrun git-credential [OPTIONS] RECIPE get|store|erase
                                          git's credential helper (credential.helper)
  tokrun lua SCRIPT [ARGS...]             run a Lua script with tokrun's modules
  tokrun --help [RECIPE] | --version      this help, or a recipe's parameters

RECIPE is a path (recipes/velt.lua) or a bare name (velt) looked up on
TOKRUN_PATH (colon-separated absolute directories), then in %s.

Options:
  -p, --param NAME=VALUE   set a non-secret parameter (repeatable); secrets come
                           only from their environment variable or VAR_FILE
      --env-file FILE      read NAME=VALUE lines for parameter lookup (never
                           exported to a child)
  -o, --output FILE        write the result to FILE atomically, mode 0600
  -f, --format FMT         json (default), token, env, exec-credential,
                           aws-credential-process
      --cache[=DIR]        reuse a cached credential while it is fresh
                           (default DIR: $XDG_CACHE_HOME/tokrun)
      --min-ttl SECONDS    with --cache: remint when less is left (default 300)
      --max-age SECONDS    with --cache: remint a credential without expiry
                           after this long (default 3600)
      --timeout SECONDS    bound for the run's own work (default 60); with exec,
                           for checkout and again for release, never the child
      --exec-timeout SECONDS  with exec: bound for the child (default none)
      --retries N          attempts per request beyond the first (default 2)
      --cacert FILE        trust these CA certificates for TLS
      --client-cert FILE   client certificate for mutual TLS
      --client-key FILE    client key for mutual TLS
      --insecure           skip TLS verification (warns on every run)
      --dry-run            show every request (secrets redacted) and the
                           string-to-sign; send nothing
  -v, --verbose            trace requests and responses on stderr, redacted
      --now MS             fix the clock (epoch milliseconds)
  -h, --help               show this help
      --version            show the version

Output: --format json prints one JSON object: recipe, ok, token, token_type,
expires_at, obtained_at, cached, data; on failure {"ok":false,"error":{...}}.
Other formats, -o and exec print nothing on stdout when the run fails.

Exit status:
  0 success            64 usage             65 recipe invalid
  69 unavailable (network, TLS, timeout, provider 5xx)
  70 internal error     74 output could not be written
  75 temporary (rate limited, lock wait, release failed)
  76 protocol (unexpected response)   77 auth rejected
  78 config (missing or invalid parameters, provider rejected them)
]]

-- long name -> {short, field, argument: true (required) | 'optional' | nil, list}
local OPTIONS = {
  param = { 'p', 'params', true, true }, ['env-file'] = { nil, 'env_file', true },
  output = { 'o', 'output', true }, format = { 'f', 'format', true },
  cache = { nil, 'cache', 'optional' }, ['min-ttl'] = { nil, 'min_ttl', true },
  ['max-age'] = { nil, 'max_age', true }, timeout = { nil, 'timeout', true },
  ['exec-timeout'] = { nil, 'exec_timeout', true }, retries = { nil, 'retries', true },
  cacert = { nil, 'cacert', true }, ['client-cert'] = { nil, 'client_cert', true },
  ['client-key'] = { nil, 'client_key', true }, insecure = { nil, 'insecure' },
  ['dry-run'] = { nil, 'dry_run' }, verbose = { 'v', 'verbose' }, now = { nil, 'now', true },
  help = { 'h', 'help' }, version = { nil, 'version' },
}
local SHORT = {}
for long, o in pairs(OPTIONS) do if o[1] then SHORT[o[1]] = long end end

local function usage(fmt, ...)
  errors.raise('usage', string_format(fmt, ...) .. " (see 'tokrun --help')")
end

local NUMERIC = { min_ttl = true, max_age = true, timeout = true, exec_timeout = true,
  retries = true, now = true }

local function set_option(opts, long, value)
  local o = OPTIONS[long]
  local field = o[2]
  if o[3] == true and value == nil then usage('option --%s needs a value', long) end
  if not o[3] and value ~= nil then usage('option --%s takes no value', long) end
  if NUMERIC[field] then
    local n = tonumber(value)
    if not n or n < 0 or ((field == 'retries' or field == 'now') and math.tointeger(n) == nil) then
      usage("option --%s needs a non-negative number, got '%s'", long, value)
    end
    value = (field == 'retries' or field == 'now') and math.tointeger(n) or n
  end
  if o[4] then
    opts[field] = opts[field] or {}
    opts[field][#opts[field] + 1] = value
  else
    if value == nil then value = true end
    opts[field] = value
  end
end

M.COMMANDS = { exec = true, release = true, check = true, list = true, ['git-credential'] = true }

-- A helper link's name -> its module (tokrun reads argv[0]).
M.LINKS = { ['docker-credential-tokrun'] = 'tokrun.helper.docker',
  ['terraform-credentials-tokrun'] = 'tokrun.helper.terraform' }

-- M.parse(argv [, link]) -> opts.  opts.command, opts.args (positional),
-- opts.cmd (after --, for exec), and one field per option.  A helper
-- link's argv (link) has no subcommand.
function M.parse(argv, link)
  local opts, args = {}, {}
  local i = 1
  local command
  if not link and M.COMMANDS[argv[1]] then
    command, i = argv[1], 2
  end
  while i <= #argv do
    local a = argv[i]
    if a == '--' then
      opts.cmd = table.move(argv, i + 1, #argv, 1, {})
      break
    elseif a:sub(1, 2) == '--' then
      local long, value = a:match('^%-%-([^=]+)=(.*)$')
      long = long or a:sub(3)
      local o = OPTIONS[long]
      if not o then usage("unknown option '--%s'", long) end
      if value == nil and o[3] == true then i = i + 1; value = argv[i] end
      set_option(opts, long, value)
    elseif a:sub(1, 1) == '-' and #a > 1 then
      local long = SHORT[a:sub(2, 2)]
      if not long then usage("unknown option '%s'", a:sub(1, 2)) end
      local value
      if OPTIONS[long][3] == true then
        value = #a > 2 and a:sub(3) or nil
        if value == nil then i = i + 1; value = argv[i] end
      elseif #a > 2 then
        usage("option '-%s' takes no value", a:sub(2, 2))
      end
      set_option(opts, long, value)
    else
      args[#args + 1] = a
    end
    i = i + 1
  end
  opts.command = command or 'run'
  opts.args = args
  opts.format = opts.format or 'json'
  local output = require 'tokrun.output'
  if not output.formats[opts.format] then
    usage("unknown format '%s' (%s)", opts.format, concat(output.names, ', '))
  end
  opts.timeout = opts.timeout or 60
  opts.retries = opts.retries or 2
  opts.min_ttl = opts.min_ttl or 300
  opts.max_age = opts.max_age or 3600
  return opts
end

local function warn(secrets, msg)
  stderr:write('tokrun: ', secrets and secrets:apply(msg) or msg, '\n')
end

-- -p NAME=VALUE list -> {name = value}
local function cli_params(list)
  local out = {}
  for _, kv in ipairs(list or {}) do
    local name, value = kv:match('^([^=]+)=(.*)$')
    if not name then usage("-p needs NAME=VALUE, got '%s'", kv) end
    out[name] = value
  end
  return out
end

local function read_secret_file(path)
  local data, err = sys.read_file(path, 64 * 1024)
  if not data then return nil, err end
  return data
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

-- Loads the recipe and resolves its parameters -> ctx for the engine.
function M.prepare(opts, name, only)
  local recipe = require 'tokrun.recipe'
  local paths = sys.paths()
  M.current_recipe = name:match('([^/]+)%.lua$') or name
  local path, ferr = recipe.find(name, os.getenv('TOKRUN_PATH'), paths.recipedir)
  if not path then errors.raise('usage', ferr) end
  local decl, source = recipe.load(path)
  M.current_recipe = decl.name
  local env = lookup_env(opts)
  local values, sources, secret_env = require('tokrun.params').resolve(decl.params or {}, {
    cli = cli_params(opts.params), env = env, read_file = read_secret_file, only = only,
  })
  if not values then
    local e = sources
    errors.raise(e.kind or 'config', decl.name .. ': ' .. (e.message or tostring(e)))
  end
  local secrets = require('tokrun.redact').new()
  M.current_secrets = secrets
  for _, p in ipairs(decl.params or {}) do
    if p.secret and values[p.name] ~= nil then secrets:add(tostring(values[p.name])) end
  end
  local fixed = opts.now
  return {
    decl = decl, path = path, source = source, values = values, sources = sources, opts = opts,
    secret_env = secret_env, secrets = secrets, env = env,
    now_ms = fixed and function() return fixed end or sys.now_ms,
    timeout = opts.timeout, deadline = sys.monotonic() + opts.timeout,
    retries = opts.retries,
    tls = { cacert = opts.cacert, client_cert = opts.client_cert,
      client_key = opts.client_key, insecure = opts.insecure },
    dry_run = opts.dry_run, verbose = opts.verbose,
    log = function(line) stderr:write(secrets:apply(line), '\n') end,
    out = function(line) stdout:write(secrets:apply(line), '\n') end,
  }
end

-- Runs fn under the recipe's heap and time bounds.  The time bound is the
-- run's own deadline (--timeout), which the engine moves when a release
-- gets its own time: recipe code that never returns stops there.
function M.bounded(ctx, fn, ...)
  local recipe = require 'tokrun.recipe'
  local function left()
    return ctx.deadline - sys.monotonic(), string_format('--timeout %gs', ctx.timeout)
  end
  sys.set_memory_limit(recipe.MAX_HEAP)
  local ok, res = pcall(recipe.bounded, ctx.decl.name, left, fn, ...)
  sys.set_memory_limit(0)
  if not ok then
    if res == 'not enough memory' then
      errors.raise('recipe', string_format('%s: the recipe used more than its memory bound (%d MiB)',
        ctx.decl.name, recipe.MAX_HEAP // (1024 * 1024)))
    end
    if errors.is(res) and res.kind == 'recipe' then res.message = recipe.full_source(res.message, ctx.path) end
    error(res, 0)
  end
  return res
end

-- Runs the recipe's steps -> result (nil for a dry run).  A recipe that
-- takes a lease runs with SIGINT/TERM/HUP deferred, so an interrupted run
-- releases what it checked out before it ends.
function M.checkout(ctx, keep_deferred)
  if ctx.decl.uses and not ctx.use then ctx.use = require('tokrun.uses').run(ctx.opts, M, ctx) end
  local lease = ctx.decl.release and not ctx.dry_run
  if lease then sys.defer_signals(true) end
  local ok, res = pcall(M.bounded, ctx, require('tokrun.engine').run, ctx)
  if lease and not keep_deferred then sys.defer_signals(false) end
  if not ok then error(res, 0) end
  return res
end

-- Delivers a result: stdout or -o FILE.  A credential that cannot be
-- minted again goes to stdout when the file cannot be written (exit 74).
local function deliver(opts, ctx, result)
  local text, rerr = require('tokrun.output').render(result, opts.format,
    { exec_info = os.getenv('KUBERNETES_EXEC_INFO') })
  if not text then M.undeliverable(ctx, result, rerr) end
  if not opts.output then
    stdout:write(text)
    return 0
  end
  local ok, err = sys.write_atomic(opts.output, text, 384)
  if ok then return 0 end
  if ctx.decl.mint_once or result.lease then
    stdout:write(text)
    warn(ctx.secrets, string_format('cannot write %s (the credential is printed on stdout instead: '
      .. 'it cannot be minted again)', err))
  else
    warn(ctx.secrets, 'cannot write output ' .. err)
  end
  return 74
end

-- A result the chosen output cannot carry: the lease it holds is checked
-- back in first (never stranded), then the error is raised.
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

-- Refuses (64) a format that cannot deliver this recipe, before it runs.
function M.check_format(ctx, format, what)
  local why = require('tokrun.output').refuse(ctx.decl, format, what)
  if why then usage('%s', why) end
end

local function cmd_run(opts)
  if #opts.args ~= 1 then usage('expected one RECIPE, got %d arguments', #opts.args) end
  if opts.insecure then
    stderr:write('tokrun: warning: --insecure: TLS certificates are not verified\n')
  end
  local ctx = M.prepare(opts, opts.args[1])
  if opts.cache and ctx.decl.release then
    usage('%s: a recipe that yields a lease is never cached; drop --cache', ctx.decl.name)
  end
  M.check_format(ctx, opts.format)
  if opts.cache and not opts.insecure and not opts.now and not opts.dry_run then
    return require('tokrun.cache').run(opts, ctx, function()
      return M.checkout(ctx)
    end, deliver)
  end
  local result = M.checkout(ctx)
  if result == nil then return 0 end   -- dry run
  local code = deliver(opts, ctx, result)
  if result.deferred then
    warn(ctx.secrets, result.deferred.message)
    return code ~= 0 and code or errors.exit_code(result.deferred)
  end
  return code
end

local function cmd_release(opts)
  if #opts.args ~= 2 then usage('expected RECIPE LEASE') end
  local recipe = require 'tokrun.recipe'
  local path = recipe.find(opts.args[1], os.getenv('TOKRUN_PATH'), sys.paths().recipedir)
  local decl = path and recipe.load(path)
  if decl and not decl.release then
    usage("%s: this recipe has no release steps", decl.name)
  end
  local needed = require('tokrun.lease').params_for_release(decl)
  local ctx = M.prepare(opts, opts.args[1], needed)
  M.bounded(ctx, require('tokrun.engine').release, ctx, opts.args[2])
  return 0
end

local function cmd_check(opts)
  if #opts.args == 0 then usage('expected one or more RECIPE files') end
  local recipe = require 'tokrun.recipe'
  local failed
  for _, name in ipairs(opts.args) do
    local path, ferr = recipe.find(name, os.getenv('TOKRUN_PATH'), sys.paths().recipedir)
    local ok, err = pcall(function()
      if not path then errors.raise('usage', ferr) end
      return recipe.load(path)
    end)
    if ok then
      stdout:write(string_format('%s: ok (%s)\n', path, err.name))
    else
      err = errors.wrap(err)
      stderr:write('tokrun: ', err.message, '\n')
      failed = failed or err
    end
  end
  return failed and errors.exit_code(failed) or 0
end

local function cmd_list()
  local recipe = require 'tokrun.recipe'
  local dirs = {}
  for dir in (os.getenv('TOKRUN_PATH') or ''):gmatch('[^:]+') do
    if dir:sub(1, 1) == '/' then dirs[#dirs + 1] = dir end
  end
  dirs[#dirs + 1] = sys.paths().recipedir
  local seen = {}
  for _, dir in ipairs(dirs) do
    local files = sys.readdir(dir) or {}
    table.sort(files)
    for _, file in ipairs(files) do
      local name = file:match('^(.+)%.lua$')
      if name and not seen[name] then
        seen[name] = true
        local ok, decl = pcall(recipe.load, dir .. '/' .. file)
        local desc = ok and (decl.description or '') or ('invalid: ' .. errors.wrap(decl).message)
        stdout:write(string_format('%-28s %s  (%s)\n', name, desc, dir .. '/' .. file))
      end
    end
  end
  return 0
end

-- `tokrun --help RECIPE`: what the recipe needs and where each value may
-- come from.
local function recipe_help(name)
  local recipe = require 'tokrun.recipe'
  local path, ferr = recipe.find(name, os.getenv('TOKRUN_PATH'), sys.paths().recipedir)
  if not path then errors.raise('usage', ferr) end
  local decl = recipe.load(path)
  local lines = { string_format('%s: %s\n%s\n\nParameters:', decl.name, decl.description or '', path) }
  for _, p in ipairs(decl.params or {}) do
    local from = p.secret and {} or { '-p ' .. p.name .. '=...' }
    if p.env then from[#from + 1] = p.env; from[#from + 1] = p.env .. '_FILE' end
    local flags = { p.type or 'string' }
    if p.required then flags[#flags + 1] = 'required' end
    if p.secret then flags[#flags + 1] = 'secret' end
    if p.default ~= nil then flags[#flags + 1] = 'default ' .. tostring(p.default) end
    lines[#lines + 1] = string_format('  %-18s %s (%s)%s', p.name, concat(from, ', '), concat(flags, ', '),
      p.description and ('\n' .. string.rep(' ', 21) .. p.description) or '')
  end
  if decl.release then lines[#lines + 1] = '\nYields a lease: use `tokrun exec` or `tokrun release`.' end
  stdout:write(concat(lines, '\n'), '\n')
  return 0
end

local function dispatch(opts)
  if opts.help and #opts.args == 1 then return recipe_help(opts.args[1]) end
  if opts.help then
    stdout:write(string_format(M.HELP, sys.paths().recipedir))
    return 0
  end
  if opts.version then
    stdout:write('tokrun ', sys.paths().version, '\n')
    return 0
  end
  if opts.command == 'check' then return cmd_check(opts) end
  if opts.command == 'list' then return cmd_list(opts) end
  if opts.command == 'release' then return cmd_release(opts) end
  if opts.command == 'exec' then return require('tokrun.lease').exec(opts, M) end
  if opts.command == 'git-credential' then return require('tokrun.helper.git').main(opts, M) end
  if opts.link then return require(M.LINKS[opts.link]).main(opts, M) end
  if #opts.args == 0 then
    stderr:write(string_format(M.HELP, sys.paths().recipedir))
    return 64
  end
  return cmd_run(opts)
end

-- M.main(argv) -> exit status
function M.main(argv)
  local opts
  local ok, res = xpcall(function()
    local link = M.LINKS[(argv[0] or ''):match('[^/]*$')]
    opts = M.parse(argv, link)
    if link then opts.link, opts.command = (argv[0]):match('[^/]*$'), 'helper' end
    return dispatch(opts)
  end, function(e)
    if errors.is(e) then return e end
    return errors.new('internal', 'internal error: ' .. tostring(e) .. '\n' .. debug.traceback('', 2))
  end)
  stdout:flush()
  if ok then return res end
  local err = res
  local secrets = M.current_secrets
  local name = M.current_recipe
  warn(secrets, err.message)
  if opts and opts.fail_answer then   -- a helper protocol's own failure answer
    stdout:write(opts.fail_answer(secrets and secrets:apply(err.message) or err.message))
  end
  if opts and opts.format == 'json' and not opts.output and opts.command == 'run' then
    -- the error object is not the result: it is redacted like stderr (SPEC section 9)
    local shown = err
    if secrets then
      shown = { kind = err.kind, message = secrets:apply(err.message), http_status = err.http_status,
        provider_code = err.provider_code and secrets:apply(err.provider_code) }
    end
    stdout:write(require('tokrun.output').error_json(name, shown))
  end
  return errors.exit_code(err)
end

return M
