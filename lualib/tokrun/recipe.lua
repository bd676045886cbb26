-- Loading and checking recipes.
--
-- A recipe is a Lua file that returns a table: the declaration.  It runs in
-- an environment of its own (no os.execute, io, package, debug, load of
-- binary chunks or string.dump), with its heap and its run time bounded, and
-- is then checked against the schema below so that a typo is an error naming
-- the file, the step and the field instead of a surprise at 3 a.m.
local errors = require 'tokrun.errors'
local params = require 'tokrun.params'
local template = require 'tokrun.template'
local sys = require 'tokrun.sys'

local M = {}

local type, pairs, ipairs, tostring, error, select =
  type, pairs, ipairs, tostring, error, select
local string_format, concat, sort = string.format, table.concat, table.sort

M.MAX_SIZE = 256 * 1024             -- bytes of recipe source
M.MAX_HEAP = 64 * 1024 * 1024        -- Lua heap while a recipe loads or runs
M.LOAD_TIMEOUT = 2                   -- seconds a recipe may take to load

-- Names every template may use besides params, derived values and captures.
M.builtins = { now_ms = true, now = true, query = true, method = true,
  path = true, body = true, url = true, recipe = true }

local function fail(path, fmt, ...)
  errors.raise('recipe', path .. ': ' .. string_format(fmt, ...))
end

-- The string library without string.dump.
local function safe_string()
  local string_copy = {}
  for k, v in pairs(string) do string_copy[k] = v end
  string_copy.dump = nil
  return string_copy
end
local SAFE_STRING = safe_string()

-- The globals a recipe sees: pure functions only.
local function sandbox()
  local string_copy = safe_string()
  local env = {
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
    pcall = pcall, select = select, tonumber = tonumber, tostring = tostring,
    type = type, rawequal = rawequal, rawget = rawget, rawlen = rawlen,
    string = string_copy, table = table, math = math, utf8 = utf8,
    os = { time = os.time, date = os.date, clock = os.clock },
  }
  env._G = env
  return env
end
M.sandbox = sandbox

-- Runs fn() with the count hook watching the wall clock: a recipe that
-- loops forever fails instead of hanging cron.  `limit` is seconds, or a
-- function returning the seconds left and how to name the bound, read at
-- every check so the caller may move the deadline (a release gets its own).
function M.bounded(what, limit, fn, ...)
  local left = limit
  if type(limit) ~= 'function' then
    local deadline = sys.monotonic() + limit
    left = function() return deadline - sys.monotonic(), string_format('%gs', limit) end
  end
  debug.sethook(function()
    local seconds, bound = left()
    if seconds <= 0 then
      debug.sethook()
      errors.raise('timeout', string_format('%s: still running after %s', what, bound))
    end
  end, '', 10000)
  -- ('').dump would reach the real string library through the strings'
  -- shared metatable: recipe code sees the sandbox's copy there too.
  local string_mt = getmetatable('')
  local string_index = string_mt.__index
  string_mt.__index = SAFE_STRING
  local res = table.pack(pcall(fn, ...))
  string_mt.__index = string_index
  debug.sethook()
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- The schema.  A field is a type name, a list of allowed types, or a
-- function(value, where) that raises.
local TEMPLATE = { 'string', 'function' }
local VALUE = { 'string', 'number', 'boolean', 'table', 'function' }

local step_fields = {
  name = 'string', method = 'string', url = TEMPLATE, query = 'table',
  headers = 'table', auth = 'table', json = VALUE, form = 'table',
  body = TEMPLATE, content_type = 'string', sign = 'table', expect = 'table',
  status_from = 'string', errors = 'table', error_message = { 'string', 'table' },
  error_code = { 'string', 'table' }, capture = 'table', safe_to_repeat = 'boolean', never_resend = 'boolean',
  retries = 'number', follow_redirects = { 'boolean', 'number' }, max_body = 'number',
  timeout = 'number', when = { 'string', 'function', 'table' }, on_failure = 'string', run = 'table',
  parse = 'string', insecure = 'boolean', failure_note = TEMPLATE,
}
local top_fields = {
  name = 'string', description = 'string', params = 'table', derive = 'table',
  steps = 'table', emit = 'table', release = 'table', errors = 'table',
  capabilities = 'table', mint_once = 'boolean', uses = 'table',
}
local emit_fields = {
  token = TEMPLATE, token_type = TEMPLATE, expires_at = TEMPLATE, ttl = VALUE,
  data = VALUE, env = 'table', username = TEMPLATE,
  access_key_id = TEMPLATE, secret_access_key = TEMPLATE, session_token = TEMPLATE,
}
local capture_fields = {
  path = 'string', as = 'string', match = 'string', secret = 'boolean',
  optional = 'boolean', utc_offset = TEMPLATE,
}
local rule_fields = {
  status = { 'number', 'table' }, code = VALUE, text = { 'string', 'table' },
  kind = 'string', message = 'string', hint = 'string',
}
M.conversions = { epoch_ms = true, epoch_s = true, jwt_exp = true,
  rfc3339 = true, datetime = true, string = true, integer = true }

local function check_fields(path, where, tbl, schema)
  if type(tbl) ~= 'table' then fail(path, '%s must be a table', where) end
  local keys = {}
  for k in pairs(tbl) do keys[#keys + 1] = tostring(k) end
  sort(keys)
  for _, k in ipairs(keys) do
    local want = schema[k]
    if want == nil then
      local known = {}
      for name in pairs(schema) do known[#known + 1] = name end
      sort(known)
      fail(path, "%s: unknown field '%s' (expected one of: %s)", where, k, concat(known, ', '))
    end
    local v, ok = tbl[k], false
    if type(want) == 'string' then
      ok = type(v) == want
    else
      for _, t in ipairs(want) do ok = ok or type(v) == t end
    end
    if not ok then
      fail(path, "%s: field '%s' must be %s, got %s", where, k,
        type(want) == 'string' and want or concat(want, ' or '), type(v))
    end
  end
end

-- Every placeholder in v (strings at any depth) must name something known.
local function check_names(path, where, v, known)
  if type(v) == 'string' then
    for name, head in template.names(v) do
      if not known[head] then
        fail(path, "%s: undeclared placeholder '{%s}'", where, name)
      end
    end
  elseif type(v) == 'table' then
    for k, item in pairs(v) do
      check_names(path, string_format('%s.%s', where, tostring(k)), item, known)
    end
  end
end

local function check_rules(path, where, rules)
  for i, rule in ipairs(rules) do
    local w = string_format('%s[%d]', where, i)
    check_fields(path, w, rule, rule_fields)
    if rule.kind and not errors.exit_codes[rule.kind] then
      fail(path, "%s: unknown error kind '%s'", w, rule.kind)
    end
  end
end

local function check_step(path, where, step, known, caps)
  if type(step) == 'table' and type(step.name) == 'string' then
    where = string_format("%s (step '%s')", where, step.name)
  end
  check_fields(path, where, step, step_fields)
  if not step.name then fail(path, "%s: missing field 'name'", where) end
  where = string_format("step '%s'", step.name)
  if step.run then
    if not caps.process then
      fail(path, "%s: runs a command, which needs capabilities = { 'process' }", where)
    end
  elseif not step.url then
    fail(path, "%s: missing field 'url' (or 'run' for a command)", where)
  end
  local parses = step.run and { table = true, json = true } or { json = true, xml = true }
  if step.parse ~= nil and not parses[step.parse] then
    fail(path, "%s: parse must be %s, got '%s'", where, step.run and "'table' or 'json'" or "'json' or 'xml'",
      tostring(step.parse))
  end
  if step.insecure then
    fail(path, "%s: recipes cannot turn TLS verification off; only the --insecure option can", where)
  end
  if step.errors then check_rules(path, where .. ' errors', step.errors) end
  if type(step.when) == 'table' then   -- {name = value}: names must be known
    for name in pairs(step.when) do
      if not known[name] then fail(path, "%s when: unknown name '%s'", where, tostring(name)) end
    end
  end
  for _, field in ipairs({ 'url', 'query', 'headers', 'auth', 'json', 'form', 'body', 'sign', 'when', 'run' }) do
    if step[field] ~= nil then check_names(path, where .. ' ' .. field, step[field], known) end
  end
  local sign = step.sign
  if sign then
    if not (sign.hmac and sign.key and sign.message) then
      fail(path, "%s: sign needs 'hmac', 'key' and 'message'", where)
    end
    if not (sign.query or sign.header) then
      fail(path, "%s: sign needs 'query' or 'header' to say where the signature goes", where)
    end
  end
  -- captures become known to the steps after this one
  for name, spec in pairs(step.capture or {}) do
    if type(spec) == 'table' then
      check_fields(path, string_format("%s capture '%s'", where, name), spec, capture_fields)
      if spec.as and not M.conversions[spec.as] then
        fail(path, "%s capture '%s': unknown conversion '%s'", where, name, spec.as)
      end
    elseif type(spec) ~= 'string' then
      fail(path, "%s capture '%s': must be a path string or a table", where, name)
    end
    known[name] = true
  end
end

-- M.validate(decl, path) -> decl (raises a recipe error naming the field).
function M.validate(decl, path)
  if type(decl) ~= 'table' then fail(path, 'a recipe must return a table, got %s', type(decl)) end
  check_fields(path, 'recipe', decl, top_fields)
  if type(decl.name) ~= 'string' or not decl.name:match('^[%w_.-]+$') then
    fail(path, "recipe: field 'name' must be a name like 'velafi'")
  end
  local ok, msg = params.validate_decls(decl.params or {})
  if not ok then fail(path, 'params: %s', msg) end
  local caps = {}
  for _, c in ipairs(decl.capabilities or {}) do
    if c ~= 'process' and c ~= 'fs' then fail(path, "capabilities: unknown capability '%s'", tostring(c)) end
    caps[c] = true
  end
  local known = {}
  for k in pairs(M.builtins) do known[k] = true end
  for _, p in ipairs(decl.params or {}) do known[p.name] = true end
  for name, spec in pairs(decl.uses or {}) do
    if type(name) ~= 'string' or not name:match('^[%a_][%w_]*$') or type(spec) ~= 'string' then
      fail(path, "uses: entries must be NAME = 'recipe', got %s = %s", tostring(name), type(spec))
    end
    check_names(path, 'uses.' .. name, spec, known)
  end
  if decl.uses then known.use = true end
  for name, v in pairs(decl.derive or {}) do
    if type(name) ~= 'string' then
      fail(path, 'derive: names must be strings, got a %s key (%s)', type(name), tostring(name))
    end
    check_names(path, "derive '" .. name .. "'", v, known)
  end
  for name in pairs(decl.derive or {}) do known[name] = true end
  if decl.errors then check_rules(path, 'errors', decl.errors) end
  if type(decl.steps) ~= 'table' or #decl.steps == 0 then
    fail(path, "recipe: field 'steps' must list at least one step")
  end
  local seen = {}
  for i, step in ipairs(decl.steps) do
    check_step(path, string_format('steps[%d]', i), step, known, caps)
    if seen[step.name] then fail(path, "steps: two steps are named '%s'", step.name) end
    seen[step.name] = true
  end
  if type(decl.emit) ~= 'table' then fail(path, "recipe: missing field 'emit'") end
  check_fields(path, 'emit', decl.emit, emit_fields)
  if decl.emit.token == nil then fail(path, "emit: missing field 'token'") end
  local emit_env = decl.emit.env
  decl.emit.env = nil
  check_names(path, 'emit', decl.emit, known)
  decl.emit.env = emit_env
  -- env values may also name the result's own token and expires_at
  check_names(path, 'emit.env', emit_env, setmetatable({ token = true, expires_at = true }, { __index = known }))
  if decl.release then
    check_fields(path, 'release', decl.release, { lease = 'string', steps = 'table' })
    if not (decl.release.lease and decl.release.steps) then
      fail(path, "release: needs 'lease' (the captured id) and 'steps'")
    end
    if not known[decl.release.lease] then
      fail(path, "release: lease '%s' is not captured by any step", decl.release.lease)
    end
    for i, step in ipairs(decl.release.steps) do
      check_step(path, string_format('release.steps[%d]', i), step, known, caps)
    end
  end
  return decl
end

-- M.load(path) -> decl, source.  Errors are recipe errors (65) naming the
-- file, and its line for syntax errors.
function M.load(path)
  local src, err = sys.read_file(path, M.MAX_SIZE)
  if not src then
    errors.raise('recipe', 'cannot read recipe ' .. err)
  end
  if src:byte(1) == 27 then fail(path, 'binary chunks are not recipes') end
  local env = sandbox()
  local chunk, msg = load(src, '@' .. path, 't', env)
  if not chunk then errors.raise('recipe', M.full_source(msg, path)) end
  -- the heap bound holds while loading too (a string.rep of a GiB at the
  -- top of a recipe); relative, as `tokrun lua` specs load recipes in a
  -- state that already holds more
  sys.set_memory_limit(sys.memory_used() + M.MAX_HEAP)
  local ok, decl = pcall(M.bounded, path, M.LOAD_TIMEOUT, chunk)
  sys.set_memory_limit(0)
  if not ok and decl == 'not enough memory' then
    fail(path, 'the recipe used more than its memory bound (%d MiB) while loading', M.MAX_HEAP // (1024 * 1024))
  end
  if not ok then
    errors.raise('recipe', M.full_source(errors.is(decl) and decl.message or tostring(decl), path))
  end
  return M.validate(decl, path), src
end

-- Lua shortens a long chunk name to "...tail" in its messages (LUA_IDSIZE);
-- put the recipe's whole path back, so an error always names its file.
function M.full_source(msg, path)
  return (msg:gsub('%.%.%.([^:\n]*):(%d+):', function(tail, line)
    if tail ~= '' and path:sub(-#tail) == tail then return path .. ':' .. line .. ':' end
  end))
end

-- M.find(name, search) -> path | nil, message.  A path is used as given; a
-- bare name is looked up as NAME.lua on TOKRUN_PATH (absolute entries
-- only) and then the installed recipes directory.
function M.find(name, search_path, installed)
  if name:find('/', 1, true) or name:match('%.lua$') then return name end
  local tried = {}
  for dir in (search_path or ''):gmatch('[^:]+') do
    if dir:sub(1, 1) == '/' then
      local p = dir .. '/' .. name .. '.lua'
      if sys.lstat(p) then return p end
      tried[#tried + 1] = dir
    end
  end
  local p = installed .. '/' .. name .. '.lua'
  if sys.lstat(p) then return p end
  tried[#tried + 1] = installed
  return nil, string_format("no recipe named '%s' (looked in %s)", name, concat(tried, ', '))
end

return M
