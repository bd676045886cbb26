-- tokrun.help: `tokrun --help RECIPE` answers what a user asks first (what
-- the recipe needs, where secrets come from, what the exit codes mean) in
-- 80 columns, and `--format json` says the same to tools.
local cli = require 'cli_helper'
local json = require 'tokrun.json'
local sys = require 'tokrun.sys'

local function recipes()
  local list = {}
  for _, f in ipairs(sys.readdir(cli.root .. '/recipes') or {}) do
    if f:match('%.lua$') then list[#list + 1] = cli.root .. '/recipes/' .. f end
  end
  table.sort(list)
  return list
end

describe('tokrun --help RECIPE', function()
  it('fits an 80-column terminal for every shipped recipe, and the usage summary too', function()
    local all = recipes()
    assert.truthy(#all >= 7)
    all[#all + 1] = false
    for _, path in ipairs(all) do
      local r = cli.run(path and { '--help', path } or { '--help' })
      assert.equal(0, r.code, r.stderr)
      for line in r.stdout:gmatch('[^\n]*') do
        assert.truthy(#line < 80, (path or '--help') .. ': ' .. #line .. ' columns: ' .. line)
      end
    end
  end)

  it('says what is required, where each secret comes from, and what the exit codes mean', function()
    local r = cli.run({ '--help', cli.recipe('velt') })
    assert.equal(0, r.code, r.stderr)
    local required = r.stdout:match('\nRequired:\n(.-)\n\n')
    assert.truthy(required, r.stdout)
    for _, name in ipairs({ 'api_key', 'auth_token', 'user_id', 'organization_id' }) do
      assert.truthy(required:find('\n?  ' .. name .. '\n'), name)
    end
    assert.truthy(r.stdout:find('from VELT_API_KEY, VELT_API_KEY_FILE', 1, true))
    assert.falsy(r.stdout:find('-p api_key', 1, true))
    assert.truthy(r.stdout:find('never from -p', 1, true))
    assert.truthy(r.stdout:find('tokrun --dry-run velt', 1, true))
    for _, code in ipairs({ '77', '78', '69', '75' }) do assert.truthy(r.stdout:find(code, 1, true), code) end
  end)

  it('tells a lease recipe to use exec or release, and a process recipe that it runs commands', function()
    local pam = cli.run({ '--help', cli.recipe('pam_checkout') }).stdout
    assert.truthy(pam:find('tokrun exec pam_checkout', 1, true))
    assert.truthy(pam:find('tokrun release pam_checkout ID', 1, true))
    local dataos = cli.run({ '--help', cli.recipe('dataos') }).stdout
    assert.truthy(dataos:find('This recipe runs commands as you', 1, true))
  end)

  it('prints one JSON object with --format json: every parameter, and the names -p accepts', function()
    local r = cli.run({ '--help', cli.recipe('velt'), '--format', 'json' })
    assert.equal(0, r.code, r.stderr)
    assert.truthy(r.stdout:match('^{.*}\n$'))
    local d = json.decode(r.stdout)
    assert.equal('velt', d.name)
    assert.equal(false, d.lease)
    assert.same({ 'base_url', 'user_id', 'organization_id', 'is_admin', 'email', 'api_version' }, d.cli_params)
    local byname = {}
    for _, p in ipairs(d.params) do byname[p.name] = p end
    assert.equal(true, byname.api_key.secret)
    assert.equal('VELT_API_KEY', byname.api_key.env)
    assert.equal(json.null, byname.user_id.env)
    assert.equal('https://api.velt.dev', byname.base_url.default)
    assert.equal(true, json.decode(cli.run({ '--help', cli.recipe('pam_checkout'), '-f', 'json' }).stdout).lease)
  end)
end)
