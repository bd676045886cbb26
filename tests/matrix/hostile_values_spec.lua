-- Recipes that pass `tokrun check` and whose function values return what
-- no slot can use: a function, a list of tables, NaN and infinity, a
-- string of 10 MiB, a claims "table" that is a boolean.  Each cell, under
-- --dry-run (nothing is sent): the recipe's exit code (65) -- or the
-- configuration error (78) a value a parameter could bring would be --,
-- one line naming the recipe and the step or emit (or its heap bound),
-- never an internal error (70) and never the address of a Lua value
-- ("function: 0x...").
local cli = require 'cli_helper'
local keys = require 'keys_helper'

-- The values, as Lua source a recipe function returns.
local VALUES = {
  ['a function'] = 'function() end',
  ['a list of tables'] = '{ {}, {} }',
  NaN = '0/0',
  infinity = '1/0',
  ['10 MiB of text'] = "string.rep('x', 10 * 1024 * 1024)",
}

-- The slots: a recipe body where F is the function.
local URL = "url = 'http://127.0.0.1:9/t'"
local SLOTS = {
  url = "steps = { { name = 's', url = F } }, emit = { token = 't' }",
  header = "steps = { { name = 's', " .. URL .. ", headers = { ['X-A'] = F } } }, emit = { token = 't' }",
  body = "steps = { { name = 's', " .. URL .. ", method = 'POST', body = F } }, emit = { token = 't' }",
  json = "steps = { { name = 's', " .. URL .. ", method = 'POST', json = { a = F } } }, emit = { token = 't' }",
  bearer = "steps = { { name = 's', " .. URL .. ", auth = { bearer = F } } }, emit = { token = 't' }",
  ['sign message'] = "steps = { { name = 's', " .. URL .. ", sign = { hmac = 'sha256', key = 'k', message = F,"
    .. " into = { header = 'X-S' } } } }, emit = { token = 't' }",
  ['jwt claim'] = "steps = { { name = 's', jwt = { alg = 'ES256', key = KEY, claims = { a = F } } } },"
    .. " emit = { token = '{s}' }",
  ['jwt claims'] = "steps = { { name = 's', jwt = { alg = 'ES256', key = KEY, claims = F } } },"
    .. " emit = { token = '{s}' }",
  ['jwt key'] = "steps = { { name = 's', jwt = { alg = 'ES256', key = F } } }, emit = { token = '{s}' }",
  ['failure_note'] = "steps = { { name = 's', jwt = { alg = 'ES256', key = '' }, on_failure = 'deliver',"
    .. " failure_note = F } }, emit = { token = 't' }",
  ['emit token_type'] = "steps = { { name = 's', when = 'false', " .. URL .. " } },"
    .. " emit = { token = 't', token_type = F }",
  ['emit data'] = "steps = { { name = 's', when = 'false', " .. URL .. " } }, emit = { token = 't', data = { a = F } }",
  ['emit env'] = "steps = { { name = 's', when = 'false', " .. URL .. " } }, emit = { token = 't', env = { A = F } }",
}

describe('a recipe function returning what its slot cannot use', function()
  local dir, key
  setup(function()
    dir = cli.tmpdir()
    key = keys.dir(dir):key('svc', 'p256')
  end)
  teardown(cli.cleanup)

  local n = 0
  for slot, body in pairs(SLOTS) do
    for what, value in pairs(VALUES) do
      n = n + 1
      local id = n
      it(string.format('%s as %s fails as the recipe\'s error, named, in one line', what, slot), function()
        local path = string.format('%s/hostile_%d.lua', dir, id)
        local src = body:gsub('KEY', function() return string.format('%q', key) end)
          :gsub('F', function() return 'function(vars) return ' .. value .. ' end' end)
        local f = assert(io.open(path, 'wb'))
        f:write("return { name = 'hostile', ", src, ' }\n')
        f:close()
        local checked = cli.run({ 'check', path })
        assert.equal(0, checked.code, checked.stderr)
        local r = cli.run({ '--dry-run', '-f', 'env', path })
        assert.are_not.equal(70, r.code, r.stderr)
        assert.is_nil(r.stdout:find('function: 0x', 1, true), r.stdout)
        assert.is_nil(r.stdout:find('table: 0x', 1, true), r.stdout)
        if r.code ~= 0 then
          cli.assert_one_line(r)
          assert.truthy(r.code == 65 or r.code == 78, r.stderr)
          -- the step or emit, or (10 MiB copied a few times over) the heap bound: the recipe, named
          assert.truthy(r.stderr:find('hostile: step s', 1, true) or r.stderr:find('hostile: emit', 1, true)
            or r.stderr:find('^tokrun: hostile: the recipe used more than its memory bound'), r.stderr)
          assert.truthy(#r.stderr < 2048, 'a message of ' .. #r.stderr .. ' bytes')
        end
      end)
    end
  end
end)
