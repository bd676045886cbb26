-- --cache: a fresh credential is reused without minting; anything that
-- could change the credential changes the key; the directory is trusted
-- only when it is private; concurrent runs mint once.
local cli = require 'cli_helper'
local sys = require 'tokrun.sys'
local json = require 'tokrun.json'
local run = cli.run

local RECIPE = cli.root .. '/tests/cli/fixtures/echo_token.lua'

local function mints(file)
  local data = sys.read_file(file, 65536)
  return data and select(2, data:gsub('minted', '')) or 0
end

local function setup_dirs()
  local dir = cli.tmpdir()
  local cache = dir .. '/cache'
  assert(sys.mkdir(cache, tonumber('700', 8)))
  return dir, cache, dir .. '/count'
end

describe('--cache', function()
  it('reuses a fresh credential with "cached": true and without minting', function()
    local _, cache, count = setup_dirs()
    local env = { ECHO_TOKEN = 'c1', ECHO_COUNT_FILE = count }
    local a = run({ '--cache=' .. cache, RECIPE }, env)
    local b = run({ '--cache=' .. cache, RECIPE }, env)
    assert.equal(0, a.code, a.stderr)
    assert.equal(0, b.code, b.stderr)
    assert.is_false(a.json.cached)
    assert.is_true(b.json.cached)
    assert.equal('c1', b.json.token)
    assert.equal(a.json.expires_at, b.json.expires_at)
    assert.equal(1, mints(count))
  end)

  it('writes no secret into the cache key or file names', function()
    local _, cache, count = setup_dirs()
    run({ '--cache=' .. cache, RECIPE }, { ECHO_TOKEN = 'name-canary', ECHO_COUNT_FILE = count })
    for _, f in ipairs(sys.readdir(cache)) do
      assert.is_nil(f:find('name-canary', 1, true))
      assert.equal(tonumber('600', 8), sys.lstat(cache .. '/' .. f).mode & tonumber('777', 8), f)
    end
  end)

  it('mints again when a secret changes', function()
    local _, cache, count = setup_dirs()
    run({ '--cache=' .. cache, RECIPE }, { ECHO_TOKEN = 'one', ECHO_COUNT_FILE = count })
    local r = run({ '--cache=' .. cache, RECIPE }, { ECHO_TOKEN = 'two', ECHO_COUNT_FILE = count })
    assert.is_false(r.json.cached)
    assert.equal('two', r.json.token)
    assert.equal(2, mints(count))
  end)

  it('mints again when the recipe changes', function()
    local dir, cache, count = setup_dirs()
    local copy = dir .. '/echo_token.lua'
    local src = assert(sys.read_file(RECIPE, 65536))
    assert(sys.write_atomic(copy, src))
    local env = { ECHO_TOKEN = 'r', ECHO_COUNT_FILE = count }
    run({ '--cache=' .. cache, copy }, env)
    assert(sys.write_atomic(copy, src .. '\n-- edited\n'))
    local r = run({ '--cache=' .. cache, copy }, env)
    assert.is_false(r.json.cached)
    assert.equal(2, mints(count))
  end)

  it('mints again when less than --min-ttl is left', function()
    local _, cache, count = setup_dirs()
    local env = { ECHO_TOKEN = 't', ECHO_TTL = '100', ECHO_COUNT_FILE = count }
    run({ '--cache=' .. cache, RECIPE }, env)
    local r = run({ '--cache=' .. cache, RECIPE }, env)
    assert.is_false(r.json.cached)
    r = run({ '--cache=' .. cache, '--min-ttl', '10', RECIPE }, env)
    assert.is_true(r.json.cached)
  end)

  it('is bypassed by --now', function()
    local _, cache, count = setup_dirs()
    local env = { ECHO_TOKEN = 't', ECHO_COUNT_FILE = count }
    run({ '--cache=' .. cache, RECIPE }, env)
    local r = run({ '--cache=' .. cache, '--now', '1767225600000', RECIPE }, env)
    assert.is_false(r.json.cached)
    assert.equal(2, mints(count))
  end)

  it('ignores and replaces a corrupt entry', function()
    local _, cache, count = setup_dirs()
    local env = { ECHO_TOKEN = 't', ECHO_COUNT_FILE = count }
    run({ '--cache=' .. cache, RECIPE }, env)
    for _, f in ipairs(sys.readdir(cache)) do
      if f:match('%.json$') then assert(sys.write_atomic(cache .. '/' .. f, '{"token":')) end
    end
    local r = run({ '--cache=' .. cache, RECIPE }, env)
    assert.equal(0, r.code)
    assert.is_false(r.json.cached)
    assert.is_true(run({ '--cache=' .. cache, RECIPE }, env).json.cached)
  end)

  it('ignores an entry that lacks what a delivery needs, and mints again', function()
    local _, cache, count = setup_dirs()
    local env = { ECHO_TOKEN = 't', ECHO_COUNT_FILE = count }
    run({ '--cache=' .. cache, RECIPE }, env)
    for _, f in ipairs(sys.readdir(cache)) do
      if f:match('%.json$') then
        local entry = json.decode((sys.read_file(cache .. '/' .. f, 65536)))
        entry.env = nil
        assert(sys.write_atomic(cache .. '/' .. f, json.encode(entry)))
      end
    end
    local r = run({ '--cache=' .. cache, '-f', 'env', RECIPE }, env)
    assert.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:find("export ECHO_OUT='t'", 1, true))
    assert.equal(2, mints(count))
  end)

  it('refuses a directory other users can read (78)', function()
    local dir = cli.tmpdir()
    assert(sys.mkdir(dir .. '/open', tonumber('755', 8)))
    os.execute("chmod 755 '" .. dir .. "/open'")
    local r = run({ '--cache=' .. dir .. '/open', RECIPE }, { ECHO_TOKEN = 't' })
    assert.equal(78, r.code)
    assert.truthy(r.stderr:find('0700', 1, true))
  end)

  it('refuses a symlink in place of the directory (78)', function()
    local dir, cache = setup_dirs()
    os.execute("ln -s '" .. cache .. "' '" .. dir .. "/link'")
    local r = run({ '--cache=' .. dir .. '/link', RECIPE }, { ECHO_TOKEN = 't' })
    assert.equal(78, r.code)
  end)

  it('is a usage error (64) for a recipe that yields a lease', function()
    local dir, cache = setup_dirs()
    local r = run({ '--cache=' .. cache, cli.root .. '/tests/cli/fixtures/lease_log.lua' },
      { LEASE_LOG = dir .. '/log', LEASE_PASSWORD = 'p' })
    assert.equal(64, r.code)
    assert.is_nil(sys.lstat(dir .. '/log'), 'nothing was checked out')
  end)

  it('mints once when concurrent runs share a key', function()
    local dir, cache, count = setup_dirs()
    local cmd = string.format(
      "for i in 1 2 3; do '%s' --cache='%s' -f token '%s' > '%s'/out.$i & done; wait",
      cli.bin, cache, RECIPE, dir)
    local r = require('tokrun.process').run { argv = { 'sh', '-c', cmd }, timeout = 30,
      env = { PATH = os.getenv('PATH'), ECHO_TOKEN = 'shared', ECHO_SLEEP = '0.5', ECHO_COUNT_FILE = count } }
    assert.equal(0, r.status, r.stderr)
    assert.equal(1, mints(count), (sys.read_file(count, 1000)) .. table.concat(sys.readdir(cache), ' '))
    for i = 1, 3 do
      assert.equal('shared\n', (sys.read_file(dir .. '/out.' .. i, 100)), table.concat(sys.readdir(dir), ' ') .. r.stderr .. r.stdout)
    end
  end)

  it('serves no entry that claims another file of the same recipe name', function()
    local dir, cache, count = setup_dirs()
    local copy = dir .. '/echo_token.lua'
    assert(sys.write_atomic(copy, (assert(sys.read_file(RECIPE, 65536)))))
    run({ '--cache=' .. cache, RECIPE }, { ECHO_TOKEN = 'theirs', ECHO_COUNT_FILE = count })
    local before = {}
    for _, f in ipairs(sys.readdir(cache)) do before[f] = true end
    run({ '--cache=' .. cache, copy }, { ECHO_TOKEN = 'mine', ECHO_COUNT_FILE = count })
    local theirs, mine
    for _, f in ipairs(sys.readdir(cache)) do
      if f:match('%.json$') then
        if before[f] then theirs = cache .. '/' .. f else mine = cache .. '/' .. f end
      end
    end
    -- the other file's entry, planted under this one's key
    assert(sys.write_atomic(mine, (assert(sys.read_file(theirs, 1 << 20))), 384))
    local r = run({ '--cache=' .. cache, copy }, { ECHO_TOKEN = 'mine', ECHO_COUNT_FILE = count })
    assert.equal(0, r.code, r.stderr)
    assert.equal('mine', r.json.token)
    assert.is_false(r.json.cached)
    assert.equal(3, mints(count))
  end)

  it('stores the token once, though an env name carries it too', function()
    local _, cache, count = setup_dirs()
    local token = 'once-' .. string.rep('x', 100 * 1024)
    local r = run({ '--cache=' .. cache, '-f', 'env', RECIPE }, { ECHO_TOKEN = token, ECHO_COUNT_FILE = count })
    assert.equal(0, r.code, r.stderr)
    for _, f in ipairs(sys.readdir(cache)) do
      if f:match('%.json$') then
        local text = sys.read_file(cache .. '/' .. f, 1 << 20)
        assert.equal(1, select(2, text:gsub('once%-x', '')))
      end
    end
    r = run({ '--cache=' .. cache, '-f', 'env', RECIPE }, { ECHO_TOKEN = token, ECHO_COUNT_FILE = count })
    assert.truthy(r.stdout:find("export ECHO_OUT='" .. token .. "'", 1, true))
    assert.equal(1, mints(count))
  end)

  it('reuses an entry over 256 KiB', function()
    local mock = require 'tokrun.mock'
    local token = string.rep('b', 300 * 1024)
    local srv = mock.start { routes = 'tests/mocks/oauth2_client_credentials.lua',
      config = { client_id = 'id', client_secret = 'sec', token = token, expires_in = 3600 } }
    local _, cache = setup_dirs()
    local env = { OAUTH2_TOKEN_URL = srv.url .. '/token', OAUTH2_CLIENT_ID = 'id', OAUTH2_CLIENT_SECRET = 'sec' }
    local a = run({ '--cache=' .. cache, cli.recipe('oauth2_client_credentials') }, env)
    local b = run({ '--cache=' .. cache, cli.recipe('oauth2_client_credentials') }, env)
    local requests = #srv:requests()
    srv:stop()
    assert.equal(0, a.code, a.stderr)
    assert.equal(0, b.code, b.stderr)
    assert.is_true(b.json.cached)
    assert.equal(token, b.json.token)
    assert.equal(1, requests)
  end)

  it('removes the temporary files a killed run left, once they are old', function()
    local _, cache, count = setup_dirs()
    local stale, young = cache .. '/.tokrun-AbC123', cache .. '/.tokrun-XyZ789'
    assert(sys.write_atomic(stale, 'a whole credential', 384))
    assert(sys.write_atomic(young, 'being written', 384))
    os.execute("touch -d '2 hours ago' '" .. stale .. "'")
    local r = run({ '--cache=' .. cache, RECIPE }, { ECHO_TOKEN = 't', ECHO_COUNT_FILE = count })
    assert.equal(0, r.code, r.stderr)
    assert.is_nil(sys.lstat(stale))
    assert.truthy(sys.lstat(young))
  end)

  it('creates a missing $XDG_CACHE_HOME and its parents 0700', function()
    local dir, _, count = setup_dirs()
    local xdg = dir .. '/home/svc/.cache'
    local r = run({ '--cache', RECIPE }, { ECHO_TOKEN = 't', ECHO_COUNT_FILE = count, XDG_CACHE_HOME = xdg })
    assert.equal(0, r.code, r.stderr)
    for _, d in ipairs { dir .. '/home', dir .. '/home/svc', xdg, xdg .. '/tokrun' } do
      local st = assert(sys.lstat(d), d)
      assert.equal(tonumber('700', 8), st.mode & tonumber('777', 8), d)
    end
    assert.is_true(run({ '--cache', RECIPE }, { ECHO_TOKEN = 't', ECHO_COUNT_FILE = count, XDG_CACHE_HOME = xdg }).json.cached)
  end)

  it('serves a hit without mapping hiredis, libssl or libcurl', function()
    local _, cache, count = setup_dirs()
    local env = { ECHO_TOKEN = 't', ECHO_COUNT_FILE = count }
    run({ '--cache=' .. cache, RECIPE }, env)
    env.LD_DEBUG = 'files'
    local r = run({ '--cache=' .. cache, RECIPE }, env)
    assert.equal(0, r.code)
    assert.is_true(r.json.cached)
    assert.matches('file=libcrypto', r.stderr)   -- LD_DEBUG did report
    for _, lib in ipairs { 'libhiredis', 'libssl', 'libcurl' } do
      assert.is_nil(r.stderr:find('file=' .. lib, 1, true), lib)
    end
  end)
end)

teardown(cli.cleanup)
