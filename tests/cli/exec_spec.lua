-- tokrun exec: the command runs with the credential, without the secrets
-- that minted it, and the lease is checked in exactly once whatever
-- happens to the command.
local cli = require 'cli_helper'
local sys = require 'tokrun.sys'
local process = require 'tokrun.process'
local run = cli.run

local RECIPE = cli.root .. '/tests/cli/fixtures/lease_log.lua'

local function setup(extra)
  local dir = cli.tmpdir()
  local env = { LEASE_LOG = dir .. '/log', LEASE_PASSWORD = 'pw-canary/+=' }
  for k, v in pairs(extra or {}) do env[k] = v end
  return dir, env
end

local function log_of(dir)
  return sys.read_file(dir .. '/log', 65536) or ''
end

local function count(s, word)
  return select(2, s:gsub(word, ''))
end

describe('tokrun exec', function()
  it('gives the child the credential but not the variables that supplied secrets', function()
    local dir, env = setup()
    local r = run({ 'exec', RECIPE, '--', 'sh', '-c',
      'echo "id=$LEASE_ID pw=$LEASE_PASSWORD_OUT src=${LEASE_PASSWORD:-unset} log=${LEASE_LOG:+set}"' }, env)
    assert.equal(0, r.code, r.stderr)
    assert.equal('id=L-42 pw=pw-canary/+= src=unset log=set\n', r.stdout)
    assert.equal('checkout\ncheckin L-42\n', log_of(dir))
  end)

  it('strips VAR_FILE twins of secrets too, and never passes --env-file values', function()
    local dir = cli.tmpdir()
    local f = assert(io.open(dir .. '/pw', 'w')); f:write('from-file\n'); f:close()
    f = assert(io.open(dir .. '/envfile', 'w')); f:write('LEASE_LOG=' .. dir .. '/log\n'); f:close()
    local r = run({ 'exec', '--env-file', dir .. '/envfile', RECIPE, '--', 'sh', '-c',
      'echo "${LEASE_PASSWORD_FILE:-nofile} ${LEASE_LOG:-nolog} $LEASE_PASSWORD_OUT"' },
      { LEASE_PASSWORD_FILE = dir .. '/pw' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('nofile nolog from-file\n', r.stdout)
  end)

  it('exits with the child\'s status and still checks in', function()
    local dir, env = setup()
    local r = run({ 'exec', RECIPE, '--', 'sh', '-c', 'exit 3' }, env)
    assert.equal(3, r.code)
    assert.equal(1, count(log_of(dir), 'checkin'))
  end)

  it('reports a child killed by a signal as 128+N and checks in', function()
    local dir, env = setup()
    local r = run({ 'exec', RECIPE, '--', 'sh', '-c', 'kill -KILL $$' }, env)
    assert.equal(137, r.code)
    assert.equal(1, count(log_of(dir), 'checkin'))
  end)

  it('exits 127 when the command is not found, and checks in', function()
    local dir, env = setup()
    local r = run({ 'exec', RECIPE, '--', 'no-such-command-xyz' }, env)
    assert.equal(127, r.code)
    assert.truthy(r.stderr:find('no-such-command-xyz', 1, true))
    assert.equal(1, count(log_of(dir), 'checkin'))
  end)

  it('stops a child that runs past --exec-timeout and checks in', function()
    local dir, env = setup()
    local t0 = sys.monotonic()
    local r = run({ 'exec', '--exec-timeout', '0.5', RECIPE, '--', 'sleep', '30' }, env)
    assert.is_true(sys.monotonic() - t0 < 10)
    assert.equal(128 + 15, r.code)
    assert.truthy(r.stderr:find('exec-timeout', 1, true))
    assert.equal(1, count(log_of(dir), 'checkin'))
  end)

  it('forwards SIGTERM to the child and checks in', function()
    local dir, env = setup()
    local script = string.format(
      "'%s' exec '%s' -- sh -c 'echo started; sleep 30' > '%s'/out & pid=$!; " ..
      "i=0; while [ $i -lt 50 ] && ! grep -q started '%s'/out 2>/dev/null; do sleep 0.1; i=$((i+1)); done; " ..
      "kill -TERM $pid; wait $pid; echo $?", cli.bin, RECIPE, dir, dir)
    env.PATH = os.getenv('PATH')
    local r = assert(process.run { argv = { 'sh', '-c', script }, env = env, timeout = 30 })
    assert.equal('143\n', r.stdout)
    assert.equal('checkout\ncheckin L-42\n', log_of(dir))
  end)

  it('turns a 0 into 75 when the check-in fails, naming the lease', function()
    local dir, env = setup({ LEASE_FAIL_RELEASE = '1' })
    local r = run({ 'exec', '--retries', '1', RECIPE, '--', 'true' }, env)
    assert.equal(75, r.code)
    assert.truthy(r.stderr:find('L-42', 1, true))
    assert.equal(2, count(log_of(dir), 'checkin'), 'the failed check-in was retried')
  end)

  it('keeps the child\'s non-zero status when the check-in also fails', function()
    local _, env = setup({ LEASE_FAIL_RELEASE = '1' })
    local r = run({ 'exec', '--retries', '0', RECIPE, '--', 'sh', '-c', 'exit 4' }, env)
    assert.equal(4, r.code)
  end)

  it('prints nothing of the password on its own stdout or stderr', function()
    local _, env = setup()
    local r = run({ 'exec', '-v', RECIPE, '--', 'true' }, env)
    assert.equal(0, r.code)
    cli.assert_clean(r, { env.LEASE_PASSWORD })
  end)

  it('needs a command after --', function()
    local _, env = setup()
    assert.equal(64, run({ 'exec', RECIPE }, env).code)
  end)
end)

describe('a plain run of a lease recipe', function()
  it('prints the lease id and does not check in', function()
    local dir, env = setup()
    local r = run({ RECIPE }, env)
    assert.equal(0, r.code, r.stderr)
    assert.equal('L-42', r.json.data.lease.id)
    assert.equal('checkout\n', log_of(dir))
  end)

  it('is released later by tokrun release with only the parameters release needs', function()
    local dir = cli.tmpdir()
    local r = run({ 'release', RECIPE, 'L-42' }, { LEASE_LOG = dir .. '/log' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('checkin L-42\n', log_of(dir))
  end)
end)

teardown(cli.cleanup)

describe('an interrupted run of a lease recipe', function()
  -- starts `tokrun PREFIX RECIPE SUFFIX` in the background, sends SIG once
  -- the checkout has begun, and returns tokrun's exit status
  local function interrupted(prefix, suffix, sig)
    local dir = cli.tmpdir()
    local script = string.format(
      "'%s' %s '%s' %s > '%s'/out 2> '%s'/err & pid=$!; " ..
      "i=0; while [ $i -lt 50 ] && ! grep -q checkout '%s'/log 2>/dev/null; do sleep 0.05; i=$((i+1)); done; " ..
      "kill -%s $pid; wait $pid; echo $?", cli.bin, prefix, RECIPE, suffix, dir, dir, dir, sig)
    local r = assert(process.run { argv = { 'sh', '-c', script }, timeout = 30, env = {
      PATH = os.getenv('PATH'), LEASE_LOG = dir .. '/log', LEASE_PASSWORD = 'pw-canary', LEASE_DELAY = '0.5' } })
    return r, dir, sys.read_file(dir .. '/err', 4096) or ''
  end

  it('checks the lease back in when SIGTERM arrives during the checkout', function()
    local r, dir, err = interrupted('', '', 'TERM')
    assert.equal('143\n', r.stdout)
    assert.equal('checkout\ncheckin L-42\n', log_of(dir))
    assert.truthy(err:find('interrupted by SIGTERM', 1, true), err)
    assert.truthy(err:find('L-42 was released', 1, true), err)
  end)

  it('checks the lease back in and never starts the command when exec gets SIGINT during checkout', function()
    local r, dir, err = interrupted('exec', "-- sh -c 'echo started >> \"$LEASE_LOG\"'", 'INT')
    assert.equal('130\n', r.stdout)
    assert.equal('checkout\ncheckin L-42\n', log_of(dir))
    assert.truthy(err:find('interrupted by SIGINT', 1, true), err)
  end)
end)

describe('tokrun exec --cache', function()
  local ECHO = cli.root .. '/tests/cli/fixtures/echo_token.lua'

  it('hands the command a cached credential without minting again', function()
    local dir = cli.tmpdir()
    assert(sys.mkdir(dir .. '/cache', tonumber('700', 8)))
    local env = { ECHO_TOKEN = 'cached-tok', ECHO_COUNT_FILE = dir .. '/count' }
    for _ = 1, 2 do
      local r = run({ 'exec', '--cache=' .. dir .. '/cache', ECHO, '--', 'sh', '-c', 'printf %s "$ECHO_OUT"' }, env)
      assert.equal(0, r.code, r.stderr)
      assert.equal('cached-tok', r.stdout)
    end
    assert.equal('minted\n', (sys.read_file(dir .. '/count', 100)))
  end)

  it('is a usage error (64) for a recipe that yields a lease, before any checkout', function()
    local dir, env = setup()
    assert(sys.mkdir(dir .. '/cache', tonumber('700', 8)))
    local r = run({ 'exec', '--cache=' .. dir .. '/cache', RECIPE, '--', 'true' }, env)
    assert.equal(64, r.code)
    assert.equal('', log_of(dir))
  end)
end)
