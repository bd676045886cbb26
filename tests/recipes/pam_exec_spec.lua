-- tokrun exec with pam_checkout.lua against the PAM mock (tests/mocks/pam_checkout.lua):
-- exactly one checkout and one check-in whatever happens to the command,
-- the password in the child's environment and nowhere else.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local sys = require 'tokrun.sys'
local process = require 'tokrun.process'

local RECIPE = cli.recipe('pam_checkout')
local API_TOKEN = 'pam/exec-tok+en= with space'
local PASSWD = 'Ex3c/pa55+w= root secret'
local CHECKIN = 'PUT /rest/cmdctrl/Request/*'

local function start()
  return mock.start { routes = 'tests/mocks/pam_checkout.lua',
    config = { api_token = API_TOKEN, account = 'root', passwd = PASSWD } }
end

local function env(srv, more)
  local e = { PAM_API_TOKEN = API_TOKEN, PAM_BASE_URL = srv.url }
  for k, v in pairs(more or {}) do e[k] = v end
  return e
end

local BASE_ARGS = { '--retries', '1', '-p', 'run_host=db01.example.com', '-p', 'reason=change 4711' }

-- exec(srv, {options...}, {cmd...} [, env]) -> cli.run's result
local function exec(srv, args, cmd, more_env)
  local all = { 'exec' }
  for _, a in ipairs(BASE_ARGS) do all[#all + 1] = a end
  for _, a in ipairs(args or {}) do all[#all + 1] = a end
  all[#all + 1] = RECIPE
  all[#all + 1] = '--'
  for _, a in ipairs(cmd) do all[#all + 1] = a end
  return cli.run(all, env(srv, more_env))
end

local seen = cli.seen

local open_leases = cli.open_leases

local ONE_EACH = { 'POST /rest/cmdctrl/Request', 'PUT /rest/cmdctrl/Request/CO-0001' }

describe('tokrun exec with pam_checkout', function()
  local srv
  before_each(function() srv = start() end)
  after_each(function() srv:stop() end)

  it('checks out once and checks in once when the command exits 0', function()
    local r = exec(srv, {}, { 'true' })
    assert.equal(0, r.code, r.stderr)
    assert.same(ONE_EACH, seen(srv))
    assert.same({}, open_leases(srv))
  end)

  it('checks out once and checks in once when the command fails, exiting with its status', function()
    local r = exec(srv, {}, { 'sh', '-c', 'exit 3' })
    assert.equal(3, r.code, r.stderr)
    assert.same(ONE_EACH, seen(srv))
    assert.same({}, open_leases(srv))
  end)

  it('checks in once when the command is killed by a signal (128+N)', function()
    local r = exec(srv, {}, { 'sh', '-c', 'kill -KILL $$' })
    assert.equal(137, r.code, r.stderr)
    assert.same(ONE_EACH, seen(srv))
  end)

  it('stops a command that runs past --exec-timeout and checks in once', function()
    local t0 = sys.monotonic()
    local r = exec(srv, { '--exec-timeout', '0.5' }, { 'sleep', '30' })
    assert.is_true(sys.monotonic() - t0 < 10)
    assert.equal(128 + 15, r.code, r.stderr)
    assert.matches('exec-timeout', r.stderr, 1, true)
    assert.same(ONE_EACH, seen(srv))
    assert.same({}, open_leases(srv))
  end)

  it('forwards SIGTERM to the command and checks in once', function()
    local dir = cli.tmpdir()
    local argv = { "'" .. cli.bin .. "'", 'exec' }
    for _, a in ipairs(BASE_ARGS) do argv[#argv + 1] = "'" .. a .. "'" end
    argv[#argv + 1] = "'" .. RECIPE .. "'"
    local script = string.format(
      "%s -- sh -c 'echo started; exec sleep 30' > '%s/out' 2> '%s/err' & pid=$!; " ..
      "i=0; while [ $i -lt 100 ] && ! grep -q started '%s/out' 2>/dev/null; do sleep 0.1; i=$((i+1)); done; " ..
      "kill -TERM $pid; wait $pid; echo $?", table.concat(argv, ' '), dir, dir, dir)
    local e = env(srv, { PATH = os.getenv('PATH'), HOME = os.getenv('HOME') or '/tmp' })
    local r = assert(process.run { argv = { 'sh', '-c', script }, env = e, timeout = 30 })
    assert.equal('143\n', r.stdout, sys.read_file(dir .. '/err', 65536))
    assert.same(ONE_EACH, seen(srv))
    assert.same({}, open_leases(srv))
  end)

  it('gives the command PAM_PASSWORD, PAM_ACCOUNT and PAM_LEASE_ID but not the API token', function()
    local r = exec(srv, {}, { 'sh', '-c',
      'echo "pw=$PAM_PASSWORD acct=$PAM_ACCOUNT id=$PAM_LEASE_ID '
      .. 'tok=${PAM_API_TOKEN-unset} file=${PAM_API_TOKEN_FILE-unset} base=${PAM_BASE_URL:+set}"' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('pw=' .. PASSWD .. ' acct=root id=CO-0001 tok=unset file=unset base=set\n', r.stdout)
  end)

  it('does not pass PAM_API_TOKEN_FILE on when the token came from it', function()
    local dir = cli.tmpdir()
    local f = assert(io.open(dir .. '/token', 'w'))
    f:write(API_TOKEN, '\n')
    f:close()
    local e = env(srv, { PAM_API_TOKEN_FILE = dir .. '/token' })
    e.PAM_API_TOKEN = nil
    local all = { 'exec' }
    for _, a in ipairs(BASE_ARGS) do all[#all + 1] = a end
    for _, a in ipairs({ RECIPE, '--', 'sh', '-c',
      'echo "id=$PAM_LEASE_ID tok=${PAM_API_TOKEN-unset} file=${PAM_API_TOKEN_FILE-unset}"' }) do
      all[#all + 1] = a
    end
    local r = cli.run(all, e)
    assert.equal(0, r.code, r.stderr)
    assert.equal('id=CO-0001 tok=unset file=unset\n', r.stdout)
    assert.same(ONE_EACH, seen(srv))
  end)

  it('retries a check-in that failed once and exits with the command\'s status', function()
    srv:script(CHECKIN, { { status = 500, json = { vrm = '3.7.0.1', status = 500, message = 'busy' } } })
    local r = exec(srv, {}, { 'true' })
    assert.equal(0, r.code, r.stderr)
    assert.same({ 'POST /rest/cmdctrl/Request', 'PUT /rest/cmdctrl/Request/CO-0001',
      'PUT /rest/cmdctrl/Request/CO-0001' }, seen(srv))
    assert.same({}, open_leases(srv))
  end)

  it('turns the command\'s 0 into 75 when the check-in keeps failing, naming the lease', function()
    local fails = {}
    for i = 1, 10 do fails[i] = { status = 500, json = { vrm = '3.7.0.1', status = 500, message = 'down' } } end
    srv:script(CHECKIN, fails)
    local r = exec(srv, {}, { 'true' })
    assert.equal(75, r.code, r.stderr)
    assert.matches('CO-0001', r.stderr, 1, true)
    assert.equal('', r.stdout)
    local puts = 0
    for _, s in ipairs(seen(srv)) do if s:match('^PUT ') then puts = puts + 1 end end
    assert.equal(2, puts, 'one check-in and one retry (--retries 1)')
    assert.same({ 'CO-0001' }, open_leases(srv))
    cli.assert_clean(r, { API_TOKEN, PASSWD })
  end)

  it('never prints the password or the API token on its own stdout or stderr, even with -v', function()
    local r = exec(srv, { '-v' }, { 'true' })
    assert.equal(0, r.code, r.stderr)
    assert.matches('> PUT ', r.stderr, 1, true)
    cli.assert_clean(r, { API_TOKEN, PASSWD })
    assert.same(ONE_EACH, seen(srv))
  end)
end)

teardown(cli.cleanup)
