-- The systemd templates (packaging/systemd): an instance per recipe, checked
-- by systemd's own `systemd-analyze verify` (every key known, the program
-- and its man page found) and `systemd-analyze security` (hardened).
local cli = require 'cli_helper'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'

local function have(cmd)
  return os.execute('command -v ' .. cmd .. ' >/dev/null 2>&1') == true
end

describe('the systemd templates', function()
  local dir
  setup(function()
    dir = cli.tmpdir()
    local bindir = sys.paths().exe:match('^(.*)/[^/]+$')
    for _, unit in ipairs({ 'tokrun@.service', 'tokrun@.timer' }) do
      local text = assert(sys.read_file(cli.root .. '/packaging/systemd/' .. unit, 65536))
      assert(sys.write_atomic(dir .. '/' .. unit, (text:gsub('@BINDIR@', bindir))))
      local instance = unit:gsub('@', '@velafi')
      assert(process.run { argv = { 'ln', '-s', unit, dir .. '/' .. instance } })
    end
    assert(sys.mkdir(dir .. '/man', 448) and sys.mkdir(dir .. '/man/man1', 448))
    local page = assert(sys.read_file(cli.root .. '/packaging/man/tokrun.1', 1024 * 1024))
    assert(sys.write_atomic(dir .. '/man/man1/tokrun.1', page))
  end)
  teardown(cli.cleanup)

  local function analyze(...)
    local argv = { 'systemd-analyze', ... }
    return assert(process.run { argv = argv, timeout = 60,
      env = { PATH = os.getenv('PATH'), MANPATH = dir .. '/man', SYSTEMD_LOG_COLOR = '0' } })
  end

  it('name the recipe by the instance, its environment file and its output', function()
    local unit = assert(sys.read_file(cli.root .. '/packaging/systemd/tokrun@.service', 65536))
    assert.truthy(unit:find('\nEnvironmentFile=/etc/tokrun/%i.env\n', 1, true))
    assert.truthy(unit:find('\nExecStart=@BINDIR@/tokrun --cache=${CACHE_DIRECTORY} -o ${STATE_DIRECTORY}/%i.json %i\n',
      1, true))
    for _, key in ipairs({ 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'ProtectHome=yes',
      'ReadWritePaths=/var/lib/tokrun/%i /var/cache/tokrun/%i' }) do
      assert.truthy(unit:find('\n' .. key .. '\n', 1, true), key)
    end
  end)

  it('pass systemd-analyze verify without a warning', function()
    if not have('systemd-analyze') then
      return pending('systemd-analyze is not installed (apt-get install systemd): the units are not verified')
    end
    local r = analyze('verify', dir .. '/tokrun@velafi.service', dir .. '/tokrun@velafi.timer')
    assert.equal(0, r.status, r.stdout .. r.stderr)
    assert.equal('', r.stdout .. r.stderr)
  end)

  it('are hardened: systemd-analyze security rates the service exposure 2.0 or better', function()
    if not have('systemd-analyze') then
      return pending('systemd-analyze is not installed (apt-get install systemd): the units are not rated')
    end
    local r = analyze('security', '--offline=yes', '--threshold=20', dir .. '/tokrun@velafi.service')
    assert.equal(0, r.status, r.stdout .. r.stderr)
    local level = tonumber(r.stdout:match('Overall exposure level for [^:]+: (%d+%.%d)'))
    assert.truthy(level and level <= 2.0, r.stdout:sub(-300))
  end)
end)
