-- The run step kind: a command run as the user (the recipe needs the
-- `process` capability), its output captured and bounded.  Secrets never
-- go on its argv (world-readable in /proc): a recipe passes them in the
-- child's environment with run.env.
local errors = require 'tokrun.errors'
local json = require 'tokrun.json'
local response = require 'tokrun.response'
local template = require 'tokrun.template'
local trace = require 'tokrun.trace'
local sys = require 'tokrun.sys'

local ipairs, pairs, type = ipairs, pairs, type
local string_format, concat, min = string.format, table.concat, math.min

local MAX_OUTPUT = 1024 * 1024

-- argv items are templates or groups like {"-n", "{name}"} that drop out
-- whole when a value is not set.
local function render_argv(run, vars, where)
  local argv = {}
  for _, item in ipairs(run.argv or run) do
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

-- The child's environment: tokrun's, without the variables that supplied
-- secrets, plus run.env.
local function child_env(ctx, run, vars, where)
  if not run.env then return nil end
  local env = sys.environ()
  for _, name in ipairs(ctx.secret_env or {}) do env[name] = nil end
  for name, tpl in pairs(run.env) do
    local v = template.value(tpl, vars)
    if v ~= nil then
      v = template.filters.string(v)
      if v:find('\0', 1, true) then
        errors.raise('config', string_format('%s: run.env %s would hold a NUL byte', where, name))
      end
      env[name] = v
    end
  end
  return env
end

local PARSE = {
  table = function(out, where, cmd)
    local rows, msg = require('tokrun.texttable').parse(out)
    if not rows then
      errors.raise('protocol', string_format("%s: cannot read the output of '%s': %s", where, cmd, msg))
    end
    return { stdout = out, rows = rows }
  end,
  json = function(out, where)
    local body = json.decode(out)
    if body == nil then errors.raise('protocol', where .. ': the command did not print JSON') end
    return body
  end,
}

return function(ctx, step, vars, where)
  local argv = render_argv(step.run, vars, where)
  for i, a in ipairs(argv) do
    if a:find('\0', 1, true) then
      errors.raise('config', string_format('%s: argument %d of the command would hold a NUL byte', where, i))
    end
  end
  local cmdline = ctx.secrets:apply(concat(argv, ' '))
  if ctx.dry_run then ctx.out('# ' .. where); ctx.out('$ ' .. cmdline); return end
  trace.note(ctx, '$ %s', cmdline)
  local process = require 'tokrun.process'
  local res, err = process.run { argv = argv, timeout = min(ctx.deadline - sys.monotonic(), step.timeout or 60),
    max_output = MAX_OUTPUT, env = child_env(ctx, step.run, vars, where) }
  if not res then
    local kind = err.kind == 'not_found' and 'config' or err.kind == 'timeout' and 'timeout'
      or err.kind == 'too_large' and 'protocol' or 'provider'
    errors.raise(kind, string_format("%s: cannot run '%s': %s", where, argv[1], err.message),
      { unavailable = kind == 'provider' or nil })
  end
  trace.note(ctx, '$ exit %d', res.status)
  if res.status ~= 0 then
    local line = res.stderr:match('[^\r\n]*%S[^\r\n]*') or res.stdout:match('[^\r\n]*%S[^\r\n]*') or ''
    errors.raise('provider', string_format("%s: '%s' failed with status %d: %s", where, argv[1], res.status, line),
      { unavailable = true })
  end
  local parse = PARSE[step.parse]
  local body = parse and parse(res.stdout, where, argv[1]) or { stdout = res.stdout }
  response.capture(step, body, vars, where, ctx.secrets)
end
