-- Step kinds: each a handler function(ctx, step, vars, where) in its own
-- file.  A step's kind is named by the one kind word it carries; adding a
-- kind is a file here, a line in KINDS, and its words in the schema.
local M = {}

-- kind -> the word that marks a step of that kind, in the order tried
M.KINDS = {
  { kind = 'run', word = 'run' },
  { kind = 'http', word = 'url' },
  { kind = 'jwt', word = 'jwt' },
}

-- M.kind_of(step) -> kind name | nil
function M.kind_of(step)
  for _, k in ipairs(M.KINDS) do
    if step[k.word] ~= nil then return k.kind end
  end
end

-- M.handler(kind) -> function(ctx, step, vars, where)
function M.handler(kind)
  return require('tokrun.steps.' .. kind)
end

return M
