-- Where the result goes: the JSON envelope, the other formats, and -o files
-- that are written whole or not at all.
local cli = require 'cli_helper'
local sys = require 'tokrun.sys'
local json = require 'tokrun.json'
local run = cli.run

local RECIPE = cli.root .. '/tests/cli/fixtures/echo_token.lua'
local NOW = '1767225600000'   -- 2026-01-01T00:00:00Z

describe('--format json', function()
  it('prints the envelope with its keys in the documented order', function()
    local r = run({ '--now', NOW, RECIPE }, { ECHO_TOKEN = 'tok-1' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('{"recipe":"echo_token","ok":true,"token":"tok-1","token_type":"test",'
      .. '"expires_at":"2026-01-01T01:00:00Z","obtained_at":"2026-01-01T00:00:00Z",'
      .. '"cached":false,"data":{}}\n', r.stdout)
    assert.equal('', r.stderr)
  end)

  it('is byte-identical for identical inputs and clock', function()
    local a = run({ '--now', NOW, RECIPE }, { ECHO_TOKEN = 'tok-1' })
    local b = run({ '--now', NOW, RECIPE }, { ECHO_TOKEN = 'tok-1' })
    assert.equal(a.stdout, b.stdout)
  end)

  it('prints one error object on stdout and one line on stderr on failure', function()
    local r = run({ RECIPE }, {})
    assert.equal(78, r.code)
    assert.same({ 'recipe', 'ok', 'error' }, { r.stdout:match('^{"(recipe)":"echo_token","(ok)":false,"(error)":') })
    assert.equal('config', r.json.error.kind)
    assert.equal(json.null, r.json.error.http_status)
    assert.equal(1, select(2, r.stderr:gsub('\n', '')))
  end)
end)

describe('other formats', function()
  it('--format token prints the bare token', function()
    local r = run({ '-f', 'token', RECIPE }, { ECHO_TOKEN = 'tok-2' })
    assert.equal('tok-2\n', r.stdout)
  end)

  it('--format env prints export lines sh can eval back exactly', function()
    local tricky = [[it's "quoted" $HOME `x` \n]]
    local r = run({ '-f', 'env', RECIPE }, { ECHO_TOKEN = tricky })
    assert.equal(0, r.code, r.stderr)
    local dir = cli.tmpdir()
    local f = assert(io.open(dir .. '/env.sh', 'w'))
    f:write(r.stdout, 'printf %s "$ECHO_OUT"\n')
    f:close()
    local p = io.popen('sh ' .. dir .. '/env.sh')
    local out = p:read('a')
    p:close()
    assert.equal(tricky, out)
  end)

  it('--format exec-credential prints a Kubernetes ExecCredential', function()
    local r = run({ '-f', 'exec-credential', '--now', NOW, RECIPE }, { ECHO_TOKEN = 'k8s' })
    assert.equal('{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
      .. '"status":{"expirationTimestamp":"2026-01-01T01:00:00Z","token":"k8s"}}\n', r.stdout)
  end)

  for _, fmt in ipairs({ 'token', 'env', 'exec-credential' }) do
    it('--format ' .. fmt .. ' prints nothing on stdout when the run fails', function()
      local r = run({ '-f', fmt, RECIPE }, {})
      assert.equal(78, r.code)
      assert.equal('', r.stdout)
      assert.truthy(r.stderr:find('ECHO_TOKEN', 1, true))
    end)
  end
end)

describe('-o FILE', function()
  it('creates the file mode 0600 and prints nothing', function()
    local dir = cli.tmpdir()
    local r = run({ '-o', dir .. '/out.json', RECIPE }, { ECHO_TOKEN = 'filed' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('', r.stdout)
    local st = assert(sys.lstat(dir .. '/out.json'))
    assert.equal(tonumber('600', 8), st.mode)
    assert.equal('filed', json.decode(assert(sys.read_file(dir .. '/out.json', 4096))).token)
  end)

  it('leaves the old file untouched when the run fails', function()
    local dir = cli.tmpdir()
    local path = dir .. '/out.json'
    assert(sys.write_atomic(path, 'old contents\n', tonumber('640', 8)))
    local r = run({ '-o', path, RECIPE }, {})
    assert.equal(78, r.code)
    assert.equal('', r.stdout)
    assert.equal('old contents\n', (sys.read_file(path, 4096)))
    assert.equal(1, #sys.readdir(dir), 'no temporary file is left behind')
  end)

  it('keeps an existing file\'s group permissions and drops others\'', function()
    local dir = cli.tmpdir()
    local path = dir .. '/out.json'
    assert(sys.write_atomic(path, 'x', tonumber('664', 8)))
    os.execute("chmod 664 '" .. path .. "'")
    local r = run({ '-o', path, RECIPE }, { ECHO_TOKEN = 'again' })
    assert.equal(0, r.code, r.stderr)
    assert.equal(tonumber('660', 8), sys.lstat(path).mode)
  end)

  it('exits 74 when the file cannot be written', function()
    local r = run({ '-o', '/nonexistent-dir/out.json', RECIPE }, { ECHO_TOKEN = 'lost?' })
    assert.equal(74, r.code)
    assert.equal('', r.stdout)
    assert.truthy(r.stderr:find('/nonexistent-dir/out.json', 1, true))
    cli.assert_clean(r, { 'lost?' })
  end)
end)

teardown(cli.cleanup)
