-- A run that may answer from the cache checks its recipe against the
-- schema only when it mints: a hit loads neither the schema nor its
-- checker, and a recipe with a mistake is still refused (65), before
-- anything is minted, with the message a check gives.
local session = require 'tokrun.session'
local sys = require 'tokrun.sys'
local cli = require 'cli_helper'

local FIXTURE = cli.root .. '/tests/cli/fixtures/echo_token.lua'

local function write(path, text)
  local f = assert(io.open(path, 'wb'))
  f:write(text)
  f:close()
end

local function mints(file)
  local data = sys.read_file(file, 65536)
  return data and select(2, data:gsub('minted', '')) or 0
end

-- The fixture with one word misspelt (`old` -> `new`), in DIR.
local function misspelt(dir, old, new)
  local text = assert(sys.read_file(FIXTURE, 65536))
  local bad, n = text:gsub(old, new, 1)
  assert.equal(1, n)
  local path = dir .. '/echo_token.lua'
  write(path, bad)
  return path
end

describe('a run that may answer from the cache', function()
  it('answers a hit without loading the schema or its checker', function()
    local dir = cli.tmpdir()
    local cache = dir .. '/cache'
    assert(sys.mkdir(cache, tonumber('700', 8)))
    sys.setenv('ECHO_TOKEN', 'unchecked-hit')
    sys.setenv('ECHO_COUNT_FILE', dir .. '/count')
    local function opts()
      return { cache = cache, output = dir .. '/out.json', format = 'json', timeout = 10, retries = 0,
               min_ttl = 300, max_age = 3600, params = {}, report = {} }
    end
    assert.equal(0, session.run(opts(), FIXTURE))   -- mints, checked
    local saved = { validate = package.loaded['tokrun.validate'], schema = package.loaded['tokrun.schema'] }
    package.loaded['tokrun.validate'], package.loaded['tokrun.schema'] = nil, nil
    local ok, code = pcall(session.run, opts(), FIXTURE)
    local loaded = { validate = package.loaded['tokrun.validate'], schema = package.loaded['tokrun.schema'] }
    package.loaded['tokrun.validate'], package.loaded['tokrun.schema'] = saved.validate, saved.schema
    assert.is_true(ok, tostring(code))
    assert.equal(0, code)
    assert.matches('"cached":true', sys.read_file(dir .. '/out.json', 65536), 1, true)
    assert.is_nil(loaded.validate)
    assert.is_nil(loaded.schema)
    assert.equal(1, mints(dir .. '/count'))
  end)

  it('refuses a misspelt step word (65) with the message a run without --cache gives, minting nothing', function()
    local dir = cli.tmpdir()
    local cache = dir .. '/cache'
    assert(sys.mkdir(cache, tonumber('700', 8)))
    local recipe = misspelt(dir, "parse = 'table'", "parze = 'table'")
    local env = { ECHO_TOKEN = 'misspelt-secret-value', ECHO_COUNT_FILE = dir .. '/count' }
    local cached = cli.run({ '--cache=' .. cache, recipe }, env)
    local plain = cli.run({ recipe }, env)
    assert.equal(65, cached.code, cached.stderr)
    assert.equal(plain.code, cached.code)
    assert.equal(plain.stderr, cached.stderr)
    assert.matches("parze", cached.stderr, 1, true)
    assert.equal(0, mints(dir .. '/count'))
  end)

  it('refuses a recipe whose parameters are malformed (65), as a check does', function()
    local dir = cli.tmpdir()
    local cache = dir .. '/cache'
    assert(sys.mkdir(cache, tonumber('700', 8)))
    local recipe = misspelt(dir, "params = {", "params = 'none', unused = {")
    local cached = cli.run({ '--cache=' .. cache, recipe }, { ECHO_TOKEN = 'malformed-secret-value' })
    local plain = cli.run({ recipe }, { ECHO_TOKEN = 'malformed-secret-value' })
    assert.equal(65, cached.code, cached.stderr)
    assert.equal(plain.stderr, cached.stderr)
  end)
end)
