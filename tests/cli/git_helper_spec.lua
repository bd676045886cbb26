-- tokrun git-credential with the real git: `git credential fill`, and
-- `git clone` over HTTP from a loopback smart-HTTP server (the real `git
-- http-backend` behind the mock kit) that demands the minted token and
-- rejects any other; a rejected token is erased and the next clone mints a
-- new one.  The request parser's refusals are driven as git would.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local process = require 'tokrun.process'
local json = require 'tokrun.json'

local ECHO = cli.root .. '/tests/cli/fixtures/echo_token.lua'
local LEASE = cli.root .. '/tests/cli/fixtures/lease_log.lua'
local CLIENT_ID, SECRET = 'git-client', 'git-s3cret/+='

local BIN = cli.bin:sub(1, 1) == '/' and cli.bin or (require('tokrun.sys').realpath(cli.bin) or cli.bin)

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- git with a clean configuration: only what the spec passes with -c
local function git(dir, args, env, stdin)
  local argv = { 'git', '-C', dir }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local e = { PATH = os.getenv('PATH'), HOME = dir, GIT_CONFIG_NOSYSTEM = '1', GIT_TERMINAL_PROMPT = '0',
    GIT_ASKPASS = '/bin/false', XDG_CONFIG_HOME = dir .. '/config', XDG_CACHE_HOME = dir .. '/cache',
    GIT_AUTHOR_NAME = 't', GIT_AUTHOR_EMAIL = 't@example.com', GIT_COMMITTER_NAME = 't',
    GIT_COMMITTER_EMAIL = 't@example.com' }
  for k, v in pairs(env or {}) do e[k] = v end
  local r = assert(process.run { argv = argv, env = e, stdin = stdin, timeout = 60,
    max_output = 4 * 1024 * 1024 })
  return r
end

local function helper_cmd(recipe, extra)
  return '!' .. sh_quote(BIN) .. ' git-credential ' .. (extra or '') .. ' ' .. sh_quote(recipe)
end

after_each(cli.cleanup)

describe('tokrun git-credential, driven as git drives it', function()
  local function helper(action, stdin, env, args)
    local argv = { 'git-credential' }
    for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
    argv[#argv + 1] = ECHO
    argv[#argv + 1] = action
    local e = { ECHO_TOKEN = 'tok-A', XDG_CACHE_HOME = cli.tmpdir() }
    for k, v in pairs(env or {}) do e[k] = v end
    return cli.run(argv, e, { stdin = stdin })
  end

  it('get answers username, password and password_expiry_utc', function()
    local r = helper('get', 'protocol=https\nhost=git.example.com\n', nil, { '--now', '1767225600000' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('username=x-access-token\npassword=tok-A\npassword_expiry_utc=1767229200\n', r.stdout)
    assert.equal('', r.stderr)
  end)

  it('get takes the username from -p username= when the recipe does not declare one', function()
    local r = helper('get', 'protocol=https\nhost=git.example.com\n\n', nil, { '-p', 'username=bot' })
    assert.equal(0, r.code, r.stderr)
    assert.matches('^username=bot\npassword=tok%-A\n', r.stdout)
  end)

  it('answers a Bearer credential when git announces capability[]=authtype', function()
    local bearer = cli.root .. '/tests/cli/fixtures/bytes_token.lua'
    local r = cli.run({ 'git-credential', '--now', '1767225600000', bearer, 'get' },
      { BYTES_TOKEN = 'bearer-1', XDG_CACHE_HOME = cli.tmpdir() },
      { stdin = 'capability[]=authtype\nprotocol=https\nhost=git.example.com\n' })
    assert.equal(0, r.code, r.stderr)
    -- bytes_token's token_type is "test": not a bearer token, so the classic form
    assert.matches('^username=x%-access%-token\npassword=bearer%-1\n', r.stdout)
    local oauth = mock.start { routes = 'tests/mocks/git_http.lua',
      config = { root = '/nonexistent', client_id = CLIENT_ID, client_secret = SECRET } }
    r = cli.run({ 'git-credential', '-p', 'auth_method=client_secret_post', cli.recipe('oauth2_client_credentials'),
      'get' }, { OAUTH2_TOKEN_URL = oauth.url .. '/token', OAUTH2_CLIENT_ID = CLIENT_ID,
      OAUTH2_CLIENT_SECRET = SECRET, XDG_CACHE_HOME = cli.tmpdir() },
      { stdin = 'capability[]=authtype\nprotocol=https\nhost=git.example.com\n' })
    oauth:stop()
    assert.equal(0, r.code, r.stderr)
    assert.matches('^capability%[%]=authtype\nauthtype=Bearer\ncredential=tok%-1\nephemeral=true\n'
      .. 'password_expiry_utc=%d+\n$', r.stdout)
  end)

  it('serves get from the cache: a second get does not mint', function()
    local cache, count = cli.tmpdir(), cli.tmpdir() .. '/count'
    local env = { XDG_CACHE_HOME = cache, ECHO_COUNT_FILE = count }
    for _ = 1, 3 do
      local r = helper('get', 'protocol=https\nhost=git.example.com\n', env)
      assert.equal(0, r.code, r.stderr)
    end
    local f = assert(io.open(count))
    assert.equal('minted\n', f:read('a'))
    f:close()
  end)

  it('erase drops the rejected token, so the next get mints again; another token is kept', function()
    local cache, count = cli.tmpdir(), cli.tmpdir() .. '/count'
    local env = { XDG_CACHE_HOME = cache, ECHO_COUNT_FILE = count }
    local req = 'protocol=https\nhost=git.example.com\n'
    assert.equal(0, helper('get', req, env).code)
    assert.equal(0, helper('erase', req .. 'username=x-access-token\npassword=other\n', env).code)
    assert.equal(0, helper('get', req, env).code)
    assert.equal(0, helper('erase', req .. 'username=x-access-token\npassword=tok-A\n', env).code)
    local r = helper('get', req, env)
    assert.equal(0, r.code, r.stderr)
    local f = assert(io.open(count))
    assert.equal('minted\nminted\n', f:read('a'))
    f:close()
  end)

  it('store does nothing and prints nothing', function()
    local r = helper('store', 'protocol=https\nhost=git.example.com\nusername=u\npassword=p\n')
    assert.equal(0, r.code, r.stderr)
    assert.equal('', r.stdout)
  end)

  local bad = {
    { 'a line over 64 KiB', 'protocol=https\nhost=git.example.com\npath=' .. ('a'):rep(65 * 1024) .. '\n' },
    { 'a NUL byte', 'protocol=https\nhost=git.example.com\0.evil\n' },
    { 'no final newline', 'protocol=https\nhost=git.example.com' },
    { 'an unknown key', 'protocol=https\nhost=git.example.com\nhots=evil.example\n' },
    { 'a url= with userinfo', 'url=https://user:pw@git.example.com/repo.git\n' },
    { 'a host with userinfo', 'protocol=https\nhost=evil.example@git.example.com\n' },
    { 'a host given twice', 'protocol=https\nhost=git.example.com\nhost=evil.example\n' },
    { 'a url= that disagrees with host=', 'protocol=https\nhost=git.example.com\nurl=https://evil.example/\n' },
    { 'lines after the blank line', 'protocol=https\nhost=git.example.com\n\nhost=evil.example\n' },
    { 'a line that is not key=value', 'protocol=https\nhost\n' },
    { 'a carriage return', 'protocol=https\r\nhost=git.example.com\r\n' },
  }
  for _, c in ipairs(bad) do
    it('refuses ' .. c[1] .. ': one stderr line, nothing on stdout, exit 76', function()
      local r = helper('get', c[2])
      assert.equal(76, r.code, r.stderr)
      assert.equal('', r.stdout)
      cli.assert_one_line(r)
      assert.matches('git-credential: malformed request', r.stderr, 1, true)
    end)
  end

  it('never answers for plain http to another machine (78)', function()
    local r = helper('get', 'protocol=http\nhost=git.example.com\n')
    assert.equal(78, r.code, r.stderr)
    assert.equal('', r.stdout)
  end)

  it('refuses a lease recipe (64) before checking anything out', function()
    local log = cli.tmpdir() .. '/lease.log'
    local r = cli.run({ 'git-credential', LEASE, 'get' }, { LEASE_LOG = log, LEASE_PASSWORD = 'pw',
      XDG_CACHE_HOME = cli.tmpdir() }, { stdin = 'protocol=https\nhost=git.example.com\n' })
    assert.equal(64, r.code, r.stderr)
    assert.equal('', r.stdout)
    assert.is_nil(io.open(log))
  end)

  it('refuses a token it cannot put on one line (76)', function()
    local r = cli.run({ 'git-credential', cli.root .. '/tests/cli/fixtures/bytes_token.lua', 'get' },
      { BYTES_TOKEN = 'two\\nlines', XDG_CACHE_HOME = cli.tmpdir() },
      { stdin = 'protocol=https\nhost=git.example.com\n' })
    assert.equal(76, r.code, r.stderr)
    assert.equal('', r.stdout)
  end)

  it('expects RECIPE and one of get, store, erase (64)', function()
    local r = cli.run({ 'git-credential', ECHO }, { ECHO_TOKEN = 'x' })
    assert.equal(64, r.code)
    assert.equal('', r.stdout)
  end)
end)

describe('the real git through tokrun git-credential', function()
  local dir, srv, env

  before_each(function()
    dir = cli.tmpdir()
    local root = dir .. '/srv'
    assert(require('tokrun.sys').mkdir(root, 448))
    assert(require('tokrun.sys').mkdir(dir .. '/cache', 448))
    assert.equal(0, git(dir, { 'init', '-q', '--bare', root .. '/repo.git' }).status)
    assert.equal(0, git(dir, { 'init', '-q', dir .. '/work' }).status)
    local f = assert(io.open(dir .. '/work/README', 'w'))
    f:write('hello from the loopback server\n')
    f:close()
    assert.equal(0, git(dir .. '/work', { 'add', 'README' }).status)
    assert.equal(0, git(dir .. '/work', { 'commit', '-q', '-m', 'first' }).status)
    local r = git(dir .. '/work', { 'push', '-q', root .. '/repo.git', 'HEAD:refs/heads/main' })
    assert.equal(0, r.status, r.stderr)
    assert.equal(0, git(dir, { '--git-dir', root .. '/repo.git', 'symbolic-ref', 'HEAD', 'refs/heads/main' }).status)
    srv = mock.start { routes = 'tests/mocks/git_http.lua',
      config = { root = root, client_id = CLIENT_ID, client_secret = SECRET, username = 'x-access-token' } }
    env = { OAUTH2_TOKEN_URL = srv.url .. '/token', OAUTH2_CLIENT_ID = CLIENT_ID, OAUTH2_CLIENT_SECRET = SECRET,
      TOKRUN_PATH = '' }
  end)
  after_each(function() srv:stop() end)

  local function stats()
    local resp = assert(require('tokrun.http').request { url = srv.url .. '/stats', timeout = 5 })
    return json.decode(resp.body)
  end

  local function clone(name, helper)
    local args = { '-c', 'credential.helper=', '-c',
      'credential.helper=' .. (helper or helper_cmd(cli.recipe('oauth2_client_credentials'),
        '-p auth_method=client_secret_post')),
      'clone', '-q', srv.url .. '/repo.git', dir .. '/' .. name }
    return git(dir, args, env)
  end

  it('git credential fill gets the token from the recipe', function()
    local r = git(dir, { '-c', 'credential.helper=' .. helper_cmd(cli.recipe('oauth2_client_credentials'),
      '-p auth_method=client_secret_post'), 'credential', 'fill' }, env,
      'protocol=https\nhost=git.example.com\n\n')
    assert.equal(0, r.status, r.stderr)
    assert.matches('username=x%-access%-token\npassword=tok%-1\n', r.stdout)
  end)

  it('git clone succeeds with the minted token, and a second clone reuses it', function()
    local r = clone('one')
    assert.equal(0, r.status, r.stderr)
    local f = assert(io.open(dir .. '/one/README'))
    assert.equal('hello from the loopback server\n', f:read('a'))
    f:close()
    r = clone('two')
    assert.equal(0, r.status, r.stderr)
    assert.equal(1, stats().minted)
  end)

  it('the server rejects a clone without the helper and with another token', function()
    local r = git(dir, { '-c', 'credential.helper=', 'clone', '-q', srv.url .. '/repo.git', dir .. '/none' }, env)
    assert.not_equal(0, r.status)
    r = clone('wrong', '!f() { echo username=x-access-token; echo password=forged; }; f')
    assert.not_equal(0, r.status)
    assert.equal(0, stats().accepted)
  end)

  it('after the server rejects the cached token, git erases it and the next clone mints a new one', function()
    assert.equal(0, clone('one').status)
    local http = require 'tokrun.http'
    assert(http.request { method = 'POST', url = srv.url .. '/revoke?token=tok-1', timeout = 5 })
    local r = clone('two')   -- the cached tok-1 is refused: git rejects it through erase
    assert.not_equal(0, r.status)
    assert.equal(1, stats().minted)
    r = clone('three')
    assert.equal(0, r.status, r.stderr)
    assert.equal(2, stats().minted)
  end)

  it('a per-URL helper (credential.<url>.helper) picks the recipe for that URL only', function()
    local args = { '-c', 'credential.helper=', '-c', 'credential.' .. srv.url .. '.helper='
      .. helper_cmd(cli.recipe('oauth2_client_credentials'), '-p auth_method=client_secret_post'),
      'clone', '-q', srv.url .. '/repo.git', dir .. '/per-url' }
    local r = git(dir, args, env)
    assert.equal(0, r.status, r.stderr)
    r = git(dir, { '-c', 'credential.helper=', '-c', 'credential.https://other.example.helper='
      .. helper_cmd(cli.recipe('oauth2_client_credentials'), '-p auth_method=client_secret_post'),
      'clone', '-q', srv.url .. '/repo.git', dir .. '/other' }, env)
    assert.not_equal(0, r.status)
    assert.equal(1, stats().minted)
  end)
end)
