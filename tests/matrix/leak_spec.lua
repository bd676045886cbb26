-- The leak matrix: every secret parameter of
-- every recipe and every token or password a provider mock hands out is a
-- canary, and every recipe runs through every output mode and failure mode
-- with them.  After each run the canaries -- raw and in every form a
-- request, a trace or a file could carry them -- are looked for in
-- everything tokrun wrote: stdout, stderr, the -o directory, the cache
-- directory (file names too) and TMPDIR.
--   input secrets: nowhere, ever;
--   the minted token: only on stdout of a run that prints the result
--   (json, token, env, exec-credential), in the -o file and in the cache
--   entry -- never on stderr, never under `exec`.
local cli = require 'cli_helper'
local mock = require 'tokrun.mock'
local sys = require 'tokrun.sys'
local json = require 'tokrun.json'
local codec = require 'tokrun.codec'

local NOW = '1740568725231'            -- 2025-02-26T11:18:45.231Z
local NOW_MS = tonumber(NOW)

-- Canaries: '/', '+', '=', ' ', '"' and non-ASCII, so that every encoding
-- (JSON, percent, form, base64 at each offset) differs from the raw bytes.
-- Dataverse's and DataOS's tokens have no space: the provider's message and
-- the CLI's table split on it.
local C = {
  velafi_key = 'vfKey/+= "é€" 01a', velafi_secret = 'vfSec/+= "é€" 02b', velafi_token = 'vfTok/+= "é€" 03c',
  velt_key = 'vtKey/+= "é€" 04d', velt_auth = 'vtAuth/+= "é€" 05e',
  pam_token = 'pamTok/+= "é€" 06f', pam_passwd = 'pamPw/+= "é€" 07g',
  sw_token = 'swTok/+= "é€" 08h', sw_new = 'swNew/+= "é€" 09i',
  dv_token = 'dvOld/+= "é€" 10j', dv_new = 'dvNew/+="é€"11k',
  oa_secret = 'oaSec/+= "é€" 12l', oa_token = 'oaTok/+= "é€" 13m',
  dataos_token = 'doTok/+="é€"14n',
}
local SW_PROJECT = 'PRJ-7f3a'
-- Lifetimes that outlast the wall clock, so --cache (which ignores --now) finds them fresh.
local FAR = 30 * 365 * 86400
local OA_CLIENT = 'cli ent/+é'

-- Forms of a secret computed here, without the redactor, so that a bug in
-- it cannot hide a leak: raw, JSON (cjson's \/ and \" and the \uXXXX of
-- ensure_ascii encoders), percent-encoded (both cases), form-encoded,
-- base64/base64url whole and at each offset, Basic and Bearer.
local function pct(s, space)
  return (s:gsub('[^%w%-%._~]', function(c)
    if c == ' ' and space then return space end
    return string.format('%%%02X', c:byte())
  end))
end

local function b64_core(secret, k)
  local enc = codec.base64(('\0'):rep(k) .. secret):gsub('=+$', '')
  local lead = ({ [0] = 0, 2, 3 })[k]
  return enc:sub(lead + 1, -3)   -- both ends may mix in neighbouring bytes
end

local function hand_forms(secret, user)
  local forms = {
    raw = secret,
    json = secret:gsub('[/"]', { ['/'] = '\\/', ['"'] = '\\"' }),
    json_ascii = secret:gsub('"', '\\"'):gsub('é', '\\u00e9'):gsub('€', '\\u20ac'),
    pct_upper = pct(secret),
    pct_lower = pct(secret):gsub('%%%x%x', string.lower),
    form = pct(secret, '+'),
    base64 = codec.base64(secret),
    base64url = codec.base64url(secret):gsub('=+$', ''),
    bearer = 'Bearer ' .. secret,
  }
  for k = 0, 2 do forms['base64_core' .. k] = b64_core(secret, k) end
  for k = 0, 2 do forms['base64url_core' .. k] = b64_core(secret, k):gsub('[+/]', { ['+'] = '-', ['/'] = '_' }) end
  if user then
    forms.basic = codec.base64(user .. ':' .. secret)
    forms.basic_form = codec.base64(pct(user, '+') .. ':' .. pct(secret, '+'))
  end
  return forms
end

-- A detector for a set of canaries: det(text) -> what was found, or nil.
-- canaries: list of { secret, user? }.
local function detector(canaries)
  local redactor = require('tokrun.redact').new()
  local hand = {}
  for _, c in ipairs(canaries) do
    redactor:add(c[1])
    if c[2] then redactor:add_basic(c[2], c[1]) end
    for name, form in pairs(hand_forms(c[1], c[2])) do hand[#hand + 1] = { name, form, c[1] } end
  end
  return function(text)
    for _, h in ipairs(hand) do
      if text:find(h[2], 1, true) then return string.format('%s form %q of %q', h[1], h[2], h[3]) end
    end
    if redactor:apply(text) ~= text then
      for form in pairs(redactor.forms) do
        if text:find(form, 1, true) then return string.format('redactor form %q', form) end
      end
      return 'a redactor form'
    end
  end
end

-- Everything a run left behind: {where, text, kind}; kind 'stdout',
-- 'stderr', 'output' (the -o file), 'entry' (a cache entry), 'file', 'name'.
local function surfaces(r, dirs, output)
  local list = { { 'stdout', r.stdout, 'stdout' }, { 'stderr', r.stderr, 'stderr' } }
  for _, dir in ipairs(dirs) do
    for _, name in ipairs(sys.readdir(dir) or {}) do
      local path = dir .. '/' .. name
      list[#list + 1] = { path .. ' (name)', name, 'name' }
      local st = sys.lstat(path)
      if st and st.type == 'file' then
        local kind = path == output and 'output' or name:match('^%x+%.json$') and 'entry' or 'file'
        list[#list + 1] = { path, sys.read_file(path, 16 * 1024 * 1024) or '', kind }
      else
        list[#list + 1] = { path, '', 'file' }
        assert.is_nil(st and st.type == 'dir' and name, 'unexpected directory ' .. path)
      end
    end
  end
  return list
end

-- The checker must itself find what it is meant to find.
describe('the leak detector', function()
  local det = detector({ { C.oa_secret, OA_CLIENT } })
  it('finds a canary in each form, inside other text', function()
    local s = C.oa_secret
    for _, text in ipairs({
      'x' .. s .. 'y', json.encode({ v = s }), 'q=' .. codec.pct(s) .. '&', 'q=' .. codec.form(s),
      'Authorization: Basic ' .. codec.base64(codec.form(OA_CLIENT) .. ':' .. codec.form(s)),
      codec.base64('a' .. s .. 'b'), codec.base64('ab' .. s), codec.base64url('abc' .. s .. 'xyz'),
      pct(s):gsub('%%%x%x', string.lower), 'Bearer ' .. s,
    }) do
      assert.truthy(det(text), text)
    end
    assert.is_nil(det('tokrun: oauth2: step token: *** rejected'))
  end)

  it('is not needed for a -v trace of a body cut short: values under token keys are masked', function()
    local r = require('tokrun.redact').new()
    local cut = json.encode({ data = { token = C.oa_token, n = 1 } }):sub(1, -4)
    assert.is_nil(detector({ { C.oa_token } })(r:json_text(cut)))
    assert.matches('"token":"***', r:json_text(cut), 1, true)
  end)
end)

-- Fake dataos-ctl: prints `out` and `err`, exits with `status`.
local function fake_dataos(dir, out, err, status)
  local function write(p, text)
    local f = assert(io.open(p, 'wb')); f:write(text); f:close()
  end
  write(dir .. '/out.txt', out or '')
  write(dir .. '/err.txt', err or '')
  local path = dir .. '/dataos-ctl'
  write(path, "#!/bin/sh\ncat '" .. dir .. "/out.txt'\ncat '" .. dir .. "/err.txt' >&2\nexit " .. (status or 0) .. '\n')
  os.execute("chmod 755 '" .. path .. "'")
  return path
end

local function dataos_table(token, expiration)
  return 'INFO[0000] 🔑 user apikey create...complete\n\n'
    .. '  TOKEN  │  TYPE  │ ' .. (expiration and '     EXPIRATION      │ ' or '') .. '  NAME\n'
    .. '─────────┼────────┼──────────────────────┼──────────\n'
    .. '  ' .. token .. '  │ apikey │ ' .. (expiration and (expiration .. ' │ ') or '') .. 'ci_key\n'
end

-- A malformed JSON body carrying a token: the answer cut short.
local function truncated(t)
  local s = json.encode(t)
  return { status = 200, headers = { ['Content-Type'] = 'application/json' }, body = s:sub(1, #s - 2) }
end

-- A 500 whose body echoes what the provider got (a debugging proxy would).
local function echo500(...)
  local echo = table.concat({ ... }, ' | ')
  return { status = 500, headers = { ['Content-Type'] = 'application/json' },
    json = { message = 'internal error; request was: ' .. echo, echo = echo } }
end

local function script(srv, resp)
  srv:script('*', { resp, resp, resp, resp })
end

-- Each recipe: the recipe, its input canaries ({secret, basic user?}), the
-- token its mock mints, and setup(fault, dir) -> srv?, env, extra args.
-- fault: nil | 'auth' | '500' | 'malformed'.
local RECIPES = {
  {
    name = 'velafi',
    inputs = { { C.velafi_key }, { C.velafi_secret } },
    token = C.velafi_token,
    setup = function(fault, _, _, mode)
      local srv = mock.start { routes = 'tests/mocks/velafi.lua', config = { api_key = C.velafi_key,
        api_secret = fault == 'auth' and 'another secret' or C.velafi_secret, token = C.velafi_token,
        now_ms = not mode.cache and NOW_MS, ttl_ms = 3600000 } }   -- --cache runs on the wall clock
      if fault == '500' then script(srv, echo500(C.velafi_key, C.velafi_secret)) end
      if fault == 'malformed' then
        script(srv, truncated({ code = 200, msg = 'SUCCESS', data = { token = C.velafi_token, expireTime = 'x' } }))
      end
      return srv, { VELAFI_API_KEY = C.velafi_key, VELAFI_API_SECRET = C.velafi_secret, VELAFI_BASE_URL = srv.url }, {}
    end,
    codes = { auth = 77, ['500'] = 69, malformed = 76 },
  },
  {
    name = 'velt',
    inputs = { { C.velt_key }, { C.velt_auth } },
    token = nil,   -- the mock's JWT, learnt by a first run
    setup = function(fault, _, variant)
      local srv = mock.start { routes = 'tests/mocks/velt.lua', config = {
        api_key = fault == 'auth' and 'another key' or C.velt_key, auth_token = C.velt_auth,
        now_ms = NOW_MS, ttl_s = FAR } }
      if fault == '500' then script(srv, echo500(C.velt_key, C.velt_auth)) end
      if fault == 'malformed' then
        script(srv, truncated({ result = { status = 'success', data = { token = variant.token } } }))
      end
      return srv, { VELT_API_KEY = C.velt_key, VELT_AUTH_TOKEN = C.velt_auth, VELT_BASE_URL = srv.url },
        { '-p', 'user_id=u-42', '-p', 'organization_id=org-7' }
    end,
    variants = { { '-p', 'api_version=2' } },   -- v2: the keys go in headers
    codes = { auth = 77, ['500'] = 69, malformed = 76 },
  },
  {
    name = 'pam_checkout',
    lease = true,
    inputs = { { C.pam_token } },
    token = C.pam_passwd,
    setup = function(fault)
      local srv = mock.start { routes = 'tests/mocks/pam_checkout.lua', config = {
        api_token = fault == 'auth' and 'another token' or C.pam_token, account = 'root', passwd = C.pam_passwd } }
      if fault == '500' then script(srv, echo500('Token token=' .. C.pam_token)) end
      if fault == 'malformed' then
        script(srv, truncated({ CheckOut = { Request = { id = 'CO-1' }, account = 'root', passwd = C.pam_passwd },
          status = 200, message = 'OK' }))
      end
      return srv, { PAM_API_TOKEN = C.pam_token, PAM_BASE_URL = srv.url },
        { '-p', 'run_host=db01.example.com', '-p', 'reason=change 4711' }
    end,
    codes = { auth = 77, ['500'] = 69, malformed = 76 },
  },
  {
    name = 'signalwire',
    inputs = { { C.sw_token, SW_PROJECT } },
    token = C.sw_new,
    setup = function(fault)
      local srv = mock.start { routes = 'tests/mocks/signalwire.lua', config = { project_id = SW_PROJECT,
        api_token = fault == 'auth' and 'another token' or C.sw_token, new_token = C.sw_new } }
      if fault == '500' then
        script(srv, echo500('Basic ' .. codec.base64(SW_PROJECT .. ':' .. C.sw_token)))
      end
      if fault == 'malformed' then
        script(srv, truncated({ id = 'tok-1', name = 'ci', permissions = json.array { 'calling' }, token = C.sw_new }))
      end
      return srv, { SIGNALWIRE_PROJECT_ID = SW_PROJECT, SIGNALWIRE_API_TOKEN = C.sw_token,
        SIGNALWIRE_BASE_URL = srv.url }, { '-p', 'name=ci', '-p', 'permissions=calling,messaging' }
    end,
    codes = { auth = 77, ['500'] = 69, malformed = 76 },
  },
  {
    name = 'dataverse',
    inputs = { { C.dv_token } },
    token = C.dv_new,
    setup = function(fault)
      local srv = mock.start { routes = 'tests/mocks/dataverse.lua', config = { user = 'alice',
        api_token = fault == 'auth' and 'another token' or C.dv_token, new_token = C.dv_new,
        now_ms = NOW_MS, ttl_s = FAR } }
      if fault == '500' then script(srv, echo500(C.dv_token)) end
      if fault == 'malformed' then
        script(srv, truncated({ status = 'OK', data = { message = 'New token for alice is ' .. C.dv_new } }))
      end
      return srv, { DATAVERSE_API_TOKEN = C.dv_token, DATAVERSE_BASE_URL = srv.url }, {}
    end,
    codes = { auth = 77, ['500'] = 69, malformed = 76 },
  },
  {
    name = 'oauth2_client_credentials',
    inputs = { { C.oa_secret, OA_CLIENT } },
    token = C.oa_token,
    setup = function(fault, _, variant)
      local srv = mock.start { routes = 'tests/mocks/oauth2_client_credentials.lua', config = {
        client_id = OA_CLIENT, client_secret = fault == 'auth' and 'another secret' or C.oa_secret,
        token = C.oa_token, expires_in = 3600 } }
      if fault == '500' then
        script(srv, echo500(#variant.args == 0
          and 'Basic ' .. codec.base64(codec.form(OA_CLIENT) .. ':' .. codec.form(C.oa_secret))
          or 'client_secret=' .. codec.form(C.oa_secret)))
      end
      if fault == 'malformed' then
        script(srv, truncated({ access_token = C.oa_token, token_type = 'Bearer', expires_in = 3600 }))
      end
      return srv, { OAUTH2_TOKEN_URL = srv.url .. '/token', OAUTH2_CLIENT_ID = OA_CLIENT,
        OAUTH2_CLIENT_SECRET = C.oa_secret }, { '-p', 'scope=read write' }
    end,
    variants = { { '-p', 'auth_method=client_secret_post' } },   -- the secret in the form body
    codes = { auth = 77, ['500'] = 69, malformed = 76 },
  },
  {
    name = 'dataos',
    inputs = {},
    token = C.dataos_token,
    setup = function(fault, dir)
      local ctl
      if fault == 'auth' then
        ctl = fake_dataos(dir, '', 'ERRO[0000] 🔑 user apikey create...error: not logged in\n', 1)
      elseif fault == '500' then   -- the CLI dies after printing its table
        ctl = fake_dataos(dir, dataos_table(C.dataos_token, '2045-02-27T11:18:45Z'), 'panic: runtime error\n', 2)
      elseif fault == 'malformed' then   -- a table without the EXPIRATION column
        ctl = fake_dataos(dir, dataos_table(C.dataos_token, nil))
      else
        ctl = fake_dataos(dir, dataos_table(C.dataos_token, '2045-02-27T11:18:45Z'))
      end
      return nil, { DATAOS_CTL = ctl }, {}
    end,
    codes = { auth = 69, ['500'] = 69, malformed = 76 },
  },
}

-- The modes: args, whether the token may be on stdout, and the exit code.
local MODES = {
  { name = 'plain', args = {}, stdout_token = true },
  { name = '-v', args = { '-v' }, stdout_token = true },
  { name = '--dry-run', args = { '--dry-run' }, no_token = true },
  { name = '-f env', args = { '-f', 'env' }, stdout_token = true },
  -- no_lease: a lease recipe is refused these (64, before checkout; see tests/cli/output_delivery_spec.lua)
  { name = '-f token', args = { '-f', 'token' }, stdout_token = true, no_lease = true },
  { name = '-f exec-credential', args = { '-f', 'exec-credential' }, stdout_token = true, no_lease = true },
  { name = '-o FILE', output = true },
  { name = '-v -o FILE', args = { '-v' }, output = true },
  { name = '--cache (mint, then reuse)', cache = true, stdout_token = true },
  { name = 'exec', exec = true, only = { pam_checkout = true, velafi = true } },
  { name = 'exec -v', args = { '-v' }, exec = true, only = { pam_checkout = true, velafi = true } },
  { name = 'auth failure', fault = 'auth' },
  { name = 'auth failure -v', args = { '-v' }, fault = 'auth' },
  { name = '500', fault = '500' },
  { name = '500 -v', args = { '-v' }, fault = '500' },
  { name = 'malformed JSON', fault = 'malformed' },
  { name = 'malformed JSON -v', args = { '-v' }, fault = 'malformed' },
  { name = 'malformed JSON -o FILE', fault = 'malformed', output = true },
}

local function append(t, list)
  for _, v in ipairs(list or {}) do t[#t + 1] = v end
  return t
end

-- One cell: runs tokrun (twice for --cache), then looks everywhere.
local function cell(recipe, variant, mode)
  local dir = cli.tmpdir()
  local odir, cdir, tdir, wdir = dir .. '/out', dir .. '/cache', dir .. '/tmp', dir .. '/work'
  for _, d in ipairs({ odir, cdir, tdir, wdir }) do assert(sys.mkdir(d, 448)) end
  local srv, env, extra = recipe.setup(mode.fault, wdir, variant, mode)
  env.TMPDIR = tdir
  local output = mode.output and odir .. '/result' or nil
  local args = { '--retries', '0', '--timeout', '15' }
  if not mode.cache then append(args, { '--now', NOW }) end   -- --now bypasses the cache
  if mode.exec then table.insert(args, 1, 'exec') end
  append(args, mode.args)
  if output then append(args, { '-o', output }) end
  if mode.cache then args[#args + 1] = '--cache=' .. cdir end
  append(args, extra)
  append(args, variant.args)
  args[#args + 1] = cli.recipe(recipe.name)
  if mode.exec then append(args, { '--', 'sh', '-c', 'true' }) end

  local runs = { cli.run(args, env, { timeout = 20 }) }
  if mode.cache then runs[2] = cli.run(args, env, { timeout = 20 }) end
  if srv then srv:stop() end

  local inputs = detector(recipe.inputs)
  local token = detector({ { variant.token } })
  for i, r in ipairs(runs) do
    local label = string.format('%s %s[%s] run %d', recipe.name, table.concat(variant.args or {}, ' '), mode.name, i)
    -- the run did what the mode says
    if mode.fault then
      assert.equal(recipe.codes[mode.fault], r.code, label .. ': ' .. r.stderr)
    else
      assert.equal(0, r.code, label .. ': ' .. r.stderr)
    end
    assert.is_nil(r.stderr:find('stack traceback', 1, true), label .. ': ' .. r.stderr)
    if mode.cache then assert.equal(i == 2, r.json and r.json.cached, label .. ': ' .. r.stdout) end
    if mode.stdout_token then assert.truthy(token(r.stdout), label .. ': the token is not on stdout') end
    if output and not mode.fault then
      assert.truthy(token(sys.read_file(output, 65536) or ''), label .. ': the token is not in the -o file')
    end
    -- and left the canaries only where they belong
    for _, s in ipairs(surfaces(r, { odir, cdir, tdir }, output)) do
      local where, text, kind = s[1], s[2], s[3]
      local found = inputs(text)
      assert.is_nil(found, label .. ': an input secret (' .. tostring(found) .. ') in ' .. where .. ':\n' .. text)
      local may = (kind == 'stdout' and mode.stdout_token and not mode.fault) or kind == 'output' or kind == 'entry'
      if not may then
        found = token(text)
        assert.is_nil(found, label .. ': the token (' .. tostring(found) .. ') in ' .. where .. ':\n' .. text)
      end
    end
  end
  return #runs
end

describe('the leak matrix', function()
  local cells = 0
  lazy_teardown(function()
    cli.cleanup()
    mock.stop_all()
    io.stderr:write(string.format('leak matrix: %d runs\n', cells))
  end)

  for _, recipe in ipairs(RECIPES) do
    local variants = { { args = {} } }
    for _, v in ipairs(recipe.variants or {}) do variants[#variants + 1] = { args = v } end
    describe(recipe.name, function()
      lazy_setup(function()
        for _, v in ipairs(variants) do
          v.token = recipe.token
          if not v.token then   -- learn the token the mock mints (a JWT)
            local dir = cli.tmpdir()
            local srv, env, extra = recipe.setup(nil, dir, v, {})
            local r = cli.run(append(append(append({ '--now', NOW }, extra), v.args), { cli.recipe(recipe.name) }), env)
            srv:stop()
            assert.equal(0, r.code, r.stderr)
            v.token = r.json.token
          end
        end
      end)
      for _, variant in ipairs(variants) do
        for _, mode in ipairs(MODES) do
          local skip = (mode.only and not mode.only[recipe.name]) or ((mode.cache or mode.no_lease) and recipe.lease)
          if not skip then
            it(string.format('%s%s: canaries only where they belong',
              mode.name, #variant.args > 0 and (' ' .. table.concat(variant.args, ' ')) or ''), function()
              cells = cells + cell(recipe, variant, mode)
            end)
          end
        end
      end
    end)
  end

  it('--cache with a lease recipe is a usage error that prints nothing secret', function()
    local recipe = RECIPES[3]
    local dir = cli.tmpdir()
    local srv, env, extra = recipe.setup(nil, dir, {}, {})
    local r = cli.run(append(append({ '--cache=' .. dir }, extra), { cli.recipe('pam_checkout') }), env)
    srv:stop()
    assert.equal(64, r.code)
    assert.is_nil(detector(recipe.inputs)(r.stdout .. r.stderr))
    assert.is_nil(detector({ { C.pam_passwd } })(r.stdout .. r.stderr))
  end)
end)
