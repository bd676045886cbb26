-- --cache=redis://...: one mint for a fleet.  tokrun runs as processes of
-- two "hosts" (separate HOME and file caches) against a real redis-server
-- on loopback and an OAuth 2.0 mock that counts mints; the lock holder is
-- killed, Redis is stopped or paused mid-run, the shared key is wrong, and
-- MONITOR watches what reaches Redis.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local server = require 'redis_server'
local sys = require 'tokrun.sys'
local codec = require 'tokrun.codec'
local socket = require 'socket'

local RECIPE = cli.recipe('oauth2_client_credentials')
local TOKEN = 'tok-canary-7Qx9'
local SECRET = 'cs-canary-Pz41'
local CLIENT = 'cid-canary-Lm02'
local KEY = codec.base64(string.rep('K', 32))
local OTHER_KEY = codec.base64(string.rep('Q', 32))
local WAIT = 90   -- seconds: the bound on any background process here

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function mints(srv)
  local n = 0
  for _, r in ipairs(srv:requests()) do
    if r.path == '/token' then n = n + 1 end
  end
  return n
end

-- A host: its own HOME and XDG cache, the shared env.
local function host(srv, over)
  local home = cli.tmpdir()
  local env = { PATH = os.getenv('PATH'), HOME = home, XDG_CACHE_HOME = home .. '/.cache',
    OAUTH2_TOKEN_URL = srv.url .. '/token', OAUTH2_CLIENT_ID = CLIENT, OAUTH2_CLIENT_SECRET = SECRET,
    TOKRUN_CACHE_KEY = KEY }
  for k, v in pairs(over or {}) do env[k] = v end
  return env
end

local function command(env, args)
  local words = { 'env', '-i' }
  for k, v in pairs(env) do words[#words + 1] = quote(k .. '=' .. v) end
  words[#words + 1] = quote(cli.bin)
  for _, a in ipairs(args) do words[#words + 1] = quote(a) end
  return table.concat(words, ' ')
end

-- Starts tokrun in the background -> {pid=, out=, err=, rc=}; pid is
-- tokrun's own (exec), so kill -9 reaches it.
local function spawn(env, args)
  local dir = cli.tmpdir()
  local job = { out = dir .. '/out', err = dir .. '/err', rc = dir .. '/rc' }
  local p = io.popen(string.format("sh -c %s >/dev/null 2>&1 </dev/null & echo $!",
    quote(string.format('(exec %s >%s 2>%s) ; echo $? >%s', command(env, args), quote(job.out),
      quote(job.err), quote(job.rc)))))
  p:read('l')
  p:close()
  return job
end

local function spawn_killable(env, args)
  local dir = cli.tmpdir()
  local job = { out = dir .. '/out', err = dir .. '/err' }
  local p = io.popen(string.format('sh -c %s >%s 2>%s </dev/null & echo $!',
    quote('exec ' .. command(env, args)), quote(job.out), quote(job.err)))
  job.pid = tonumber(p:read('l'))
  p:close()
  return job
end

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read('a')
  f:close()
  return s
end

-- Waits for every job to end (bounded by WAIT) -> the jobs with code, stdout, stderr.
local function finish(jobs)
  local deadline = socket.gettime() + WAIT
  for _, j in ipairs(jobs) do
    while not read(j.rc) and socket.gettime() < deadline do socket.sleep(0.02) end
    j.code = tonumber(read(j.rc))
    j.stdout, j.stderr = read(j.out) or '', read(j.err) or ''
  end
  return jobs
end

local function until_true(fn, what)
  local deadline = socket.gettime() + WAIT
  while not fn() do
    assert(socket.gettime() < deadline, 'gave up waiting: ' .. what)
    socket.sleep(0.02)
  end
end

local function alive(pid) return os.execute('kill -0 ' .. pid .. ' 2>/dev/null') == true end

describe('--cache=redis://', function()
  local srv, provider

  setup(function()
    srv = server.start { tls = true, user = { 'tokrun', 'redis-pw-canary' } }
  end)
  teardown(server.stop_all)

  before_each(function()
    srv:command { 'FLUSHALL' }
    provider = mock.start { routes = 'tests/mocks/oauth2_client_credentials.lua',
      config = { client_id = CLIENT, client_secret = SECRET, token = TOKEN, expires_in = 3600 } }
  end)
  after_each(function()
    provider:stop()
    cli.cleanup()
  end)

  local function auth(env)
    env.TOKRUN_REDIS_USERNAME, env.TOKRUN_REDIS_PASSWORD = 'tokrun', 'redis-pw-canary'
    return env
  end

  it('mints once for two hosts of eight processes each', function()
    provider:script('POST /token', { { pass = true, delay = 0.5 } })
    local jobs = {}
    for _, h in ipairs { auth(host(provider)), auth(host(provider)) } do
      for _ = 1, 8 do jobs[#jobs + 1] = spawn(h, { '--cache=' .. srv.url, '-f', 'token', RECIPE }) end
    end
    for _, j in ipairs(finish(jobs)) do
      assert.equal(0, j.code, j.stderr)
      assert.equal(TOKEN .. '\n', j.stdout)
    end
    assert.equal(1, mints(provider))
  end)

  it('serves a later run from Redis with "cached": true, over TCP, a unix socket and TLS', function()
    local env = auth(host(provider))
    local a = cli.run({ '--cache=' .. srv.url, RECIPE }, env)
    assert.equal(0, a.code, a.stderr)
    assert.is_false(a.json.cached)
    local b = cli.run({ '--cache=unix://' .. srv.sock, RECIPE }, auth(host(provider)))
    assert.equal(0, b.code, b.stderr)
    assert.is_true(b.json.cached)
    local c = cli.run({ '--cache=' .. srv.tls_url, '--cache-cacert', srv.certs.ca, RECIPE }, auth(host(provider)))
    assert.equal(0, c.code, c.stderr)
    assert.is_true(c.json.cached)
    assert.equal(TOKEN, c.json.token)
    assert.equal(1, mints(provider))
  end)

  it('takes the location from TOKRUN_CACHE and the password from a file', function()
    local env = host(provider, { TOKRUN_CACHE = srv.url, TOKRUN_REDIS_USERNAME = 'tokrun' })
    env.TOKRUN_REDIS_PASSWORD_FILE = env.HOME .. '/pw'
    assert(sys.write_atomic(env.TOKRUN_REDIS_PASSWORD_FILE, 'redis-pw-canary\n', 384))
    assert.equal(0, cli.run({ '--cache', RECIPE }, env).code)
    local r = cli.run({ '--cache', RECIPE }, host(provider, { TOKRUN_CACHE = srv.url,
      TOKRUN_REDIS_USERNAME = 'tokrun', TOKRUN_REDIS_PASSWORD_FILE = env.TOKRUN_REDIS_PASSWORD_FILE }))
    assert.equal(0, r.code, r.stderr)
    assert.is_true(r.json.cached)
    assert.equal(1, mints(provider))
  end)

  it('mints once more after the lock of a killed holder expires; no waiter fails', function()
    provider:script('POST /token', { { pass = true, delay = 20 } })
    local holder = spawn_killable(auth(host(provider)), { '--cache=' .. srv.url, '--timeout', '5', RECIPE })
    until_true(function() return mints(provider) == 1 end, 'the holder to ask the provider')
    local jobs = {}
    for _, h in ipairs { auth(host(provider)), auth(host(provider)) } do
      for _ = 1, 3 do jobs[#jobs + 1] = spawn(h, { '--cache=' .. srv.url, '--timeout', '60', '-f', 'token', RECIPE }) end
    end
    os.execute('kill -9 ' .. holder.pid)
    until_true(function() return not alive(holder.pid) end, 'the holder to die')
    for _, j in ipairs(finish(jobs)) do
      assert.equal(0, j.code, j.stderr)
      assert.equal(TOKEN .. '\n', j.stdout)
    end
    assert.equal(2, mints(provider))
  end)

  it('falls back to the local cache when Redis stops mid-wait, or fails with 69', function()
    local own = server.start {}   -- its own: this one is stopped
    provider:script('POST /token', { { pass = true, delay = 30 } })   -- the holder's mint outlasts the test
    local h = host(provider)
    local holder = spawn_killable(h, { '--cache=' .. own.url, '-f', 'token', RECIPE })
    until_true(function() return mints(provider) == 1 end, 'the holder to ask the provider')
    local waiters = { spawn(h, { '--cache=' .. own.url, '-f', 'token', RECIPE }),
      spawn(h, { '--cache=' .. own.url, '-f', 'token', RECIPE }) }
    local strict = spawn(host(provider), { '--cache=' .. own.url, '--cache-fallback=fail', RECIPE })
    until_true(function()   -- the holder, the waiters and this spec's own connection
      return select(2, own:command({ 'CLIENT', 'LIST' }):gsub('\n', '')) >= 5
    end, 'the waiters to connect')
    own:stop()
    finish({ waiters[1], waiters[2], strict })
    os.execute('kill -9 ' .. holder.pid)
    for _, w in ipairs(waiters) do
      assert.equal(0, w.code, w.stderr)
      assert.equal(TOKEN .. '\n', w.stdout)
      assert.matches('using the local cache', w.stderr)
    end
    assert.equal(69, strict.code, strict.stderr)
    -- the holder's request, and one local mint for the host whose waiters fell back
    assert.equal(2, mints(provider))
  end)

  it('falls back within its timeouts when Redis is paused, or fails with 69', function()
    local h = auth(host(provider))
    srv:pause()
    local ok, err = pcall(function()
      local r = cli.run({ '--cache=' .. srv.url, RECIPE }, h)
      assert.equal(0, r.code, r.stderr)
      assert.equal(TOKEN, r.json.token)
      assert.matches('warning: shared cache redis://127.0.0.1:%d+/0: Redis did not answer in time; '
        .. 'using the local cache', r.stderr)
      local s = cli.run({ '--cache=' .. srv.url, '--cache-fallback=fail', RECIPE }, h)
      assert.equal(69, s.code, s.stderr)
      assert.equal('network', s.json.error.kind)
    end)
    srv:resume()
    assert(ok, err)
  end)

  it('treats an entry stored under another TOKRUN_CACHE_KEY as a miss, mints, and warns', function()
    assert.equal(0, cli.run({ '--cache=' .. srv.url, RECIPE }, auth(host(provider))).code)
    local r = cli.run({ '--cache=' .. srv.url, RECIPE }, auth(host(provider, { TOKRUN_CACHE_KEY = OTHER_KEY })))
    assert.equal(0, r.code, r.stderr)
    assert.is_false(r.json.cached)
    assert.matches('another TOKRUN_CACHE_KEY', r.stderr)
    assert.equal(2, mints(provider))
  end)

  it('treats a value that does not decrypt as a miss, warns, and replaces it', function()
    local env = auth(host(provider))
    assert.equal(0, cli.run({ '--cache=' .. srv.url, RECIPE }, env).code)
    for _, k in ipairs(srv:command { 'KEYS', 'tokrun:v1:*' }) do
      if k:match('^tokrun:v1:%x+$') then srv:command { 'SET', k, 'garbage', 'PX', '60000' } end
    end
    local r = cli.run({ '--cache=' .. srv.url, RECIPE }, env)
    assert.equal(0, r.code, r.stderr)
    assert.is_false(r.json.cached)
    assert.matches('does not decrypt', r.stderr)
    assert.is_true(cli.run({ '--cache=' .. srv.url, RECIPE }, env).json.cached)
    assert.equal(2, mints(provider))
  end)

  it('shows Redis no secret, token or parameter value (MONITOR), and -v traces none', function()
    local stop = srv:monitor()
    local env = auth(host(provider))
    local a = cli.run({ '-v', '--cache=' .. srv.url, '-p', 'scope=scope-canary', RECIPE }, env)
    local b = cli.run({ '--cache=' .. srv.url, '-p', 'scope=scope-canary', RECIPE }, env)
    local seen = stop()
    assert.equal(0, a.code, a.stderr)
    assert.is_true(b.json.cached)
    assert.matches('EVAL', seen)
    assert.matches('tokrun:v1:', seen)
    for _, canary in ipairs { TOKEN, SECRET, CLIENT, 'scope-canary', provider.url, 'redis-pw-canary',
      tostring(provider.port) } do
      assert.is_nil(seen:find(canary, 1, true), canary .. ' reached Redis:\n' .. seen)
    end
    assert.matches('redis: SET tokrun:v1:%x+:lock <32 bytes> NX PX 60000', a.stderr)
    cli.assert_clean(a, { TOKEN, SECRET, 'redis-pw-canary' }, true)
  end)

  it('refuses a TLS server whose certificate names another host (tls, 69)', function()
    local other = server.start { tls = 'other' }
    local r = cli.run({ '--cache=' .. other.tls_url, '--cache-cacert', other.certs.ca, RECIPE }, host(provider))
    other:stop()
    assert.equal(69, r.code, r.stderr)
    assert.equal('tls', r.json.error.kind)
    assert.equal(0, mints(provider))
  end)

  it('needs TOKRUN_CACHE_KEY (78) and refuses credentials in the URL (64)', function()
    local r = cli.run({ '--cache=' .. srv.url, RECIPE }, host(provider, { TOKRUN_CACHE_KEY = '' }))
    assert.equal(78, r.code, r.stderr)
    assert.matches('TOKRUN_CACHE_KEY', r.stderr)
    r = cli.run({ '--cache=redis://tokrun:redis-pw-canary@127.0.0.1:' .. srv.port, RECIPE }, host(provider))
    assert.equal(64, r.code, r.stderr)
    cli.assert_clean(r, { 'redis-pw-canary' })
    assert.equal(0, mints(provider))
  end)

  it('refuses a lease recipe (64) and a rotation unless --shared-rotation (64)', function()
    local dir = cli.tmpdir()
    local r = cli.run({ '--cache=' .. srv.url, cli.root .. '/tests/cli/fixtures/lease_log.lua' },
      { LEASE_LOG = dir .. '/log', LEASE_PASSWORD = 'p', TOKRUN_CACHE_KEY = KEY })
    assert.equal(64, r.code, r.stderr)
    assert.is_nil(sys.lstat(dir .. '/log'), 'nothing was checked out')
    r = cli.run({ '--cache=' .. srv.url, cli.recipe('dataverse') }, { TOKRUN_CACHE_KEY = KEY,
      DATAVERSE_API_TOKEN = 'old', DATAVERSE_BASE_URL = 'http://127.0.0.1:' .. mock.closed_port() })
    assert.equal(64, r.code, r.stderr)
    assert.matches('%-%-shared%-rotation', r.stderr)
  end)
end)
