-- The editor annotations (packaging/gen/annotations.lua): a LuaLS ---@meta
-- file generated from the schema table, one ---@class per context and one
-- ---@field per word, so an editor completes exactly the words `tokrun
-- check` accepts.
local cli = require 'cli_helper'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'

describe('the LuaLS annotations', function()
  local text
  setup(function()
    local out = cli.tmpdir() .. '/recipe.lua'
    local r = assert(process.run { argv = { sys.paths().exe, 'lua', cli.root .. '/packaging/gen/annotations.lua', out },
      timeout = 60 })
    assert.equal(0, r.status, r.stderr)
    text = assert(sys.read_file(out, 1024 * 1024))
  end)
  teardown(cli.cleanup)

  it('are a ---@meta file that Lua itself accepts', function()
    assert.truthy(text:find('^%-%-%-@meta '))
    assert.truthy(load(text, '=annotations', 't', {}))
  end)

  it('declare every context as a class and every word as a field of it', function()
    local schema = require 'tokrun.schema'
    local n = 0
    for ctx, words in pairs(schema.contexts) do
      local body = text:match('\n%-%-%-@class tokrun%.' .. ctx .. '\n(.-)\n\n')
      assert.truthy(body, 'class ' .. ctx)
      for name, word in pairs(words) do
        if type(word) == 'table' then
          local field = name:match('^[%a_][%w_]*$') and name or ('["' .. name .. '"]')
          local opt = word.required and '' or '?'
          assert.truthy(body:find('---@field ' .. field .. opt .. ' ', 1, true), ctx .. '.' .. name)
          n = n + 1
        end
      end
    end
    assert.truthy(n > 50)
  end)

  it('type the values: enums as literals, lists and nested tables by class', function()
    assert.truthy(text:find('---@field method? "GET"|', 1, true))
    assert.truthy(text:find('---@field steps tokrun.step[] ', 1, true))
    assert.truthy(text:find('---@field sign? tokrun.sign ', 1, true))
  end)

  it('are installed where the README tells an editor to look', function()
    local readme = assert(sys.read_file(cli.root .. '/README.md', 1024 * 1024))
    assert.truthy(readme:find('"workspace.library": ["/usr/share/tokrun/lua-annotations"]', 1, true))
    local cmake = assert(sys.read_file(cli.root .. '/cmake/packaging.cmake', 1024 * 1024))
    assert.truthy(cmake:find('DESTINATION ${CMAKE_INSTALL_DATADIR}/tokrun/lua-annotations', 1, true))
  end)
end)
