-- `tokrun new NAME [--hmac|--oauth2|--jwt|--cli] [-C DIR]`: a recipe, a fake
-- of its provider and a busted spec that pass as written, so a recipe
-- author starts from green.  The templates are files under
-- tokrun/scaffold/KIND/ (beside this module, not embedded in the binary),
-- laid out as they are written, named with NAME and ending in .in, with
-- @NAME@ and @ENV@ in their text.
local errors = require 'tokrun.errors'
local sys = require 'tokrun.sys'

local M = {}

local ipairs, format, concat, sort = ipairs, string.format, table.concat, table.sort

-- flag -> template directory; no flag is a bearer-token POST
M.KINDS = { hmac = 'hmac', oauth2 = 'oauth2', jwt = 'jwt', cli = 'cli' }
M.DEFAULT = 'bearer'
-- template -> the step kind its recipe needs beyond http
M.NEEDS = { jwt = 'jwt' }
M.EXISTS = 73   -- sysexits EX_CANTCREAT: a file it would write is there

M.USAGE = 'usage: tokrun new NAME [--hmac|--oauth2|--jwt|--cli] [-C DIR]'

local function usage(fmt, ...)
  errors.raise('usage', 'new: ' .. format(fmt, ...) .. ' (' .. M.USAGE .. ')')
end

-- Whether this tokrun runs the recipes of template `kind`.
function M.available(kind)
  local need = M.NEEDS[kind]
  if not need then return true end
  for _, k in ipairs(require('tokrun.steps').KINDS) do
    if k.kind == need then return true end
  end
  return false
end

-- argv after `new` -> name, kind, dir
function M.parse(argv)
  local name, kind, dir
  local i = 1
  while i <= #argv do
    local a = argv[i]
    local flag = a:match('^%-%-(%a[%w]*)$')
    if flag and M.KINDS[flag] then
      if kind then usage('choose one template, not --%s and --%s', kind, flag) end
      kind = flag
    elseif a == '-C' then
      i = i + 1
      dir = argv[i] or usage('-C needs a directory')
    elseif a:match('^%-C.') then
      dir = a:sub(3)
    elseif a:sub(1, 1) == '-' then
      usage("unknown option '%s'", a)
    elseif name then
      usage("one NAME only, got '%s' and '%s'", name, a)
    else
      name = a
    end
    i = i + 1
  end
  if not name then usage('expected a NAME') end
  if kind and not M.available(M.KINDS[kind]) then
    usage("--%s needs the '%s' step kind, which this tokrun does not have", kind, M.NEEDS[M.KINDS[kind]])
  end
  if not name:match('^%l[%l%d_]*$') or #name > 64 then
    usage("NAME must be lower case letters, digits and _, starting with a letter, got '%s'", name)
  end
  return name, kind and M.KINDS[kind] or M.DEFAULT, dir or '.'
end

-- The template directory of `kind`.
local function template_dir(kind)
  return sys.paths().luadir .. '/tokrun/scaffold/' .. kind
end

-- Every file under dir, relative, sorted.
local function walk(dir, prefix, out)
  out = out or {}
  local entries = sys.readdir(dir .. (prefix and ('/' .. prefix) or ''))
  if not entries then errors.raise('internal', 'new: no templates in ' .. dir) end
  for _, e in ipairs(entries) do
    local rel = prefix and (prefix .. '/' .. e) or e
    local st = sys.lstat(dir .. '/' .. rel)
    if st and st.type == 'dir' then walk(dir, rel, out) else out[#out + 1] = rel end
  end
  sort(out)
  return out
end

local function mkdirs(path)
  local at = ''
  for part in path:gmatch('[^/]+') do
    at = (at == '' and path:sub(1, 1) ~= '/') and part or (at .. '/' .. part)
    if not sys.lstat(at) then
      local ok, err = sys.mkdir(at, 493)
      if not ok and not sys.lstat(at) then errors.raise('io', 'new: cannot create ' .. at .. ': ' .. tostring(err)) end
    end
  end
end

-- M.files(name, kind) -> { {path = relative output path, text = ...}, ... }
function M.files(name, kind)
  local dir = template_dir(kind)
  if not sys.lstat(dir) then usage("this tokrun has no '%s' template (%s)", kind, dir) end
  local env = name:upper()
  local out = {}
  for _, rel in ipairs(walk(dir)) do
    if rel:match('%.in$') then
      local text = assert(sys.read_file(dir .. '/' .. rel, 1024 * 1024))
      text = text:gsub('@NAME@', name):gsub('@ENV@', env)
      out[#out + 1] = { path = (rel:gsub('NAME', name):gsub('%.in$', '')), text = text }
    end
  end
  return out
end

-- M.main(argv) -> exit status
function M.main(argv)
  local name, kind, dir = M.parse(argv)
  local files = M.files(name, kind)
  local there = {}
  for _, f in ipairs(files) do
    local path = dir .. '/' .. f.path
    if sys.lstat(path) then there[#there + 1] = path end
  end
  if #there > 0 then
    io.stderr:write(format('tokrun: new: %s already exists; nothing written\n', concat(there, ', ')))
    return M.EXISTS
  end
  for _, f in ipairs(files) do
    local path = dir .. '/' .. f.path
    mkdirs(path:match('^(.*)/[^/]+$'))
    local ok, err = sys.write_atomic(path, f.text, 420)
    if not ok then errors.raise('io', 'new: cannot write ' .. path .. ': ' .. tostring(err)) end
    io.stdout:write('wrote ', path, '\n')
  end
  io.stdout:write(format('next: cd %s && tokrun check %s.lua && tokrun lua /usr/bin/busted tests/recipes/%s_spec.lua\n',
    dir, name, name))
  return 0
end

return M
