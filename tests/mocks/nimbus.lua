-- Nimbus Cloud, the made-up provider of the README's asymmetric
-- walkthrough: POST /oauth/token, form grant_type=urn:ietf:params:oauth:
-- grant-type:jwt-bearer&assertion=JWT.  The assertion must be ES256, its
-- kid a registered key whose public half verifies it, iss = sub = the
-- service, aud this URL, exp in the future and at most 5 minutes after
-- iat.  config: service_id, keys (kid -> public key PEM), token, now.
return function(config, mock)
  local check = dofile('tests/mocks/jwt_check.lua')
  local json, codec = require 'tokrun.json', require 'tokrun.codec'

  local function fail(status, error, description)
    return { status = status, headers = { Date = check.date(config.now) },
      json = { error = error, error_description = description } }
  end

  return {
    ['POST /oauth/token'] = function(req)
      local f = check.form(req.body) or {}
      if f.grant_type ~= 'urn:ietf:params:oauth:grant-type:jwt-bearer' then
        return fail(400, 'unsupported_grant_type', 'jwt-bearer only')
      end
      local h = json.decode(codec.unbase64url((f.assertion or ''):match('^[^.]*')) or '')
      local pub = type(h) == 'table' and config.keys[tostring(h.kid)]
      if not pub then return fail(400, 'invalid_grant', 'unknown key') end
      local header, claims = check.read(f.assertion, pub, { 'ES256' })
      if not header then return fail(400, 'invalid_grant', 'bad signature') end
      if claims.iss ~= config.service_id or claims.sub ~= config.service_id
        or claims.aud ~= mock.url .. '/oauth/token' then
        return fail(400, 'invalid_grant', 'wrong issuer, subject or audience')
      end
      local iat, exp = check.int(claims.iat), check.int(claims.exp)
      if not iat or not exp or iat > config.now or exp <= config.now or exp - iat > 300 then
        return fail(401, 'invalid_grant', 'assertion expired or not yet valid')
      end
      return { json = { access_token = config.token, token_type = 'bearer', expires_in = 3600 } }
    end,
  }
end
