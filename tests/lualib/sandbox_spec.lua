-- Each recipe runs in a sandbox of its own: what it does to its string,
-- table, math and utf8 changes nothing outside it, and its time bound holds
-- through its own pcall.
local cli = require 'cli_helper'
local sandbox = require 'tokrun.sandbox'

local function write(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

local SECRET = 's3cr3t/+&<>"!*\'() value'

-- A recipe that replaces the library functions the redactor, the cache
-- key and the plain-http guard are built from, then sends its secret.
local PATCHER = [[
table.sort = function() end
table.concat = function() return '' end
string.gsub = function(s) return s, 0 end
string.find = function() return nil end
math.random = function() return 0 end
return {
  name = 'patcher',
  params = { { name = 'key', env = 'PATCH_KEY', secret = true, required = true } },
  steps = { { name = 's', url = 'https://example.test/t', headers = { ['X-Api'] = '{key}' },
    query = { { 'k', '{key}' } } } },
  emit = { token = 'x' },
}
]]

describe('a recipe sandbox', function()
  local dir
  setup(function() dir = cli.tmpdir() end)
  teardown(cli.cleanup)

  it('gives every recipe its own copies of string, table, math and utf8', function()
    local a, b = sandbox.new(), sandbox.new()
    for _, lib in ipairs({ 'string', 'table', 'math', 'utf8' }) do
      assert.are_not.equal(a[lib], b[lib])
      assert.are_not.equal(_G[lib], a[lib])
    end
    assert.is_nil(a.string.dump)
    assert.is_nil(a.debug)
    assert.is_nil(a.require)
  end)

  it('keeps a recipe that patches table.sort, table.concat and string.gsub from unredacting its secret', function()
    write(dir .. '/patcher.lua', PATCHER)
    local r = cli.run({ '--dry-run', dir .. '/patcher.lua' }, { PATCH_KEY = SECRET })
    assert.equal(0, r.code, r.stderr)
    cli.assert_clean(r, { SECRET, 's3cr3t' }, false)
  end)

  it('keeps such a recipe from changing another recipe\'s cache key', function()
    local fixture = cli.root .. '/tests/cli/fixtures/echo_token.lua'
    local env = { ECHO_TOKEN = 'tok-1', XDG_CACHE_HOME = dir .. '/cache', ECHO_COUNT_FILE = dir .. '/count' }
    os.execute('mkdir -m 700 ' .. dir .. '/cache')
    assert.equal(0, cli.run({ '--cache', fixture }, env).code)
    write(dir .. '/patcher.lua', PATCHER)
    cli.run({ '--cache', dir .. '/patcher.lua' }, { PATCH_KEY = SECRET, XDG_CACHE_HOME = dir .. '/cache' })
    local r = cli.run({ '--cache', fixture }, env)
    assert.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find('"cached":true', 1, true), r.stdout)
  end)

  it('stops a loop that follows a pcall which swallowed the deadline, at --timeout', function()
    write(dir .. '/swallow.lua', [[
return { name = 'swallow',
  derive = { v = function()
    for _ = 1, 3 do pcall(function() while true do end end) end
    xpcall(function() while true do end end, function() return 'caught' end)
    while true do end
  end },
  steps = { { name = 's', url = 'https://example.test/{v}' } }, emit = { token = 'x' } }
]])
    local r = cli.run({ '--timeout', '1', dir .. '/swallow.lua' })
    assert.equal(69, r.code, r.stderr)
    assert.truthy(r.stderr:find('still running after --timeout 1s', 1, true), r.stderr)
  end)

  it('bounds loading the same way for check, list and --help RECIPE', function()
    local rdir = dir .. '/path'
    os.execute('mkdir -p ' .. rdir .. ' && chmod 700 ' .. rdir)
    write(rdir .. '/spin.lua', "pcall(function() while true do end end)\nwhile true do end\nreturn {}\n")
    for _, args in ipairs({ { 'check', 'spin' }, { '--help', 'spin' } }) do
      local r = cli.run(args, { TOKRUN_PATH = rdir })
      assert.equal(65, r.code, r.stderr)
      assert.truthy(r.stderr:find('still running after 2s', 1, true), r.stderr)
    end
    local r = cli.run({ 'list' }, { TOKRUN_PATH = rdir })
    assert.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find('invalid: .*still running after 2s'), r.stdout)
  end)

  it('refuses library calls that would run for long inside C', function()
    write(dir .. '/cwork.lua', [[
local ok1, e1 = pcall(table.move, {}, 1, 1e15, 2)
local ok2, e2 = pcall(string.find, string.rep('a', 100000), '.-.-.-.-b')
local ok3 = pcall(string.rep, 'x', 1e12)
assert(not ok1 and e1:find('table.move accepts at most'))
assert(not ok2 and e2:find('more than one repetition'))
assert(not ok3)
return { name = 'cwork', steps = { { name = 's', url = 'https://example.test/' } }, emit = { token = 'x' } }
]])
    local r = cli.run({ 'check', dir .. '/cwork.lua' })
    assert.equal(0, r.code, r.stderr)
  end)
end)

describe('the deadline watchdog', function()
  local dir
  setup(function() dir = cli.tmpdir() end)
  teardown(cli.cleanup)

  it('ends a run whose recipe is stuck inside a C function, a second after --timeout (69)', function()
    local path = dir .. '/backtrack.lua'
    write(path, [[
return { name = 'backtrack',
  derive = { v = function() return (string.rep('a', 4000)):find('a-a-a-a-a-b') end },
  steps = { { name = 's', url = 'https://example.test/{v}' } }, emit = { token = 'x' } }
]])
    local t0 = require('tokrun.sys').monotonic()
    local r = cli.run({ '--timeout', '1', path })
    local took = require('tokrun.sys').monotonic() - t0
    assert.equal(69, r.code, r.stderr)
    assert.truthy(r.stderr:find('backtrack: still running after the deadline', 1, true), r.stderr)
    assert.is_true(took < 10, 'took ' .. took .. ' s')
  end)
end)
