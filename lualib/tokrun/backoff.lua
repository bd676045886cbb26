-- Waiting before another attempt: exponential backoff with full jitter
-- (up to 0.25 s before the second attempt, doubling, at most 8 s), never
-- past the run's deadline.  HTTP steps and release retries wait alike.
local sys = require 'tokrun.sys'
local trace = require 'tokrun.trace'

local M = {}

local random, min, max = math.random, math.min, math.max

M.BASE = 0.25   -- seconds
M.CAP = 8

-- M.wait(ctx, attempt [, floor [, what]]) -> true once it has waited before
-- attempt + 1; false, at once, when the deadline does not allow the wait.
-- floor: the least wait (a Retry-After); what: named in the -v note.
function M.wait(ctx, attempt, floor, what)
  local wait = max(random() * min(M.CAP, M.BASE * 2 ^ (attempt - 1)), floor or 0)
  if wait >= ctx.deadline - sys.monotonic() then return false end
  trace.note(ctx, '* retrying%s in %.2fs', what and ' ' .. what or '', wait)
  sys.sleep(wait)
  return true
end

return M
