local errors = require 'tokrun.errors'
local params = require 'tokrun.params'
local sandbox = require 'tokrun.sandbox'
local schema = require 'tokrun.schema'
local steps = require 'tokrun.steps'
local template = require 'tokrun.template'

local M = {}

local type, pairs, ipairs, tostring, setmetatable = type, pairs, ipairs, tostring, setmetatable
local string_format, concat, sort = string.format, table.concat, table.sort

-- Checking a declaration against the schema (lualib/tokrun/schema.lua):
-- every word known, in its place, with a value it allows; every
-- placeholder named.  A finding is a `recipe` error (65) whose message
-- names the file, the step and the word, and suggests the nearest word.

local function fail(V, where, word, fmt, ...)
  local msg = string_format(fmt, ...)
  local at = V.step and string_format("step '%s': ", V.step) or ''
  local place = (where == 'step' or where == 'recipe') and '' or (where .. ': ')
  errors.raise('recipe', string_format('%s: %s%s%s', V.path, at, place, msg),
    { finding = { file = V.path, step = V.step, word = word, message = string_format('%s: %s', where, msg) } })
end

-- Edit distance counting a swap of neighbours as one edit (optimal string
-- alignment), for "did you mean".
local function distance(a, b)
  if #a > 64 or #b > 64 then return math.huge end
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[#a][#b]
end

local function nearest(word, candidates)
  if type(word) ~= 'string' then return nil end
  local best, best_d
  for _, c in ipairs(candidates) do
    local d = distance(word:lower(), tostring(c):lower())
    if not best_d or d < best_d then best, best_d = c, d end
  end
  local allowed = #word <= 3 and 1 or math.max(2, #word // 3)
  if best and best_d <= allowed then return best end
end

local function suggest(word, candidates)
  local near = nearest(word, candidates)
  if near then return string_format("; did you mean '%s'?", tostring(near)) end
  local names = {}
  for i, c in ipairs(candidates) do names[i] = tostring(c) end
  return ' (expected one of: ' .. concat(names, ', ') .. ')'
end

local WORDS = {}   -- context -> sorted word names
local function words_of(cname)
  if not WORDS[cname] then
    local list = {}
    for name, w in pairs(schema.contexts[cname]) do
      if type(w) == 'table' then list[#list + 1] = name end
    end
    sort(list)
    WORDS[cname] = list
  end
  return WORDS[cname]
end

local function by_name(a, b) return tostring(a) < tostring(b) end
local function sorted_keys(t)
  local keys, strings = {}, true
  for k in pairs(t) do
    keys[#keys + 1] = k
    strings = strings and type(k) == 'string'
  end
  sort(keys, not strings and by_name or nil)   -- the same order; strings compare without a call
  return keys
end

local function is_list(t)
  if type(t) ~= 'table' then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

local function is_template(v) return type(v) == 'string' or type(v) == 'function' end
local SCALAR = { string = true, number = true, boolean = true, ['function'] = true }
local function is_value(v) return SCALAR[type(v)] or type(v) == 'table' end

local function show(v)
  if type(v) == 'string' then return "'" .. v .. "'" end
  return tostring(v)
end

local function one_of(v, enum)
  for _, e in ipairs(enum) do if v == e then return true end end
  return false
end

local check_context, check_value
local CUSTOM = {}

local function check_scalar(V, w, v, where, word)
  local t = w.type
  local ok = (t == 'integer' and math.type(v) == 'integer')
    or (t == 'number' and type(v) == 'number') or type(v) == t
  if not ok then fail(V, where, word, 'must be %s, got %s %s', t == 'integer' and 'an integer' or ('a ' .. t),
    type(v), show(v)) end
  if type(v) == 'number' and v ~= v then fail(V, where, word, 'must be a number, got NaN') end
  if w.min and v < w.min then fail(V, where, word, 'must be at least %s, got %s', tostring(w.min), show(v)) end
  if w.max and v > w.max then fail(V, where, word, 'must be at most %s, got %s', tostring(w.max), show(v)) end
  if w.pattern and not v:find(w.pattern) then fail(V, where, word, '%s is not allowed here', show(v)) end
  if w.lua_pattern then
    local valid, msg = pcall(string.find, '', v)
    if not valid then fail(V, where, word, 'is not a Lua pattern: %s', (tostring(msg):gsub('^.-:%d+: ', ''))) end
  end
end

local function check_enum(V, enum, v, where, word)
  if not one_of(v, enum) then
    fail(V, where, word, '%s is not allowed%s', show(v), suggest(v, enum))
  end
end

local function check_element(V, kind, w, v, where, word)
  if kind == 'template' then
    if not is_template(v) then fail(V, where, word, 'must be a string, got %s', type(v)) end
  elseif kind == 'value' then
    if not SCALAR[type(v)] then fail(V, where, word, 'must be a string, number or boolean, got %s', type(v)) end
  elseif kind == 'enum' then
    check_enum(V, w.enum, v, where, word)
  elseif kind == 'step' then
    CUSTOM.step(V, v, where)
  else
    check_context(V, kind, v, where)
  end
end

function check_value(V, w, v, where, word)
  if w.type then
    check_scalar(V, w, v, where, word)
  elseif w.template then
    if not is_template(v) then fail(V, where, word, 'must be a string or a function, got %s', type(v)) end
  elseif w.value then
    if not is_value(v) then fail(V, where, word, 'must be a value, got %s', type(v)) end
  elseif w.context then
    check_context(V, w.context, v, where)
  elseif w.list then
    if not is_list(v) then fail(V, where, word, 'must be a list') end
    for i, item in ipairs(v) do check_element(V, w.list, w, item, string_format('%s[%d]', where, i), word) end
  elseif w.map then
    if type(v) ~= 'table' then fail(V, where, word, 'must be a table, got %s', type(v)) end
    for _, k in ipairs(sorted_keys(v)) do
      if type(k) ~= 'string' or (w.names and not k:find(w.names)) then
        fail(V, where, word, '%s is not a valid name here', show(k))
      end
      local item = v[k]
      if w.map == 'template' then
        if not is_value(item) then fail(V, where .. '.' .. k, word, 'must be a value, got %s', type(item)) end
      elseif not (w.map == 'capture' and type(item) == 'string') then   -- a string: the short form, a path
        check_context(V, w.map, item, where .. '.' .. k)
      end
    end
  elseif w.enum then
    check_enum(V, w.enum, v, where, word)
  elseif w.custom then
    CUSTOM[w.custom](V, v, where, word)
  end
end

function check_context(V, cname, t, where)
  if type(t) ~= 'table' then fail(V, where, nil, 'must be a table, got %s %s', type(t), show(t)) end
  local c = schema.contexts[cname]
  for _, k in ipairs(sorted_keys(t)) do
    local w = type(k) == 'string' and c[k] or nil
    if type(w) ~= 'table' then
      local renamed = schema.renamed[cname] and schema.renamed[cname][k]
      fail(V, where, tostring(k), "unknown word '%s'%s", tostring(k),
        renamed and string_format('; it is now %s', renamed) or suggest(k, words_of(cname)))
    end
    if w.kinds and V.kind and not one_of(V.kind, w.kinds) then
      fail(V, where, k, "'%s' is a word of %s steps; this is a %s step", k, concat(w.kinds, ', '), V.kind)
    end
    check_value(V, w, t[k], (where == 'recipe' or where == 'step') and k or (where .. '.' .. k), k)
  end
  for _, name in ipairs(words_of(cname)) do
    if c[name].required and t[name] == nil then
      fail(V, where, name, "missing '%s' (%s)", name, c[name].doc)
    end
  end
end

-- A step: its kind first (the words allowed depend on it).
function CUSTOM.step(V, step, where)
  if type(step) ~= 'table' then fail(V, where, nil, 'a step must be a table, got %s', type(step)) end
  V.step = type(step.name) == 'string' and step.name or nil
  if V.step then where = 'step' end
  if step.insecure ~= nil then
    fail(V, where, 'insecure', 'recipes cannot turn TLS verification off; only the --insecure option can')
  end
  local found = {}
  for _, k in ipairs(steps.KINDS) do
    if step[k.word] ~= nil then found[#found + 1] = k end
  end
  if #found == 0 then
    local words = {}
    for i, k in ipairs(steps.KINDS) do words[i] = string_format("'%s' (%s)", k.word, k.kind) end
    fail(V, where, nil, 'a step needs one of %s', concat(words, ', '))
  elseif #found > 1 then
    fail(V, where, found[2].word, "a step has one kind: '%s' and '%s' cannot go together",
      found[1].word, found[2].word)
  end
  V.kind = found[1].kind
  check_context(V, 'step', step, where)
  V.kind, V.step = nil, nil
end

function CUSTOM.derive(V, v, where, word)
  if type(v) ~= 'table' then fail(V, where, word, 'must be a table') end
  for _, name in ipairs(sorted_keys(v)) do
    if type(name) ~= 'string' then
      fail(V, where, word, 'names must be strings, got a %s key (%s)', type(name), tostring(name))
    elseif not name:find('^[%a_][%w_]*$') then
      fail(V, where, word, 'names must be identifiers, got %s', show(name))
    end
    local d = v[name]
    if type(d) == 'table' then
      for k, alt in pairs(d) do
        if k == 'missing' then
          if type(alt) ~= 'string' then fail(V, where .. '.' .. name, 'missing', 'must be a string') end
        elseif math.type(k) ~= 'integer' then
          fail(V, where .. '.' .. name, tostring(k), "unknown word '%s'; did you mean 'missing'?", tostring(k))
        elseif not is_template(alt) then
          fail(V, where .. '.' .. name, word, 'alternatives must be strings')
        end
      end
    elseif not is_value(d) then
      fail(V, where .. '.' .. name, word, 'must be a template or a list of alternatives')
    end
  end
end

function CUSTOM.when(V, v, where, word)
  if is_template(v) then return end
  if type(v) ~= 'table' then fail(V, where, word, 'must be a template, a function or a table') end
  for name, want in pairs(v) do
    if type(name) ~= 'string' or not SCALAR[type(want)] then
      fail(V, where, word, 'a table must map names to values')
    end
  end
end

function CUSTOM.parse(V, v, where, word)
  check_enum(V, schema.parsers[V.kind] or {}, v, where, word)
end

function CUSTOM.pairs(V, v, where, word)
  if not is_list(v) then fail(V, where, word, 'must be an ordered list of {name, value} pairs') end
  for i, kv in ipairs(v) do
    if not is_list(kv) or #kv ~= 2 or type(kv[1]) ~= 'string' or not SCALAR[type(kv[2])] then
      fail(V, string_format('%s[%d]', where, i), word, 'must be a {name, value} pair')
    end
  end
end

function CUSTOM.paths(V, v, where, word)
  if type(v) == 'string' then return end
  if not is_list(v) then fail(V, where, word, 'must be a body path or a list of paths') end
  for _, p in ipairs(v) do
    if type(p) ~= 'string' then fail(V, where, word, 'must be a body path or a list of paths') end
  end
end

function CUSTOM.redirects(V, v, where, word)
  if type(v) == 'boolean' then return end
  if math.type(v) ~= 'integer' or v < 0 then
    fail(V, where, word, 'must be true, false or a number of hops, got %s', show(v))
  end
end

function CUSTOM.basic(V, v, where, word)
  if not is_list(v) or #v ~= 2 or not is_template(v[1]) or not is_template(v[2]) then
    fail(V, where, word, 'must be { user, password }')
  end
end

function CUSTOM.status(V, v, where, word)
  local list = type(v) == 'table' and v or { v }
  if not is_list(list) or #list == 0 then fail(V, where, word, 'must be a status or a list of statuses') end
  for _, s in ipairs(list) do
    if math.type(s) ~= 'integer' or s < 100 or s > 599 then
      fail(V, where, word, 'must be an HTTP status (100-599), got %s', show(s))
    end
  end
end

function CUSTOM.argv(V, v, where, word)
  if not is_list(v) or #v == 0 then fail(V, where, word, 'must be a non-empty list') end
  for i, item in ipairs(v) do
    local w = string_format('%s[%d]', where, i)
    if type(item) == 'table' then
      if not is_list(item) or #item == 0 then fail(V, w, word, 'a group must be a non-empty list') end
      for _, a in ipairs(item) do
        if not is_template(a) then fail(V, w, word, 'must hold strings') end
      end
    elseif not is_template(item) then
      fail(V, w, word, 'must be a string or a group of strings, got %s', type(item))
    end
  end
end

function CUSTOM.run(V, v, where, word)
  if type(v) ~= 'table' then fail(V, where, word, 'must be { argv = {...} } or a list') end
  if v.argv == nil and is_list(v) then return CUSTOM.argv(V, v, where, word) end
  check_context(V, 'run', v, where)
end

function CUSTOM.jwt_time(V, v, where, word)
  if v == true or v == false then return end
  if type(v) ~= 'table' then fail(V, where, word, 'must be true or { backdate = SECONDS }, got %s', show(v)) end
  check_context(V, 'jwt_time', v, where)
end

function CUSTOM.ttl(V, v, where, word)
  if type(v) == 'number' or is_template(v) then return end
  check_context(V, 'ttl', v, where)
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  if n ~= 1 then fail(V, where, word, 'must give exactly one of seconds, minutes, hours') end
end

-- Every placeholder in v (strings at any depth) must name something known,
-- and every filter must exist.
local function check_names(V, where, v, known)
  if type(v) == 'string' then
    for name, filter in v:gmatch('{([%a_][%w_.#]*)|?([%w_]*)}') do
      local head = name:match('^[^.]+')
      if not known[head] then
        local list = {}
        for k in pairs(known) do list[#list + 1] = k end
        sort(list)
        fail(V, where, head, "undeclared placeholder '{%s}'%s", name, suggest(head, list))
      end
      if filter ~= '' and not template.filters[filter] then
        local list = {}
        for k in pairs(template.filters) do list[#list + 1] = k end
        sort(list)
        fail(V, where, filter, "unknown filter '|%s' in '{%s|%s}'%s", filter, name, filter, suggest(filter, list))
      end
    end
  elseif type(v) == 'table' then
    for _, k in ipairs(sorted_keys(v)) do
      check_names(V, string_format('%s.%s', where, tostring(k)), v[k], known)
    end
  end
end

-- A jwt step: a known alg when it is written out, templates that name
-- known values (claims may also use {key_fingerprint}); the token is then
-- known, as a secret, under the step's name.
local function check_jwt(V, step, known, secret)
  local jwt = require 'tokrun.jwt'
  local alg = step.jwt.alg
  if type(alg) == 'string' and not alg:find('{', 1, true) and not jwt.ALGS[alg] then
    local list = {}
    for a in jwt.ALG_LIST:gmatch('[^, ]+') do list[#list + 1] = a end
    fail(V, 'jwt.alg', 'alg', '%s is not allowed%s', show(alg), suggest(alg, list))
  end
  if not step.name:find('^[%a_][%w_]*$') then
    fail(V, 'step', 'name', "a jwt step's name is how templates read its token: %s is not a name", show(step.name))
  end
  check_names(V, 'jwt', step.jwt, setmetatable({ key_fingerprint = true }, { __index = known }))
  known[step.name], secret[step.name] = true, true
end

local NAMED = { 'url', 'query', 'headers', 'auth', 'json', 'form', 'body', 'when', 'run', 'failure_note' }

-- The checks that span words: placeholders known at each step, captures
-- known to later steps, secrets kept off argv, signatures placed once.
local function check_step_names(V, step, known, secret)
  V.step = step.name
  for _, word in ipairs(NAMED) do
    if step[word] ~= nil and not (word == 'when' and type(step.when) == 'table') then
      check_names(V, word, step[word], known)
    end
  end
  if type(step.when) == 'table' then
    for name in pairs(step.when) do
      if not known[name] then fail(V, 'when', name, "unknown name '%s'", name) end
    end
  end
  if step.sign then
    local sv = setmetatable({}, { __index = function(_, k) return known[k] or schema.sign_names[k] end })
    check_names(V, 'sign', step.sign, sv)
    local into = step.sign.into
    if (into.query == nil) == (into.header == nil) then
      fail(V, 'sign.into', nil, "must say one place: 'query' or 'header'")
    end
  end
  if step.run then
    local argv = step.run.argv or step.run
    for _, item in ipairs(argv) do
      for _, a in ipairs(type(item) == 'table' and item or { item }) do
        for name in tostring(a):gmatch('{([%a_][%w_.]*)') do
          if secret[name] then
            fail(V, 'run.argv', name, "'{%s}' is a secret and would be visible to every user in the process "
              .. "list; pass it in run.env instead", name)
          end
        end
      end
    end
  end
  if step.jwt then check_jwt(V, step, known, secret) end
  for name, spec in pairs(step.capture or {}) do
    known[name] = true
    if type(spec) == 'table' and spec.secret then secret[name] = true end
  end
  V.step = nil
end

-- M.recipe(decl, path) -> a plain copy of decl, checked (raises a
-- recipe error naming the file, step and word).
function M.recipe(decl, path)
  local V = { path = path }
  if type(decl) ~= 'table' then fail(V, 'recipe', nil, 'a recipe must return a table, got %s', type(decl)) end
  decl = sandbox.plain(decl, 'recipe', function(at, fmt, ...) fail(V, at, nil, fmt, ...) end)
  check_context(V, 'recipe', decl, 'recipe')
  local ok, msg = params.validate_decls(decl.params or {})
  if not ok then fail(V, 'params', nil, '%s', msg) end
  local caps = {}
  for _, c in ipairs(decl.capabilities or {}) do caps[c] = true end
  local known, secret = {}, {}
  for k in pairs(schema.builtins) do known[k] = true end
  for _, p in ipairs(decl.params or {}) do
    known[p.name] = true
    if p.secret then secret[p.name] = true end
  end
  for _, name in ipairs(sorted_keys(decl.uses or {})) do
    check_names(V, 'uses.' .. name, decl.uses[name], known)
  end
  if decl.uses then known.use = true end
  for _, name in ipairs(sorted_keys(decl.derive or {})) do
    check_names(V, 'derive.' .. name, decl.derive[name], known)
  end
  for name in pairs(decl.derive or {}) do known[name] = true end
  local seen = {}
  local function each_step(list, where)
    for i, step in ipairs(list) do
      if seen[step.name] then
        fail(V, string_format('%s[%d]', where, i), 'name', "two steps are named '%s'", step.name)
      end
      seen[step.name] = true
      if step.run and not caps.process then
        V.step = step.name
        fail(V, 'step', 'capabilities', "runs a command, which needs capabilities = { 'process' } at the top")
      end
      check_step_names(V, step, known, secret)
    end
  end
  each_step(decl.steps, 'steps')
  if #decl.steps == 0 then fail(V, 'steps', 'steps', 'must list at least one step') end
  local emit_env = decl.emit.env
  decl.emit.env = nil
  check_names(V, 'emit', decl.emit, known)
  decl.emit.env = emit_env
  -- env values may also name the result's own token and expires_at
  check_names(V, 'emit.env', emit_env, setmetatable({ token = true, expires_at = true }, { __index = known }))
  if decl.release then
    if not known[decl.release.lease] then
      fail(V, 'release.lease', 'lease', "'%s' is not captured by any step", decl.release.lease)
    end
    each_step(decl.release.steps, 'release.steps')
  end
  return decl
end

return M
