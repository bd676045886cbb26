-- What -v and --dry-run show of a request and its answer: every header
-- and body through the redactor, names sorted so traces are stable.
local request = require 'tokrun.request'

local M = {}

local pairs, ipairs = pairs, ipairs
local string_format, sort = string.format, table.sort

local function sorted_names(t)
  local names = {}
  for name in pairs(t) do names[#names + 1] = name end
  sort(names)
  return names
end

-- M.request(secrets, emit, req, heading): one line per part, via emit(line).
function M.request(secrets, emit, req, heading)
  emit(heading .. req.method .. ' ' .. request.full_url(req))
  local headers = secrets:headers(req.headers)
  for _, name in ipairs(sorted_names(req.headers)) do
    emit(string_format('%s%s: %s', heading, name, headers[name]))
  end
  if req.body then emit(heading .. secrets:json_text(req.body)) end
end

-- M.response(ctx, resp [, withhold]): under -v only; withhold says what to
-- print instead of the body.
function M.response(ctx, resp, withhold)
  if not ctx.verbose then return end
  local log, secrets = ctx.log, ctx.secrets
  log(string_format('< HTTP %d (%d bytes, %.3fs)', resp.status, #resp.body, resp.time or 0))
  local headers = secrets:headers(resp.headers)
  for _, name in ipairs(sorted_names(resp.headers)) do log(string_format('< %s: %s', name, headers[name])) end
  if resp.body ~= '' then log('< ' .. (withhold and ('[' .. withhold .. ']') or secrets:json_text(resp.body))) end
end

-- M.note(ctx, fmt, ...): a '*' line under -v.
function M.note(ctx, fmt, ...)
  if ctx.verbose then ctx.log(string_format(fmt, ...)) end
end

return M
