-- `tokrun check` refuses a misspelt, misplaced or ill-valued word with 65,
-- naming the file, the step and the word, and suggesting the valid one.
-- Each case is one edit of a valid recipe.
local cli = require 'cli_helper'
local sys = require 'tokrun.sys'

local BASE = [[
return {
  name = 'acme',
  capabilities = { CAPS },
  params = {
    { name = 'base_url', env = 'ACME_URL', default = 'https://acme.test' },
    { name = 'key', env = 'ACME_KEY', secret = true, required = true },
    { name = 'pattern', env = 'ACME_P' },
  },
  steps = {
    { name = 'mint', STEP },
  },
  emit = { token = '{token}', EMIT },
}
]]

local function recipe(step, emit, caps)
  return (BASE:gsub('STEP', function() return step end):gsub('EMIT', function() return emit or '' end)
    :gsub('CAPS', function() return caps or '' end))
end

local VALID = "method = 'POST', url = '{base_url}/t', capture = { token = 'token' }"

-- name -> { step words, refusal expected in the message [, emit] [, caps] }
local CASES = {
  hmac_digest = { VALID .. ", sign = { hmac = 'sha265', key = '{key}', message = '{query}', into = { query = 's' } }",
    "step 'mint': sign.hmac: 'sha265' is not allowed; did you mean 'sha256'?" },
  sign_encoding = { VALID .. ", sign = { hmac = 'sha256', key = '{key}', message = '{query}', encoding = 'b64',"
    .. " into = { query = 's' } }", "sign.encoding: 'b64' is not allowed" },
  sign_place = { VALID .. ", sign = { hmac = 'sha256', key = '{key}', message = '{query}', into = {} }",
    "sign.into: must say one place: 'query' or 'header'" },
  auth_barer = { VALID .. ", auth = { barer = '{key}' }", "auth: unknown word 'barer'; did you mean 'bearer'?" },
  expect_stauts = { VALID .. ", expect = { stauts = 201 }", "expect: unknown word 'stauts'; did you mean 'status'?" },
  parse_jsno = { VALID .. ", parse = 'jsno'", "parse: 'jsno' is not allowed; did you mean 'json'?" },
  on_failure = { VALID .. ", on_failure = 'delivr'", "on_failure: 'delivr' is not allowed; did you mean 'deliver'?" },
  bad_method = { "method = 'FETCH', url = '{base_url}/t', capture = { token = 'token' }",
    "method: 'FETCH' is not allowed" },
  header_name = { VALID .. ", headers = { ['X Bad:Name'] = 'v' }", "headers: 'X Bad:Name' is not a valid name here" },
  negative_timeout = { VALID .. ", timeout = -1", "timeout: must be at least 0, got -1" },
  negative_retries = { VALID .. ", retries = -2", "retries: must be at least 0, got -2" },
  negative_max_body = { VALID .. ", max_body = -5", "max_body: must be at least 0, got -5" },
  env_name = { VALID, "emit.env: 'X=1; touch FILE; Y' is not a valid name here",
    "env = { ['X=1; touch FILE; Y'] = '{token}' }" },
  capability = { VALID, "capabilities[1]: 'fs' is not allowed", nil, "'fs'" },
  resend = { VALID .. ", resend = 'sometimes'", "resend: 'sometimes' is not allowed" },
  renamed_word = { VALID .. ", safe_to_repeat = true", "unknown word 'safe_to_repeat'; it is now resend = 'safe'" },
  kind_word = { "run = { 'true' }, method = 'GET', capture = { token = 'stdout' }",
    "'method' is a word of http steps; this is a run step", nil, "'process'" },
  two_kinds = { VALID .. ", run = { 'true' }", "a step has one kind: 'run' and 'url' cannot go together",
    nil, "'process'" },
  secret_argv = { "run = { 'cli', '{key}' }, capture = { token = 'stdout' }",
    "run.argv: '{key}' is a secret and would be visible", nil, "'process'" },
  filter = { "url = '{base_url|strnig}/t', capture = { token = 'token' }",
    "unknown filter '|strnig' in '{base_url|strnig}'; did you mean 'string'?" },
  placeholder = { "url = '{base_ulr}/t', capture = { token = 'token' }",
    "undeclared placeholder '{base_ulr}'; did you mean 'base_url'?" },
  status_range = { VALID .. ", expect = { status = 2000 }", "expect.status: must be an HTTP status (100-599)" },
  capture_as = { "url = '{base_url}/t', capture = { token = { path = 't', as = 'epoch' } }",
    "capture.token.as: 'epoch' is not allowed; did you mean 'epoch_s'?" },
}

describe('tokrun check', function()
  local dir
  setup(function() dir = cli.tmpdir() end)
  teardown(cli.cleanup)

  it('accepts the unedited recipe', function()
    local path = dir .. '/valid.lua'
    local f = assert(io.open(path, 'w')); f:write(recipe(VALID)); f:close()
    local r = cli.run({ 'check', path })
    assert.equal(0, r.code, r.stderr)
  end)

  local names = {}
  for name in pairs(CASES) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local case = CASES[name]
    it('refuses ' .. name:gsub('_', ' ') .. ' with 65, naming file, step and word', function()
      local path = dir .. '/' .. name .. '.lua'
      local f = assert(io.open(path, 'w')); f:write(recipe(case[1], case[3], case[4])); f:close()
      local r = cli.run({ 'check', path })
      assert.equal(65, r.code, r.stderr)
      assert.truthy(r.stderr:find(path .. ': ', 1, true), r.stderr)
      assert.truthy(r.stderr:find(case[2], 1, true), 'expected "' .. case[2] .. '" in:\n' .. r.stderr)
      cli.assert_one_line(r)
    end)
  end

  it('refuses a cyclic table anywhere in the recipe in well under a second', function()
    local path = dir .. '/cycle.lua'
    local f = assert(io.open(path, 'w'))
    f:write("local t = { a = {} }; t.a.b = t\nreturn { name = 'c', steps = { { name = 's', "
      .. "url = 'https://e.test', json = t } }, emit = { token = 'x' } }\n")
    f:close()
    local t0 = sys.monotonic()
    local r = cli.run({ 'check', path })
    assert.is_true(sys.monotonic() - t0 < 1, 'took too long')
    assert.equal(65, r.code)
    assert.truthy(r.stderr:find('json.a.b: refers back to a table that contains it', 1, true), r.stderr)
  end)

  it('refuses a recipe too large to check (a table doubling 40 times)', function()
    local path = dir .. '/wide.lua'
    local f = assert(io.open(path, 'w'))
    f:write("local t = { 1 }; for _ = 1, 40 do t = { t, t } end\nreturn { name = 'w', steps = { { name = 's', "
      .. "url = 'https://e.test', json = t } }, emit = { token = 'x' } }\n")
    f:close()
    local r = cli.run({ 'check', path })
    assert.equal(65, r.code)
    assert.truthy(r.stderr:find('too large', 1, true), r.stderr)
  end)
end)
