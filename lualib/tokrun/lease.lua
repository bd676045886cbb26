-- Leases: what a release needs.  `tokrun release` and a journaled lease
-- are given only the parameters the release steps use.
local template = require 'tokrun.template'

local M = {}

local pairs, ipairs, type = pairs, ipairs, type

local function collect(v, out)
  if type(v) == 'string' then
    for _, head in template.names(v) do out[head] = true end
  elseif type(v) == 'table' then
    for _, item in pairs(v) do collect(item, out) end
  end
end

-- M.params_for_release(decl) -> set of parameter names the release steps
-- (and the derived values they use) refer to.
function M.params_for_release(decl)
  local used = {}
  collect(decl.release.steps, used)
  for name, d in pairs(decl.derive or {}) do
    if used[name] then collect(d, used) end
  end
  local out = {}
  for _, p in ipairs(decl.params or {}) do
    if used[p.name] then out[p.name] = true end
  end
  return out
end

return M
