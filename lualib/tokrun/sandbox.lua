-- The environment a recipe runs in, built afresh for every recipe: pure
-- functions only, and copies of string, table, math and utf8, so a recipe
-- that assigns table.sort changes nothing outside itself.  Its time is
-- bounded by a count hook that a recipe's pcall cannot swallow, and the
-- library functions that could run for long inside C refuse arguments
-- that would.
local errors = require 'tokrun.errors'
local sys = require 'tokrun.sys'

local M = {}

local type, pairs, error, select, getmetatable = type, pairs, error, select, getmetatable
local pcall, xpcall, tostring = pcall, xpcall, tostring
local string_format, pack, unpack = string.format, table.pack, table.unpack
local s_rep, s_find, s_match, s_gmatch, s_gsub = string.rep, string.find, string.match, string.gmatch, string.gsub
local t_move, t_concat = table.move, table.concat

M.MAX_STRING = 16 * 1024 * 1024   -- bytes string.rep and table.concat may build
M.MAX_MOVE = 1024 * 1024          -- elements table.move may move
M.MAX_SUBJECT = 1024 * 1024       -- bytes a pattern may scan

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function refuse(fmt, ...)
  error(string_format(fmt, ...), 3)   -- at the recipe's line
end

-- A pattern over a long subject can backtrack for hours inside C, where no
-- hook runs: beyond a size, only patterns without repetition are accepted.
local function check_pattern(s, p, plain)
  if type(s) ~= 'string' or type(p) ~= 'string' then return end
  if #s > M.MAX_SUBJECT then refuse('string pattern functions accept at most %d bytes', M.MAX_SUBJECT) end
  if plain then
    if #s * #p > 1e9 then refuse('a plain find of %d bytes in %d bytes is too long', #p, #s) end
  elseif #s > 4096 and select(2, s_gsub(p, '%%?[-*+?]', '')) > 1 then
    refuse('a pattern with more than one repetition cannot scan %d bytes', #s)
  end
end

local function safe_string()
  local s = copy(string)
  s.dump = nil
  s.rep = function(str, n, sep)
    local len = #tostring(str) + (sep and #tostring(sep) or 0)
    if type(n) == 'number' and n > 0 and len * n > M.MAX_STRING then
      refuse('string.rep would build more than %d bytes', M.MAX_STRING)
    end
    return s_rep(str, n, sep)
  end
  s.find = function(str, p, init, plain) check_pattern(str, p, plain); return s_find(str, p, init, plain) end
  s.match = function(str, p, init) check_pattern(str, p); return s_match(str, p, init) end
  s.gmatch = function(str, p, init) check_pattern(str, p); return s_gmatch(str, p, init) end
  s.gsub = function(str, p, r, n) check_pattern(str, p); return s_gsub(str, p, r, n) end
  return s
end

local function safe_table()
  local t = copy(table)
  t.move = function(a1, f, e, tpos, a2)
    if type(f) == 'number' and type(e) == 'number' and e - f >= M.MAX_MOVE then
      refuse('table.move accepts at most %d elements', M.MAX_MOVE)
    end
    return t_move(a1, f, e, tpos, a2)
  end
  t.concat = function(list, sep, i, j)
    local n = (j or (type(list) == 'table' and #list or 0)) - (i or 1)
    if n > M.MAX_MOVE then refuse('table.concat accepts at most %d elements', M.MAX_MOVE) end
    return t_concat(list, sep, i, j)
  end
  return t
end

-- The string metatable's __index while recipe code runs: one pristine copy
-- nobody can reach by name, so ('').dump is not there either.
local METHODS = safe_string()

local function is_deadline(e)
  return errors.is(e) and e.deadline
end

-- pcall and xpcall as a recipe sees them: the run's deadline passes
-- through them (a recipe cannot catch the end of its own time).
local function guarded_pcall(f, ...)
  local r = pack(pcall(f, ...))
  if not r[1] and is_deadline(r[2]) then error(r[2], 0) end
  return unpack(r, 1, r.n)
end
local function guarded_xpcall(f, handler, ...)
  local r = pack(xpcall(f, function(e)
    if is_deadline(e) then return e end
    return handler(e)
  end, ...))
  if not r[1] and is_deadline(r[2]) then error(r[2], 0) end
  return unpack(r, 1, r.n)
end

-- M.new() -> a fresh environment for one recipe.
function M.new()
  local env = {
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
    pcall = guarded_pcall, xpcall = guarded_xpcall, select = select, tonumber = tonumber,
    tostring = tostring, type = type, rawequal = rawequal, rawget = rawget, rawlen = rawlen,
    string = safe_string(), table = safe_table(), math = copy(math), utf8 = copy(utf8),
    os = { time = os.time, date = os.date, clock = os.clock },
  }
  env._G = env
  return env
end

-- M.bounded(what, limit, fn, ...) -> fn's results.  fn runs with the count
-- hook watching the wall clock: a recipe that loops forever fails instead
-- of hanging cron.  `limit` is seconds, or a function returning the
-- seconds left and how to name the bound, read at every check so the
-- caller may move the deadline (a release gets its own).  Once the bound
-- has passed, every check raises again, so no pcall can outlive it.
-- The watchdog (sys.watchdog) ends the process when work inside a C
-- function overruns the innermost bound by more than a second: armed by
-- each bound, moved when its deadline moves, given back to the outer one.
local armed = {}   -- stack of { until = monotonic seconds, what = name }

local function arm(entry)
  local top = entry or armed[#armed]
  if top then sys.watchdog(math.max(top['until'] - sys.monotonic(), 0), top.what) else sys.watchdog(nil) end
end

function M.bounded(what, limit, fn, ...)
  local left = limit
  if type(limit) ~= 'function' then
    local deadline = sys.monotonic() + limit
    left = function() return deadline - sys.monotonic(), string_format('%gs', limit) end
  end
  local entry = { what = what, ['until'] = sys.monotonic() + left() }
  armed[#armed + 1] = entry
  arm(entry)
  local hook, mask, count = debug.gethook()
  debug.sethook(function()
    local seconds, bound = left()
    if seconds <= 0 then
      errors.raise('timeout', string_format('%s: still running after %s', what, bound), { deadline = true })
    end
    local now_until = sys.monotonic() + seconds
    if math.abs(now_until - entry['until']) > 0.5 then   -- the caller moved the deadline
      entry['until'] = now_until
      arm(entry)
    end
  end, '', 10000)
  local res = pack(pcall(fn, ...))
  if hook then debug.sethook(hook, mask, count) else debug.sethook() end
  armed[#armed] = nil
  arm()
  if not res[1] then error(res[2], 0) end
  return unpack(res, 2, res.n)
end

-- M.recipe_code(fn, ...) -> fn's results.  While fn (a recipe's chunk or
-- one of its functions) runs, string methods ("s:rep(n)") are the guarded
-- copies; tokrun's own code keeps the plain ones, so a long value a recipe
-- returns is refused where the recipe handles it, not inside tokrun.
function M.recipe_code(fn, ...)
  local string_mt = getmetatable('')
  local saved = string_mt.__index
  string_mt.__index = METHODS
  local res = pack(pcall(fn, ...))
  string_mt.__index = saved
  if not res[1] then error(res[2], 0) end
  return unpack(res, 2, res.n)
end

-- M.plain(v, where, fail) -> a copy of a recipe's value made of plain
-- tables (no metatables, so no recipe code runs when library code reads
-- it), or raises through fail(at, fmt, ...) naming the place of a cycle.
-- A budget bounds the number of entries copied.  The place is spelt out
-- only for an error: the keys walked down to it are kept on a stack.
function M.plain(v, where, fail)
  local budget, on_path, keys, depth = 200000, {}, {}, 0
  local function at()
    local parts = { where }
    for i = 1, depth do
      local k = keys[i]
      parts[i + 1] = type(k) == 'number' and ('[' .. tostring(k) .. ']')
        or ('.' .. (type(k) == 'string' and k or tostring(k)))
    end
    return table.concat(parts)
  end
  local walk
  local function child(k, item)
    depth = depth + 1
    keys[depth] = k
    local out = walk(item)
    depth = depth - 1
    return out
  end
  function walk(x)
    if type(x) ~= 'table' then return x end
    if on_path[x] then fail(at(), 'refers back to a table that contains it (the recipe holds a cycle)') end
    on_path[x] = true
    local out = {}
    local k, item = next(x)
    while k ~= nil do
      budget = budget - 1
      if budget < 0 then fail(at(), 'the recipe is too large (more than 200000 table entries)') end
      out[walk(k)] = child(k, item)
      k, item = next(x, k)
    end
    on_path[x] = nil
    return out
  end
  return walk(v)
end

return M
