-- A lease whose id reached neither -o nor stdout (a full disk) stays in the
-- journal, so `tokrun release --pending` can still check it in.
local cli = require 'cli_helper'
local process = require 'tokrun.process'

describe('a lease that could not be delivered', function()
  after_each(cli.cleanup)

  it('stays journaled when neither -o nor stdout took it (74)', function()
    local dir = cli.tmpdir()
    local env = { PATH = os.getenv('PATH'), HOME = dir, XDG_STATE_HOME = dir .. '/state',
      LEASE_LOG = dir .. '/lease.log', LEASE_PASSWORD = 'undelivered-pw' }
    local fixture = cli.root .. '/tests/cli/fixtures/lease_log.lua'
    local r = assert(process.run { argv = { 'sh', '-c', 'exec "$0" -o "$1" "$2" >/dev/full', cli.bin,
      dir .. '/no/such/dir/out', fixture }, env = env, timeout = 30 })
    assert.equal(74, r.status, r.stderr)
    local leases = cli.run({ 'list', '--leases' }, env)
    assert.equal(0, leases.code, leases.stderr)
    assert.truthy(leases.stdout:find('L-42', 1, true), leases.stdout)
    cli.assert_clean(leases, { 'undelivered-pw' })
  end)
end)
