-- The command line as cron and people use it: help, version, usage errors,
-- check, list, and `tokrun lua`.  Runs the built binary.
local cli = require 'cli_helper'
local run = cli.run

local FIX = cli.root .. '/tests/cli/fixtures/'

local function write(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

local function one_line(s)
  return select(2, s:gsub('\n', '')) == 1
end

describe('tokrun --help', function()
  local r = run({ '--help' })

  it('exits 0 and names every subcommand', function()
    assert.equal(0, r.code)
    for _, sub in ipairs({ 'exec', 'release', 'check', 'list', 'lua', '--version' }) do
      assert.truthy(r.stdout:find(sub, 1, true), sub)
    end
  end)

  it('documents every option of docs/cli.md', function()
    for _, opt in ipairs({ '--param', '-p,', '--env-file', '--output', '-o,', '--format', '-f,',
      '--cache', '--min-ttl', '--max-age', '--timeout', '--exec-timeout', '--retries',
      '--cacert', '--client-cert', '--client-key', '--insecure', '--dry-run', '--verbose',
      '-v,', '--now' }) do
      assert.truthy(r.stdout:find(opt, 1, true), opt)
    end
  end)

  it('lists the exit codes', function()
    for _, code in ipairs({ '64', '65', '69', '70', '74', '75', '76', '77', '78' }) do
      assert.truthy(r.stdout:find(code, 1, true), code)
    end
  end)

  it('shows a recipe\'s parameters when given one', function()
    local h = run({ '--help', FIX .. 'echo_token.lua' })
    assert.equal(0, h.code)
    assert.truthy(h.stdout:find('ECHO_TOKEN', 1, true))
    assert.truthy(h.stdout:find('secret', 1, true))
  end)
end)

describe('tokrun --version', function()
  it('prints the version and exits 0', function()
    local r = run({ '--version' })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:match('^tokrun %d+%.%d+%.%d+\n$'))
  end)
end)

describe('usage errors', function()
  it('exits 64 with help on stderr when no recipe is given', function()
    local r = run({})
    assert.equal(64, r.code)
    assert.equal('', r.stdout)
    assert.truthy(r.stderr:find('Usage', 1, true))
  end)

  it('exits 64 for an unknown option, naming it', function()
    local r = run({ '--frobnicate', FIX .. 'echo_token.lua' })
    assert.equal(64, r.code)
    assert.truthy(r.stderr:find('--frobnicate', 1, true))
    assert.is_true(one_line(r.stderr))
  end)

  it('exits 64 for an unknown format', function()
    local r = run({ '-f', 'yaml', FIX .. 'echo_token.lua' }, { ECHO_TOKEN = 't' })
    assert.equal(64, r.code)
    assert.truthy(r.stderr:find('yaml', 1, true))
  end)

  it('exits 64 for a non-numeric --timeout', function()
    local r = run({ '--timeout', 'soon', FIX .. 'echo_token.lua' })
    assert.equal(64, r.code)
  end)

  it('refuses a secret parameter on the command line and says where it goes', function()
    local r = run({ '-p', 'token=hunter2', FIX .. 'echo_token.lua' })
    assert.equal(64, r.code)
    assert.equal('usage', r.json.error.kind)
    assert.truthy(r.stderr:find('ECHO_TOKEN', 1, true))
    cli.assert_clean(r, { 'hunter2' })
  end)

  it('refuses a parameter the recipe does not declare', function()
    local r = run({ '-p', 'colour=blue', FIX .. 'echo_token.lua' }, { ECHO_TOKEN = 't' })
    assert.equal(64, r.code)
    assert.truthy(r.stderr:find('colour', 1, true))
  end)

  it('exits 64 for a recipe name that is not on the search path', function()
    local r = run({ 'no_such_recipe' })
    assert.equal(64, r.code)
    assert.truthy(r.stderr:find('no_such_recipe', 1, true))
  end)
end)

describe('parameters', function()
  it('reports every missing required parameter at once with exit 78', function()
    local r = run({ FIX .. 'lease_log.lua' })
    assert.equal(78, r.code)
    assert.equal('config', r.json.error.kind)
    assert.truthy(r.json.error.message:find('LEASE_LOG', 1, true))
    assert.truthy(r.json.error.message:find('LEASE_PASSWORD', 1, true))
  end)

  it('reads a secret from VAR_FILE with the trailing newline removed', function()
    local dir = cli.tmpdir()
    write(dir .. '/tok', 'from-file\n')
    local r = run({ '-f', 'token', FIX .. 'echo_token.lua' }, { ECHO_TOKEN_FILE = dir .. '/tok' })
    assert.equal(0, r.code)
    assert.equal('from-file\n', r.stdout)
  end)

  it('refuses VAR and VAR_FILE set together (78)', function()
    local r = run({ FIX .. 'echo_token.lua' }, { ECHO_TOKEN = 'a', ECHO_TOKEN_FILE = '/dev/null' })
    assert.equal(78, r.code)
  end)

  it('reads --env-file lines, quotes removed, without exporting them', function()
    local dir = cli.tmpdir()
    write(dir .. '/env', '# comment\nexport ECHO_TOKEN="quoted value"\n')
    local r = run({ '--env-file', dir .. '/env', '-f', 'token', FIX .. 'echo_token.lua' })
    assert.equal(0, r.code)
    assert.equal('quoted value\n', r.stdout)
  end)

  it('rejects a malformed --env-file line naming file and line (78)', function()
    local dir = cli.tmpdir()
    write(dir .. '/env', 'ECHO_TOKEN=x\nthis is not an assignment\n')
    local r = run({ '--env-file', dir .. '/env', FIX .. 'echo_token.lua' })
    assert.equal(78, r.code)
    assert.truthy(r.stderr:find(':2:', 1, true))
  end)

  it('rejects an integer parameter that is not a number (78)', function()
    local r = run({ '-p', 'ttl=soon', FIX .. 'echo_token.lua' }, { ECHO_TOKEN = 't' })
    assert.equal(78, r.code)
    assert.truthy(r.stderr:find('ttl', 1, true))
  end)
end)

describe('tokrun check', function()
  it('accepts every shipped recipe', function()
    local args = { 'check' }
    for _, f in ipairs(require('tokrun.sys').readdir(cli.root .. '/recipes')) do
      if f:match('%.lua$') then args[#args + 1] = cli.root .. '/recipes/' .. f end
    end
    local r = run(args)
    assert.equal(0, r.code, r.stderr)
  end)

  local bad = {
    { 'a syntax error, with file and line', 'return {\n name = "x",\n steps = {{ name = }}\n}\n', ':3:' },
    { 'an unknown field, naming it', 'return { name = "x", steps = {{ name = "a", url = "{base}/x" }}, emit = { token = "t" }, colour = 1 }', "'colour'" },
    { 'a misspelt step field, naming the step', 'return { name = "x", params = {{ name = "base" }}, steps = {{ name = "mint", url = "{base}", methd = "GET" }}, emit = { token = "t" } }', "step 'mint'" },
    { 'an undeclared placeholder', 'return { name = "x", steps = {{ name = "a", url = "{nowhere}/x" }}, emit = { token = "t" } }', '{nowhere}' },
    { 'a missing emit', 'return { name = "x", params = {{ name = "base" }}, steps = {{ name = "a", url = "{base}" }} }', 'emit' },
    { 'a recipe that turns TLS verification off', 'return { name = "x", params = {{ name = "base" }}, steps = {{ name = "a", url = "{base}", insecure = true }}, emit = { token = "t" } }', '--insecure' },
    { 'a command step without the process capability', 'return { name = "x", steps = {{ name = "a", run = { "true" } }}, emit = { token = "t" } }', 'process' },
    { 'a recipe that loops forever', 'while true do end', 'running' },
    { 'a recipe that calls os.execute', 'os.execute("true") return {}', 'execute' },
    { 'a recipe that is not a table', 'return 42', 'table' },
  }
  for _, case in ipairs(bad) do
    it('rejects ' .. case[1] .. ' with exit 65', function()
      local dir = cli.tmpdir()
      local path = dir .. '/bad.lua'
      write(path, case[2])
      local r = run({ 'check', path })
      assert.equal(65, r.code, r.stderr)
      assert.truthy(r.stderr:find(path, 1, true), r.stderr)
      assert.truthy(r.stderr:find(case[3], 1, true), r.stderr)
      assert.is_nil(r.stderr:find('stack traceback', 1, true))
    end)
  end

  it('rejects a binary chunk', function()
    local dir = cli.tmpdir()
    write(dir .. '/bin.lua', string.dump(function() return {} end))
    local r = run({ 'check', dir .. '/bin.lua' })
    assert.equal(65, r.code)
  end)
end)

describe('tokrun list and recipe lookup', function()
  it('lists the shipped recipes with their descriptions', function()
    local r = run({ 'list' })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find('velafi', 1, true))
  end)

  it('finds a bare name on TOKRUN_PATH, ignoring relative entries', function()
    local r = run({ '-f', 'token', 'echo_token' },
      { TOKRUN_PATH = 'tests/cli/fixtures::' .. FIX, ECHO_TOKEN = 'by-name' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('by-name\n', r.stdout)
    local l = run({ 'list' }, { TOKRUN_PATH = FIX })
    assert.truthy(l.stdout:find('echo_token', 1, true))
  end)
end)

describe('tokrun lua', function()
  it('runs a script with arg set and the native modules available', function()
    local dir = cli.tmpdir()
    write(dir .. '/s.lua', [[
      local hmac = require 'tokrun.hmac'
      local json = require 'tokrun.json'
      io.write(arg[0]:match('s%.lua$') and 'script ' or '?', arg[1], ' ', select('#', ...), ' ',
        hmac.hexdigest('sha256', 'key', 'The quick brown fox jumps over the lazy dog'), ' ',
        json.encode(json.array({})))
    ]])
    local r = run({ 'lua', dir .. '/s.lua', 'one', 'two' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('script one 2 f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8 []', r.stdout)
  end)

  it('exits 1 with a traceback when the script fails, like lua5.4', function()
    local dir = cli.tmpdir()
    write(dir .. '/e.lua', 'error("boom")')
    local r = run({ 'lua', dir .. '/e.lua' })
    assert.equal(1, r.code)
    assert.truthy(r.stderr:find('boom', 1, true))
    assert.truthy(r.stderr:find('traceback', 1, true))
  end)

  it('passes os.exit codes through', function()
    local dir = cli.tmpdir()
    write(dir .. '/x.lua', 'os.exit(7)')
    assert.equal(7, run({ 'lua', dir .. '/x.lua' }).code)
  end)

  it('gets nil, {kind="connect"} from a closed port', function()
    local dir = cli.tmpdir()
    write(dir .. '/c.lua', [[
      local s = require('socket').bind('127.0.0.1', 0)
      local _, port = s:getsockname()
      s:close()
      local r, err = require('tokrun.http').request{ url = 'http://127.0.0.1:' .. port .. '/' }
      io.write(tostring(r), ' ', err.kind)
    ]])
    local r = run({ 'lua', dir .. '/c.lua' })
    assert.equal('nil connect', r.stdout, r.stderr)
  end)
end)

teardown(cli.cleanup)
