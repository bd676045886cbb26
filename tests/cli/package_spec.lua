-- The Debian package (`cpack -G DEB`): what it installs, unpacked with
-- `dpkg -x` into a scratch root, and the installed tokrun run from there
-- against a mock.  Takes the package from TOKRUN_DEB, else builds it from
-- the build directory of the tokrun running this spec.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'

local function have(cmd)
  return os.execute('command -v ' .. cmd .. ' >/dev/null 2>&1') == true
end

local function run(argv, env, timeout)
  local e = { PATH = os.getenv('PATH'), HOME = os.getenv('HOME') or '/tmp' }
  for k, v in pairs(env or {}) do e[k] = v end
  return assert(process.run { argv = argv, env = e, timeout = timeout or 120,
    max_output = 16 * 1024 * 1024 })
end

local function builddir()
  return (sys.paths().exe:match('^(.*)/[^/]+$'))
end

-- The build's cache entry NAME, or nil.
local function cache_entry(name)
  local f = io.open(builddir() .. '/CMakeCache.txt')
  if not f then return nil end
  local text = f:read('a')
  f:close()
  return text:match('\n' .. name .. ':[^=]*=([^\n]*)')
end

describe('the Debian package', function()
  local deb, root, usr
  setup(function()
    if not have('dpkg-deb') then return end
    deb = os.getenv('TOKRUN_DEB')
    local scratch = cli.tmpdir()
    if not deb or deb == '' then
      local r = run({ 'cpack', '-G', 'DEB', '-B', scratch, '--config', builddir() .. '/CPackConfig.cmake' },
        nil, 300)
      assert.equal(0, r.status, r.stdout .. r.stderr)
      deb = r.stdout:match('package: (%S+%.deb) generated')
    end
    assert.truthy(deb, 'no .deb')
    root = scratch .. '/root'
    local r = run({ 'dpkg-deb', '-x', deb, root })
    assert.equal(0, r.status, r.stderr)
    usr = root .. '/usr'
  end)
  teardown(function()
    mock.stop_all()
    cli.cleanup()
  end)

  local function needs_dpkg()
    if not deb then pending('dpkg-deb is not installed (apt-get install dpkg): the package is not checked') end
    return deb ~= nil
  end

  it('is named tokrun, carries the project version and the Debian 12 libraries it links', function()
    if not needs_dpkg() then return end
    local r = run({ 'dpkg-deb', '-f', deb, 'Package', 'Version', 'Depends', 'Maintainer', 'Section',
      'Description' })
    assert.equal(0, r.status, r.stderr)
    assert.matches('Package: tokrun\n', r.stdout)
    assert.matches('Version: ' .. sys.paths().version:gsub('%p', '%%%0') .. '\n', r.stdout)
    for _, lib in ipairs({ 'libc6', 'libcurl4', 'libssl3' }) do
      assert.truthy(r.stdout:match('Depends:[^\n]*' .. lib), lib)
    end
    assert.matches('Maintainer: [^\n]+<[^>]+@[^>]+>\n', r.stdout)
    assert.matches('Section: utils\n', r.stdout)
  end)

  it('installs the program, its helper links, modules, library, recipes, pages, completion and units', function()
    if not needs_dpkg() then return end
    for _, f in ipairs({ 'bin/tokrun', 'lib/tokrun/tokrun/http.so',
      'share/tokrun/lua/tokrun/engine.lua', 'share/tokrun/lua/tokrun/mock/init.lua',
      'share/tokrun/lua/tokrun/mock/serve.lua', 'share/tokrun/recipes/velafi.lua',
      'share/man/man1/tokrun.1.gz', 'share/man/man5/tokrun-recipe.5.gz',
      'share/bash-completion/completions/tokrun', 'share/zsh/vendor-completions/_tokrun',
      'lib/systemd/system/tokrun@.service', 'lib/systemd/system/tokrun@.timer',
      'share/tokrun/lua-annotations/tokrun/recipe.lua',
      'share/doc/tokrun/copyright', 'share/doc/tokrun/changelog.gz', 'share/doc/tokrun/cli.md', 'share/lintian/overrides/tokrun' }) do
      assert.truthy(sys.lstat(usr .. '/' .. f), f)
    end
    for _, link in ipairs({ 'docker-credential-tokrun', 'terraform-credentials-tokrun' }) do
      local r = run({ 'readlink', usr .. '/bin/' .. link })
      assert.equal('tokrun\n', r.stdout, link)
    end
    local unit = assert(sys.read_file(usr .. '/lib/systemd/system/tokrun@.service', 65536))
    assert.truthy(unit:find('ExecStart=/usr/bin/tokrun ', 1, true))
  end)

  it('renders its man pages without a warning', function()
    if not needs_dpkg() then return end
    if not have('groff') then return pending('groff is not installed: the pages are not rendered') end
    for _, page in ipairs({ 'man1/tokrun.1.gz', 'man5/tokrun-recipe.5.gz' }) do
      local r = run({ 'sh', '-c', 'zcat "$1" | groff -ww -z -man 2>&1', 'sh', usr .. '/share/man/' .. page })
      assert.equal(0, r.status)
      assert.equal('', r.stdout, page)
    end
  end)

  it('runs the installed tokrun against a mock, finding its recipes by bare name', function()
    if not needs_dpkg() then return end
    local NOW = 1740568725231
    local srv = mock.start { routes = cli.root .. '/tests/mocks/velafi.lua',
      config = { api_key = 'key-1', api_secret = 'secret-1', token = 'tok-from-package', now_ms = NOW,
        ttl_ms = 3600000 } }
    local r = run({ usr .. '/bin/tokrun', '--now', tostring(NOW), '-f', 'token', 'velafi' },
      { VELAFI_API_KEY = 'key-1', VELAFI_API_SECRET = 'secret-1', VELAFI_BASE_URL = srv.url }, 30)
    assert.equal(0, r.status, r.stderr)
    assert.equal('tok-from-package\n', r.stdout)
    local list = run({ usr .. '/bin/tokrun', 'list' })
    assert.truthy(list.stdout:find(usr .. '/share/tokrun/recipes/velafi.lua', 1, true), list.stdout)
    srv:stop()
  end)

  it('gives recipe authors the mock kit from the installed library', function()
    if not needs_dpkg() then return end
    local script = cli.tmpdir() .. '/uses_mock.lua'
    assert(sys.write_atomic(script, [[
      local mock = require 'tokrun.mock'
      local srv = mock.start { routes = arg[1], config = {} }
      io.write(package.searchpath('tokrun.mock', package.path), ' ', srv.url:match('^http://127%.0%.0%.1:%d+$') and 'up' or srv.url)
      srv:stop()
    ]]))
    local r = run({ usr .. '/bin/tokrun', 'lua', script, cli.root .. '/tests/mocks/echo.lua' }, nil, 30)
    assert.equal(0, r.status, r.stderr)
    assert.equal(usr .. '/share/tokrun/lua/tokrun/mock/init.lua up', r.stdout)
  end)

  it("starts a recipe author with the installed tokrun new", function()
    if not needs_dpkg() then return end
    local dir = cli.tmpdir() .. '/work'
    local r = run({ usr .. '/bin/tokrun', 'new', 'fromdeb', '--hmac', '-C', dir })
    assert.equal(0, r.status, r.stderr)
    local check = run({ usr .. '/bin/tokrun', 'check', dir .. '/fromdeb.lua' })
    assert.equal(0, check.status, check.stderr)
    assert.truthy(sys.lstat(dir .. '/tests/recipes/fromdeb_spec.lua'))
  end)

  it('is lintian-clean apart from its documented overrides', function()
    if not needs_dpkg() then return end
    if not have('lintian') then return pending('lintian is not installed: the package is not linted') end
    if cache_entry('TOKRUN_SANITIZE') == 'ON' and not os.getenv('TOKRUN_DEB') then
      return pending('a sanitizer build is not a release build: lintian runs on the plain build')
    end
    local r = run({ 'lintian', '--fail-on', 'error,warning', '--tag-display-limit', '0', deb }, nil, 300)
    assert.equal(0, r.status, r.stdout .. r.stderr)
  end)
end)
