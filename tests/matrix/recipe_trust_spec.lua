-- A recipe runs with the user's credentials, so tokrun refuses one another
-- user could have written, and says that a recipe runs commands wherever
-- it shows one.
local cli = require 'cli_helper'

local RECIPE = "return { name = 'trusted', steps = { { name = 's', url = 'https://e.test/' } }, emit = { token = 'x' } }\n"

local function write(path, text, mode)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
  os.execute(string.format('chmod %s %s', mode or '600', path))
end

describe('a recipe location', function()
  local dir
  before_each(function() dir = cli.tmpdir() end)
  after_each(cli.cleanup)

  it('is refused when other users can write the recipe file', function()
    write(dir .. '/open.lua', RECIPE, '666')
    local r = cli.run({ 'check', dir .. '/open.lua' })
    assert.equal(65, r.code)
    assert.truthy(r.stderr:find(dir .. '/open.lua: refusing a recipe that other users can write', 1, true), r.stderr)
  end)

  it('is refused when a TOKRUN_PATH directory is writable by others, naming it', function()
    os.execute('mkdir -m 777 ' .. dir .. '/shared && chmod 777 ' .. dir .. '/shared')
    write(dir .. '/shared/velafi.lua', RECIPE)
    local r = cli.run({ 'check', 'velafi' }, { TOKRUN_PATH = dir .. '/shared' })
    assert.equal(64, r.code)
    assert.truthy(r.stderr:find('other users can write to ' .. dir .. '/shared', 1, true), r.stderr)
  end)

  it('is refused when it is not a regular file (a FIFO never hangs a check)', function()
    os.execute('mkfifo -m 600 ' .. dir .. '/fifo.lua')
    local r = cli.run({ 'check', dir .. '/fifo.lua' })
    assert.equal(65, r.code)
    assert.truthy(r.stderr:find('not a regular file', 1, true), r.stderr)
  end)
end)

describe('a recipe that runs commands', function()
  it('says so in check, list and --help RECIPE', function()
    local dataos = cli.recipe('dataos')
    local r = cli.run({ 'check', dataos })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("runs commands as you (capability 'process')", 1, true), r.stdout)
    r = cli.run({ '--help', dataos })
    assert.truthy(r.stdout:find("This recipe runs commands as you", 1, true), r.stdout)
    r = cli.run({ 'list' })
    assert.truthy(r.stdout:find("dataos%s+[^\n]*%[runs commands as you"), r.stdout)
    assert.is_nil(r.stdout:find("velafi%s+[^\n]*runs commands"), r.stdout)
  end)
end)
