-- tokrun.jwt: compact JWS tokens signed by tokrun.sign, time claims from a
-- given clock, certificate thumbprints, decoding for display.  Keys come
-- from `openssl genpkey`; signatures are checked again by openssl.
local jwt = require 'tokrun.jwt'
local sign = require 'tokrun.sign'
local codec = require 'tokrun.codec'
local json = require 'tokrun.json'
local keys = require 'keys_helper'
local cli = require 'cli_helper'

local NOW = 1740568725   -- 2025-02-26T11:18:45Z

describe('tokrun.jwt', function()
  local dir, rsa, ec

  setup(function()
    dir = keys.dir(cli.tmpdir())
    rsa = assert(sign.load_key(dir:key('rsa', 'rsa2048')))
    ec = assert(sign.load_key(dir:key('ec', 'p256')))
  end)
  teardown(cli.cleanup)

  it('builds a compact JWS whose signature openssl accepts', function()
    local token = assert(jwt.encode('RS256', rsa, { typ = 'JWT', kid = 'k1' }, { iss = 'app', n = 7 }))
    local h, c = token:match('^([%w_-]+)%.([%w_-]+)%.[%w_-]+$')
    assert.same({ alg = 'RS256', typ = 'JWT', kid = 'k1' }, json.decode(codec.unbase64url(h)))
    assert.same({ iss = 'app', n = 7 }, json.decode(codec.unbase64url(c)))
    assert.is_true(dir:verify_jwt(token, 'rsa'))
    local es = assert(jwt.encode('ES256', ec, {}, { iss = 'app' }))
    assert.is_true(dir:verify_jwt(es, 'ec'))
  end)

  it('sets alg itself, whatever the header fields say', function()
    local token = assert(jwt.encode('ES256', ec, { alg = 'none' }, {}))
    assert.equal('ES256', jwt.decode(token).alg)
  end)

  it('returns nil and the reason for a key that does not fit alg', function()
    local token, msg = jwt.encode('RS256', ec, {}, {})
    assert.is_nil(token)
    assert.equal('the key is EC P-256, RS256 needs an RSA key', msg)
  end)

  it('raises on an unknown algorithm (a recipe error, caught by check)', function()
    assert.error_matches(function() jwt.encode('HS256', rsa, {}, {}) end, "unknown JWS algorithm 'HS256'")
    assert.error_matches(function() jwt.encode('none', rsa, {}, {}) end, 'unknown JWS algorithm')
  end)

  describe('time claims', function()
    it('takes iat, nbf and exp from the clock it is given', function()
      assert.same({ iat = NOW, nbf = NOW, exp = NOW + 3600 }, jwt.time_claims(NOW, { iat = true, nbf = true, exp = 3600 }))
    end)

    it('backdates iat and counts exp from it (GitHub: iat now-60, exp now+540)', function()
      assert.same({ iat = NOW - 60, exp = NOW + 540 }, jwt.time_claims(NOW, { iat = { backdate = 60 }, exp = 600 }))
    end)

    it('counts exp from now when there is no iat, and backdates nbf on its own', function()
      assert.same({ exp = NOW + 300, nbf = NOW - 5 }, jwt.time_claims(NOW, { exp = 300, nbf = { backdate = 5 } }))
    end)

    it('gives each token a fresh random jti in UUID form', function()
      local seen = {}
      for _ = 1, 50 do
        local jti = jwt.time_claims(NOW, { jti = true }).jti
        assert.matches('^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$', jti)
        assert.is_nil(seen[jti])
        seen[jti] = true
      end
    end)

    it('raises on lifetimes that are not whole seconds', function()
      assert.error_matches(function() jwt.time_claims(NOW, { exp = 1.5 }) end, 'exp must be a whole number')
      assert.error_matches(function() jwt.time_claims(NOW, { exp = -1 }) end, 'exp must be a whole number')
      assert.error_matches(function() jwt.time_claims(NOW, { iat = { backdate = '60' } }) end, 'iat.backdate')
    end)
  end)

  describe('x5t', function()
    it('is the base64url SHA-1 or SHA-256 of the DER certificate, as openssl computes it', function()
      local cert = dir:cert('rsa')
      assert.equal(codec.base64url(dir:thumbprint('rsa', 'sha1')), jwt.x5t(cert, 'sha1'))
      assert.equal(codec.base64url(dir:thumbprint('rsa', 'sha256')), jwt.x5t(cert, 'sha256'))
      assert.equal(43, #jwt.x5t(cert, 'sha256'))
    end)

    it('returns nil and a message for what is not a certificate', function()
      local t, msg = jwt.x5t('-----BEGIN NOTHING-----', 'sha1')
      assert.is_nil(t)
      assert.equal('not a certificate (PEM or DER)', msg)
    end)
  end)

  describe('decode', function()
    it('returns the header, the claims and the raw signature without verifying', function()
      local token = assert(jwt.encode('ES256', ec, { typ = 'JWT' }, { exp = NOW, aud = 'x' }))
      local h, c, s = jwt.decode(token)
      assert.same({ alg = 'ES256', typ = 'JWT' }, h)
      assert.same({ exp = NOW, aud = 'x' }, c)
      assert.equal(64, #s)
      assert.equal(NOW, jwt.exp(token))
    end)

    it('describes a token for --dry-run with its signature redacted', function()
      local token = assert(jwt.encode('ES256', ec, { typ = 'JWT' }, { iss = 'me' }))
      local sig = token:match('[^.]+$')
      local text = jwt.describe(token)
      assert.equal('header {"alg":"ES256","typ":"JWT"} claims {"iss":"me"} signature ***', text)
      assert.not_matches(sig, text, 1, true)
    end)

    it('returns nil and a message for what is not a JWS', function()
      for _, bad in ipairs({ 'abc', 'a.b', 'a.b.c.d', '!!.e30.x', 'e30.bm90IGpzb24.x', 'bm9wZQ.e30.x' }) do
        local h, msg = jwt.decode(bad)
        assert.is_nil(h)
        assert.is_string(msg)
      end
      assert.is_nil(jwt.exp('a.b.c'))
      assert.equal('(not a JWT)', jwt.describe('nope'))
    end)
  end)
end)
