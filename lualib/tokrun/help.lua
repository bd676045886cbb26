-- `tokrun --help RECIPE`: what a recipe needs and where each value may come
-- from, in 80 columns for a person (M.text) or as one JSON object for
-- tools such as the shell completion (M.json).
local json = require 'tokrun.json'

local M = {}

local ipairs, tostring, type = ipairs, tostring, type
local concat, format = table.concat, string.format

M.WIDTH = 79   -- an 80-column terminal wraps a line of 80

-- Words of `text` filled into lines of at most `width` after `indent`.
local function wrap(text, indent, width)
  local lines, line = {}, nil
  for word in tostring(text):gmatch('%S+') do
    if line and #line + 1 + #word > width then
      lines[#lines + 1] = line
      line = nil
    end
    line = line and (line .. ' ' .. word) or (indent .. word)
  end
  if line then lines[#lines + 1] = line end
  return concat(lines, '\n')
end

local function default_text(v)
  if type(v) == 'table' then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = tostring(x) end
    return concat(parts, ',')
  end
  return tostring(v)
end

-- Where a parameter's value may come from, in the order it is looked up.
local function sources(p)
  local from = {}
  if not p.secret then from[#from + 1] = '-p ' .. p.name .. '=...' end
  if p.env then
    from[#from + 1] = p.env
    from[#from + 1] = p.env .. '_FILE'
  end
  return from
end

local function has_capability(decl, name)
  for _, c in ipairs(decl.capabilities or {}) do
    if c == name then return true end
  end
  return false
end

-- One parameter's entry: name, then what it is, where it comes from, and
-- its description, each wrapped under the name.
local function entry(p)
  local what = { p.type or 'string' }
  if p.secret then what[#what + 1] = 'secret' end
  if p.default ~= nil then what[#what + 1] = 'default ' .. default_text(p.default) end
  if p.enum then what[#what + 1] = 'one of ' .. default_text(p.enum):gsub(',', ', ') end
  if p.required_if then what[#what + 1] = 'required with ' .. p.required_if end
  local from = sources(p)
  local lines = { '  ' .. p.name }
  local body = concat(what, ', ') .. (#from > 0 and ('; from ' .. concat(from, ', ')) or '; no source')
  lines[#lines + 1] = wrap(body, '      ', M.WIDTH)
  if p.description then lines[#lines + 1] = wrap(p.description, '      ', M.WIDTH) end
  return concat(lines, '\n')
end

-- A shell command line, wrapped with backslashes to fit.
local function command(words)
  local lines, line = {}, '  '
  for _, w in ipairs(words) do
    if #line > 2 and #line + 1 + #w + 2 > M.WIDTH then
      lines[#lines + 1] = line .. ' \\'
      line = '      '
    end
    line = line .. ((line:match('%S') and ' ') or '') .. w
  end
  lines[#lines + 1] = line
  return concat(lines, '\n')
end

-- An example run: the secrets' variables, then tokrun with `how`, the
-- recipe and its required -p parameters (and for exec, a command).
local function example(decl, how)
  local words = {}
  for _, p in ipairs(decl.params or {}) do
    if p.required and p.secret and p.env then words[#words + 1] = p.env .. '=...' end
  end
  words[#words + 1] = 'tokrun'
  if how == 'exec' then words[#words + 1] = 'exec' else
    for w in how:gmatch('%S+') do words[#words + 1] = w end
  end
  words[#words + 1] = decl.name
  for _, p in ipairs(decl.params or {}) do
    if p.required and not p.secret then words[#words + 1] = '-p ' .. p.name .. '=...' end
  end
  if how == 'exec' then words[#words + 1] = '-- CMD...' end
  return command(words)
end

-- M.text(decl, path) -> the help for a person.
function M.text(decl, path)
  local out = { wrap(decl.name .. (decl.description and (': ' .. decl.description) or ''), '', M.WIDTH),
    wrap('(' .. path .. ')', '', M.WIDTH) }
  local required, optional, secrets = {}, {}, {}
  for _, p in ipairs(decl.params or {}) do
    local list = p.required and required or optional
    list[#list + 1] = entry(p)
    if p.secret and p.env then secrets[#secrets + 1] = p.env end
  end
  if #required > 0 then
    out[#out + 1] = '\nRequired:'
    out[#out + 1] = concat(required, '\n')
  end
  if #optional > 0 then
    out[#out + 1] = '\nOptional:'
    out[#out + 1] = concat(optional, '\n')
  end
  if #required + #optional == 0 then out[#out + 1] = '\nNo parameters.' end
  if #secrets > 0 then
    out[#out + 1] = '\n' .. wrap(format('Secrets come only from their variable (%s) or from the file '
      .. 'that VAR_FILE names, never from -p: a command line is visible in ps.',
      concat(secrets, ', ')), '', M.WIDTH)
  end
  if has_capability(decl, 'process') then
    out[#out + 1] = "\nThis recipe runs commands as you (capability 'process'): read it first."
  end
  if decl.release then
    out[#out + 1] = '\n' .. wrap('Yields a lease that must be checked back in: use `tokrun exec '
      .. decl.name .. ' -- CMD` (released when CMD ends) or `tokrun release ' .. decl.name
      .. ' ID`. Never cached.', '', M.WIDTH)
  end
  out[#out + 1] = '\nTry it (the first sends nothing and shows the requests, secrets redacted):'
  out[#out + 1] = example(decl, '--dry-run')
  out[#out + 1] = example(decl, decl.release and 'exec' or '-f token --cache')
  out[#out + 1] = '\nExit: 0 ok; 77 credentials rejected; 78 a parameter is missing or was'
    .. '\nrejected; 69 provider unreachable or failing; 75 try again later; 65 the'
    .. "\nrecipe is invalid. 'tokrun --help' lists them all."
  return concat(out, '\n') .. '\n'
end

-- M.json(decl, path) -> one JSON object and a newline: name, description,
-- path, lease, capabilities, params (each with every key, null when
-- unset) and cli_params (the names -p accepts).
function M.json(decl, path)
  local params, settable = {}, {}
  for _, p in ipairs(decl.params or {}) do
    params[#params + 1] = {
      name = p.name, env = p.env or json.null, type = p.type or 'string',
      required = p.required == true, secret = p.secret == true,
      default = p.default == nil and json.null
        or type(p.default) == 'table' and json.array({ table.unpack(p.default) }) or p.default,
      enum = p.enum and json.array(p.enum) or json.null,
      description = p.description or json.null,
    }
    if not p.secret then settable[#settable + 1] = p.name end
  end
  local caps = {}
  for i, c in ipairs(decl.capabilities or {}) do caps[i] = c end
  return json.encode({
    name = decl.name, description = decl.description or json.null, path = path,
    lease = decl.release ~= nil, capabilities = json.array(caps),
    params = json.array(params), cli_params = json.array(settable),
  }) .. '\n'
end

return M
