-- The schema is the one declaration of the recipe language: the docs'
-- word reference is generated from it and must match it exactly, and the
-- names it documents are the names the runtime knows.
local cli = require 'cli_helper'
local schema = require 'tokrun.schema'
local template = require 'tokrun.template'
local steps = require 'tokrun.steps'

local function read(path)
  local f = assert(io.open(path))
  local s = f:read('a')
  f:close()
  return s
end

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

describe('the recipe schema', function()
  it('gives every word a one-line description and exactly one kind of value', function()
    local VALUE = { 'type', 'template', 'value', 'context', 'list', 'map', 'enum', 'custom' }
    for cname, words in pairs(schema.contexts) do
      assert.is_string(words.doc, cname)
      for name, w in pairs(words) do
        if type(w) == 'table' then
          assert.is_string(w.doc, cname .. '.' .. name)
          assert.is_nil(w.doc:find('\n'), cname .. '.' .. name)
          local n = 0
          for _, v in ipairs(VALUE) do if w[v] ~= nil and not (v == 'enum' and w.list) then n = n + 1 end end
          assert.equal(1, n, cname .. '.' .. name)
          for _, sub in ipairs({ w.context, w.map, w.list }) do
            if sub and not ({ template = true, value = true, enum = true })[sub] then
              assert.is_table(schema.contexts[sub], cname .. '.' .. name .. ' names ' .. sub)
            end
          end
        end
      end
    end
  end)

  it('documents every context it declares, in docs order', function()
    local listed = {}
    for _, c in ipairs(schema.order) do listed[c] = true end
    for _, c in ipairs(keys(schema.contexts)) do assert.truthy(listed[c], c .. ' is not in schema.order') end
  end)

  it('knows the filters templates apply, and no others', function()
    assert.same(keys(template.filters), keys(schema.filters))
  end)

  it('marks each step kind by a word it declares for that kind', function()
    for _, k in ipairs(steps.KINDS) do
      local w = schema.contexts.step[k.word]
      assert.is_table(w, k.word)
      assert.same({ k.kind }, w.kinds)
      assert.is_function(steps.handler(k.kind))
      assert.is_table(schema.parsers[k.kind], k.kind)
    end
  end)
end)

describe('docs/recipes.md', function()
  local doc = read(cli.root .. '/docs/recipes.md')

  it('holds exactly the word reference the schema generates', function()
    local r = cli.run({ 'lua', cli.root .. '/scripts/recipe-reference.lua' })
    assert.equal(0, r.code, r.stderr)
    local a = doc:find('<!-- word reference', 1, true)
    local _, b = doc:find('<!-- end of word reference -->\n', 1, true)
    assert.truthy(a and b, 'no generated word reference in docs/recipes.md')
    assert.equal(r.stdout, doc:sub(a, b),
      'docs/recipes.md is stale: run build/tokrun lua scripts/recipe-reference.lua --update docs/recipes.md')
  end)

  it('documents every word of every context, and no word the schema lacks', function()
    local ref = doc:sub((doc:find('<!-- word reference', 1, true)))
    for _, cname in ipairs(schema.order) do
      local section = ref:match('### `' .. cname .. '`\n(.-)\n###')
      assert.truthy(section, cname)
      local documented = {}
      for word in section:gmatch('\n| `([^`]+)` |') do documented[#documented + 1] = word end
      table.sort(documented)
      local declared = {}
      for name, w in pairs(schema.contexts[cname]) do if type(w) == 'table' then declared[#declared + 1] = name end end
      table.sort(declared)
      assert.same(declared, documented, cname)
    end
  end)

  it('explains the words users asked about in prose too', function()
    for _, needle in ipairs({ 'content_type', '{name|int}', 'TOKRUN_TOKEN', 'TOKRUN_EXPIRES_AT',
      "run = { '{cli}', 'sub' }", 'resend', 'allow_userinfo', 'run.env' }) do
      assert.truthy(doc:find(needle, 1, true), needle)
    end
  end)
end)
