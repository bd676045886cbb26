-- Placeholders in recipe values: "{name}" and "{name|filter}"; a name may
-- be a dotted path into a table value ("{key_file.client_email}").
--
-- A string that is exactly one placeholder takes the value as it is (an
-- integer stays an integer, a list stays a list); placeholders inside text
-- are interpolated.  A value that is not set (nil) makes the whole string
-- nil, so optional fields drop out of queries, headers and bodies instead of
-- being sent as "".  Functions are the escape hatch: they get the vars.
local M = {}

local type, tostring, pairs, ipairs, tonumber, next = type, tostring, pairs, ipairs, tonumber, next
local concat, string_format = table.concat, string.format
local math_type, math_tointeger = math.type, math.tointeger

local function scalar(v)
  if type(v) == 'table' then return concat(v, ',') end
  if math_type(v) == 'float' and v == math.floor(v) and v > -2^53 and v < 2^53 then
    return string_format('%d', v)
  end
  return tostring(v)
end

M.filters = {
  string = scalar,
  int = function(v) return math_tointeger(tonumber(v)) end,
  -- application/x-www-form-urlencoded (OAuth2 client_secret_basic, RFC 6749 2.3.1)
  form = function(v) return require('tokrun.codec').form(scalar(v)) end,
  -- a JWT's exp claim, seconds since the epoch (emit.expires_at of a JWT)
  jwt_exp = function(v) return require('tokrun.response').jwt_exp(v) end,
  upper = function(v) return scalar(v):upper() end,
  -- a list joined by spaces (an OAuth2 scope, RFC 6749 section 3.3)
  spaces = function(v) return type(v) == 'table' and concat(v, ' ') or scalar(v) end,
  -- a list's items as integers (ids a JSON body sends as numbers)
  integers = function(v, name)
    local out = {}
    for i, item in ipairs(type(v) == 'table' and v or { v }) do
      out[i] = math_tointeger(tonumber(item))
      if not out[i] then
        require('tokrun.errors').raise('config', string_format("parameter '%s' must be a list of integers, got '%s'",
          name, scalar(item)))
      end
    end
    return out
  end,
  -- JSON text as the value it encodes (an object parameter for a JSON body)
  json = function(v, name)
    local r = require('tokrun.json').decode(scalar(v))
    if r == nil then
      require('tokrun.errors').raise('config', string_format("parameter '%s' is not valid JSON", name))
    end
    return r
  end,
}

-- M.get(vars, name) -> the value of a name or a dotted path ("a.b.c")
function M.get(vars, name)
  if not name:find('.', 1, true) then return vars[name] end
  local v = vars
  for seg in name:gmatch('[^.]+') do
    if type(v) ~= 'table' then return nil end
    v = v[seg]
  end
  return v
end

local function lookup(vars, name, filter)
  local v = M.get(vars, name)
  if v ~= nil and filter ~= '' then
    local f = M.filters[filter]
    if not f then error(string_format("unknown filter '|%s' in {%s|%s}", filter, name, filter), 0) end
    v = f(v, name)
  end
  return v
end

-- M.names(s) -> iterator over the placeholders in s: name (maybe a dotted
-- path), and its head (the variable it starts from)
function M.names(s)
  return s:gmatch('{(([%a_][%w_]*)[%w_.]*)|?[%w_]*}')
end

-- M.string(s, vars [, encode]) -> the rendered string (or the raw value of
-- a lone placeholder), nil when a placeholder has no value.
-- encode(text, name, position) escapes each inserted value by where it
-- lands (URLs use it).
function M.string(s, vars, encode)
  local whole, wfilter = s:match('^{([%a_][%w_.]*)|?([%w_]*)}$')
  if whole and not encode then return lookup(vars, whole, wfilter) end
  local missing = false
  local out = s:gsub('(){([%a_][%w_.]*)|?([%w_]*)}', function(pos, name, filter)
    local v = lookup(vars, name, filter)
    if v == nil then missing = true; return '' end
    v = scalar(v)
    if encode then return encode(v, name, pos) end
    return v
  end)
  if missing then return nil end
  return out
end

-- A recipe's function value: whatever it raises (a Lua error, a stack
-- overflow) is the recipe's fault (65), not tokrun's; tokrun's own errors
-- (the run's deadline) and the heap bound's 'not enough memory' pass on.
local function call(f, vars)
  local ok, r = pcall(f, vars)
  if ok then return r end
  local errors = require 'tokrun.errors'
  if errors.is(r) or r == 'not enough memory' then error(r, 0) end
  errors.raise('recipe', 'a function in the recipe failed: ' .. tostring(r))
end

-- M.value(v, vars [, mark]) -> v with every string and function inside
-- rendered; nil entries drop out (arrays stay dense).  mark(t) is called on
-- every table that came from an array, so JSON can keep [] as [].
function M.value(v, vars, mark)
  local t = type(v)
  if t == 'string' then
    local r = M.string(v, vars)
    if type(r) == 'table' and mark and (r[1] ~= nil or next(r) == nil) then   -- a list (an object stays one)
      local copy = {}
      for i, item in ipairs(r) do copy[i] = item end
      return mark(copy)
    end
    return r
  end
  if t == 'function' then return call(v, vars) end
  if t ~= 'table' then return v end
  local out = {}
  if v[1] ~= nil then
    for _, item in ipairs(v) do
      local r = M.value(item, vars, mark)
      if r ~= nil then out[#out + 1] = r end
    end
    return mark and mark(out) or out
  end
  for k, item in pairs(v) do
    out[k] = M.value(item, vars, mark)
  end
  return out
end

return M
