-- pam_checkout.lua against a NetIQ-style PAM mock (tests/mocks/pam_checkout.lua):
-- a password checked out for a host, a lease to check it in again.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local json = require 'tokrun.json'

local RECIPE = cli.recipe('pam_checkout')
local NOW = '1740568725231'               -- 2025-02-26T11:18:45Z
local API_TOKEN = 'pam/tok+en= with space'
local PASSWD = 'Pa55/w+rd= root secret'
local CANARIES = { API_TOKEN, PASSWD }
local CONFIG = { api_token = API_TOKEN, account = 'root', passwd = PASSWD }

local function start(extra)
  local config = {}
  for k, v in pairs(CONFIG) do config[k] = v end
  for k, v in pairs(extra or {}) do config[k] = v end
  return mock.start { routes = 'tests/mocks/pam_checkout.lua', config = config }
end

local function env(srv, more)
  local e = { PAM_API_TOKEN = API_TOKEN, PAM_BASE_URL = srv.url }
  for k, v in pairs(more or {}) do e[k] = v end
  return e
end

local function run(srv, args, more_env)
  local all = { '--now', NOW, '--retries', '1', '-p', 'run_host=db01.example.com', '-p', 'reason=change 4711' }
  for _, a in ipairs(args or {}) do all[#all + 1] = a end
  all[#all + 1] = RECIPE
  return cli.run(all, env(srv, more_env))
end

local seen = cli.seen

local open_leases = cli.open_leases

local assert_one_line = cli.assert_one_line

describe('pam_checkout recipe', function()
  local srv
  after_each(function()
    if srv then srv:stop() end
    srv = nil
  end)

  describe('checkout', function()
    before_each(function() srv = start() end)

    it('prints the password, its account and the lease, expiring after the default 30 minutes', function()
      local r = run(srv)
      assert.equal(0, r.code, r.stderr)
      assert.equal('{"recipe":"pam_checkout","ok":true,"token":"' .. PASSWD .. '","token_type":"password",'
        .. '"expires_at":"2025-02-26T11:48:45Z","obtained_at":"2025-02-26T11:18:45Z","cached":false,'
        .. '"data":{"account":"root","lease":{"id":"CO-0001"}}}\n', r.stdout)
      assert.equal('', r.stderr)
    end)

    it('sends one POST with the token header and the duration in minutes as a string', function()
      local r = run(srv, { '-p', 'duration=120', '-p', 'email=ops@example.com' })
      assert.equal(0, r.code, r.stderr)
      assert.equal('2025-02-26T13:18:45Z', r.json.expires_at)
      local reqs = srv:requests()
      assert.equal(1, #reqs)
      assert.equal('POST', reqs[1].method)
      assert.equal('/rest/cmdctrl/Request', reqs[1].path)
      assert.equal('Token token=' .. API_TOKEN, reqs[1].headers['authorization'])
      assert.same({ Request = { type = 'PasswordCheckout', runHost = 'db01.example.com', reason = 'change 4711',
        duration = '120', emailid = 'ops@example.com' } }, reqs[1].json)
    end)

    it('leaves emailid out when no email is given', function()
      assert.equal(0, run(srv).code)
      assert.is_nil(srv:last().json.Request.emailid)
    end)

    it('does not check the password in after a plain run: the lease is printed instead', function()
      local r = run(srv)
      assert.equal(0, r.code, r.stderr)
      assert.same({ 'POST /rest/cmdctrl/Request' }, seen(srv))
      assert.same({ 'CO-0001' }, open_leases(srv))
    end)

    it('writes the result to a 0600 file with -o and prints nothing', function()
      local dir = cli.tmpdir()
      local r = run(srv, { '-o', dir .. '/pam.json' })
      assert.equal(0, r.code, r.stderr)
      assert.equal('', r.stdout)
      local f = assert(io.open(dir .. '/pam.json'))
      local saved = json.decode(f:read('a'))
      f:close()
      local mode = require('tokrun.process').run { argv = { 'stat', '-c', '%a', dir .. '/pam.json' } }.stdout
      cli.cleanup()
      assert.equal(PASSWD, saved.token)
      assert.equal('600\n', mode)
    end)

    it('refuses --cache, since a checkout is a lease (64), before checking anything out', function()
      local r = run(srv, { '--cache' })
      assert.equal(64, r.code)
      assert.matches('never cached', r.stderr, 1, true)
      assert.same({}, seen(srv))
    end)

    it('gives PAM_ACCOUNT, PAM_PASSWORD and PAM_LEASE_ID with --format env', function()
      local r = run(srv, { '-f', 'env' })
      assert.equal(0, r.code, r.stderr)
      assert.equal("export PAM_ACCOUNT='root'\nexport PAM_LEASE_ID='CO-0001'\n"
        .. "export PAM_PASSWORD='" .. PASSWD .. "'\n", r.stdout)
    end)

    it('checks a printed lease in with tokrun release, given only the token, URL and run_host', function()
      local r = run(srv)
      assert.equal(0, r.code, r.stderr)
      local id = r.json.data.lease.id
      local rel = cli.run({ 'release', '-p', 'run_host=db01.example.com', RECIPE, id }, env(srv))
      assert.equal(0, rel.code, rel.stderr)
      assert.equal('', rel.stdout)
      assert.same({ 'POST /rest/cmdctrl/Request', 'PUT /rest/cmdctrl/Request/' .. id }, seen(srv))
      local put = srv:last()
      assert.equal('Token token=' .. API_TOKEN, put.headers['authorization'])
      assert.same({ Request = { type = 'PasswordCheckin', runHost = 'db01.example.com' } }, put.json)
      assert.same({}, open_leases(srv))
      cli.assert_clean(rel, CANARIES)
    end)

    it('fails a release of a lease the server does not know with 75, naming the lease', function()
      local rel = cli.run({ 'release', '--retries', '0', '-p', 'run_host=db01.example.com', RECIPE, 'CO-9999' },
        env(srv))
      assert.equal(75, rel.code)
      assert.matches('pam_checkout: releasing lease CO%-9999 failed: pam_checkout: step checkin: '
        .. '.*Request CO%-9999 not found', rel.stderr)
      assert_one_line(rel)
    end)

    it('checks the lease in itself when the checkout answer has no password, and says so', function()
      srv:stop()
      srv = start { omit_passwd = true }
      local r = run(srv)
      assert.equal(76, r.code)
      assert.equal('protocol', r.json.error.kind)
      assert.equal('pam_checkout: step checkout: the response has no usable CheckOut.passwd (missing); '
        .. 'lease CO-0001 was released', r.json.error.message)
      assert.same({ 'POST /rest/cmdctrl/Request', 'PUT /rest/cmdctrl/Request/CO-0001' }, seen(srv))
      assert.same({}, open_leases(srv))
      assert_one_line(r)
    end)

    it('treats a body status of 401 under HTTP 200 as rejected credentials (77)', function()
      local r = run(srv, {}, { PAM_API_TOKEN = 'wrong/token+=' })
      assert.equal(77, r.code)
      assert.equal('auth', r.json.error.kind)
      assert.equal(200, r.json.error.http_status)
      assert.equal('pam_checkout: step checkout: the provider rejected the credentials (HTTP 200, status 401): '
        .. 'Authentication failed: invalid token', r.json.error.message)
      assert_one_line(r)
      cli.assert_clean(r, { 'wrong/token+=' })
    end)

    it('treats an HTTP 401 with the error body as rejected credentials (77)', function()
      srv:script('POST /rest/cmdctrl/Request', { { status = 401,
        json = { vrm = '3.7.0.1', status = 401, message = 'Session expired' } } })
      local r = run(srv)
      assert.equal(77, r.code)
      assert.equal(401, r.json.error.http_status)
      assert.matches('Session expired$', r.json.error.message)
    end)

    it('reports a host the vault has no account for as a provider error (78)', function()
      srv:stop()
      srv = start { unknown_host = 'db01.example.com' }
      local r = run(srv)
      assert.equal(78, r.code)
      assert.equal('provider', r.json.error.kind)
      assert.matches('^pam_checkout: step checkout: .*status 404.*No account for host db01%.example%.com$',
        r.json.error.message)
    end)

    it('sends a checkout that got a 500 only once, and exits 69', function()
      srv:script('POST /rest/cmdctrl/Request', {
        { status = 500, json = { vrm = '3.7.0.1', status = 500, message = 'internal' } },
        { status = 500 }, { status = 500 } })
      local r = run(srv, { '--retries', '2' })
      assert.equal(69, r.code)
      assert.equal('provider', r.json.error.kind)
      assert.equal(1, #seen(srv))
    end)

    it('sends a checkout whose connection dropped only once', function()
      srv:script('POST /rest/cmdctrl/Request', { { drop = true }, { drop = true }, { drop = true } })
      local r = run(srv, { '--retries', '2' })
      assert.equal(69, r.code)
      assert.equal(1, #seen(srv))
      assert_one_line(r)
    end)

    it('reports malformed JSON as a protocol error (76)', function()
      srv:script('POST /rest/cmdctrl/Request', { { status = 200, headers = { ['Content-Type'] = 'application/json' },
        body = '{"CheckOut":{"Request":' } })
      local r = run(srv)
      assert.equal(76, r.code)
      assert.equal('protocol', r.json.error.kind)
      assert.matches('^pam_checkout: step checkout: ', r.json.error.message)
      assert_one_line(r)
    end)

    it('reports an HTML error page as what it is', function()
      srv:script('POST /rest/cmdctrl/Request', { { status = 502, headers = { ['Content-Type'] = 'text/html' },
        body = '<html><body><h1>502 Bad Gateway</h1></body></html>' } })
      local r = run(srv)
      assert.equal(69, r.code)
      assert.matches('HTTP 502.*%[body is not JSON: text/html, %d+ bytes%]', r.json.error.message)
      assert.equal(1, #seen(srv))   -- a checkout is never re-sent
      assert_one_line(r)
    end)

    it('reports JSON of the wrong shape as a protocol error (76)', function()
      srv:script('POST /rest/cmdctrl/Request', { { status = 200, json = { result = { ok = true } } } })
      local r = run(srv)
      assert.equal(76, r.code)
      assert.equal('pam_checkout: step checkout: the response has no usable CheckOut.account (missing), '
        .. 'CheckOut.Request.id (expected string), CheckOut.passwd (missing)', r.json.error.message)
      assert_one_line(r)
    end)
  end)

  describe('parameters', function()
    it('names every missing parameter at once (78)', function()
      local r = cli.run({ RECIPE }, {})
      assert.equal(78, r.code)
      local msg = r.json.error.message
      for _, name in ipairs({ 'base_url', 'api_token', 'run_host', 'reason' }) do
        assert.matches(name, msg, 1, true)
      end
      assert.matches('PAM_API_TOKEN or PAM_API_TOKEN_FILE', msg, 1, true)
      assert_one_line(r)
    end)

    it('refuses the API token on the command line (64) and says where to put it', function()
      local r = cli.run({ '-p', 'api_token=' .. API_TOKEN, '-p', 'run_host=h', '-p', 'reason=r', RECIPE },
        { PAM_BASE_URL = 'http://127.0.0.1:9' })
      assert.equal(64, r.code)
      assert.matches('PAM_API_TOKEN', r.stderr, 1, true)
      cli.assert_clean(r, CANARIES)
    end)

    it('reads the API token from PAM_API_TOKEN_FILE', function()
      srv = start()
      local dir = cli.tmpdir()
      local f = assert(io.open(dir .. '/token', 'w'))
      f:write(API_TOKEN, '\n')
      f:close()
      local r = run(srv, {}, { PAM_API_TOKEN = '', PAM_API_TOKEN_FILE = dir .. '/token' })
      cli.cleanup()
      assert.equal(0, r.code, r.stderr)
    end)
  end)

  describe('secrets', function()
    before_each(function() srv = start() end)

    it('never shows the API token or the password on stderr, with or without -v', function()
      for _, args in ipairs({ {}, { '-v' } }) do
        local r = run(srv, args)
        assert.equal(0, r.code, r.stderr)
        cli.assert_clean(r, CANARIES, true)
      end
    end)

    it('never traces the password under -v, nor the check-in it makes after a failure', function()
      srv:stop()
      srv = start { omit_passwd = true }
      local r = run(srv, { '-v' })
      assert.equal(76, r.code)
      assert.matches('> PUT ', r.stderr, 1, true)
      cli.assert_clean(r, CANARIES)
    end)

    it('shows the request under --dry-run with the token redacted, and sends nothing', function()
      local r = run(srv, { '--dry-run' })
      assert.equal(0, r.code, r.stderr)
      assert.matches('POST ' .. srv.url .. '/rest/cmdctrl/Request', r.stdout, 1, true)
      assert.matches('Authorization: ***', r.stdout, 1, true)
      cli.assert_clean(r, CANARIES)
      assert.same({}, seen(srv))
    end)

    it('passes tokrun check', function()
      assert.equal(0, cli.run({ 'check', RECIPE }).code)
    end)
  end)
end)
