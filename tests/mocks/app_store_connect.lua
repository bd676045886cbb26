-- The App Store Connect API as a token holder meets it: GET /v1/apps with
-- Authorization: Bearer JWT.  The JWT must be ES256 with kid a known API
-- key and typ JWT, signed by that key (verified), iss the team's issuer
-- ID, aud appstoreconnect-v1, iat not in the future, exp in the future and
-- at most 20 minutes after iat, and a scope, when there is one, that
-- allows the request.  401 is Apple's {"errors":[{"status","code":
-- "NOT_AUTHORIZED","title","detail"}]}.
-- config: keys (key id -> public key PEM), issuer_id, now.
return function(config)
  local check = dofile('tests/mocks/jwt_check.lua')
  local codec = require 'tokrun.codec'
  local json = require 'tokrun.json'

  local function unauthorized()
    return { status = 401, json = { errors = { { status = '401', code = 'NOT_AUTHORIZED',
      title = 'Authentication credentials are missing or invalid.',
      detail = 'Provide a properly configured and signed bearer token, and make sure that it has not expired. '
        .. 'Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens' } } } }
  end

  local function allowed(claims, req)
    if claims.scope == nil then return true end
    if type(claims.scope) ~= 'table' then return false end
    for _, s in ipairs(claims.scope) do
      if s == req.method .. ' ' .. req.path then return true end
    end
    return false
  end

  return {
    ['GET /v1/apps'] = function(req)
      local token = check.bearer(req)
      local h = token and json.decode(codec.unbase64url(token:match('^[^.]*')) or '')
      local pub = type(h) == 'table' and config.keys[h.kid or '']
      if not pub or h.typ ~= 'JWT' then return unauthorized() end
      local header, claims = check.read(token, pub, { 'ES256' })
      if not header or claims.iss ~= config.issuer_id or claims.aud ~= 'appstoreconnect-v1' then
        return unauthorized()
      end
      local iat, exp = check.int(claims.iat), check.int(claims.exp)
      if not iat or not exp or iat > config.now or exp <= config.now or exp - iat > 1200 then
        return unauthorized()
      end
      if not allowed(claims, req) then return unauthorized() end
      return { json = { data = { { type = 'apps', id = '1234567890', attributes = { name = 'Acme' } } },
        links = { self = 'https://api.appstoreconnect.apple.com/v1/apps' } } }
    end,
  }
end
