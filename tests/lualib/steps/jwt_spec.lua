-- The jwt step kind: a signed JWT from the step's words, kept under the
-- step's name for later templates and emit, time claims from the run's
-- clock, key problems reported as config errors naming the parameter.
local engine = require 'tokrun.engine'
local recipe = require 'tokrun.recipe'
local redact = require 'tokrun.redact'
local jwt = require 'tokrun.jwt'
local keys = require 'keys_helper'
local cli = require 'cli_helper'

local NOW = 1740568725

local function run(decl, values, opts)
  opts = opts or {}
  local lines, secrets = {}, redact.new()
  local ok, res = pcall(engine.run, {
    decl = recipe.validate(decl, 'test.lua'), values = values, secrets = secrets,
    now_ms = function() return NOW * 1000 + 231 end, deadline = math.huge, retries = 0, tls = {},
    dry_run = opts.dry_run, clock_offset = opts.offset,
    log = function() end, out = function(l) lines[#lines + 1] = secrets:apply(l) end,
  })
  return ok, res, table.concat(lines, '\n'), secrets
end

local function decl(spec, extra)
  local d = { name = 'mint', params = { { name = 'key', env = 'K', secret = true }, { name = 'alg', default = 'ES256' },
      { name = 'pass', env = 'P', secret = true } },
    steps = { { name = 'made', jwt = spec } },
    emit = { token = '{made}', expires_at = '{made|jwt_exp}' } }
  for k, v in pairs(extra or {}) do d[k] = v end
  return d
end

describe('a jwt step', function()
  local dir, pem
  setup(function()
    dir = keys.dir(cli.tmpdir())
    pem = dir:key('k', 'p256')
  end)
  teardown(cli.cleanup)

  it('keeps the signed JWT under its name; emit reads its exp', function()
    local ok, res = run(decl({ alg = '{alg}', key = '{key}', header = { kid = 'k1' }, claims = { iss = 'me' },
      iat = { backdate = 30 }, nbf = true, exp = 300 }), { key = pem, alg = 'ES256' })
    assert.is_true(ok, tostring(res))
    local header, claims = jwt.decode(res.token)
    assert.same({ alg = 'ES256', kid = 'k1' }, header)
    assert.same({ iss = 'me', iat = NOW - 30, nbf = NOW - 30, exp = NOW + 270 }, claims)
    assert.equal(NOW + 270, res.expires_epoch)
    assert.is_true(dir:verify_jwt(res.token, 'k'))
  end)

  it('moves its time claims by the clock offset a provider revealed', function()
    local _, res = run(decl({ alg = 'ES256', key = '{key}', iat = true, exp = 60 }), { key = pem }, { offset = -500 })
    assert.same({ iat = NOW - 500, exp = NOW - 440 }, select(2, jwt.decode(res.token)))
  end)

  it('offers {key_fingerprint} to its claims', function()
    local _, res = run(decl({ alg = 'ES256', key = '{key}', claims = { fp = '{key_fingerprint}' } }), { key = pem })
    assert.equal('SHA256:' .. require('tokrun.codec').base64(dir:spki_sha256('k')), select(2, jwt.decode(res.token)).fp)
  end)

  it('is a secret: a dry run shows header and claims, never the token', function()
    local ok, res, out, secrets = run(decl({ alg = 'ES256', key = '{key}', claims = { iss = 'me' } }), { key = pem },
      { dry_run = true })
    assert.is_true(ok, tostring(res))
    assert.equal('# mint: step made\njwt header {"alg":"ES256"} claims {"iss":"me"} signature ***', out)
    assert.equal('x', secrets:apply('x'))
    local _, res2, _, secrets2 = run(decl({ alg = 'ES256', key = '{key}' }), { key = pem })
    assert.equal('***', secrets2:apply(res2.token))
  end)

  it('reports a bad key, a missing key and a bad alg as config errors naming the parameter', function()
    local cases = {
      { { key = 'junk', alg = 'ES256' }, "mint: step made: parameter 'key': not a private key" },
      { { alg = 'ES256' }, "mint: step made: parameter 'key': the private key is not set" },
      { { key = pem, alg = 'RS256' }, "mint: step made: parameter 'key': the key is EC P-256, RS256 needs an RSA key" },
      { { key = pem, alg = 'HS256' }, "mint: step made: parameter 'alg': alg must be one of RS256" },
    }
    for _, c in ipairs(cases) do
      local ok, err = run(decl({ alg = '{alg}', key = '{key}', passphrase = '{pass}' }), c[1])
      assert.is_false(ok)
      assert.equal('config', err.kind)
      assert.matches(c[2], err.message, 1, true)
    end
  end)

  it('is checked: unknown alg, words, and placeholders are recipe errors', function()
    local function refused(spec, msg)
      local ok, err = pcall(recipe.validate, decl(spec), 'test.lua')
      assert.is_false(ok)
      assert.equal('recipe', err.kind)
      assert.matches(msg, err.message, 1, true)
    end
    refused({ alg = 'ES265', key = '{key}' }, "did you mean 'ES256'")
    refused({ alg = 'ES256', key = '{key}', exp = 1.5 }, 'exp')
    refused({ alg = 'ES256', key = '{key}', iat = { backdate = -1 } }, 'backdate')
    refused({ alg = 'ES256', key = '{key}', claims = { iss = '{nope}' } }, "undeclared placeholder '{nope}'")
    refused({ alg = 'ES256', key = '{key}', kid = 'x' }, "unknown word 'kid'")
    refused({ alg = 'ES256' }, "missing 'key'")
  end)
end)
