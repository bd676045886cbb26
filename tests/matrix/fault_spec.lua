-- The fault matrix: every HTTP recipe against every way a provider or the
-- network can fail, and dataos against every way its CLI can.  Each cell
-- checks what tokrun promises cron and scripts: the exit code and
-- error.kind, one JSON error object on stdout (nothing with -o, and the old
-- file untouched, no temporary left), one line on stderr, no traceback, no
-- secret anywhere, and for PAM no password left checked out.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local json = require 'tokrun.json'
local sys = require 'tokrun.sys'

local NOW = '1740568725231'   -- 2025-02-26T11:18:45Z
local MiB = 1024 * 1024
local OLD_OUTPUT = '{"recipe":"previous","ok":true,"token":"still-here"}\n'

-- Recipe setups: the recipe's own mock and config (as its spec starts
-- them), the route a fault goes in front of, and how the step retries:
-- `get` (idempotent), `safe` (a POST declared resend = 'safe'), `unsafe` (a
-- POST never re-sent once it reached the server, but 429/503 are), `once`
-- (resend = 'never': never re-sent once sent, not even after a 429 or 503,
-- as Dataverse's rotation needs).
local SW_PROJECT = 'a1b2c3d4-0000-4000-8000-project00001'

local SETUPS = {
  {
    name = 'velafi', policy = 'get', route = 'GET /v2/token/generate',
    routes = 'tests/mocks/velafi.lua',
    config = { api_key = 'vK9/a8Bc+DeF=gh1 jK2lMn3oP4qR5s', api_secret = 'sEc/r3T+kEy=with space/9Zq0xY+w==',
      token = '09ef3523-7a1b-4c2d-9e8f-0a1b2c3d4e5f', now_ms = tonumber(NOW), ttl_ms = 3600000 },
    env = function(c, base)
      return { VELAFI_API_KEY = c.api_key, VELAFI_API_SECRET = c.api_secret, VELAFI_BASE_URL = base }
    end,
    secrets = { 'api_key', 'api_secret', 'token' },
  },
  {
    name = 'velt', policy = 'safe', route = 'POST /v1/auth/token/get',
    routes = 'tests/mocks/velt.lua',
    config = { api_key = 'vElT/ApiKey+9x=Q2 w7Rt', auth_token = 'aUtH/t0ken+Yz8=Kp3 mN4/==',
      now_ms = tonumber(NOW), ttl_s = 3600 },
    args = { '-p', 'user_id=u-42', '-p', 'organization_id=org-7' },
    env = function(c, base)
      return { VELT_API_KEY = c.api_key, VELT_AUTH_TOKEN = c.auth_token, VELT_BASE_URL = base }
    end,
    secrets = { 'api_key', 'auth_token' },
  },
  {
    name = 'pam_checkout', policy = 'unsafe', route = 'POST /rest/cmdctrl/Request', leases = true,
    routes = 'tests/mocks/pam_checkout.lua',
    config = { api_token = 'pam/tok+en= with space', account = 'root', passwd = 'Pa55/w+rd= root secret' },
    args = { '-p', 'run_host=db01.example.com', '-p', 'reason=change 4711' },
    env = function(c, base) return { PAM_API_TOKEN = c.api_token, PAM_BASE_URL = base } end,
    secrets = { 'api_token', 'passwd' },
  },
  {
    name = 'signalwire', policy = 'unsafe', route = 'POST /api/laml/2010-04-01/Accounts/' .. SW_PROJECT .. '/tokens',
    routes = 'tests/mocks/signalwire.lua',
    config = { project_id = SW_PROJECT, api_token = 'PTsw/api+token= space', new_token = 'PTnew/tok+en= minted',
      existing = { '6f1c2b0e-0000-4000-8000-0000000000aa' } },
    args = { '-p', 'name=ci deploy', '-p', 'permissions=messaging,calling' },
    env = function(c, base)
      return { SIGNALWIRE_PROJECT_ID = c.project_id, SIGNALWIRE_API_TOKEN = c.api_token, SIGNALWIRE_BASE_URL = base }
    end,
    secrets = { 'api_token', 'new_token' },
  },
  {
    name = 'dataverse', policy = 'once', route = 'POST /api/users/token/recreate',
    routes = 'tests/mocks/dataverse.lua',
    config = { user = 'dataverseAdmin', api_token = 'dv0ld/T0ken+aB3=cD4 eF5-9a8b',
      new_token = 'b7e1c2d4-5f6a-4b8c-9d0e-1f2a3b4c5d6e', now_ms = tonumber(NOW) },
    env = function(c, base) return { DATAVERSE_API_TOKEN = c.api_token, DATAVERSE_BASE_URL = base } end,
    secrets = { 'api_token', 'new_token' },
  },
  {
    name = 'oauth2_client_credentials', policy = 'safe', route = 'POST /token',
    routes = 'tests/mocks/oauth2_client_credentials.lua',
    config = { client_id = 'svc:reporting@acme', client_secret = 'cl/ent+S3cret=with space&more',
      token = 'at.Hq7/Zx9+Lm2=Pq', expires_in = 3600, scopes = { 'read', 'write' } },
    env = function(c, base)
      return { OAUTH2_TOKEN_URL = base .. '/token', OAUTH2_CLIENT_ID = c.client_id,
        OAUTH2_CLIENT_SECRET = c.client_secret }
    end,
    secrets = { 'client_secret', 'token' },
  },
}

local JSON_TYPE = { ['Content-Type'] = 'application/json' }
local HTML_502 = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>'
  .. '</center><hr><center>nginx</center></body></html>'

-- The faults.  `respond` is the scripted answer (queued once per attempt,
-- so a retry never reaches the real handler); `retried` names the
-- policies that send it again; `code`/`kind`/`http_status` are what the
-- documented exit codes give; `target` replaces the mock for connection faults.
local FAULTS = {
  { name = 'connection refused', code = 69, kind = 'network', retries = 1,
    target = function() return 'http://127.0.0.1:' .. mock.closed_port() end },
  -- .invalid never resolves (RFC 6761); https so the loopback-only rule
  -- for secrets over http:// is not what fails.
  { name = 'a host name that does not resolve', code = 69, kind = 'network', timeout = 5,
    target = function() return 'https://nonexistent.invalid' end },
  { name = 'a connect that times out', code = 69, kind = 'timeout', timeout = 1.5,
    target = function()
      local hole = mock.blackhole()
      return 'http://127.0.0.1:' .. hole.port, hole.close
    end },
  { name = 'a body trickling past --timeout', code = 69, kind = 'timeout', timeout = 1,
    respond = { status = 200, headers = JSON_TYPE, body = '{"pad":"' .. ('x'):rep(200) .. '"}', slow_body = 6 } },
  { name = 'a connection dropped mid-body', code = 69, kind = 'network', retries = 1,
    retried = { get = true, safe = true },
    respond = { status = 200, headers = JSON_TYPE, drop_after_headers = true, body_size = 4096 } },
  { name = 'a connection closed without an answer', code = 69, kind = 'network', retries = 1,
    retried = { get = true, safe = true }, respond = { drop = true } },
  { name = '429 without Retry-After', code = 75, kind = 'rate_limited', http_status = 429, retries = 1,
    retried = { get = true, safe = true, unsafe = true },
    respond = { status = 429, json = { message = 'Too Many Requests' } } },
  -- Waiting 30 s would overrun --timeout 3: give up at once.
  { name = '429 with a Retry-After beyond --timeout', code = 75, kind = 'rate_limited', http_status = 429,
    retries = 1, timeout = 3, max_seconds = 2,
    respond = { status = 429, headers = { ['Retry-After'] = '30' }, json = { message = 'Too Many Requests' } } },
  { name = '500', code = 69, kind = 'provider', http_status = 500, retries = 1, retried = { safe = true },
    respond = { status = 500, json = { message = 'Internal Server Error' } } },
  { name = '502 with an HTML page', code = 69, kind = 'provider', http_status = 502, retries = 1,
    retried = { get = true, safe = true }, message = 'body is not JSON: text/html',
    respond = { status = 502, headers = { ['Content-Type'] = 'text/html' }, body = HTML_502 } },
  { name = '503 with Retry-After: 1', code = 69, kind = 'provider', http_status = 503, retries = 1,
    retried = { get = true, safe = true, unsafe = true }, min_seconds_retried = 1,
    respond = { status = 503, headers = { ['Retry-After'] = '1' }, body = 'Service Unavailable' } },
  { name = 'malformed JSON', code = 76, kind = 'protocol', http_status = 200,
    respond = { status = 200, headers = JSON_TYPE, body = '{"broken' } },
  { name = 'JSON of the wrong shape', code = 76, kind = 'protocol', http_status = 200,
    respond = { status = 200, json = { unexpected = true } } },
  -- Refused while reading (over 1 MiB), so no status is reported.
  { name = 'a 5 MiB body', code = 76, kind = 'protocol',
    respond = { status = 200, headers = JSON_TYPE, body_size = 5 * MiB } },
  { name = 'a certificate it does not trust', code = 69, kind = 'tls', tls = true },
  -- A provider that echoes the key it rejects: the error must not.
  { name = '401 echoing the key', code = 77, kind = 'auth', http_status = 401,
    respond = function(setup)
      local c = setup.config
      local text = 'invalid credentials: ' .. c[setup.secrets[1]]
      return { status = 401, json = { message = text, msg = text } }
    end },
  { name = '400 rejecting a parameter', code = 78, kind = 'provider', http_status = 400,
    respond = { status = 400, json = { message = 'Bad Request: invalid parameter' } } },
}

local function canaries(setup)
  local out = {}
  for _, k in ipairs(setup.secrets) do out[#out + 1] = setup.config[k] end
  return out
end

local function slurp(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local s = f:read('a')
  f:close()
  return s
end

local function write(path, text, mode)
  local f = assert(io.open(path, 'wb'))
  f:write(text)
  f:close()
  if mode then os.execute("chmod " .. mode .. " '" .. path .. "'") end
end

-- The requests the provider saw (mock-only routes left out).
local function seen(srv)
  local n = 0
  for _, r in ipairs(srv:requests()) do
    if not r.path:match('^/__mock/') then n = n + 1 end
  end
  return n
end

local function open_leases(srv)
  local http = require 'tokrun.http'
  local resp = assert(http.request { url = srv.url .. '/__mock/leases', timeout = 5 })
  return json.decode(resp.body).leases
end

-- Runs the recipe against base; extra args (e.g. -o FILE) before the recipe.
local function run(setup, fault, base, extra)
  local argv = { '--now', NOW, '--retries', tostring(fault.retries or 0),
    '--timeout', tostring(fault.timeout or 10) }
  for _, a in ipairs(setup.args or {}) do argv[#argv + 1] = a end
  for _, a in ipairs(extra or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = cli.recipe(setup.name)
  local t0 = sys.monotonic()
  local r = cli.run(argv, setup.env(setup.config, base))
  r.seconds = sys.monotonic() - t0
  return r
end

-- What every failure owes its reader, with or without -o.
local function assert_common(r, setup, fault)
  assert.equal(fault.code, r.code, r.stderr)
  assert.matches('^tokrun: [^\n]+\n$', r.stderr)
  for _, text in ipairs({ r.stdout, r.stderr }) do
    assert.not_matches('stack traceback', text, 1, true)
    assert.not_matches('internal error', text, 1, true)
  end
  assert.matches(setup.name .. ': ', r.stderr, 1, true)
  cli.assert_clean(r, canaries(setup))
end

-- A failure with --format json and no -o: exactly one error object.
local function assert_envelope(r, setup, fault)
  assert_common(r, setup, fault)
  assert.matches('^{[^\n]*}\n$', r.stdout)
  local obj = json.decode(r.stdout)
  assert.is_table(obj, r.stdout)
  assert.matches('^{"recipe":[^\n]*,"ok":false,"error":{"kind":', r.stdout)
  local keys = {}
  for k in pairs(obj) do keys[#keys + 1] = k end
  table.sort(keys)
  assert.same({ 'error', 'ok', 'recipe' }, keys)
  assert.same({ setup.name, false }, { obj.recipe, obj.ok })
  local e = obj.error
  for _, k in ipairs({ 'kind', 'message', 'http_status', 'provider_code' }) do
    assert.is_not_nil(e[k], 'error.' .. k .. ' missing: ' .. r.stdout)
  end
  assert.equal(fault.kind, e.kind, r.stdout)
  assert.equal(fault.http_status or json.null, e.http_status, r.stdout)
  assert.is_true(e.provider_code == json.null or type(e.provider_code) == 'string', r.stdout)
  assert.matches('^' .. setup.name .. ': ', e.message)
  if fault.message then assert.matches(fault.message, e.message, 1, true) end
end

-- A failure with -o over an existing file: nothing on stdout, the old
-- file intact, no temporary left beside it.
local function assert_output_kept(r, setup, fault, dir, file)
  assert_common(r, setup, fault)
  assert.equal('', r.stdout)
  assert.equal(OLD_OUTPUT, slurp(file))
  assert.same({ 'out.json' }, sys.readdir(dir))
end

local function copies(setup, fault)
  local resp = fault.respond
  if type(resp) == 'function' then resp = resp(setup) end
  local list = {}
  for i = 1, (fault.retries or 0) + 1 do list[i] = resp end
  return list
end

describe('fault matrix', function()
  after_each(function() cli.cleanup() end)

  for _, setup in ipairs(SETUPS) do
    describe(setup.name, function()
      local srv
      lazy_setup(function()
        srv = mock.start { routes = setup.routes, config = setup.config }
      end)
      lazy_teardown(function() srv:stop() end)

      local function assert_no_lease()
        if setup.leases then assert.same({}, open_leases(srv)) end
      end

      it('mints against the mock as set up here (the matrix baseline)', function()
        srv:reset()
        local r = run(setup, {}, srv.url)
        assert.equal(0, r.code, r.stderr)
        assert.equal(true, json.decode(r.stdout).ok)
        if setup.leases then   -- give the baseline's lease back
          local rel = cli.run({ 'release', '-p', 'run_host=db01.example.com', cli.recipe(setup.name),
            json.decode(r.stdout).data.lease.id }, setup.env(setup.config, srv.url))
          assert.equal(0, rel.code, rel.stderr)
          assert_no_lease()
        end
      end)

      for _, fault in ipairs(FAULTS) do
        local title = string.format('%s: exits %d (%s), prints one error, keeps -o', fault.name, fault.code, fault.kind)
        it(title, function()
          -- One attempt as printed on stdout, one with -o; each gets the
          -- fault afresh.
          local tls_srv
          if fault.tls then
            tls_srv = mock.start { routes = setup.routes, config = setup.config, tls = true }
            finally(function() tls_srv:stop() end)
          end
          local function target()
            srv:reset()
            if fault.respond then srv:script(setup.route, copies(setup, fault)) end
            if fault.target then return fault.target() end
            return tls_srv and tls_srv.url or srv.url
          end

          local base, close = target()
          local r = run(setup, fault, base)
          if close then close() end
          assert_envelope(r, setup, fault)
          if fault.respond then
            local retried = (fault.retried or {})[setup.policy]
            assert.equal(retried and (fault.retries or 0) + 1 or 1, seen(srv),
              'requests the provider saw (' .. setup.policy .. ')')
            if retried and fault.min_seconds_retried then
              assert.is_true(r.seconds >= fault.min_seconds_retried, 'Retry-After honoured')
            end
          end
          if fault.max_seconds then
            assert.is_true(r.seconds < fault.max_seconds, string.format('took %.2fs', r.seconds))
          end
          assert_no_lease()

          local dir = cli.tmpdir()
          local file = dir .. '/out.json'
          write(file, OLD_OUTPUT, '600')
          base, close = target()
          local ro = run(setup, fault, base, { '-o', file })
          if close then close() end
          assert_output_kept(ro, setup, fault, dir, file)
          assert_no_lease()
        end)
      end
    end)
  end

  -- A checkout that succeeded and a run that failed after it: the run
  -- checks the password in itself before it reports.
  describe('pam_checkout after a successful checkout', function()
    local setup = SETUPS[3]
    it('checks the password in when the answer has no passwd: exits 76 (protocol), keeps -o', function()
      local config = {}
      for k, v in pairs(setup.config) do config[k] = v end
      config.omit_passwd = true
      local srv = mock.start { routes = setup.routes, config = config }
      finally(function() srv:stop() end)
      local fault = { code = 76, kind = 'protocol', http_status = 200, message = 'was released' }
      local r = run(setup, fault, srv.url)
      assert_envelope(r, setup, fault)
      assert.same({}, open_leases(srv))
      local dir = cli.tmpdir()
      local file = dir .. '/out.json'
      write(file, OLD_OUTPUT, '600')
      local ro = run(setup, fault, srv.url, { '-o', file })
      assert_output_kept(ro, setup, fault, dir, file)
      assert.same({}, open_leases(srv))
    end)
  end)
end)

-- dataos drives a CLI: the faults are the CLI's.
describe('fault matrix: dataos', function()
  local TOKEN = 'dG9rZW5fYWJjZGVmZ2hpams.NTY3ODkw'
  local setup = { name = 'dataos', config = { token = TOKEN }, secrets = { 'token' },
    env = function(_, ctl) return { DATAOS_CTL = ctl } end }

  local CLI_FAULTS = {
    { name = 'the CLI exits 1', code = 69, kind = 'provider', message = 'failed with status 1',
      script = "echo 'ERRO[0000] 🔑 user apikey create...error: unauthorized' >&2\nexit 1" },
    { name = 'the CLI prints garbage', code = 76, kind = 'protocol',
      script = "printf 'Segmentation fault\\n\\001\\002\\377 not a table\\n'" },
    { name = 'the CLI prints a table without a TOKEN column', code = 76, kind = 'protocol',
      script = "printf '  NAME | TYPE\\n  ----|----\\n  k1  | apikey\\n'" },
    { name = 'the CLI hangs past --timeout', code = 69, kind = 'timeout', timeout = 1, max_seconds = 4,
      script = 'sleep 30' },
    { name = 'the CLI prints 3 MiB', code = 76, kind = 'protocol',
      script = "head -c 3145728 /dev/zero | tr '\\000' x\necho '" .. TOKEN .. "'" },
    { name = 'the CLI is not there', code = 78, kind = 'config', missing = true },
  }

  after_each(function() cli.cleanup() end)

  for _, fault in ipairs(CLI_FAULTS) do
    it(string.format('%s: exits %d (%s), prints one error, keeps -o', fault.name, fault.code, fault.kind), function()
      local dir = cli.tmpdir()
      local ctl = dir .. '/dataos-ctl'
      if not fault.missing then write(ctl, '#!/bin/sh\n' .. fault.script .. '\n', '755') end
      local r = run(setup, fault, ctl)
      assert_envelope(r, setup, fault)
      if fault.max_seconds then
        assert.is_true(r.seconds < fault.max_seconds, string.format('took %.2fs', r.seconds))
      end
      local odir = cli.tmpdir()
      local file = odir .. '/out.json'
      write(file, OLD_OUTPUT, '600')
      local ro = run(setup, fault, ctl, { '-o', file })
      assert_output_kept(ro, setup, fault, odir, file)
    end)
  end
end)
