-- tokrun.findings: `tokrun check --format json` prints one JSON object per
-- finding, {"file","line","step","word","message"}, for editors and CI.
local cli = require 'cli_helper'
local json = require 'tokrun.json'
local sys = require 'tokrun.sys'

describe('tokrun check --format json', function()
  local dir
  setup(function() dir = cli.tmpdir() end)
  teardown(cli.cleanup)

  local function write(name, text)
    local path = dir .. '/' .. name
    assert(sys.write_atomic(path, text))
    return path
  end

  local GOOD = [[
return {
  name = 'good',
  steps = {
    { name = 'mint', url = 'https://x.example/t',
      expect = { status = 201 },
      capture = { token = 'token' } },
  },
  emit = { token = '{token}' },
}
]]

  it('names the file, line, step and word of a misspelt word, with the suggestion', function()
    local typo = write('typo.lua', (GOOD:gsub('status', 'stauts'):gsub("'good'", "'typo'")))
    local good = write('good.lua', GOOD)
    local r = cli.run({ 'check', '--format', 'json', good, typo })
    assert.equal(65, r.code)
    local lines = {}
    for line in r.stdout:gmatch('[^\n]+') do lines[#lines + 1] = json.decode(line) end
    assert.equal(1, #lines, r.stdout)
    local f = lines[1]
    assert.equal(typo, f.file)
    assert.equal(5, f.line)
    assert.equal('mint', f.step)
    assert.equal('stauts', f.word)
    assert.truthy(f.message:find("did you mean 'status'", 1, true), f.message)
  end)

  it('gives the line of a syntax error and null for what is not known', function()
    local bad = write('syntax.lua', 'return {\n  name = "x",\n  steps = {\n')
    local r = cli.run({ 'check', '-f', 'json', bad })
    assert.equal(65, r.code)
    local f = json.decode(r.stdout)
    assert.equal(bad, f.file)
    assert.equal(4, f.line)
    assert.equal(json.null, f.step)
    assert.equal(json.null, f.word)
  end)

  it('prints nothing for valid recipes and exits 0; without --format it stays human', function()
    local good = write('good.lua', GOOD)
    local r = cli.run({ 'check', '-f', 'json', good, cli.recipe('velafi') })
    assert.equal(0, r.code, r.stderr)
    assert.equal('', r.stdout)
    local human = cli.run({ 'check', good })
    assert.equal(good .. ': ok (good)\n', human.stdout)
  end)
end)
