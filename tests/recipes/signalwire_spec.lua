-- signalwire.lua against a SignalWire token API mock (tests/mocks/signalwire.lua):
-- a new API token, permissions checked before sending, and rotation that
-- never loses the new token.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local json = require 'tokrun.json'

local RECIPE = cli.recipe('signalwire')
local NOW = '1740568725231'               -- 2025-02-26T11:18:45Z
local PROJECT = 'a1b2c3d4-0000-4000-8000-project00001'
local API_TOKEN = 'PTsw/api+token= space'
local NEW_TOKEN = 'PTnew/tok+en= minted'
local OLD_ID = '6f1c2b0e-0000-4000-8000-0000000000aa'
local FIRST_ID = '6f1c2b0e-0000-4000-8000-000000000001'
local CANARIES = { API_TOKEN, NEW_TOKEN }
local TOKENS_PATH = '/api/laml/2010-04-01/Accounts/' .. PROJECT .. '/tokens'

local function start(extra)
  local config = { project_id = PROJECT, api_token = API_TOKEN, new_token = NEW_TOKEN, existing = { OLD_ID } }
  for k, v in pairs(extra or {}) do config[k] = v end
  return mock.start { routes = 'tests/mocks/signalwire.lua', config = config }
end

local function env(srv, more)
  local e = { SIGNALWIRE_PROJECT_ID = PROJECT, SIGNALWIRE_API_TOKEN = API_TOKEN,
    SIGNALWIRE_BASE_URL = srv and srv.url }
  for k, v in pairs(more or {}) do e[k] = v end
  return e
end

local function run(srv, args, more_env)
  local all = { '--now', NOW, '-p', 'name=ci deploy', '-p', 'permissions=messaging,calling' }
  for _, a in ipairs(args or {}) do all[#all + 1] = a end
  all[#all + 1] = RECIPE
  return cli.run(all, env(srv, more_env))
end

local seen = cli.seen

local function tokens(srv)
  local resp = assert(require('tokrun.http').request { url = srv.url .. '/__mock/tokens', timeout = 5 })
  return json.decode(resp.body).tokens
end

local assert_one_line = cli.assert_one_line

describe('signalwire recipe', function()
  local srv
  before_each(function() srv = start() end)
  after_each(function() srv:stop() end)

  describe('creating a token', function()
    it('prints the new token with its id, name and permissions, and no expiry', function()
      local r = run(srv)
      assert.equal(0, r.code, r.stderr)
      assert.equal('{"recipe":"signalwire","ok":true,"token":"' .. NEW_TOKEN .. '","token_type":"api_token",'
        .. '"expires_at":null,"obtained_at":"2025-02-26T11:18:45Z","cached":false,'
        .. '"data":{"id":"' .. FIRST_ID .. '","name":"ci deploy","permissions":["messaging","calling"]}}\n', r.stdout)
      assert.equal('', r.stderr)
    end)

    it('sends one POST with HTTP Basic project_id:api_token and the CreateTokenRequest body', function()
      assert.equal(0, run(srv, { '-p', 'subproject_id=sub-42' }).code)
      local reqs = srv:requests()
      assert.equal(1, #reqs)
      assert.equal('POST', reqs[1].method)
      assert.equal(TOKENS_PATH, reqs[1].path)
      assert.equal('Basic ' .. require('tokrun.codec').base64(PROJECT .. ':' .. API_TOKEN),
        reqs[1].headers['authorization'])
      assert.equal('{"name":"ci deploy","permissions":["messaging","calling"],"subproject_id":"sub-42"}', reqs[1].body)
    end)

    it('keeps a single permission a JSON array', function()
      local r = cli.run({ '-p', 'name=n', '-p', 'permissions=video', RECIPE }, env(srv))
      assert.equal(0, r.code, r.stderr)
      assert.equal('{"name":"n","permissions":["video"]}', srv:last().body)
      assert.same({ 'video' }, r.json.data.permissions)
    end)

    it('builds the URL from SIGNALWIRE_SPACE', function()
      local r = run(nil, { '--dry-run' }, { SIGNALWIRE_SPACE = 'acme-corp' })
      assert.equal(0, r.code, r.stderr)
      assert.matches('POST https://acme-corp.signalwire.com' .. TOKENS_PATH .. '\n', r.stdout, 1, true)
    end)

    it('refuses a space that would change the host (78)', function()
      local r = run(nil, {}, { SIGNALWIRE_SPACE = 'evil.com/x' })
      assert.equal(78, r.code)
      assert.equal("signalwire: parameter 'space' must match ^[A-Za-z0-9-]+$, got 'evil.com/x' (from SIGNALWIRE_SPACE)",
        r.json.error.message)
      assert_one_line(r)
    end)

    it('says how to choose the server when neither SIGNALWIRE_SPACE nor SIGNALWIRE_BASE_URL is set (78)', function()
      local r = run(nil)
      assert.equal(78, r.code)
      assert.matches('SIGNALWIRE_SPACE', r.json.error.message, 1, true)
    end)

    it('refuses an unknown permission before sending anything (78)', function()
      local r = cli.run({ '-p', 'name=n', '-p', 'permissions=messaging,telepathy', RECIPE }, env(srv))
      assert.equal(78, r.code)
      assert.equal('config', r.json.error.kind)
      assert.matches("parameter 'permissions' must be one of calling, chat, .*, video, got 'telepathy'",
        r.json.error.message)
      assert.same({}, srv:requests())
      assert_one_line(r)
    end)
  end)

  describe('errors', function()
    it('reports a wrong API token as rejected credentials (77) with SignalWire\'s code', function()
      local r = run(srv, {}, { SIGNALWIRE_API_TOKEN = 'PTwrong/+=' })
      assert.equal(77, r.code)
      assert.equal('auth', r.json.error.kind)
      assert.equal(401, r.json.error.http_status)
      assert.equal('20003', r.json.error.provider_code)
      assert.equal('signalwire: step create: the provider rejected the credentials (HTTP 401, code 20003): '
        .. 'Authentication Error - invalid username', r.json.error.message)
      assert_one_line(r)
      cli.assert_clean(r, { 'PTwrong/+=' })
    end)

    it('reports a permission the project may not grant (422) as rejected parameters (78)', function()
      srv:stop()
      srv = start { disabled = { 'video' } }
      local r = cli.run({ '-p', 'name=n', '-p', 'permissions=video', RECIPE }, env(srv))
      assert.equal(78, r.code)
      assert.equal('config', r.json.error.kind)
      assert.equal(422, r.json.error.http_status)
      assert.equal('invalid_parameter', r.json.error.provider_code)
      assert.equal('signalwire: step create: the provider rejected a parameter (HTTP 422, code invalid_parameter, '
        .. 'field permissions): permission video is not enabled for this project', r.json.error.message)
    end)

    -- SignalWire's own text names no field ("is not a valid identifier"):
    -- the message must say which attribute it is about.
    it('names the attribute a 422 is about', function()
      srv:script('POST ' .. TOKENS_PATH, { { status = 422, json = { type = 'validation_error',
        code = 'invalid_parameter', message = 'is not a valid identifier', attribute = 'subproject_id',
        url = 'https://developer.signalwire.com/rest/overview/error-codes/#invalid_parameter' } } })
      local r = run(srv)
      assert.equal(78, r.code)
      assert.equal('signalwire: step create: the provider rejected a parameter (HTTP 422, code invalid_parameter, '
        .. 'field subproject_id): is not a valid identifier', r.json.error.message)
      assert_one_line(r)
    end)

    it('reports a 400 as a provider error (78) with its code', function()
      srv:script('POST ' .. TOKENS_PATH, { { status = 400, json = { code = 21602, message = 'Bad request',
        more_info = 'https://example.invalid', status = 400 } } })
      local r = run(srv)
      assert.equal(78, r.code)
      assert.equal('provider', r.json.error.kind)
      assert.equal('21602', r.json.error.provider_code)
    end)

    it('sends a create that got a 500 only once, and exits 69', function()
      srv:script('POST ' .. TOKENS_PATH, { { status = 500 }, { status = 500 }, { status = 500 } })
      local r = run(srv, { '--retries', '2' })
      assert.equal(69, r.code)
      assert.equal(1, #seen(srv))
    end)

    it('sends a create whose connection dropped only once', function()
      srv:script('POST ' .. TOKENS_PATH, { { drop = true }, { drop = true } })
      local r = run(srv, { '--retries', '2' })
      assert.equal(69, r.code)
      assert.equal(1, #seen(srv))
      assert_one_line(r)
    end)

    it('reports malformed JSON as a protocol error (76)', function()
      srv:script('POST ' .. TOKENS_PATH, { { status = 200, headers = { ['Content-Type'] = 'application/json' },
        body = '{"id":"x","token":' } })
      local r = run(srv)
      assert.equal(76, r.code)
      assert.matches('^signalwire: step create: ', r.json.error.message)
      assert_one_line(r)
    end)

    it('reports an HTML page instead of JSON as a protocol error (76)', function()
      srv:script('POST ' .. TOKENS_PATH, { { status = 200, headers = { ['Content-Type'] = 'text/html' },
        body = '<!doctype html><title>Sign in</title>' } })
      local r = run(srv)
      assert.equal(76, r.code)
      assert.equal('protocol', r.json.error.kind)
      assert_one_line(r)
    end)

    it('reports JSON of the wrong shape as a protocol error (76)', function()
      srv:script('POST ' .. TOKENS_PATH, { { status = 200, json = { data = { token = 'x' } } } })
      local r = run(srv)
      assert.equal(76, r.code)
      assert.equal('signalwire: step create: the response has no usable permissions (missing), '
        .. 'token (missing), id (missing), name (missing)', r.json.error.message)
      assert_one_line(r)
    end)
  end)

  describe('rotation', function()
    local ROTATE = { '-p', 'rotate=true', '-p', 'old_token_id=' .. OLD_ID }

    it('deletes the old token only after the new one came back', function()
      local r = run(srv, ROTATE)
      assert.equal(0, r.code, r.stderr)
      assert.equal(NEW_TOKEN, r.json.token)
      assert.same({ 'POST ' .. TOKENS_PATH, 'DELETE ' .. TOKENS_PATH .. '/' .. OLD_ID }, seen(srv))
      assert.same({ FIRST_ID }, tokens(srv))
    end)

    it('prints the new token on stdout (74) when -o cannot be written, since it cannot be minted again', function()
      local r = run(srv, { '-o', '/nonexistent-dir/token.json' })
      assert.equal(74, r.code)
      assert.equal(NEW_TOKEN, r.json.token)
      assert.matches('cannot be minted again', r.stderr, 1, true)
      assert.equal(1, #seen(srv))
    end)

    it('does not delete anything without rotate=true', function()
      local r = run(srv, { '-p', 'old_token_id=' .. OLD_ID })
      assert.equal(0, r.code, r.stderr)
      assert.same({ 'POST ' .. TOKENS_PATH }, seen(srv))
    end)

    it('delivers the new token and exits 75 naming old_token_id when the delete fails', function()
      local r = run(srv, { '-p', 'rotate=true', '-p', 'old_token_id=gone-1234' })
      assert.equal(75, r.code)
      assert.equal(true, r.json.ok)
      assert.equal(NEW_TOKEN, r.json.token)
      assert_one_line(r)
      assert.matches('signalwire: step delete_old: .*HTTP 404.*the new credential was still delivered; '
        .. 'old_token_id gone%-1234 is still valid', r.stderr)
      cli.assert_clean(r, CANARIES, true)
    end)

    it('still delivers the new token with -f token when the delete fails', function()
      local r = run(srv, { '-f', 'token', '-p', 'rotate=true', '-p', 'old_token_id=gone-1234' })
      assert.equal(75, r.code)
      assert.equal(NEW_TOKEN .. '\n', r.stdout)
    end)

    it('deletes nothing when the new token could not be created', function()
      local r = run(srv, ROTATE, { SIGNALWIRE_API_TOKEN = 'PTwrong' })
      assert.equal(77, r.code)
      assert.same({ 'POST ' .. TOKENS_PATH }, seen(srv))
      assert.same({ OLD_ID }, tokens(srv))
    end)

    it('needs old_token_id with rotate=true, before sending anything (78)', function()
      local r = run(srv, { '-p', 'rotate=true' })
      assert.equal(78, r.code)
      assert.matches('missing required parameters: old_token_id', r.json.error.message, 1, true)
      assert.same({}, srv:requests())
    end)
  end)

  describe('parameters and secrets', function()
    it('names every missing parameter at once (78)', function()
      local r = cli.run({ RECIPE }, { SIGNALWIRE_SPACE = 'acme' })
      assert.equal(78, r.code)
      for _, name in ipairs({ 'project_id', 'api_token', 'name', 'permissions' }) do
        assert.matches(name .. ' (', r.json.error.message, 1, true)
      end
      assert_one_line(r)
    end)

    it('refuses the API token on the command line (64)', function()
      local r = run(srv, { '-p', 'api_token=' .. API_TOKEN })
      assert.equal(64, r.code)
      assert.matches('SIGNALWIRE_API_TOKEN', r.stderr, 1, true)
      cli.assert_clean(r, CANARIES)
      assert.same({}, srv:requests())
    end)

    it('never shows the API token or the new token on stderr, with or without -v', function()
      for _, args in ipairs({ {}, { '-v' }, { '-v', '-p', 'rotate=true', '-p', 'old_token_id=gone' } }) do
        local r = run(srv, args)
        cli.assert_clean(r, CANARIES, true)
      end
    end)

    it('shows both requests under --dry-run with the credentials redacted, and sends nothing', function()
      local r = run(srv, { '--dry-run', '-p', 'rotate=true', '-p', 'old_token_id=' .. OLD_ID })
      assert.equal(0, r.code, r.stderr)
      assert.matches('# signalwire: step create\nPOST ', r.stdout)
      assert.matches('# signalwire: step delete_old\nDELETE ', r.stdout)
      assert.matches('Authorization: ***', r.stdout, 1, true)
      cli.assert_clean(r, CANARIES)
      assert.same({}, srv:requests())
    end)

    it('passes tokrun check', function()
      assert.equal(0, cli.run({ 'check', RECIPE }).code)
    end)
  end)
end)
