-- Where a parameter's value comes from, and errors that say
-- how to set it without ever showing a secret.
local params = require 'tokrun.params'

local VELAFI = {
  { name = 'api_key', env = 'VELAFI_API_KEY', required = true, secret = true },
  { name = 'api_secret', env = 'VELAFI_API_SECRET', required = true, secret = true },
  { name = 'base_url', env = 'VELAFI_BASE_URL', default = 'https://api.velafi.com' },
}

local PAM = {
  { name = 'run_host', env = 'PAM_RUN_HOST', required = true },
  { name = 'reason', required = true },
  { name = 'duration', env = 'PAM_DURATION', type = 'integer', default = 30 },
  { name = 'email', env = 'PAM_EMAIL' },
}

-- A read_file stub over a table of path -> contents.
local function files(t)
  return function(path, limit)
    assert.equal(params.MAX_FILE + 1, limit)
    if t[path] == nil then return nil, path .. ': No such file or directory' end
    return t[path]:sub(1, limit)
  end
end

local function secrets_env(extra)
  local env = { VELAFI_API_KEY = 'key-123', VELAFI_API_SECRET = 'sec-456' }
  for k, v in pairs(extra or {}) do env[k] = v end
  return env
end

local function assert_error(kind, message, values, err)
  assert.is_nil(values)
  assert.equal(kind, err.kind)
  assert.equal(message, err.message)
end

describe('params.resolve', function()
  describe('where a value comes from', function()
    it('takes -p first for a non-secret parameter', function()
      local values, sources = params.resolve(VELAFI, {
        cli = { base_url = 'https://api-test.velafi.com' },
        env = secrets_env({ VELAFI_BASE_URL = 'https://from-env' }),
      })
      assert.equal('https://api-test.velafi.com', values.base_url)
      assert.equal('cli', sources.base_url)
    end)

    it('then the declared environment variable', function()
      local values, sources = params.resolve(VELAFI, { env = secrets_env({ VELAFI_BASE_URL = 'https://from-env' }) })
      assert.same({ api_key = 'key-123', api_secret = 'sec-456', base_url = 'https://from-env' }, values)
      assert.same({ api_key = 'env:VELAFI_API_KEY', api_secret = 'env:VELAFI_API_SECRET',
        base_url = 'env:VELAFI_BASE_URL' }, sources)
    end)

    it('then the file named by VAR_FILE, less one trailing newline', function()
      local env = { VELAFI_API_KEY_FILE = '/run/secrets/key', VELAFI_API_SECRET_FILE = '/run/secrets/sec' }
      local values, sources = params.resolve(VELAFI, {
        env = env, read_file = files({ ['/run/secrets/key'] = 'key-123\n', ['/run/secrets/sec'] = 'sec\n456\r\n' }),
      })
      assert.equal('key-123', values.api_key)
      assert.equal('sec\n456', values.api_secret)
      assert.equal('file:VELAFI_API_KEY_FILE', sources.api_key)
    end)

    it('strips only one trailing newline from a file', function()
      local values = params.resolve(VELAFI, {
        env = { VELAFI_API_KEY = 'k', VELAFI_API_SECRET_FILE = '/s' }, read_file = files({ ['/s'] = 'sec\n\n' }),
      })
      assert.equal('sec\n', values.api_secret)
    end)

    it('then the default', function()
      local values, sources = params.resolve(VELAFI, { env = secrets_env() })
      assert.equal('https://api.velafi.com', values.base_url)
      assert.equal('default', sources.base_url)
    end)

    it('treats an empty environment variable as unset', function()
      local values = params.resolve(VELAFI, { env = secrets_env({ VELAFI_BASE_URL = '' }) })
      assert.equal('https://api.velafi.com', values.base_url)
    end)

    it('leaves an absent optional parameter out', function()
      local values, sources = params.resolve(PAM, { cli = { run_host = 'h', reason = 'r' }, env = {} })
      assert.same({ run_host = 'h', reason = 'r', duration = 30 }, values)
      assert.is_nil(sources.email)
    end)

    it('resolves only the parameters asked for (release)', function()
      local values = params.resolve(PAM, {
        cli = { run_host = 'h', reason = 'r' }, env = {}, only = { run_host = true },
      })
      assert.same({ run_host = 'h' }, values)
      assert.same({ run_host = 'h' }, params.resolve(PAM, { cli = { run_host = 'h' }, only = { run_host = true } }))
    end)

    it('names every variable that can carry a secret, for exec to remove', function()
      local _, _, strip = params.resolve(VELAFI, { env = secrets_env() })
      assert.same({ 'VELAFI_API_KEY', 'VELAFI_API_KEY_FILE', 'VELAFI_API_SECRET', 'VELAFI_API_SECRET_FILE' }, strip)
    end)
  end)

  describe('types', function()
    local TYPED = {
      { name = 'n', env = 'N', type = 'integer' },
      { name = 'flag', env = 'FLAG', type = 'boolean' },
      { name = 'perms', env = 'PERMS', type = 'list' },
      { name = 's', env = 'S' },
    }

    it('converts integers, booleans and lists', function()
      local values = params.resolve(TYPED, {
        env = { N = ' 42 ', FLAG = 'Yes', PERMS = ' calling, ,video,,chat ', S = ' x ' },
      })
      assert.equal(42, values.n)
      assert.equal(math.type(values.n), 'integer')
      assert.is_true(values.flag)
      assert.same({ 'calling', 'video', 'chat' }, values.perms)
      assert.equal(' x ', values.s)
    end)

    it('reads every documented boolean spelling', function()
      local spellings = { ['true'] = true, ['1'] = true, yes = true, ['false'] = false, ['0'] = false, no = false }
      for text, want in pairs(spellings) do
        assert.equal(want, params.resolve(TYPED, { cli = { flag = text } }).flag)
      end
    end)

    it('reports a value of the wrong type with where it came from', function()
      assert_error('config', "parameter 'duration' must be an integer, got 'abc' (from PAM_DURATION)",
        params.resolve(PAM, { cli = { run_host = 'h', reason = 'r' }, env = { PAM_DURATION = 'abc' } }))
      assert_error('config', "parameter 'duration' must be an integer, got '1.5' (from -p)",
        params.resolve(PAM, { cli = { run_host = 'h', reason = 'r', duration = '1.5' } }))
      assert_error('config', "parameter 'flag' must be a boolean (true/false, yes/no, 1/0), got 'maybe' (from FLAG)",
        params.resolve(TYPED, { env = { FLAG = 'maybe' } }))
    end)

    it('refuses an integer that does not fit', function()
      local values, err = params.resolve(TYPED, { env = { N = '99999999999999999999' } })
      assert.is_nil(values)
      assert.equal('config', err.kind)
    end)
  end)

  describe('pattern and enum', function()
    local DECLS = {
      { name = 'space', env = 'SIGNALWIRE_SPACE', pattern = '^[A-Za-z0-9-]+$' },
      { name = 'host', pattern = '[a-z]+' },
      { name = 'auth_method', enum = { 'client_secret_basic', 'client_secret_post' }, default = 'client_secret_basic' },
      { name = 'permissions', type = 'list', enum = { 'calling', 'chat', 'video' } },
    }

    it('accepts values that match', function()
      local values = params.resolve(DECLS, { cli = { space = 'my-space', host = 'abc', permissions = 'chat,video' } })
      assert.same({ space = 'my-space', host = 'abc', auth_method = 'client_secret_basic',
        permissions = { 'chat', 'video' } }, values)
    end)

    it('refuses a value that does not match the whole pattern', function()
      assert_error('config', "parameter 'space' must match ^[A-Za-z0-9-]+$, got 'evil.com/x' (from SIGNALWIRE_SPACE)",
        params.resolve(DECLS, { env = { SIGNALWIRE_SPACE = 'evil.com/x' } }))
      local values, err = params.resolve(DECLS, { cli = { host = 'abc1' } })
      assert.is_nil(values)
      assert.equal('config', err.kind)
    end)

    it('refuses a value, or a list item, outside the enum', function()
      assert_error('config', "parameter 'auth_method' must be one of client_secret_basic, client_secret_post, "
        .. "got 'private_key_jwt' (from -p)",
        params.resolve(DECLS, { cli = { auth_method = 'private_key_jwt' } }))
      assert_error('config', "parameter 'permissions' must be one of calling, chat, video, got 'fax' (from -p)",
        params.resolve(DECLS, { cli = { permissions = 'chat,fax' } }))
    end)
  end)

  describe('command-line errors (usage)', function()
    it('refuses -p for a name the recipe does not declare', function()
      assert_error('usage', "unknown parameter 'x'; this recipe takes: run_host, reason, duration, email",
        params.resolve(PAM, { cli = { x = '1', run_host = 'h' } }))
    end)

    it('refuses -p for a secret and says which variable to use', function()
      assert_error('usage', "parameter 'api_secret' is secret and cannot be given on the command line "
        .. '(ps shows argv to every user); set VELAFI_API_SECRET or VELAFI_API_SECRET_FILE',
        params.resolve(VELAFI, { cli = { api_secret = 'sec-456' }, env = secrets_env() }))
    end)

    it('reports usage errors before missing parameters', function()
      local _, err = params.resolve(VELAFI, { cli = { api_key = 'k' }, env = {} })
      assert.equal('usage', err.kind)
    end)
  end)

  describe('configuration errors', function()
    it('reports every missing required parameter in one message', function()
      local velt = {
        { name = 'api_key', env = 'VELAFI_API_KEY', required = true, secret = true },
        { name = 'user_id', env = 'VELT_USER_ID', required = true },
        { name = 'org', required = true },
        { name = 'email' },
      }
      assert_error('config', 'missing required parameters: api_key (set VELAFI_API_KEY or VELAFI_API_KEY_FILE), '
        .. 'user_id (-p user_id=... or VELT_USER_ID), org (-p org=...)',
        params.resolve(velt, { env = {} }))
    end)

    it('refuses VAR and VAR_FILE both set', function()
      assert_error('config', "parameter 'api_key': both VELAFI_API_KEY and VELAFI_API_KEY_FILE are set; set only one",
        params.resolve(VELAFI, {
          env = secrets_env({ VELAFI_API_KEY_FILE = '/k' }), read_file = files({ ['/k'] = 'x' }),
        }))
    end)

    it('refuses a _FILE that cannot be read', function()
      assert_error('config',
        "parameter 'api_key': cannot read VELAFI_API_KEY_FILE (/nope): /nope: No such file or directory",
        params.resolve(VELAFI, {
          env = { VELAFI_API_KEY_FILE = '/nope', VELAFI_API_SECRET = 's' }, read_file = files({}),
        }))
    end)

    it('refuses a _FILE over 64 KiB, and reads one of exactly 64 KiB', function()
      local env = { VELAFI_API_KEY_FILE = '/big', VELAFI_API_SECRET = 's' }
      assert_error('config', "parameter 'api_key': VELAFI_API_KEY_FILE (/big) is larger than 64 KiB",
        params.resolve(VELAFI, { env = env, read_file = files({ ['/big'] = ('k'):rep(65 * 1024) }) }))
      local values = params.resolve(VELAFI, { env = env, read_file = files({ ['/big'] = ('k'):rep(64 * 1024) }) })
      assert.equal(64 * 1024, #values.api_key)
    end)

    it('never puts a secret value into an error message', function()
      local decls = {
        { name = 'pin', env = 'PIN', type = 'integer', secret = true },
        { name = 'code', env = 'CODE', secret = true, pattern = '^%d+$' },
      }
      local _, err = params.resolve(decls, { env = { PIN = 'hunter2' } })
      assert.equal("parameter 'pin' must be an integer (from PIN)", err.message)
      _, err = params.resolve(decls, { env = { CODE = 'hunter2' } })
      assert.equal("parameter 'code' must match ^%d+$ (from CODE)", err.message)
    end)

    it('shows control characters in a bad value escaped', function()
      local _, err = params.resolve(PAM, { cli = { run_host = 'h', reason = 'r', duration = '1\27[2J' } })
      assert.equal("parameter 'duration' must be an integer, got '1\\x1b[2J' (from -p)", err.message)
    end)
  end)

  it('raises on invalid declarations (a recipe bug, caught by check)', function()
    assert.has_error(function() params.resolve({ { name = 'Bad' } }, {}) end)
  end)
end)

describe('params.parse_env_file', function()
  it('reads NAME=VALUE lines, export, comments, blanks and quotes', function()
    local text = table.concat({
      '# velafi sandbox',
      '',
      'VELAFI_API_KEY=key-123',
      'export VELAFI_API_SECRET = "sec $HOME \\n #x"',
      "  QUOTED='single \"q\"'  ",
      'EMPTY=',
      'EQ=a=b',
      'CRLF=v\r',
      '   # indented comment',
    }, '\n')
    assert.same({
      VELAFI_API_KEY = 'key-123', VELAFI_API_SECRET = 'sec $HOME \\n #x', QUOTED = 'single "q"',
      EMPTY = '', EQ = 'a=b', CRLF = 'v',
    }, params.parse_env_file(text, 'test.env'))
  end)

  it('takes the last of repeated names', function()
    assert.same({ A = '2' }, params.parse_env_file('A=1\nA=2\n', 'x.env'))
  end)

  it('reads an empty file', function()
    assert.same({}, params.parse_env_file('', 'x.env'))
  end)

  it('reports a malformed line by file and line number', function()
    local vars, err = params.parse_env_file('A=1\n\nnot a setting\n', 'prod.env')
    assert.is_nil(vars)
    assert.equal('config', err.kind)
    assert.equal('prod.env:3: expected NAME=VALUE', err.message)
    assert.equal('prod.env:1: expected NAME=VALUE', select(2, params.parse_env_file('1A=x', 'prod.env')).message)
    assert.equal('prod.env:1: expected NAME=VALUE', select(2, params.parse_env_file('=x', 'prod.env')).message)
  end)

  it('reports an unterminated quote without showing the value', function()
    local _, err = params.parse_env_file('SECRET="hunter2', 'prod.env')
    assert.equal('prod.env:1: unterminated quoted value', err.message)
  end)
end)

describe('params.validate_decls', function()
  it('accepts the seed recipes\' declarations', function()
    assert.is_true(params.validate_decls(VELAFI))
    assert.is_true(params.validate_decls(PAM))
    assert.is_true(params.validate_decls({
      { name = 'permissions', type = 'list', required = true, default = { 'chat' }, enum = { 'chat', 'video' },
        description = 'what the token may do' },
      { name = 'space', env = 'SIGNALWIRE_SPACE', pattern = '^[A-Za-z0-9-]+$' },
      { name = 'retries', type = 'integer', enum = { 1, 2, 3 } },
    }))
  end)

  local cases = {
    { 'a bad name', { { name = 'Api-Key' } }, 'params[1]: name must match [a-z_][a-z0-9_]*' },
    { 'a missing name', { { env = 'X' } }, 'params[1]: name must match [a-z_][a-z0-9_]*' },
    { 'an unknown key', { { name = 'a', secrt = true } }, "parameter 'a': unknown key secrt" },
    { 'an unknown type', { { name = 'a', type = 'number' } },
      "parameter 'a': type must be string, integer, boolean, list or json_file, not number" },
    { 'a default of the wrong type', { { name = 'a', type = 'integer', default = '30' } },
      "parameter 'a': default must be of type integer" },
    { 'a fractional integer default', { { name = 'a', type = 'integer', default = 1.5 } },
      "parameter 'a': default must be of type integer" },
    { 'a list default that is not a list', { { name = 'a', type = 'list', default = 'x,y' } },
      "parameter 'a': default must be a list of strings" },
    { 'a duplicate name', { { name = 'a' }, { name = 'a' } }, "parameter 'a' is declared twice" },
    { 'a secret without env', { { name = 'a', secret = true } },
      "parameter 'a' is secret and needs env (secrets are never taken from -p)" },
    { 'an invalid pattern', { { name = 'a', pattern = '[a-' } }, "parameter 'a': invalid pattern [a-" },
    { 'a default outside the enum', { { name = 'a', enum = { 'x' }, default = 'y' } },
      "parameter 'a': default does not pass its own pattern or enum" },
    { 'a bad env name', { { name = 'a', env = 'A B' } }, "parameter 'a': env must be an environment variable name" },
    { 'a non-boolean flag', { { name = 'a', required = 'yes' } }, "parameter 'a': required must be a boolean" },
  }
  for _, case in ipairs(cases) do
    it('refuses ' .. case[1], function()
      local ok, msg = params.validate_decls(case[2])
      assert.is_nil(ok)
      assert.equal(case[3], msg)
    end)
  end

  it('refuses params that are not a list', function()
    assert.is_nil(params.validate_decls('x'))
    assert.is_nil(params.validate_decls({ a = { name = 'a' } }))
  end)
end)

-- json_file parameters: the variable names a JSON key file (Google's
-- GOOGLE_APPLICATION_CREDENTIALS); its fields are the value, its secret
-- fields are secrets, and a file that is not what the recipe needs is a
-- config error naming the parameter before anything is sent.
do
  local sys = require 'tokrun.sys'
  local json = require 'tokrun.json'
  local cli = require 'cli_helper'

  local DECLS = {
    { name = 'key_file', env = 'GOOGLE_APPLICATION_CREDENTIALS', type = 'json_file', required = true,
      fields = { 'client_email', 'token_uri' }, secret_fields = { 'private_key' } },
  }

  local KEY = { type = 'service_account', client_email = 'svc@p.iam.gserviceaccount.com',
    token_uri = 'https://oauth2.googleapis.com/token', private_key = '-----BEGIN PRIVATE KEY-----\nMIIsecret\n' }

  local function read_file(path, limit) return sys.read_file(path, limit) end

  describe('a json_file parameter', function()
    local dir
    before_each(function() dir = cli.tmpdir() end)
    after_each(cli.cleanup)

    local function write(name, text)
      local path = dir .. '/' .. name
      local f = assert(io.open(path, 'wb'))
      f:write(text)
      f:close()
      return path
    end

    local function resolve(path, decls)
      return params.resolve(decls or DECLS, { env = { GOOGLE_APPLICATION_CREDENTIALS = path }, read_file = read_file })
    end

    local function refused(message, path, decls)
      local values, err = resolve(path, decls)
      assert.is_nil(values)
      assert.equal('config', err.kind)
      assert.equal(message, err.message)
      assert.not_matches('MIIsecret', err.message, 1, true)
    end

    it('reads the file the variable names; its fields are the value', function()
      local path = write('key.json', json.encode(KEY))
      local values, sources = assert(resolve(path))
      assert.equal('svc@p.iam.gserviceaccount.com', values.key_file.client_email)
      assert.equal(KEY.private_key, values.key_file.private_key)
      assert.equal('env:GOOGLE_APPLICATION_CREDENTIALS', sources.key_file)
      assert.equal(json.encode(KEY), params.file_text(values.key_file))
    end)

    it('counts its secret fields among the secrets, not the path', function()
      local values = assert(resolve(write('key.json', json.encode(KEY))))
      assert.same({ KEY.private_key }, params.secret_values(DECLS, values))
    end)

    it('names the parameter, the file and the field that is missing', function()
      local path = write('nomail.json', '{"private_key":"k","token_uri":"u"}')
      refused("parameter 'key_file': " .. path .. " (from GOOGLE_APPLICATION_CREDENTIALS) has no field 'client_email'",
        path)
      local nokey = write('nokey.json', '{"client_email":"e","token_uri":"u","private_key":""}')
      refused("parameter 'key_file': " .. nokey .. " (from GOOGLE_APPLICATION_CREDENTIALS) has no field 'private_key'",
        nokey)
    end)

    it('refuses a file that is not a JSON object', function()
      for i, text in ipairs({ 'MIIsecret not json', '[1,2]', '"a string"', '' }) do
        local path = write('bad' .. i .. '.json', text)
        refused("parameter 'key_file': " .. path .. ' (from GOOGLE_APPLICATION_CREDENTIALS) is not a JSON key file'
          .. ' (a JSON object)', path)
      end
    end)

    it('refuses a missing file, a directory and a file over 64 KiB', function()
      local values, err = resolve(dir .. '/absent.json')
      assert.is_nil(values)
      assert.equal("parameter 'key_file': cannot read the key file " .. dir .. '/absent.json: No such file or directory',
        err.message)
      values, err = resolve(dir)
      assert.is_nil(values)
      assert.matches("^parameter 'key_file': cannot read the key file ", err.message)
      local big = write('big.json', '{"a":"' .. ('x'):rep(70 * 1024) .. '"}')
      values, err = resolve(big)
      assert.is_nil(values)
      assert.matches('File too large', err.message)
    end)

    it('is reported missing with how to set it', function()
      local values, err = params.resolve(DECLS, { env = {}, read_file = read_file })
      assert.is_nil(values)
      assert.equal('missing required parameters: key_file (-p key_file=... or GOOGLE_APPLICATION_CREDENTIALS)',
        err.message)
    end)

    it('is a declaration error with fields on another type, or a default', function()
      assert.matches('fields is only for a json_file parameter',
        select(2, params.validate_decls({ { name = 'x', fields = { 'a' } } })))
      assert.matches('secret_fields must be a list of field names',
        select(2, params.validate_decls({ { name = 'x', type = 'json_file', secret_fields = 'a' } })))
      assert.matches('takes no pattern, enum or default',
        select(2, params.validate_decls({ { name = 'x', type = 'json_file', default = '/k.json' } })))
    end)
  end)
end
