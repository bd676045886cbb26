-- Recipes that use recipes: `uses = { NAME = 'recipe' }` runs each
-- dependency (or serves it from the cache, under --cache) before the
-- dependent's steps, and gives its result to templates as
-- {use.NAME.token}, {use.NAME.expires_at}, {use.NAME.data.FIELD}, ...
--
-- A dependency is a bare name (looked up like any recipe) or a path,
-- relative to the dependent's directory; it may be a placeholder over the
-- dependent's parameters, and is skipped when that is not set.  A cycle is
-- a recipe error (65).  Every secret of a dependency (its secret
-- parameters, its token and secret fields) is redacted in the dependent's
-- traces, and a dependency that yields a lease is refused: nothing would
-- check it back in.
local errors = require 'tokrun.errors'
local template = require 'tokrun.template'
local sys = require 'tokrun.sys'

local M = {}

local pairs, ipairs, tostring = pairs, ipairs, tostring
local string_format, sort = string.format, table.sort

-- what a dependent's templates see of a dependency's result
local FIELDS = { 'token', 'token_type', 'expires_at', 'obtained_at', 'data', 'username',
  'access_key_id', 'secret_access_key', 'session_token' }

local function locate(ctx, spec)
  if spec:sub(1, 1) ~= '/' and (spec:find('/', 1, true) or spec:match('%.lua$')) then
    return (ctx.path:match('^(.*/)') or './') .. spec
  end
  return spec
end

-- M.run(opts, session, ctx) -> {NAME = fields} for the dependent's templates.
-- ctx.chain (canonical paths of the recipes being run) finds cycles.
function M.run(opts, session, ctx)
  local decl = ctx.decl
  local chain = ctx.chain or { [sys.realpath(ctx.path) or ctx.path] = true }
  local names = {}
  for name in pairs(decl.uses) do names[#names + 1] = name end
  sort(names)
  local out = {}
  for _, name in ipairs(names) do
    local spec = template.value(decl.uses[name], ctx.values)
    if spec ~= nil then
      local where = string_format('%s: uses %s', decl.name, name)
      local dep_opts = {}
      for k, v in pairs(opts) do dep_opts[k] = v end
      dep_opts.params, dep_opts.format, dep_opts.output, dep_opts.report = nil, 'json', nil, nil
      local dep
      local ok, result = pcall(function()
        dep = session.prepare(dep_opts, locate(ctx, tostring(spec)))
        local real = sys.realpath(dep.path) or dep.path
        if chain[real] then
          errors.raise('recipe', string_format('%s is already being run (a cycle of uses)', dep.path))
        end
        if dep.decl.release then
          errors.raise('recipe', string_format('%s yields a lease, which nothing would check back in', dep.decl.name))
        end
        dep.chain = setmetatable({ [real] = true }, { __index = chain })
        dep.deadline = ctx.deadline   -- the dependent's time bound covers its dependencies
        if session.cacheable(opts) then
          local got
          require('tokrun.cache').run(dep_opts, dep, function() return session.checkout(dep) end,
            function(_, _, r) got = r; return 0 end)
          return got
        end
        return session.checkout(dep)
      end)
      if not ok then
        local err = errors.wrap(result)
        if dep then err.message = dep.secrets:apply(err.message) end
        err.message = where .. ': ' .. err.message
        error(err, 0)
      end
      for _, p in ipairs(dep.decl.params or {}) do
        if p.secret and dep.values[p.name] ~= nil then ctx.secrets:add(tostring(dep.values[p.name])) end
      end
      local fields = {}
      if result then   -- nil: a dry run, which shows the dependency's requests
        for _, f in ipairs(FIELDS) do fields[f] = result[f] end
        ctx.secrets:add(result.token)
        if result.secret_access_key then ctx.secrets:add(result.secret_access_key) end
        if result.session_token then ctx.secrets:add(result.session_token) end
      else
        fields.token = '<use.' .. name .. '.token>'
      end
      out[name] = fields
    end
  end
  return out
end

return M
