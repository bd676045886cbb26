-- dataverse.lua against a mock that enforces Dataverse's token rotation
-- (the provider's documented API): the old token dies the moment the new one is made, so
-- the request is never re-sent once it reached the server, and the new
-- token is never lost, not even when -o cannot be written.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'

local RECIPE = cli.recipe('dataverse')
local NOW = 1740568725231            -- 2025-02-26T11:18:45.231Z
local OLD = 'dv0ld/T0ken+aB3=cD4 eF5-9a8b'
local NEW = 'b7e1c2d4-5f6a-4b8c-9d0e-1f2a3b4c5d6e'

local function start(config)
  local c = { user = 'dataverseAdmin', api_token = OLD, new_token = NEW, now_ms = NOW }
  for k, v in pairs(config or {}) do c[k] = v end
  return mock.start { routes = 'tests/mocks/dataverse.lua', config = c }
end

local function env(srv, extra)
  local e = { DATAVERSE_API_TOKEN = OLD, DATAVERSE_BASE_URL = srv and srv.url }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function run(srv, args, extra)
  local argv = { '--now', tostring(NOW) }
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = RECIPE
  return cli.run(argv, env(srv, extra))
end

local function assert_failure(r, code, kind)
  assert.equal(code, r.code, r.stderr)
  assert.same({ 'dataverse', false, kind }, { r.json.recipe, r.json.ok, r.json.error.kind })
  assert.matches('dataverse: step recreate', r.json.error.message, 1, true)
  assert.not_matches('stack traceback', r.stderr, 1, true)
  assert.equal(1, select(2, r.stderr:gsub('\n', '')), r.stderr)
  cli.assert_clean(r, { OLD })
end

local ENVELOPE = '{"recipe":"dataverse","ok":true,"token":"' .. NEW .. '","token_type":"api_token",'
  .. '"expires_at":"2026-02-26T11:18:45Z","obtained_at":"2025-02-26T11:18:45Z",'
  .. '"cached":false,"data":{"user":"dataverseAdmin"}}\n'

describe('dataverse', function()
  local srv
  before_each(function() srv = start() end)
  after_each(function() srv:stop() end)

  it('rotates the token and reads the expiry from the message as UTC', function()
    local r = run(srv)
    assert.equal(0, r.code, r.stderr)
    assert.equal(ENVELOPE, r.stdout)
    assert.equal('', r.stderr)
  end)

  it('sends one POST with the old token in X-Dataverse-key and returnExpiration=true', function()
    assert.equal(0, run(srv).code)
    local reqs = srv:requests()
    assert.equal(1, #reqs)
    assert.same({ 'POST', '/api/users/token/recreate', 'returnExpiration=true', OLD },
      { reqs[1].method, reqs[1].path, reqs[1].query, reqs[1].headers['x-dataverse-key'] })
  end)

  it("reads the expiry in the server's zone when server_utc_offset is given", function()
    srv:stop()
    srv = start { server_offset_s = 7200 }   -- the message says 13:18:45.231
    local r = run(srv, { '-p', 'server_utc_offset=+02:00' })
    assert.equal(0, r.code, r.stderr)
    assert.equal('2026-02-26T11:18:45Z', r.json.expires_at)
  end)

  it('rejects a server_utc_offset that is not like +02:00 before sending anything (78)', function()
    local r = run(srv, { '-p', 'server_utc_offset=CET' })
    assert.equal(78, r.code)
    assert.matches('server_utc_offset', r.stderr, 1, true)
    assert.equal(0, #srv:requests())
  end)

  it('reports "Bad API key" as an auth failure, as the old token is after a rotation', function()
    assert.equal(0, run(srv).code)
    local r = run(srv)
    assert_failure(r, 77, 'auth')
    assert.equal(401, r.json.error.http_status)
    assert.matches('Bad API key', r.stderr, 1, true)
  end)

  for _, status in ipairs({ 500, 503 }) do
    it('sends the request exactly once when the server answers ' .. status, function()
      srv:script('POST /api/users/token/recreate',
        { { status = status, json = { status = 'ERROR', message = 'Internal Server Error' } } })
      local r = run(srv, { '--retries', '2' })
      assert_failure(r, 69, 'provider')
      assert.equal(1, #srv:requests())
    end)
  end

  it('does not re-send the request after the connection dropped', function()
    srv:script('POST /api/users/token/recreate', { { drop = true } })
    local r = run(srv, { '--retries', '2' })
    assert_failure(r, 69, 'network')
    assert.equal(1, #srv:requests())
  end)

  it('writes the result to -o, mode 0600, and nothing to stdout', function()
    local out = cli.tmpdir() .. '/token.json'
    local r = run(srv, { '-o', out })
    assert.equal(0, r.code, r.stderr)
    assert.equal('', r.stdout)
    local f = assert(io.open(out))
    assert.equal(ENVELOPE, f:read('a'))
    f:close()
    local p = io.popen("stat -c %a '" .. out .. "'")
    assert.equal('600', p:read('l'))
    p:close()
  end)

  it('prints the new token on stdout and exits 74 when -o cannot be written', function()
    local out = cli.tmpdir() .. '/missing-dir/token.json'
    local r = run(srv, { '-o', out })
    assert.equal(74, r.code)
    assert.equal(ENVELOPE, r.stdout)
    assert.matches('cannot be minted again', r.stderr, 1, true)
    cli.assert_clean(r, { OLD, NEW }, true)
    local t = run(start { api_token = OLD }, { '-f', 'token', '-o', out })
    assert.equal(74, t.code)
    assert.equal(NEW .. '\n', t.stdout)
  end)

  it('gives clean errors for malformed JSON, an HTML page and JSON of the wrong shape', function()
    srv:script('POST /api/users/token/recreate', {
      { status = 200, headers = { ['Content-Type'] = 'application/json' }, body = '{"status":"OK","data":{' },
      { status = 200, headers = { ['Content-Type'] = 'text/html' }, body = '<html>Login</html>' },
      { status = 200, json = { status = 'OK', data = { message = 'Token recreated.' } } },
      { status = 200, json = { status = 'OK', data = { 'New token for a is b' } } },
    })
    for _ = 1, 4 do assert_failure(run(srv), 76, 'protocol') end
  end)

  it('gives a clean error for an HTML error page', function()
    srv:script('POST /api/users/token/recreate',
      { { status = 404, headers = { ['Content-Type'] = 'text/html' }, body = '<html>Not Found</html>' } })
    local r = run(srv)
    assert_failure(r, 78, 'provider')
    assert.matches('text/html', r.stderr, 1, true)
  end)

  it('names every missing parameter at once (exit 78)', function()
    local r = cli.run({ RECIPE }, {})
    assert.equal(78, r.code)
    assert.matches('base_url (-p base_url=... or DATAVERSE_BASE_URL)', r.stderr, 1, true)
    assert.matches('api_token (set DATAVERSE_API_TOKEN or DATAVERSE_API_TOKEN_FILE)', r.stderr, 1, true)
  end)

  it('refuses the API token given with -p (exit 64)', function()
    local r = run(srv, { '-p', 'api_token=' .. OLD })
    assert.equal(64, r.code)
    assert.matches('DATAVERSE_API_TOKEN', r.stderr, 1, true)
    cli.assert_clean(r, { OLD })
    assert.equal(0, #srv:requests())
  end)

  it('never prints the old token, nor the new one outside the result, under -v or --dry-run', function()
    for _, flag in ipairs({ '-v', '--dry-run' }) do
      srv:stop()
      srv = start()
      local r = run(srv, { flag })
      assert.equal(0, r.code, r.stderr)
      cli.assert_clean(r, { OLD, NEW }, flag == '-v')
      cli.assert_clean(r, { OLD })
    end
  end)
end)
