-- dataos.lua drives `dataos-ctl user apikey create` and reads the table it
-- prints.  The CLI is faked by shell scripts this spec writes.
local cli = require 'cli_helper'

local RECIPE = cli.recipe('dataos')
local NOW = 1733000000000   -- 2024-11-30T20:53:20Z
local TOKEN = 'dG9rZW5fYWJjZGVmZ2hpams.NTY3ODkw'

-- The seed's output of `dataos-ctl user apikey create`, byte for byte.
local SEED = [[
INFO[0000] 🔑 user apikey create...
INFO[0001] 🔑 user apikey create...complete

                  TOKEN                 │  TYPE  │      EXPIRATION      │         NAME
────────────────────────────────────────┼────────┼──────────────────────┼───────────────────────
  dG9rZW5fYWJjZGVmZ2hpams.NTY3ODkw      │ apikey │ 2024-12-01T10:00:00Z │ token_weekly_secure
]]

local function write(path, text, mode)
  local f = assert(io.open(path, 'wb'))
  f:write(text)
  f:close()
  if mode then os.execute("chmod " .. mode .. " '" .. path .. "'") end
end

local function read(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local s = f:read('a')
  f:close()
  return s
end

-- A fake dataos-ctl: records its argv (one per line), prints `out` on
-- stdout and `err` on stderr, exits with `status`.
local function fake(dir, out, err, status)
  local path = dir .. '/dataos-ctl'
  write(dir .. '/stdout.txt', out or '')
  write(dir .. '/stderr.txt', err or '')
  write(path, table.concat({
    '#!/bin/sh',
    "printf '%s\\n' \"$@\" > '" .. dir .. "/argv'",
    "cat '" .. dir .. "/stdout.txt'",
    "cat '" .. dir .. "/stderr.txt' >&2",
    'exit ' .. (status or 0), '' }, '\n'), '755')
  return path
end

local function argv_of(dir)
  local s = read(dir .. '/argv')
  return s and s:gsub('\n$', ''):gsub('\n', ' ')
end

local function run(args, ctl)
  local all = { '--now', tostring(NOW) }
  for _, a in ipairs(args) do all[#all + 1] = a end
  all[#all + 1] = RECIPE
  return cli.run(all, { DATAOS_CTL = ctl })
end

local assert_one_line = cli.assert_one_line

describe('dataos recipe', function()
  local dir
  before_each(function() dir = cli.tmpdir() end)
  after_each(function() cli.cleanup() end)

  it('prints the API key the CLI created, with its expiry and name', function()
    local r = run({}, fake(dir, SEED))
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"recipe":"dataos","ok":true,"token":"' .. TOKEN .. '","token_type":"apikey",'
      .. '"expires_at":"2024-12-01T10:00:00Z","obtained_at":"2024-11-30T20:53:20Z",'
      .. '"cached":false,"data":{"name":"token_weekly_secure"}}\n', r.stdout)
    assert.equal('', r.stderr)
  end)

  it('runs the CLI with -d 24h only when no name or user is given', function()
    local r = run({}, fake(dir, SEED))
    assert.equal(0, r.code, r.stderr)
    assert.equal('user apikey create -d 24h', argv_of(dir))
  end)

  it('passes -n, -d and -i when name, duration and user_id are set', function()
    local r = run({ '-p', 'name=ci_key', '-p', 'duration=168h', '-p', 'user_id=svc-ci' }, fake(dir, SEED))
    assert.equal(0, r.code, r.stderr)
    assert.equal('user apikey create -n ci_key -d 168h -i svc-ci', argv_of(dir))
  end)

  it('prints only the key with --format token', function()
    local r = run({ '-f', 'token' }, fake(dir, SEED))
    assert.equal(0, r.code, r.stderr)
    assert.equal(TOKEN .. '\n', r.stdout)
  end)

  it('reads a table drawn with plain | separators too', function()
    local plain = 'TOKEN|TYPE|EXPIRATION|NAME\n----|----|----|----\n'
      .. TOKEN .. '|apikey|2024-12-01T10:00:00Z|token_weekly_secure\n'
    local r = run({}, fake(dir, plain))
    assert.equal(0, r.code, r.stderr)
    assert.equal(TOKEN, r.json.token)
    assert.equal('2024-12-01T10:00:00Z', r.json.expires_at)
  end)

  it('reports a failing CLI with its own error line, as unavailable (69)', function()
    local r = run({}, fake(dir, '', 'ERRO[0000] 🔑 user apikey create...error: not logged in\n', 1))
    assert.equal(69, r.code)
    assert.equal('provider', r.json.error.kind)
    assert.matches("^dataos: step create: '.-/dataos%-ctl' failed with status 1: .*not logged in", r.json.error.message)
    assert_one_line(r)
  end)

  it('reports output that is not a table as a protocol error (76)', function()
    local r = run({}, fake(dir, 'Segmentation fault? no: just some text\n'))
    assert.equal(76, r.code)
    assert.equal('protocol', r.json.error.kind)
    assert.matches('^dataos: step create: ', r.json.error.message)
    assert_one_line(r)
  end)

  it('reports a table without a TOKEN column as a protocol error (76)', function()
    local r = run({}, fake(dir, 'ID | NAME\n1 | x\n'))
    assert.equal(76, r.code)
    assert.equal('dataos: step create: the response has no usable rows.1.EXPIRATION (expected rfc3339), '
      .. 'rows.1.TOKEN (missing)', r.json.error.message)
    assert_one_line(r)
  end)

  it('reports an EXPIRATION that is not RFC 3339 as a protocol error (76)', function()
    local r = run({}, fake(dir, SEED:gsub('2024%-12%-01T10:00:00Z', 'next tuesday        ')))
    assert.equal(76, r.code)
    assert.matches('rows.1.EXPIRATION %(expected rfc3339%)', r.json.error.message)
  end)

  it('names the path of a CLI that does not exist (78)', function()
    local r = run({}, dir .. '/no-such-dataos-ctl')
    assert.equal(78, r.code)
    assert.equal('config', r.json.error.kind)
    assert.matches("dataos: step create: cannot run '" .. dir .. "/no-such-dataos-ctl'", r.json.error.message, 1, true)
    assert_one_line(r)
  end)

  it('stops a CLI that hangs at --timeout (69)', function()
    local path = dir .. '/dataos-ctl'
    write(path, '#!/bin/sh\nexec sleep 20\n', '755')
    local r = run({ '--timeout', '1' }, path)
    assert.equal(69, r.code)
    assert.equal('timeout', r.json.error.kind)
  end)

  it('refuses a duration that is not a duration before running anything (78)', function()
    local r = run({ '-p', 'duration=--help' }, fake(dir, SEED))
    assert.equal(78, r.code)
    assert.matches("parameter 'duration' must match", r.json.error.message)
    assert.is_nil(argv_of(dir))
  end)

  it('refuses a parameter the recipe does not declare (64)', function()
    local r = run({ '-p', 'api_secret=x' }, fake(dir, SEED))
    assert.equal(64, r.code)
    assert.matches("unknown parameter 'api_secret'", r.stderr)
  end)

  it('shows the command it would run under --dry-run and runs nothing', function()
    local r = run({ '--dry-run', '-p', 'name=k' }, fake(dir, SEED))
    assert.equal(0, r.code, r.stderr)
    assert.equal('# dataos: step create\n$ ' .. dir .. '/dataos-ctl user apikey create -n k -d 24h\n', r.stdout)
    assert.is_nil(argv_of(dir))
  end)

  it('never shows the key on stderr, also under -v', function()
    local ctl = fake(dir, SEED)
    for _, args in ipairs({ {}, { '-v' } }) do
      local r = run(args, ctl)
      assert.equal(0, r.code, r.stderr)
      cli.assert_clean(r, { TOKEN }, true)
    end
  end)

  it('is refused by tokrun check when a run step lacks the process capability (65)', function()
    local src = assert(read(RECIPE))
    local stripped, n = src:gsub("\n  capabilities = { 'process' },", '')
    assert.equal(1, n)
    write(dir .. '/dataos.lua', stripped)
    local r = cli.run({ 'check', dir .. '/dataos.lua' })
    assert.equal(65, r.code)
    assert.matches("step 'create': runs a command, which needs capabilities = { 'process' }", r.stderr, 1, true)
  end)

  it('passes tokrun check', function()
    local r = cli.run({ 'check', RECIPE })
    assert.equal(0, r.code, r.stderr)
  end)
end)
