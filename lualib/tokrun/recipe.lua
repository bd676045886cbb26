-- Loading and checking recipes.
--
-- A recipe is a Lua file that returns a table: the declaration.  It runs in
-- an environment of its own (no os.execute, io, package, debug, load of
-- binary chunks or string.dump), with its heap and its run time bounded, and
-- is then checked against the schema (validate.lua) so that a typo is an
-- error naming the file, the step and the word instead of a surprise at 3 a.m.
local errors = require 'tokrun.errors'
local sandbox = require 'tokrun.sandbox'
local sys = require 'tokrun.sys'

local M = {}

local ipairs, tostring, pcall, error, load = ipairs, tostring, pcall, error, load
local string_format, concat = string.format, table.concat

M.MAX_SIZE = 256 * 1024             -- bytes of recipe source
M.MAX_HEAP = 64 * 1024 * 1024        -- Lua heap while a recipe loads or runs
M.LOAD_TIMEOUT = 2                   -- seconds a recipe may take to load

local function fail(path, fmt, ...)
  errors.raise('recipe', path .. ': ' .. string_format(fmt, ...))
end

-- A recipe runs with the user's credentials: one that another user could
-- have written is refused.
local function check_trust(path)
  local real = sys.realpath(path)
  local st = real and sys.lstat(real)
  if not st then return end   -- reading it reports the error
  if st.type ~= 'file' then fail(path, 'not a regular file') end
  local euid = sys.geteuid()
  if st.uid ~= euid and st.uid ~= 0 then
    fail(path, 'refusing a recipe owned by another user (uid %d)', st.uid)
  end
  if st.mode & 2 ~= 0 then fail(path, 'refusing a recipe that other users can write (mode %o)', st.mode) end
end

-- A load or check failure as a recipe error (65) naming the file.
local function reraise(err, path)
  if errors.is(err) and err.kind == 'recipe' then
    err.message = M.full_source(err.message, path)
    error(err, 0)
  end
  errors.raise('recipe', M.full_source(errors.is(err) and err.message or tostring(err), path))
end

-- M.load(path [, unchecked]) -> decl, source.  The declaration is a plain
-- copy, checked against the schema.  Errors are recipe errors (65) naming
-- the file, and its line for syntax errors.  With `unchecked`, the copy is
-- not checked yet (M.check does it): a run that may answer from the cache
-- checks only when it mints, as an entry exists only for recipe content
-- that was checked when it was minted.
function M.load(path, unchecked)
  check_trust(path)
  local src, err = sys.read_file(path, M.MAX_SIZE)
  if not src then
    errors.raise('recipe', 'cannot read recipe ' .. err)
  end
  if src:byte(1) == 27 then fail(path, 'binary chunks are not recipes') end
  local chunk, msg = load(src, '@' .. path, 't', sandbox.new())
  if not chunk then errors.raise('recipe', M.full_source(msg, path)) end
  -- the heap bound holds while loading too (a string.rep of a GiB at the
  -- top of a recipe); relative, as `tokrun lua` specs load recipes in a
  -- state that already holds more
  sys.set_memory_limit(sys.memory_used() + M.MAX_HEAP)
  local ok, decl = pcall(function()
    local raw = sandbox.bounded(path, M.LOAD_TIMEOUT, sandbox.recipe_code, chunk)
    if unchecked then
      local copied, copy = pcall(sandbox.plain, raw, 'recipe', error)
      if copied and type(copy) == 'table' then return copy end   -- else the check names what is wrong
    end
    return require('tokrun.validate').recipe(raw, path)
  end)
  sys.set_memory_limit(0)
  if not ok and decl == 'not enough memory' then
    fail(path, 'the recipe used more than its memory bound (%d MiB) while loading', M.MAX_HEAP // (1024 * 1024))
  end
  if not ok then reraise(decl, path) end
  return decl, src
end

-- M.check(decl, path) -> the checked copy of a declaration loaded
-- unchecked; raises the recipe error M.load would have raised.
function M.check(decl, path)
  local ok, res = pcall(require('tokrun.validate').recipe, decl, path)
  if not ok then reraise(res, path) end
  return res
end

-- M.validate(decl, path) -> a plain, checked copy of decl (see validate.lua).
function M.validate(decl, path)
  return require('tokrun.validate').recipe(decl, path)
end

-- M.bounded(what, limit, fn, ...): fn under the recipe's time bound.
M.bounded = sandbox.bounded

-- Lua shortens a long chunk name to "...tail" in its messages (LUA_IDSIZE);
-- put the recipe's whole path back, so an error always names its file.
function M.full_source(msg, path)
  return (msg:gsub('%.%.%.([^:\n]*):(%d+):', function(tail, line)
    if tail ~= '' and path:sub(-#tail) == tail then return path .. ':' .. line .. ':' end
  end))
end

-- M.search_dirs() -> the directories bare recipe names are looked up in:
-- TOKRUN_PATH's absolute entries (empty and relative ones are ignored),
-- then the installed recipes directory.
function M.search_dirs()
  local dirs = {}
  for dir in (os.getenv('TOKRUN_PATH') or ''):gmatch('[^:]+') do
    if dir:sub(1, 1) == '/' then dirs[#dirs + 1] = dir end
  end
  dirs[#dirs + 1] = sys.paths().recipedir
  return dirs
end

-- M.find(name) -> path | nil, message.  A path is used as given; a bare
-- name is NAME.lua in the first of M.search_dirs() that has it.
function M.find(name)
  if name:find('/', 1, true) or name:match('%.lua$') then return name end
  local dirs = M.search_dirs()
  for _, dir in ipairs(dirs) do
    local p = dir .. '/' .. name .. '.lua'
    if sys.lstat(p) then
      local st = sys.lstat(sys.realpath(dir) or dir)
      if st and st.mode & 2 ~= 0 then
        return nil, string_format('refusing %s: other users can write to %s (TOKRUN_PATH)', p, dir)
      end
      return p
    end
  end
  return nil, string_format("no recipe named '%s' (looked in %s)", name, concat(dirs, ', '))
end

-- M.locate(name) -> path, or raises a usage error (64).
function M.locate(name)
  local path, err = M.find(name)
  if not path then errors.raise('usage', err) end
  return path
end

return M
