-- Snowflake's SQL API as a key-pair client meets it: POST
-- /api/v2/statements with Authorization: Bearer JWT and
-- X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT.  The JWT must be
-- RS256, signed by one of the user's registered public keys
-- (RSA_PUBLIC_KEY, RSA_PUBLIC_KEY_2 during a rotation), sub ACCOUNT.USER,
-- iss sub.SHA256:<that key's fingerprint>, iat not in the future, exp in
-- the future and at most an hour after iat.  Errors are Snowflake's
-- {"code","message"}: 390144 JWT token is invalid.
-- config: account (as Snowflake names it, e.g. XY12345), user (upper
-- case), public_keys (PEM list), now.
return function(config)
  local check = dofile('tests/mocks/jwt_check.lua')
  local sign = require 'tokrun.sign'
  local codec = require 'tokrun.codec'

  local function invalid(why)
    return { status = 401, headers = { Date = check.date(config.now) },
      json = { code = '390144', message = 'JWT token is invalid. [' .. why .. ']' } }
  end

  local function verify(token)
    local qualified = config.account .. '.' .. config.user
    for _, pub in ipairs(config.public_keys) do
      local header, claims = check.read(token, pub, { 'RS256' })
      local fp = 'SHA256:' .. codec.base64(sign.spki_fingerprint(pub))
      if header and claims.iss == qualified .. '.' .. fp then
        if claims.sub ~= qualified then return nil, 'sub' end
        local iat, exp = check.int(claims.iat), check.int(claims.exp)
        if not iat or not exp or iat > config.now + 60 or exp <= config.now or exp - iat > 3600 then
          return nil, 'time'
        end
        return claims
      end
    end
    return nil, 'signature or fingerprint'
  end

  return {
    ['POST /api/v2/statements'] = function(req)
      if req.headers['x-snowflake-authorization-token-type'] ~= 'KEYPAIR_JWT' then
        return { status = 401, json = { code = '390101', message = 'Authorization header not found in the request.' } }
      end
      local claims, why = verify(check.bearer(req))
      if not claims then return invalid(why) end
      return { json = { code = '090001', message = 'Statement executed successfully.',
        statementHandle = '01b2c3d4-0000-0000-0000-000000000001', data = { { claims.sub } } } }
    end,
  }
end
