-- The lease journal: `kill -9` at any moment of a lease's life leaves a
-- record that `tokrun release --pending` acts on, so the PAM mock ends with
-- no password checked out; a run killed while its checkout was in flight
-- leaves an entry reported as "outcome unknown" with what an operator needs
-- to go and look.  The journal holds no secret and is private.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local json = require 'tokrun.json'
local process = require 'tokrun.process'
local sys = require 'tokrun.sys'

local API_TOKEN = 'pam/tok+en= journal'
local PASSWD = 'Pa55/w+rd= journal secret'
local HOST = 'db01.example.com'
local RECIPE = cli.recipe('pam_checkout')
local WAITING = cli.root .. '/tests/matrix/fixtures/pam_then_wait.lua'

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function journal_dir(state) return state .. '/tokrun/leases' end

local function entries(state)
  local out = {}
  for _, name in ipairs(sys.readdir(journal_dir(state)) or {}) do
    if name:match('%.json$') then out[#out + 1] = journal_dir(state) .. '/' .. name end
  end
  return out
end

local function read(path) return (sys.read_file(path, 1024 * 1024)) end

-- Starts `tokrun ARGS` in the background, waits (at most 10 s) until the
-- shell condition `ready` holds, kills tokrun with SIGKILL, and, when the
-- child wrote its pid to DIR/child, kills that child too.
local function kill9(env, args, ready, dir)
  local argv = {}
  for i, a in ipairs(args) do argv[i] = q(a) end
  local script = string.format(
    "%s %s > %s/out 2> %s/err & pid=$!; " ..
    "i=0; while [ $i -lt 200 ] && ! ( %s ); do sleep 0.05; i=$((i+1)); done; " ..
    "kill -KILL $pid; wait $pid; echo $?; " ..
    "[ -s %s/child ] && kill -KILL $(cat %s/child) 2>/dev/null; true",
    q(cli.bin), table.concat(argv, ' '), q(dir), q(dir), ready, q(dir), q(dir))
  local e = { PATH = os.getenv('PATH') }
  for k, v in pairs(env) do e[k] = v end
  local r = assert(process.run { argv = { 'sh', '-c', script }, env = e, timeout = 30 })
  return r.stdout
end

describe('the lease journal', function()
  local srv, state, dir, env

  before_each(function()
    srv = mock.start { routes = 'tests/mocks/pam_checkout.lua',
      config = { api_token = API_TOKEN, account = 'root', passwd = PASSWD } }
    dir = cli.tmpdir()
    state = dir .. '/state'
    env = { PAM_API_TOKEN = API_TOKEN, PAM_BASE_URL = srv.url, XDG_STATE_HOME = state, HOME = dir }
  end)

  after_each(function()
    srv:stop()
    cli.cleanup()
  end)

  local function pending()
    return cli.run({ 'release', '--pending' }, env)
  end

  local function assert_private(path, mode)
    local st = assert(sys.lstat(path))
    assert.equal(mode, st.mode & 511, path)
  end

  it('is empty again after a run that delivered or released its lease', function()
    local r = cli.run({ '-p', 'run_host=' .. HOST, '-p', 'reason=r', RECIPE }, env)
    assert.equal(0, r.code, r.stderr)
    assert.same({}, entries(state))
    assert_private(journal_dir(state), 448)
    assert_private(state .. '/tokrun', 448)
    r = cli.run({ 'release', '-p', 'run_host=' .. HOST, RECIPE, r.json.data.lease.id }, env)
    assert.equal(0, r.code, r.stderr)
    r = cli.run({ 'exec', '-p', 'run_host=' .. HOST, '-p', 'reason=r', RECIPE, '--', 'true' }, env)
    assert.equal(0, r.code, r.stderr)
    assert.same({}, entries(state))
    assert.same({}, cli.open_leases(srv))
  end)

  it('lets release --pending check in a lease whose exec was killed during the child', function()
    local status = kill9(env, { 'exec', '-p', 'run_host=' .. HOST, '-p', 'reason=kill during child', RECIPE, '--',
      'sh', '-c', 'echo $$ > ' .. q(dir .. '/child') .. '; exec sleep 20' }, '[ -s ' .. q(dir .. '/child') .. ' ]', dir)
    assert.equal('137\n', status)
    assert.same({ 'CO-0001' }, cli.open_leases(srv))
    local list = entries(state)
    assert.equal(1, #list)
    assert_private(list[1], 384)
    local text = read(list[1])
    local e = json.decode(text)
    assert.equal('CO-0001', e.lease)
    assert.equal(HOST, e.params.run_host)
    assert.equal(sys.realpath(RECIPE), e.path)
    for _, secret in ipairs({ API_TOKEN, PASSWD }) do
      assert.is_nil(text:find(secret, 1, true), 'a secret in the journal: ' .. text)
    end

    local l = cli.run({ 'list', '--leases' }, env)
    assert.equal(0, l.code, l.stderr)
    assert.matches('pam_checkout %(.*run_host=' .. HOST:gsub('%.', '%%.') .. '.*%): lease CO%-0001, run gone', l.stdout)

    local r = pending()
    assert.equal(0, r.code, r.stderr)
    assert.matches('lease CO%-0001 released\n$', r.stdout)
    assert.same({}, cli.open_leases(srv))
    assert.same({}, entries(state))
    cli.assert_clean(r, { API_TOKEN, PASSWD })
  end)

  it('lets release --pending check in a lease whose run was killed after the checkout answered', function()
    srv:script('GET /rest/wait', { { status = 200, json = {}, delay = 8 } })
    local status = kill9(env, { '-p', 'run_host=' .. HOST, WAITING },
      'grep -q CO-0001 ' .. q(journal_dir(state)) .. '/*.json 2>/dev/null', dir)
    assert.equal('137\n', status)
    assert.same({ 'CO-0001' }, cli.open_leases(srv))
    local r = cli.run({ 'release', '--pending', WAITING }, env)
    assert.equal(0, r.code, r.stderr)
    assert.matches('pam_then_wait .*: lease CO%-0001 released\n$', r.stdout)
    assert.same({}, cli.open_leases(srv))
    assert.same({}, entries(state))
  end)

  it('lets release --pending check in a lease whose exec was killed during the checkin', function()
    -- the first checkin is answered (with a failure) only after 6 s
    srv:script('PUT /rest/cmdctrl/Request/CO-0001', { { status = 500, json = { status = 500 }, delay = 6 } })
    local status = kill9(env, { 'exec', '-p', 'run_host=' .. HOST, '-p', 'reason=kill during checkin', RECIPE, '--',
      'sh', '-c', 'echo done > ' .. q(dir .. '/ran') }, '[ -s ' .. q(dir .. '/ran') .. ' ] && sleep 0.5', dir)
    assert.equal('137\n', status)
    assert.same({ 'CO-0001' }, cli.open_leases(srv))
    local r = pending()
    assert.equal(0, r.code, r.stderr)
    assert.matches('lease CO%-0001 released\n$', r.stdout)
    assert.same({}, cli.open_leases(srv))
    assert.same({}, entries(state))
  end)

  it('reports a run killed while its checkout was in flight as outcome unknown, with recipe, host and time',
    function()
      srv:script('POST /rest/cmdctrl/Request', { { pass = true, delay = 3 } })
      local status = kill9(env, { '-p', 'run_host=' .. HOST, '-p', 'reason=kill in flight', RECIPE },
        'ls ' .. q(journal_dir(state)) .. '/*.json >/dev/null 2>&1', dir)
      assert.equal('137\n', status)
      local list = entries(state)
      assert.equal(1, #list)
      assert.is_true(json.decode(read(list[1])).lease == json.null)

      local pattern = '^pam_checkout %(base_url=[^,]+, run_host=' .. HOST:gsub('%.', '%%.')
        .. ', %d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ, pid %d+%): outcome unknown'
      local r = pending()
      assert.equal(0, r.code, r.stderr)
      assert.matches(pattern, r.stdout)
      assert.truthy(r.stdout:find(list[1], 1, true), 'names the entry to remove: ' .. r.stdout)
      local l = cli.run({ 'list', '--leases' }, env)
      assert.matches('run_host=' .. HOST:gsub('%.', '%%.') .. '.*: outcome unknown, run gone', l.stdout)
      assert.equal(1, #entries(state), 'kept for the operator')
    end)

  it('leaves the journal of a run that is still going alone', function()
    srv:script('GET /rest/wait', { { status = 200, json = {}, delay = 8 } })
    local script = string.format(
      "%s -p run_host=%s %s > /dev/null 2>&1 & pid=$!; " ..
      "i=0; while [ $i -lt 200 ] && ! grep -q CO-0001 %s/*.json 2>/dev/null; do sleep 0.05; i=$((i+1)); done; " ..
      "XDG_STATE_HOME=%s %s release --pending; echo \"status $?\"; kill -KILL $pid; wait $pid",
      q(cli.bin), HOST, q(WAITING), q(journal_dir(state)), q(state), q(cli.bin))
    local e = { PATH = os.getenv('PATH') }
    for k, v in pairs(env) do e[k] = v end
    local r = assert(process.run { argv = { 'sh', '-c', script }, env = e, timeout = 30 })
    assert.equal('status 0\n', r.stdout)
    assert.same({ 'CO-0001' }, cli.open_leases(srv))
    assert.equal(1, #entries(state))
  end)
end)
