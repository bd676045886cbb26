-- Errors a run can end with: a kind (docs/cli.md, Exit codes), a message that
-- names the recipe, step and parameter, and the exit code cron sees.
local M = {}

local setmetatable, error, tostring = setmetatable, error, tostring

-- kind -> sysexits code (a provider error is 78 for a 4xx, 69 for a 5xx)
M.exit_codes = {
  usage = 64, recipe = 65, config = 78, auth = 77, provider = 78,
  network = 69, tls = 69, timeout = 69, protocol = 76, rate_limited = 75,
  locked = 75, io = 74, release = 75, internal = 70,
}

local Error = {}
Error.__index = Error
Error.__tostring = function(e) return e.message end

-- errors.new(kind, message [, fields]) -> error object
function M.new(kind, message, fields)
  local e = fields or {}
  e.kind, e.message = kind, message
  return setmetatable(e, Error)
end

-- errors.raise(kind, message [, fields]): raise an error object (level-less)
function M.raise(kind, message, fields)
  error(M.new(kind, message, fields), 0)
end

function M.is(v) return getmetatable(v) == Error end

-- The exit code for an error object.
function M.exit_code(e)
  if e.signal then return 128 + e.signal end   -- interrupted, as a shell reports it
  if e.kind == 'provider' and e.unavailable then return 69 end
  return M.exit_codes[e.kind] or 70
end

-- Wraps anything raised into an error object: non-tokrun errors are
-- internal, but for running out of memory: the heap is bounded only while
-- a recipe runs, so that is the recipe's doing.
function M.wrap(v)
  if M.is(v) then return v end
  if v == 'not enough memory' then
    return M.new('recipe', 'the recipe used more than its memory bound', { out_of_memory = true })
  end
  return M.new('internal', 'internal error: ' .. tostring(v))
end

return M
