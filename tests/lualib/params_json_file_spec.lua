-- json_file parameters: the variable names a JSON key file (Google's
-- GOOGLE_APPLICATION_CREDENTIALS); its fields are the value, its secret
-- fields are secrets, and a file that is not what the recipe needs is a
-- config error naming the parameter before anything is sent.
local params = require 'tokrun.params'
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
