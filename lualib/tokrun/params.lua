-- Recipe parameters (docs/cli.md, Parameters and secrets): where each value comes from, what it
-- must look like, and errors that say how to set it without ever repeating
-- a secret's value.
local M = {}

local errors = require 'tokrun.errors'

local type, pairs, ipairs, pcall, error, tostring, tonumber =
  type, pairs, ipairs, pcall, error, tostring, tonumber
local find, format, gsub, lower, match, sub =
  string.find, string.format, string.gsub, string.lower, string.match, string.sub
local concat, sort = table.concat, table.sort
local tointeger = math.tointeger

-- A _FILE is read whole up to this size (docs/cli.md, Parameters and secrets).
local MAX_FILE = 64 * 1024
M.MAX_FILE = MAX_FILE

local TYPES = { string = true, integer = true, boolean = true, list = true, json_file = true }
local KEYS = { name = true, env = true, type = true, default = true, required = true, required_if = true,
  secret = true, description = true, pattern = true, enum = true, fields = true, secret_fields = true }
local BOOLEANS = { ['true'] = true, ['1'] = true, yes = true,
  ['false'] = false, ['0'] = false, no = false }

local trim = require('tokrun.text').trim

-- A value quoted for an error message: printable, bounded.
local function quote(s)
  if #s > 64 then s = sub(s, 1, 61) .. '...' end
  return "'" .. gsub(s, '%c', function(c) return format('\\x%02x', c:byte()) end) .. "'"
end

local function config_error(message)
  return nil, errors.new('config', message)
end

-- Where a value came from, as an error message says it.
local function origin(src)
  if src == 'cli' then return '-p' end
  return (gsub(src, '^%a+:', ''))
end

-- The typed value of a string from the command line, environment or a file.
local function convert(decl, raw)
  local t = decl.type or 'string'
  if t == 'string' or t == 'json_file' then return raw end
  if t == 'integer' then
    local s = trim(raw)
    return find(s, '^[+-]?%d+$') and tointeger(tonumber(s)) or nil, 'an integer'
  end
  if t == 'boolean' then
    return BOOLEANS[lower(trim(raw))], 'a boolean (true/false, yes/no, 1/0)'
  end
  local list = {}
  for item in gsub(raw, ',', ',,'):gmatch('[^,]+') do
    item = trim(item)
    if item ~= '' then list[#list + 1] = item end
  end
  return list
end

local function in_enum(enum, v)
  for _, e in ipairs(enum) do
    if e == v then return true end
  end
  return false
end

-- A declared pattern must match the whole value, anchored or not.
local function full_match(v, pattern)
  if sub(pattern, 1, 1) ~= '^' then pattern = '^' .. pattern end
  if sub(pattern, -1) ~= '$' or sub(pattern, -2, -2) == '%' then pattern = pattern .. '$' end
  return find(v, pattern) ~= nil
end

-- Pattern and enum checks, per item for a list.
local function check_value(decl, value)
  local items = (decl.type == 'list') and value or { value }
  for _, v in ipairs(items) do
    if decl.pattern and type(v) == 'string' and not full_match(v, decl.pattern) then
      return 'must match ' .. decl.pattern, v
    end
    if decl.enum and not in_enum(decl.enum, v) then
      local names = {}
      for i, e in ipairs(decl.enum) do names[i] = tostring(e) end
      return 'must be one of ' .. concat(names, ', '), v
    end
  end
  return nil
end

-- How to supply a missing parameter, for the one missing-parameters error.
local function how_to_set(decl)
  if decl.secret then
    return format('set %s or %s_FILE', decl.env, decl.env)
  elseif decl.env then
    return format('-p %s=... or %s', decl.name, decl.env)
  end
  return format('-p %s=...', decl.name)
end

-- raw, source: the string for one parameter from the environment or its
-- _FILE and where it came from; nothing when neither is set; nil, nil, err
-- on a config error.  An empty variable counts as unset, as `VAR= tokrun`
-- means in a shell.
local function from_env(decl, env, read_file)
  local var = decl.env
  if not var then return nil end
  local v, path = env[var], env[var .. '_FILE']
  if v == '' then v = nil end
  if path == '' then path = nil end
  if v and path then
    return nil, nil, errors.new('config', format("parameter '%s': both %s and %s_FILE are set; set only one",
      decl.name, var, var))
  end
  if v then return v, 'env:' .. var end
  if not path then return nil end
  local data, msg = read_file(path, MAX_FILE + 1)
  if not data then
    return nil, nil, errors.new('config', format("parameter '%s': cannot read %s_FILE (%s): %s",
      decl.name, var, path, tostring(msg)))
  end
  if #data > MAX_FILE then
    return nil, nil, errors.new('config', format("parameter '%s': %s_FILE (%s) is larger than 64 KiB",
      decl.name, var, path))
  end
  data = gsub(data, '\r?\n$', '', 1)
  return data, 'file:' .. var .. '_FILE'
end

-- The text of each JSON key file read, by its value (for the cache key:
-- the file holds secrets, so it counts as one).
local file_text = setmetatable({}, { __mode = 'k' })

-- A json_file parameter: its value names a JSON file (Google's
-- GOOGLE_APPLICATION_CREDENTIALS convention), read whole, bounded, a
-- regular file only; the value is the object in it, which must have every
-- field in `fields` and `secret_fields`.
local function load_json_file(decl, path, source, read_file)
  local where = format("parameter '%s': %s (from %s)", decl.name, path, origin(source))
  local data, msg = read_file(path, MAX_FILE + 1)
  if not data then
    return config_error(format("parameter '%s': cannot read the key file %s", decl.name, tostring(msg)))
  end
  if #data > MAX_FILE then return config_error(where .. ' is larger than 64 KiB') end
  local doc = require('tokrun.json').decode(data)
  if type(doc) ~= 'table' or doc[1] ~= nil then
    return config_error(where .. ' is not a JSON key file (a JSON object)')
  end
  for _, list in ipairs({ decl.fields or {}, decl.secret_fields or {} }) do
    for _, f in ipairs(list) do
      local v = doc[f]
      if type(v) ~= 'string' and type(v) ~= 'number' or v == '' then
        return config_error(format("%s has no field '%s'", where, f))
      end
    end
  end
  file_text[doc] = data
  return doc
end

-- params.file_text(value) -> the text of the JSON key file a json_file
-- value came from, or nil
function M.file_text(v)
  return file_text[v]
end

-- params.secret_values(decls, values) -> list of every secret string the
-- values hold: secret parameters, and the secret fields of key files
function M.secret_values(decls, values)
  local out = {}
  for _, d in ipairs(decls) do
    local v = values[d.name]
    if v ~= nil and d.secret then out[#out + 1] = tostring(v) end
    if type(v) == 'table' and d.secret_fields then
      for _, f in ipairs(d.secret_fields) do
        if v[f] ~= nil then out[#out + 1] = tostring(v[f]) end
      end
    end
  end
  return out
end

local function declared_names(decls)
  local names = {}
  for _, d in ipairs(decls) do
    if not d.secret then names[#names + 1] = d.name end
  end
  return names
end

-- Usage errors in the -p values: an undeclared name or a secret.
local function check_cli(decls, by_name, cli)
  local names = {}
  for name in pairs(cli) do names[#names + 1] = name end
  sort(names)
  for _, name in ipairs(names) do
    local decl = by_name[name]
    if not decl then
      local takes = declared_names(decls)
      local hint = #takes > 0 and 'this recipe takes: ' .. concat(takes, ', ')
        or 'this recipe takes no -p parameters'
      return nil, errors.new('usage', format("unknown parameter '%s'; %s", name, hint))
    end
    if decl.secret then
      return nil, errors.new('usage', format("parameter '%s' is secret and cannot be given on the "
        .. 'command line (ps shows argv to every user); set %s or %s_FILE',
        name, decl.env, decl.env))
    end
  end
  return true
end

-- params.resolve(decls, src) -> values, sources, secret_env | nil, err
-- src: cli (name -> string from -p), env (NAME -> value, --env-file merged
-- in by the caller), read_file(path, limit) -> data | nil, message, and
-- only (a set of names: resolve just these, as `release` does).
-- sources: name -> 'cli' | 'env:VAR' | 'file:VAR_FILE' | 'default'.
-- secret_env: sorted names of every VAR and VAR_FILE that can carry a
-- resolved secret, which `exec` removes from the child's environment.
function M.resolve(decls, src)
  local ok, msg = M.validate_decls(decls)
  if not ok then error(msg, 2) end
  src = src or {}
  local cli, env, only = src.cli or {}, src.env or {}, src.only
  local read_file = src.read_file or function() return nil, 'no file reader' end

  local by_name = {}
  for _, d in ipairs(decls) do by_name[d.name] = d end
  local cli_ok, err = check_cli(decls, by_name, cli)
  if not cli_ok then return nil, err end

  local values, sources, secret_env, missing = {}, {}, {}, {}
  for _, decl in ipairs(decls) do
    local name = decl.name
    if not only or only[name] then
      local raw, source
      if cli[name] ~= nil then
        raw, source = tostring(cli[name]), 'cli'
      else
        local env_err
        raw, source, env_err = from_env(decl, env, read_file)
        if env_err then return nil, env_err end
      end
      if decl.secret then
        secret_env[#secret_env + 1] = decl.env
        secret_env[#secret_env + 1] = decl.env .. '_FILE'
      end

      local value, what
      if raw ~= nil then
        value, what = convert(decl, raw)
        if value == nil then
          local got = decl.secret and '' or ', got ' .. quote(raw)
          return config_error(format("parameter '%s' must be %s%s (from %s)",
            name, what, got, origin(source)))
        end
      elseif decl.default ~= nil then
        value, source = decl.default, 'default'
        if type(value) == 'table' then
          local copy = {}
          for i, v in ipairs(value) do copy[i] = v end
          value = copy
        end
      elseif decl.required then
        missing[#missing + 1] = format('%s (%s)', name, how_to_set(decl))
      end

      if value ~= nil and decl.type == 'json_file' and source ~= 'default' then
        local doc, jerr = load_json_file(decl, value, source, read_file)
        if not doc then return nil, jerr end
        value = doc
      end
      if value ~= nil then
        local problem, bad = check_value(decl, value)
        if problem then
          local got = decl.secret and '' or ', got ' .. quote(tostring(bad))
          return config_error(format("parameter '%s' %s%s (from %s)",
            name, problem, got, source == 'default' and 'its default' or origin(source)))
        end
        values[name], sources[name] = value, source
      end
    end
  end
  -- required_if = 'other': needed whenever `other` is set and not false
  for _, decl in ipairs(decls) do
    local other = decl.required_if
    if other and values[decl.name] == nil and (not only or only[decl.name])
      and values[other] ~= nil and values[other] ~= false then
      missing[#missing + 1] = format('%s (%s; needed when %s is set)', decl.name, how_to_set(decl), other)
    end
  end
  if #missing > 0 then
    return config_error('missing required parameters: ' .. concat(missing, ', '))
  end
  sort(secret_env)
  return values, sources, secret_env
end

-- Strips matching single or double quotes; nothing inside is expanded.
local function unquote(v)
  local q = sub(v, 1, 1)
  if q == '"' or q == "'" then
    if #v < 2 or sub(v, -1) ~= q then return nil end
    return sub(v, 2, -2)
  end
  return v
end

-- params.parse_env_file(text, filename) -> NAME -> value | nil, err
-- (--env-file: NAME=VALUE lines, `export ` allowed, # comments)
function M.parse_env_file(text, filename)
  if type(text) ~= 'string' then
    error(format("bad argument #1 to 'parse_env_file' (string expected, got %s)", type(text)), 2)
  end
  filename = filename or '--env-file'
  local vars, lineno = {}, 0
  for line in gsub(text, '\n?$', '\n', 1):gmatch('([^\n]*)\n') do
    lineno = lineno + 1
    line = gsub(line, '\r$', '')
    local body = trim(line)
    if body ~= '' and sub(body, 1, 1) ~= '#' then
      body = gsub(body, '^export%s+', '', 1)
      local name, value = match(body, '^([^=]-)%s*=%s*(.*)$')
      if not name or not find(name, '^[A-Za-z_][A-Za-z0-9_]*$') then
        return config_error(format('%s:%d: expected NAME=VALUE', filename, lineno))
      end
      value = unquote(value)
      if not value then
        return config_error(format('%s:%d: unterminated quoted value', filename, lineno))
      end
      vars[name] = value
    end
  end
  return vars
end

local ELEMENT_TYPE = { string = 'string', integer = 'number', boolean = 'boolean', list = 'string' }

-- Does v have the Lua type a value of this parameter type has?
local function typed(t, v)
  if t == 'integer' then return type(v) == 'number' and tointeger(v) ~= nil end
  return type(v) == ELEMENT_TYPE[t]
end

local function check_decl(d, i, seen)
  if type(d) ~= 'table' then return format('params[%d] is not a table', i) end
  local name = d.name
  if type(name) ~= 'string' or not find(name, '^[a-z_][a-z0-9_]*$') then
    return format('params[%d]: name must match [a-z_][a-z0-9_]*', i)
  end
  local where = format("parameter '%s'", name)
  if seen[name] then return where .. ' is declared twice' end
  seen[name] = true
  for k in pairs(d) do
    if not KEYS[k] then return format('%s: unknown key %s', where, tostring(k)) end
  end
  local t = d.type or 'string'
  if not TYPES[t] then
    return format('%s: type must be string, integer, boolean, list or json_file, not %s', where, tostring(t))
  end
  for _, k in ipairs({ 'fields', 'secret_fields' }) do
    if d[k] ~= nil then
      if t ~= 'json_file' then return format('%s: %s is only for a json_file parameter', where, k) end
      if type(d[k]) ~= 'table' or #d[k] == 0 then return format('%s: %s must be a list of field names', where, k) end
      for _, f in ipairs(d[k]) do
        if type(f) ~= 'string' then return format('%s: %s must be a list of field names', where, k) end
      end
    end
  end
  if t == 'json_file' and (d.pattern ~= nil or d.enum ~= nil or d.default ~= nil) then
    return where .. ': a json_file parameter takes no pattern, enum or default'
  end
  if d.env ~= nil and (type(d.env) ~= 'string' or not find(d.env, '^[A-Za-z_][A-Za-z0-9_]*$')) then
    return where .. ': env must be an environment variable name'
  end
  for _, k in ipairs({ 'required', 'secret' }) do
    if d[k] ~= nil and type(d[k]) ~= 'boolean' then return format('%s: %s must be a boolean', where, k) end
  end
  if d.description ~= nil and type(d.description) ~= 'string' then
    return where .. ': description must be a string'
  end
  if d.secret and not d.env then
    return where .. ' is secret and needs env (secrets are never taken from -p)'
  end
  if d.pattern ~= nil then
    if (t ~= 'string' and t ~= 'list') or type(d.pattern) ~= 'string' then
      return where .. ': pattern must be a string, for a string or list parameter'
    end
    local ok = pcall(find, '', d.pattern)
    if not ok then return format('%s: invalid pattern %s', where, d.pattern) end
  end
  if d.enum ~= nil then
    if type(d.enum) ~= 'table' or #d.enum == 0 then return where .. ': enum must be a non-empty list' end
    for _, e in ipairs(d.enum) do
      if not typed(t, e) then return format('%s: enum values must be of type %s', where, t) end
    end
  end
  if d.default ~= nil then
    local items = d.default
    if t ~= 'list' then
      items = { d.default }
    elseif type(items) ~= 'table' then
      return where .. ': default must be a list of strings'
    end
    for _, v in ipairs(items) do
      if not typed(t, v) then return format('%s: default must be of type %s', where, t) end
    end
    if check_value(d, d.default) then
      return where .. ': default does not pass its own pattern or enum'
    end
  end
  return nil
end

-- params.validate_decls(decls) -> true | nil, message  (for `tokrun check`)
function M.validate_decls(decls)
  if type(decls) ~= 'table' then return nil, 'params must be a list' end
  local seen, n = {}, 0
  for _ in pairs(decls) do n = n + 1 end
  if n ~= #decls then return nil, 'params must be a list (an array of declarations)' end
  for i, d in ipairs(decls) do
    local problem = check_decl(d, i, seen)
    if problem then return nil, problem end
  end
  for _, d in ipairs(decls) do
    if d.required_if ~= nil and not seen[d.required_if] then
      return nil, format("parameter '%s': required_if must name a declared parameter", d.name)
    end
  end
  return true
end

return M
