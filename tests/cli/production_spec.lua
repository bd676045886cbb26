-- A bad day in production, end to end with the built binary against the
-- mock kit: retries that re-sign, Retry-After, POSTs that must not be
-- re-sent, TLS trust, redirects that must not leak secrets, recipes that
-- never finish, and -o that keeps the old file when the provider says no.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local hmac = require 'tokrun.hmac'
local sys = require 'tokrun.sys'

local NOW = 1740568725231            -- 2025-02-26T11:18:45.231Z
local VELAFI_KEY = 'pRod/k3y+A= b'
local VELAFI_SECRET = 'pRod/s3cret+B= c'
local VELAFI_TOKEN = 'b2f1c0de-0000-4000-8000-00000000beef'

-- A Velafi mock; without now_ms it checks timestamps against the wall clock.
local function velafi(config, tls)
  local c = { api_key = VELAFI_KEY, api_secret = VELAFI_SECRET, token = VELAFI_TOKEN, ttl_ms = 3600000 }
  for k, v in pairs(config or {}) do c[k] = v end
  return mock.start { routes = 'tests/mocks/velafi.lua', config = c, tls = tls }
end

local function velafi_env(srv, extra)
  local e = { VELAFI_API_KEY = VELAFI_KEY, VELAFI_API_SECRET = VELAFI_SECRET, VELAFI_BASE_URL = srv.url }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

-- run_velafi(srv, {args...}, env_extra) -> cli.run's result
local function run_velafi(srv, args, extra)
  local argv = {}
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = cli.recipe('velafi')
  return cli.run(argv, velafi_env(srv, extra))
end

local function query_of(req)
  return req.query:match('^timestamp=(%d+)&signature=(%x+)$')
end

describe('a credential cached with --cache', function()
  it('is reused by a second run within its lifetime without any request', function()
    local srv = velafi()
    local cache = cli.tmpdir() .. '/cache'
    assert(sys.mkdir(cache, tonumber('700', 8)))
    local first = run_velafi(srv, { '--cache=' .. cache })
    assert.equal(0, first.code, first.stderr)
    assert.is_false(first.json.cached)
    assert.equal(1, #srv:requests())
    local second = run_velafi(srv, { '--cache=' .. cache })
    assert.equal(0, second.code, second.stderr)
    assert.is_true(second.json.cached)
    assert.equal(VELAFI_TOKEN, second.json.token)
    assert.equal(first.json.expires_at, second.json.expires_at)
    assert.equal(1, #srv:requests(), 'the cached run sent nothing')
    srv:stop()
  end)
end)

describe('retries', function()
  local srv
  after_each(function() srv:stop() end)

  it('re-sign a retried Velafi request with a fresh timestamp', function()
    srv = velafi()   -- the wall clock: no --now, which would fix the timestamp
    srv:script('GET /v2/token/generate', { { status = 503, delay = 0.05, body = 'busy' } })
    local r = run_velafi(srv, { '--retries', '1' })
    assert.equal(0, r.code, r.stderr)
    local reqs = srv:requests()
    assert.equal(2, #reqs)
    local ts1, sig1 = query_of(reqs[1])
    local ts2, sig2 = query_of(reqs[2])
    assert.truthy(ts1 and ts2, reqs[1].query .. ' / ' .. reqs[2].query)
    assert.is_true(tonumber(ts2) > tonumber(ts1), 'a new timestamp')
    assert.equal(hmac.hexdigest('sha256', VELAFI_SECRET, 'timestamp=' .. ts1), sig1)
    assert.equal(hmac.hexdigest('sha256', VELAFI_SECRET, 'timestamp=' .. ts2), sig2)
    assert.are_not.equal(sig1, sig2)
  end)

  it('wait at least the Retry-After of a 503 before trying again', function()
    srv = velafi()
    srv:script('GET /v2/token/generate', { { status = 503, headers = { ['Retry-After'] = '1' }, body = 'later' } })
    local t0 = sys.monotonic()
    local r = run_velafi(srv, { '--retries', '1' })
    local took = sys.monotonic() - t0
    assert.equal(0, r.code, r.stderr)
    assert.equal(2, #srv:requests())
    -- without Retry-After the first backoff is at most 0.25 s
    assert.is_true(took >= 1, string.format('the run took %.3fs', took))
    assert.is_true(took < 10, string.format('the run took %.3fs', took))
  end)

  it('never re-send a PAM checkout that got a 500 (69, one request)', function()
    srv = mock.start { routes = 'tests/mocks/pam_checkout.lua',
      config = { api_token = 'pam-tok', account = 'root', passwd = 'pw' } }
    srv:script('POST /rest/cmdctrl/Request', { { status = 500, body = 'oops' }, { status = 500 }, { status = 500 } })
    local r = cli.run({ '--retries', '2', '-p', 'run_host=h1', '-p', 'reason=r', cli.recipe('pam_checkout') },
      { PAM_API_TOKEN = 'pam-tok', PAM_BASE_URL = srv.url })
    assert.equal(69, r.code, r.stderr)
    assert.equal('provider', r.json.error.kind)
    assert.equal(1, #srv:requests())
  end)

  it('re-send a Velt POST, which is safe to repeat, after a 500', function()
    srv = mock.start { routes = 'tests/mocks/velt.lua',
      config = { api_key = 'velt-key', auth_token = 'velt-auth', now_ms = NOW, ttl_s = 3600 } }
    srv:script('POST /v1/auth/token/get',
      { { status = 500, json = { error = { message = 'Internal error.', status = 'INTERNAL' } } } })
    local r = cli.run({ '--now', tostring(NOW), '--retries', '1', '-p', 'user_id=u-1', '-p', 'organization_id=o-1',
      cli.recipe('velt') }, { VELT_API_KEY = 'velt-key', VELT_AUTH_TOKEN = 'velt-auth', VELT_BASE_URL = srv.url })
    assert.equal(0, r.code, r.stderr)
    assert.equal('jwt', r.json.token_type)
    local reqs = srv:requests()
    assert.equal(2, #reqs)
    assert.equal('POST', reqs[2].method)
  end)
end)

describe('an HTTPS provider with a self-signed certificate', function()
  local srv
  lazy_setup(function() srv = velafi({ now_ms = NOW }, true) end)
  lazy_teardown(function() srv:stop() end)
  before_each(function() srv:reset() end)

  it('is refused by default (69, tls) and the error names the host', function()
    local r = run_velafi(srv, { '--now', tostring(NOW), '--retries', '0' })
    assert.equal(69, r.code, r.stderr)
    assert.equal('tls', r.json.error.kind)
    assert.matches('127.0.0.1', r.stderr, 1, true)
    assert.equal(0, #srv:requests(), 'no request reached the handler')
  end)

  it('is trusted with --cacert', function()
    local r = run_velafi(srv, { '--now', tostring(NOW), '--cacert', srv.cacert })
    assert.equal(0, r.code, r.stderr)
    assert.equal(VELAFI_TOKEN, r.json.token)
    assert.equal('', r.stderr)
  end)

  it('is accepted with --insecure, with a warning on every run', function()
    for _ = 1, 2 do
      local r = run_velafi(srv, { '--now', tostring(NOW), '--insecure' })
      assert.equal(0, r.code, r.stderr)
      assert.equal(VELAFI_TOKEN, r.json.token)
      assert.matches('warning: --insecure', r.stderr, 1, true)
    end
    assert.equal(2, #srv:requests())
  end)
end)

describe('redirects', function()
  local REDIRECT = cli.root .. '/tests/cli/fixtures/redirect_key.lua'
  local KEY = 'redir/k3y+Secret= x'
  local other, srv, tls

  lazy_setup(function()
    other = mock.start { routes = 'tests/mocks/redirects.lua', config = { token = 'tok-other' } }
    srv = mock.start { routes = 'tests/mocks/redirects.lua', config = { token = 'tok-here', other = other.url } }
    tls = mock.start { routes = 'tests/mocks/redirects.lua', config = { token = 'tok-tls', other = other.url },
      tls = true }
  end)
  lazy_teardown(function()
    other:stop(); srv:stop(); tls:stop()
  end)
  before_each(function()
    other:reset(); srv:reset(); tls:reset()
  end)

  local function follow(base, path, mode, args)
    local argv = { '--retries', '0' }
    for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
    argv[#argv + 1] = REDIRECT
    return cli.run(argv, { REDIR_BASE_URL = base.url, REDIR_API_KEY = KEY, REDIR_PATH = path, REDIR_MODE = mode })
  end

  it('keep the secret header and Authorization on a same-origin hop', function()
    local r = follow(srv, 'same')
    assert.equal(0, r.code, r.stderr)
    assert.equal('tok-here', r.json.token)
    local reqs = srv:requests()
    assert.equal(2, #reqs)
    assert.equal('/final', reqs[2].path)
    assert.equal(KEY, reqs[2].headers['x-api-key'])
    assert.equal('Bearer ' .. KEY, reqs[2].headers['authorization'])
  end)

  it('drop the secret header and Authorization on a cross-origin hop', function()
    local r = follow(srv, 'cross')
    assert.equal(0, r.code, r.stderr)
    assert.equal('tok-other', r.json.token)
    assert.equal(KEY, srv:last().headers['x-api-key'])
    local reqs = other:requests()
    assert.equal(1, #reqs)
    assert.equal('GET', reqs[1].method)
    assert.is_nil(reqs[1].headers['x-api-key'])
    assert.is_nil(reqs[1].headers['authorization'])
    for name, v in pairs(reqs[1].headers) do
      assert.is_nil(v:find(KEY, 1, true), name)
    end
  end)

  it('are refused from https to plain http', function()
    local r = follow(tls, 'cross', 'get', { '--cacert', tls.cacert })
    assert.equal(76, r.code, r.stderr)
    assert.equal('protocol', r.json.error.kind)
    assert.matches('refusing a redirect from https to plain http', r.stderr, 1, true)
    assert.equal(1, #tls:requests())
    assert.equal(0, #other:requests())
    cli.assert_clean(r, { KEY })
  end)

  it('are not followed to another origin for a POST with a body', function()
    local r = follow(srv, 'cross', 'post')
    assert.equal(76, r.code, r.stderr)
    assert.matches('refusing a cross%-origin redirect of a POST', r.stderr)
    assert.equal(1, #srv:requests())
    assert.equal(0, #other:requests())
  end)

  it('stop after 5 hops with a clear error', function()
    local r = follow(srv, 'loop')
    assert.equal(76, r.code, r.stderr)
    assert.equal('protocol', r.json.error.kind)
    assert.matches('stopped after 5 redirects', r.json.error.message, 1, true)
    assert.equal(6, #srv:requests(), 'the first request and 5 hops')
    assert.matches('^tokrun: [^\n]+\n$', r.stderr)
  end)
end)

describe('secrets over plain http://', function()
  it('are never sent to a host other than loopback (78, before any network)', function()
    local t0 = sys.monotonic()
    local r = cli.run({ '-v', cli.root .. '/tests/cli/fixtures/redirect_key.lua' },
      { REDIR_BASE_URL = 'http://example.invalid', REDIR_API_KEY = 'plain/k3y' })
    assert.equal(78, r.code, r.stderr)
    assert.equal('config', r.json.error.kind)
    assert.matches('refusing to send secrets over plain http:// to example.invalid', r.stderr, 1, true)
    assert.not_matches('> GET', r.stderr, 1, true)   -- no request was even traced
    assert.is_true(sys.monotonic() - t0 < 5)
    cli.assert_clean(r, { 'plain/k3y' })
  end)
end)

describe('a recipe whose code does not finish', function()
  local RUNAWAY = cli.root .. '/tests/cli/fixtures/runaway.lua'

  it('is stopped at --timeout when it loops forever (69, timeout)', function()
    local t0 = sys.monotonic()
    local r = cli.run({ '--timeout', '1', RUNAWAY }, { RUNAWAY = 'loop' }, { timeout = 20 })
    local took = sys.monotonic() - t0
    assert.equal(69, r.code, r.stderr)
    assert.equal('timeout', r.json.error.kind)
    assert.equal('runaway: still running after --timeout 1s', r.json.error.message)
    assert.is_true(took < 4, string.format('stopped after %.2fs', took))
    assert.matches('^tokrun: [^\n]+\n$', r.stderr)
  end)

  it('fails with a clear error when it allocates without bound (65, recipe)', function()
    local r = cli.run({ RUNAWAY }, { RUNAWAY = 'hog' }, { timeout = 20 })
    assert.equal(65, r.code, r.stderr)
    assert.equal('recipe', r.json.error.kind)
    assert.matches('^runaway: the recipe used more than its memory bound', r.json.error.message)
    assert.matches('^tokrun: [^\n]+\n$', r.stderr)
  end)
end)

describe('-o FILE', function()
  it('keeps the old file, and leaves no temporary file, when the provider rejects the credentials', function()
    local srv = velafi({ now_ms = NOW })
    local dir = cli.tmpdir()
    local out = dir .. '/velafi.json'
    assert(sys.write_atomic(out, 'old credential\n', tonumber('640', 8)))
    local r = run_velafi(srv, { '--now', tostring(NOW), '-o', out }, { VELAFI_API_SECRET = 'wrong/secret' })
    assert.equal(77, r.code, r.stderr)
    assert.equal('', r.stdout)
    assert.matches('rejected', r.stderr, 1, true)
    assert.equal(1, #srv:requests(), 'a real answer from the provider')
    assert.equal('old credential\n', sys.read_file(out, 1024))
    assert.equal(tonumber('640', 8), sys.lstat(out).mode & tonumber('777', 8))
    assert.same({ 'velafi.json' }, sys.readdir(dir))
    -- and a good run replaces it
    r = run_velafi(srv, { '--now', tostring(NOW), '-o', out })
    assert.equal(0, r.code, r.stderr)
    assert.matches(VELAFI_TOKEN, sys.read_file(out, 4096), 1, true)
    assert.same({ 'velafi.json' }, sys.readdir(dir))
    srv:stop()
  end)
end)

teardown(cli.cleanup)
