-- JSON Web Tokens (RFC 7519) in the compact JWS serialization (RFC 7515
-- section 7.1): base64url(header) . base64url(claims) . base64url(signature),
-- signed by tokrun.sign.  Time claims come from the clock the caller
-- passes (the run's, so --now reproduces them).  decode() reads a token
-- without checking it: it is for showing what was built (--dry-run) and
-- for reading `exp`, never for trusting a token.
local codec = require 'tokrun.codec'
local json = require 'tokrun.json'
local sign = require 'tokrun.sign'

local M = {}

local type, pairs, tostring, error, math_type = type, pairs, tostring, error, math.type
local byte, format, match = string.byte, string.format, string.match
local b64u, unb64u = codec.base64url, codec.unbase64url

M.ALGS = { RS256 = true, RS384 = true, RS512 = true, PS256 = true, PS384 = true, PS512 = true,
  ES256 = true, ES384 = true, ES512 = true, EdDSA = true }
M.ALG_LIST = 'RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA'

-- M.uuid() -> a random (version 4, RFC 9562 section 5.4) UUID: 122 random
-- bits from tokrun's random source (sys.random)
function M.uuid()
  local r = require('tokrun.sys').random(16)
  local b = { byte(r, 1, 16) }
  b[7] = (b[7] & 0x0f) | 0x40
  b[9] = (b[9] & 0x3f) | 0x80
  return format('%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x',
    b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15], b[16])
end

local function seconds(v, what)
  if math_type(v) ~= 'integer' or v < 0 then
    error(format('%s must be a whole number of seconds, got %s', what, tostring(v)), 3)
  end
  return v
end

-- M.time_claims(now, spec) -> { iat=, nbf=, exp=, jti= } (those asked for)
-- now: seconds since the epoch.  spec: iat = true | { backdate = S },
-- nbf = true (= iat) | { backdate = S }, exp = S (the lifetime, counted
-- from iat, or from now without one), jti = true.
function M.time_claims(now, spec)
  seconds(now, 'now')
  local out = {}
  local iat = now
  if type(spec.iat) == 'table' then iat = now - seconds(spec.iat.backdate or 0, 'iat.backdate') end
  if spec.iat then out.iat = iat end
  if type(spec.nbf) == 'table' then
    out.nbf = now - seconds(spec.nbf.backdate or 0, 'nbf.backdate')
  elseif spec.nbf then
    out.nbf = iat
  end
  if spec.exp ~= nil then out.exp = (spec.iat and iat or now) + seconds(spec.exp, 'exp') end
  if spec.jti then out.jti = M.uuid() end
  return out
end

-- M.encode(alg, key, header, claims) -> compact JWS | nil, message
-- header: extra header parameters (kid, typ, x5t, ...); alg is set here.
-- claims: the JWT claims set.
function M.encode(alg, key, header, claims)
  if not M.ALGS[alg] then error(format("unknown JWS algorithm '%s'", tostring(alg)), 2) end
  if type(header) ~= 'table' or type(claims) ~= 'table' then error('header and claims must be tables', 2) end
  local h = { alg = alg }
  for k, v in pairs(header) do
    if k ~= 'alg' then h[k] = v end
  end
  local input = b64u(json.encode(h)) .. '.' .. b64u(json.encode(claims))
  local sig, msg = sign.sign(alg, key, input)
  if not sig then return nil, msg end
  return input .. '.' .. b64u(sig)
end

-- M.x5t(cert, 'sha1' | 'sha256') -> base64url thumbprint of the DER
-- certificate (header x5t, x5t#S256) | nil, message
function M.x5t(cert, md)
  local t, msg = sign.thumbprint(cert, md)
  if not t then return nil, msg end
  return b64u(t)
end

local function part(s, what)
  local raw = unb64u(s)
  local v = raw and json.decode(raw)
  if type(v) ~= 'table' then return nil, what .. ' is not base64url JSON' end
  return v
end

-- M.decode(token) -> header, claims, signature (raw) | nil, message.
-- Nothing is verified.
function M.decode(token)
  if type(token) ~= 'string' then return nil, 'not a JWT' end
  local h, c, s = match(token, '^([%w_-]+)%.([%w_-]+)%.([%w_-]*)$')
  if not h then return nil, 'not a compact JWS (header.claims.signature)' end
  local header, msg = part(h, 'the header')
  if not header then return nil, msg end
  local claims
  claims, msg = part(c, 'the claims')
  if not claims then return nil, msg end
  return header, claims, unb64u(s) or ''
end

-- M.exp(token) -> the exp claim (seconds since the epoch) | nil
M.exp = require('tokrun.response').jwt_exp

-- M.describe(token) -> "header {...} claims {...} signature ***", what
-- --dry-run prints: everything but the signature
function M.describe(token)
  local header, claims = M.decode(token)
  if not header then return '(not a JWT)' end
  return format('header %s claims %s signature ***', json.encode(header), json.encode(claims))
end

return M
