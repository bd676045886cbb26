-- tokrun.scaffold, `tokrun new NAME [--hmac|--oauth2|--jwt|--cli] [-C DIR]`: each template
-- written into a fresh directory passes `tokrun check` and its own spec as
-- written (busted run the way the recipe author will run it), and nothing
-- is ever overwritten.
local cli = require 'cli_helper'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'

local TOKRUN = sys.paths().exe

local function have(cmd)
  return os.execute('command -v ' .. cmd .. ' >/dev/null 2>&1') == true
end

local function sh(script, ...)
  return assert(process.run { argv = { 'sh', '-c', script, 'sh', ... }, timeout = 120,
    env = { PATH = os.getenv('PATH'), HOME = os.getenv('HOME') or '/tmp' }, max_output = 4 * 1024 * 1024 })
end

local function files(dir, name)
  return { dir .. '/' .. name .. '.lua', dir .. '/tests/mocks/' .. name .. '.lua',
    dir .. '/tests/recipes/' .. name .. '_spec.lua' }
end

describe('tokrun new', function()
  teardown(cli.cleanup)

  local TEMPLATES = { { 'bearer' }, { 'hmac', '--hmac' }, { 'oauth2', '--oauth2' }, { 'cli', '--cli' } }
  local scaffold = require 'tokrun.scaffold'
  if scaffold.available('jwt') then
    TEMPLATES[#TEMPLATES + 1] = { 'jwt', '--jwt' }
  else
    it('refuses --jwt while this tokrun has no jwt step kind (64)', function()
      local r = cli.run({ 'new', 'acme', '--jwt', '-C', cli.tmpdir() })
      assert.equal(64, r.code)
      assert.truthy(r.stderr:find("needs the 'jwt' step kind", 1, true), r.stderr)
    end)
  end

  for _, t in ipairs(TEMPLATES) do
    local kind, flag = t[1], t[2]
    it('writes a ' .. kind .. ' recipe, its fake provider and a spec that pass as written', function()
      local dir = cli.tmpdir() .. '/work'
      local name = 'acme_' .. kind
      local args = { 'new', name, '-C', dir }
      if flag then table.insert(args, 3, flag) end
      local r = cli.run(args)
      assert.equal(0, r.code, r.stderr)
      for _, f in ipairs(files(dir, name)) do
        assert.truthy(sys.lstat(f), f)
        assert.truthy(r.stdout:find('wrote ' .. f, 1, true), f)
      end
      local check = cli.run({ 'check', dir .. '/' .. name .. '.lua' })
      assert.equal(0, check.code, check.stderr)
      local spec = sh('cd "$1" && exec "$2" lua /usr/bin/busted "tests/recipes/$3_spec.lua" 2>&1', dir, TOKRUN, name)
      assert.equal(0, spec.status, spec.stdout)
      local passed = tonumber(spec.stdout:match('(%d+) successes / 0 failures / 0 errors'))
      assert.truthy(passed and passed >= 3, spec.stdout)
      if have('luacheck') then
        local lint = sh('cd "$1" && luacheck -q --std max+busted . 2>&1', dir)
        assert.equal(0, lint.status, lint.stdout)
      end
    end)
  end

  it('refuses to overwrite: with any of its files present it writes nothing and exits 73', function()
    local dir = cli.tmpdir()
    assert(sys.mkdir(dir .. '/tests', 448) and sys.mkdir(dir .. '/tests/mocks', 448))
    assert(sys.write_atomic(dir .. '/tests/mocks/acme.lua', 'mine\n'))
    local r = cli.run({ 'new', 'acme', '--hmac', '-C', dir })
    assert.equal(73, r.code)
    assert.matches('^tokrun: new: [^\n]*tests/mocks/acme%.lua already exists; nothing written\n$', r.stderr)
    assert.equal('', r.stdout)
    assert.equal('mine\n', sys.read_file(dir .. '/tests/mocks/acme.lua', 100))
    assert.falsy(sys.lstat(dir .. '/acme.lua'))
    assert.falsy(sys.lstat(dir .. '/tests/recipes'))
  end)

  it('refuses a bad name, two templates or an unknown option as usage errors (64)', function()
    local dir = cli.tmpdir()
    for _, args in ipairs({ { 'new', 'Acme' }, { 'new', '../x' }, { 'new', 'a', '--hmac', '--cli' },
      { 'new', 'a', '--soap' }, { 'new' }, { 'new', 'a', 'b' } }) do
      args[#args + 1] = '-C'
      args[#args + 1] = dir
      local r = cli.run(args)
      assert.equal(64, r.code, table.concat(args, ' '))
      cli.assert_one_line(r)
    end
    assert.same({}, sys.readdir(dir))
  end)
end)
