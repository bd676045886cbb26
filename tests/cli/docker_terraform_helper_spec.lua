-- docker-credential-tokrun and terraform-credentials-tokrun, driven on
-- stdin and stdout the way the Docker CLI and Terraform drive them: the
-- links tokrun dispatches on, hosts mapped to recipes by a data-only
-- config file, "not found" answers for other hosts, the cache, and the
-- refusals of malformed requests.
local cli = require 'cli_helper'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'
local json = require 'tokrun.json'

local ECHO = cli.root .. '/tests/cli/fixtures/echo_token.lua'
local LEASE = cli.root .. '/tests/cli/fixtures/lease_log.lua'
local BUILD = cli.bin:match('^(.*)/[^/]+$') or '.'

local function write(path, text, mode)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
  if mode then os.execute(string.format("chmod %s '%s'", mode, path)) end
end

local function read(path)
  local f = io.open(path)
  if not f then return '' end
  local s = f:read('a')
  f:close()
  return s
end

-- a home with XDG dirs and a config file NAME.lua holding text
local function home(name, text)
  local dir = cli.tmpdir()
  assert(sys.mkdir(dir .. '/config', 448))
  assert(sys.mkdir(dir .. '/config/tokrun', 448))
  assert(sys.mkdir(dir .. '/cache', 448))
  if text then write(dir .. '/config/tokrun/' .. name .. '.lua', text) end
  return dir
end

local function helper(link, dir, args, stdin, env)
  local argv = { BUILD .. '/' .. link }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local e = { PATH = os.getenv('PATH'), HOME = dir, XDG_CONFIG_HOME = dir .. '/config',
    XDG_CACHE_HOME = dir .. '/cache', ECHO_TOKEN = 'reg-tok', ECHO_COUNT_FILE = dir .. '/count' }
  for k, v in pairs(env or {}) do e[k] = v end
  local r = assert(process.run { argv = argv, env = e, stdin = stdin, timeout = 30 })
  r.code = r.status
  return r
end

local CONFIG = string.format([[
return {
  ['registry.example.com'] = { recipe = %q, username = 'oauth2accesstoken' },
  ['Other.Example.com:5000'] = { recipe = %q, params = { ttl = 7200 } },
  ['lease.example.com'] = { recipe = %q },
}
]], ECHO, ECHO, LEASE)

after_each(cli.cleanup)

describe('docker-credential-tokrun', function()
  local function docker(dir, args, stdin, env) return helper('docker-credential-tokrun', dir, args, stdin, env) end

  it('get answers ServerURL, Username and Secret for a configured registry', function()
    local dir = home('docker', CONFIG)
    local r = docker(dir, { 'get' }, 'https://registry.example.com/v2/')
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"ServerURL":"https://registry.example.com/v2/","Username":"oauth2accesstoken",'
      .. '"Secret":"reg-tok"}\n', r.stdout)
    assert.equal('', r.stderr)
  end)

  it('get uses <token> as Username for an identity token, and the entry\'s params', function()
    local dir = home('docker', CONFIG)
    local r = docker(dir, { 'get' }, 'other.example.com:5000\n')
    assert.equal(0, r.code, r.stderr)
    assert.same({ ServerURL = 'other.example.com:5000', Username = '<token>', Secret = 'reg-tok' }, json.decode(r.stdout))
  end)

  it('answers "credentials not found" and exit 1 for a registry it does not serve', function()
    local dir = home('docker', CONFIG)
    local r = docker(dir, { 'get' }, 'docker.io')
    assert.equal(1, r.code, r.stderr)
    assert.equal('credentials not found in native keychain\n', r.stdout)
    cli.assert_one_line(r)
    r = docker(home('docker'), { 'get' }, 'registry.example.com')   -- no config file at all
    assert.equal(1, r.code, r.stderr)
    assert.equal('credentials not found in native keychain\n', r.stdout)
  end)

  it('serves get from the cache, and erase makes the next get mint again', function()
    local dir = home('docker', CONFIG)
    for _ = 1, 3 do assert.equal(0, docker(dir, { 'get' }, 'registry.example.com').code) end
    assert.equal('minted\n', read(dir .. '/count'))
    assert.equal(0, docker(dir, { 'erase' }, 'registry.example.com').code)
    assert.equal(0, docker(dir, { 'get' }, 'registry.example.com').code)
    assert.equal('minted\nminted\n', read(dir .. '/count'))
  end)

  it('list names the registries it serves; store keeps nothing', function()
    local dir = home('docker', CONFIG)
    local r = docker(dir, { 'list' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"lease.example.com":"<token>","other.example.com:5000":"<token>",'
      .. '"registry.example.com":"oauth2accesstoken"}\n', r.stdout)
    r = docker(dir, { 'store' }, '{"ServerURL":"registry.example.com","Username":"u","Secret":"s"}')
    assert.equal(0, r.code, r.stderr)
    assert.equal('', r.stdout)
  end)

  it('refuses a lease recipe (64) before checkout, answering on stdout as the protocol says', function()
    local dir = home('docker', CONFIG)
    local r = docker(dir, { 'get' }, 'lease.example.com', { LEASE_LOG = dir .. '/lease.log', LEASE_PASSWORD = 'pw' })
    assert.equal(64, r.code, r.stderr)
    assert.matches('cannot carry the lease id', r.stdout, 1, true)
    assert.equal('', read(dir .. '/lease.log'))
  end)

  local bad = {
    { 'userinfo in the server URL', 'https://evil@registry.example.com' },
    { 'a NUL byte', 'registry.example.com\0evil' },
    { 'two lines', 'registry.example.com\nevil.example\n' },
    { 'a line over 64 KiB', ('a'):rep(65 * 1024) },
    { 'an empty request', '' },
  }
  for _, c in ipairs(bad) do
    it('refuses ' .. c[1] .. ' (76): the message on stdout, one line on stderr', function()
      local dir = home('docker', CONFIG)
      local r = docker(dir, { 'get' }, c[2])
      assert.equal(76, r.code, r.stderr)
      assert.matches('^tokrun: docker%-credential%-tokrun: malformed request: [^\n]+\n$', r.stderr)
      assert.matches('^docker%-credential%-tokrun: malformed request: [^\n]+\n$', r.stdout)
      assert.not_matches('reg-tok', r.stdout, 1, true)
    end)
  end

  local bad_config = {
    { 'code, not data', 'return { ["r.example"] = { recipe = "x", username = (function() return "u" end)() }, '
      .. 'f = function() end }' },
    { 'an unknown field', 'return { ["r.example"] = { recipe = "x", secret = "s" } }' },
    { 'a key that is not a host', 'return { ["https://r.example/"] = { recipe = "x" } }' },
    { 'a missing recipe', 'return { ["r.example"] = { username = "u" } }' },
    { 'a syntax error', 'return {' },
    { 'a table of params with a table value', 'return { ["r.example"] = { recipe = "x", params = { a = {} } } }' },
  }
  for _, c in ipairs(bad_config) do
    it('refuses a config file with ' .. c[1] .. ' (78)', function()
      local dir = home('docker', c[2])
      local r = docker(dir, { 'get' }, 'r.example')
      assert.equal(78, r.code, r.stderr)
      assert.matches('docker.lua', r.stderr, 1, true)
    end)
  end

  it('refuses a config file others may write (78)', function()
    local dir = home('docker', CONFIG)
    os.execute("chmod 666 '" .. dir .. "/config/tokrun/docker.lua'")
    local r = docker(dir, { 'get' }, 'registry.example.com')
    assert.equal(78, r.code, r.stderr)
    assert.not_matches('reg-tok', r.stdout, 1, true)
  end)
end)

describe('terraform-credentials-tokrun', function()
  local function tf(dir, args, stdin, env) return helper('terraform-credentials-tokrun', dir, args, stdin, env) end

  it('get HOST answers {"token": ...} for a configured host', function()
    local dir = home('terraform', CONFIG)
    local r = tf(dir, { 'get', 'registry.example.com' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"token":"reg-tok"}\n', r.stdout)
    assert.equal('', r.stderr)
  end)

  it('get answers {} for a host it does not serve', function()
    local r = tf(home('terraform', CONFIG), { 'get', 'app.terraform.io' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('{}\n', r.stdout)
  end)

  it('takes options before the verb (the helper block\'s args), goes through the cache, forget re-mints', function()
    local dir = home('terraform', CONFIG)
    for _ = 1, 2 do assert.equal(0, tf(dir, { '--timeout', '20', 'get', 'registry.example.com' }).code) end
    assert.equal('minted\n', read(dir .. '/count'))
    local r = tf(dir, { 'forget', 'registry.example.com' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('', r.stdout)
    assert.equal(0, tf(dir, { 'get', 'registry.example.com' }).code)
    assert.equal('minted\nminted\n', read(dir .. '/count'))
  end)

  it('store reads the credential and keeps nothing; a malformed one is refused', function()
    local dir = home('terraform', CONFIG)
    local r = tf(dir, { 'store', 'registry.example.com' }, '{"token":"t"}')
    assert.equal(0, r.code, r.stderr)
    r = tf(dir, { 'store', 'registry.example.com' }, 'token=t')
    assert.equal(76, r.code)
    assert.equal('', r.stdout)
  end)

  it('refuses a host with userinfo or a path (76), printing nothing', function()
    for _, host in ipairs({ 'evil@registry.example.com', 'registry.example.com/x', 'registry.example.com:99999' }) do
      local r = tf(home('terraform', CONFIG), { 'get', host })
      assert.equal(76, r.code, host)
      assert.equal('', r.stdout)
      cli.assert_one_line(r)
    end
  end)

  it('refuses a lease recipe (64) before checkout', function()
    local dir = home('terraform', CONFIG)
    local r = tf(dir, { 'get', 'lease.example.com' }, nil, { LEASE_LOG = dir .. '/lease.log', LEASE_PASSWORD = 'pw' })
    assert.equal(64, r.code, r.stderr)
    assert.equal('', r.stdout)
    assert.equal('', read(dir .. '/lease.log'))
  end)
end)

describe('the helper links', function()
  it('are installed next to tokrun by cmake --install and dispatch on their name', function()
    local prefix = cli.tmpdir()
    local r = assert(process.run { argv = { 'cmake', '--install', BUILD, '--prefix', prefix }, timeout = 120 })
    assert.equal(0, r.status, r.stderr)
    for _, link in ipairs({ 'docker-credential-tokrun', 'terraform-credentials-tokrun' }) do
      local st = sys.lstat(prefix .. '/bin/' .. link)
      assert.truthy(st, link)
      assert.equal('link', st.type)
    end
    local dir = home('docker', CONFIG)
    r = assert(process.run { argv = { prefix .. '/bin/docker-credential-tokrun', 'get' }, stdin = 'docker.io',
      env = { PATH = os.getenv('PATH'), HOME = dir, XDG_CONFIG_HOME = dir .. '/config' }, timeout = 30 })
    assert.equal(1, r.status, r.stderr)
    assert.equal('credentials not found in native keychain\n', r.stdout)
    r = assert(process.run { argv = { prefix .. '/bin/terraform-credentials-tokrun', 'get', 'registry.example.com' },
      env = { PATH = os.getenv('PATH'), HOME = dir, XDG_CONFIG_HOME = dir .. '/config',
        XDG_CACHE_HOME = dir .. '/cache', ECHO_TOKEN = 'inst-tok' }, timeout = 30 })
    assert.equal(0, r.status, r.stderr)
    assert.equal('{}\n', r.stdout)   -- its config is terraform.lua, which this home does not have
    cli.cleanup()
  end)
end)
