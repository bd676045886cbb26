-- The command line: parse, dispatch, and map every outcome to one exit
-- code.  The work is elsewhere: session (a run), exec, recipe (check, list).  main(argv) returns the exit status;
-- it never raises for anything a user can cause.
local errors = require 'tokrun.errors'
local session = require 'tokrun.session'
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
  tokrun release --pending [RECIPE]       release the leases of killed runs
                                          (from the lease journal)
  tokrun check [-f json] RECIPE...        validate recipes; no network
  tokrun list [--leases]                  recipes on the search path, or the
                                          leases in the journal
  tokrun git-credential [OPTIONS] RECIPE get|store|erase
                                          git's credential helper
  docker-credential-tokrun get|store|erase|list
  terraform-credentials-tokrun get|store|forget HOST
                                          Docker's and Terraform's (links)
  tokrun new NAME [--hmac|--oauth2|--jwt|--cli] [-C DIR]
                                          a recipe, its spec and a test server
  tokrun lua SCRIPT [ARGS...]             run Lua with tokrun's modules
  tokrun --help [RECIPE] | --version      this help, or what a recipe needs

RECIPE is a path (recipes/velt.lua) or a bare name (velt) looked up on
TOKRUN_PATH (colon-separated absolute directories), then in
%s

Options:
  -p, --param NAME=VALUE   set a non-secret parameter (repeatable); secrets
                           come only from their variable or its VAR_FILE
      --env-file FILE      read NAME=VALUE lines for parameter lookup (never
                           exported to a child)
  -o, --output FILE        write the result to FILE atomically, mode 0600
  -f, --format FMT         json (default), token, env, exec-credential,
                           aws-credential-process
      --cache[=DIR|URL]    reuse a cached credential while it is fresh
                           (default: $TOKRUN_CACHE, else
                           $XDG_CACHE_HOME/tokrun); a URL (redis://HOST/DB,
                           rediss://..., unix:///PATH) shares it across
                           hosts (needs TOKRUN_CACHE_KEY)
      --cache-cacert FILE  trust these CA certificates for rediss://
      --cache-fallback=local|fail  when Redis cannot be reached: use the
                           local cache with a warning (default) or fail (69)
      --shared-rotation    allow a rotating recipe with a shared cache
      --min-ttl SECONDS    with --cache: remint when less is left (default 300)
      --max-age SECONDS    with --cache: remint a credential without expiry
                           after this long (default 3600)
      --timeout SECONDS    bound for the run's own work (default 60); with
                           exec, for checkout and again for release
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
  75 temporary (rate limited, lock wait, release failed): retry later
  76 protocol (unexpected response)   77 auth rejected
  78 config (missing or invalid parameters, provider rejected them)
More: man tokrun, and /usr/share/doc/tokrun/cli.md (docs/cli.md).
]]

-- long name -> {short, field, argument: true (required) | 'optional' | nil, list}
local OPTIONS = {
  param = { 'p', 'params', true, true }, ['env-file'] = { nil, 'env_file', true },
  output = { 'o', 'output', true }, format = { 'f', 'format', true },
  cache = { nil, 'cache', 'optional' }, ['min-ttl'] = { nil, 'min_ttl', true },
  ['cache-cacert'] = { nil, 'cache_cacert', true }, ['cache-fallback'] = { nil, 'cache_fallback', true },
  ['shared-rotation'] = { nil, 'shared_rotation' },
  ['max-age'] = { nil, 'max_age', true }, timeout = { nil, 'timeout', true },
  ['exec-timeout'] = { nil, 'exec_timeout', true }, retries = { nil, 'retries', true },
  cacert = { nil, 'cacert', true }, ['client-cert'] = { nil, 'client_cert', true },
  ['client-key'] = { nil, 'client_key', true }, insecure = { nil, 'insecure' },
  ['dry-run'] = { nil, 'dry_run' }, verbose = { 'v', 'verbose' }, now = { nil, 'now', true },
  pending = { nil, 'pending' }, leases = { nil, 'leases' },
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
  if argv[1] == 'new' and not link then   -- tokrun.scaffold reads its own arguments
    return { command = 'new', args = table.move(argv, 2, #argv, 1, {}), format = 'json' }
  end
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
  opts.format_given = opts.format
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

local function cmd_run(opts)
  if #opts.args ~= 1 then usage('expected one RECIPE, got %d arguments', #opts.args) end
  return session.run(opts, opts.args[1])
end

local function cmd_release(opts)
  if opts.pending then
    if #opts.args > 1 then usage('release --pending: expected at most one RECIPE') end
    return require('tokrun.journal').release_pending(opts, session)
  end
  if #opts.args ~= 2 then usage('expected RECIPE LEASE') end
  return session.release(opts, opts.args[1], opts.args[2])
end

-- What a recipe may do beyond HTTP, said wherever it is shown.
local RUNS_COMMANDS = "runs commands as you (capability 'process')"
local function runs_commands(decl)
  for _, c in ipairs(decl.capabilities or {}) do
    if c == 'process' then return true end
  end
  return false
end

local function cmd_check(opts)
  if #opts.args == 0 then usage('expected one or more RECIPE files') end
  local recipe = require 'tokrun.recipe'
  local as_json = opts.format_given == 'json'   -- one finding a line, for tools
  local failed
  for _, name in ipairs(opts.args) do
    local path = name
    local ok, err = pcall(function()
      path = recipe.locate(name)
      return recipe.load(path)
    end)
    if ok then
      if not as_json then
        stdout:write(string_format('%s: ok (%s)%s\n', path, err.name,
          runs_commands(err) and ('; ' .. RUNS_COMMANDS) or ''))
      end
    else
      err = errors.wrap(err)
      stderr:write('tokrun: ', require('tokrun.redact').oneline(err.message), '\n')
      if as_json then stdout:write(require('tokrun.findings').json(err, path)) end
      failed = failed or err
    end
  end
  return failed and errors.exit_code(failed) or 0
end

local function cmd_list(opts)
  if opts.leases then return require('tokrun.journal').print_leases() end
  local recipe = require 'tokrun.recipe'
  local seen = {}
  for _, dir in ipairs(recipe.search_dirs()) do
    local files = sys.readdir(dir) or {}
    table.sort(files)
    for _, file in ipairs(files) do
      local name = file:match('^(.+)%.lua$')
      if name and not seen[name] then
        seen[name] = true
        local ok, decl = pcall(recipe.load, dir .. '/' .. file)
        local desc = ok and (decl.description or '') or ('invalid: ' .. errors.wrap(decl).message)
        if ok and runs_commands(decl) then desc = desc .. ' [' .. RUNS_COMMANDS .. ']' end
        stdout:write(string_format('%-28s %s  (%s)\n', name, desc, dir .. '/' .. file))
      end
    end
  end
  return 0
end

-- `tokrun --help RECIPE [--format json]`: what the recipe needs.
local function recipe_help(name, as_json)
  local recipe = require 'tokrun.recipe'
  local path = recipe.locate(name)
  local help = require 'tokrun.help'
  stdout:write((as_json and help.json or help.text)(recipe.load(path), path))
  return 0
end

local function dispatch(opts)
  if opts.help and #opts.args == 1 then return recipe_help(opts.args[1], opts.format_given == 'json') end
  if opts.help then
    stdout:write(string_format(M.HELP, sys.paths().recipedir))
    return 0
  end
  if opts.version then
    stdout:write('tokrun ', sys.paths().version, '\n')
    return 0
  end
  if opts.command == 'new' then return require('tokrun.scaffold').main(opts.args) end
  if opts.command == 'check' then return cmd_check(opts) end
  if opts.command == 'list' then return cmd_list(opts) end
  if opts.command == 'release' then return cmd_release(opts) end
  if opts.command == 'exec' then return require('tokrun.exec').run(opts) end
  if opts.command == 'git-credential' then return require('tokrun.helper.git').main(opts) end
  if opts.link then return require(M.LINKS[opts.link]).main(opts) end
  if #opts.args == 0 then
    stderr:write(string_format(M.HELP, sys.paths().recipedir))
    return 64
  end
  return cmd_run(opts)
end

-- M.main(argv) -> exit status
function M.main(argv)
  local opts
  local report = {}   -- what session.prepare learns: the recipe's name and redactor
  local ok, res = xpcall(function()
    local link = (argv[0] or ''):match('[^/]*$')
    if not M.LINKS[link] then link = nil end
    opts = M.parse(argv, link)
    if link then opts.link, opts.command = link, 'helper' end
    opts.report = report
    return dispatch(opts)
  end, function(e)
    if errors.is(e) then return e end
    return errors.new('internal', 'internal error: ' .. tostring(e) .. '\n' .. debug.traceback('', 2))
  end)
  stdout:flush()
  if ok then return res end
  local err = res
  local secrets, name = report.secrets, report.recipe
  stderr:write('tokrun: ', secrets and secrets:line(err.message) or require('tokrun.redact').oneline(err.message),
    '\n')
  if opts and opts.fail_answer then   -- a helper protocol's own failure answer
    local line = secrets and secrets:line(err.message) or require('tokrun.redact').oneline(err.message)
    stdout:write(opts.fail_answer(line))
  end
  if opts and opts.format == 'json' and not opts.output and opts.command == 'run' then
    -- the error object is not the result: it is redacted like stderr (docs/cli.md, Safety)
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
