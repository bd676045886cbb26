-- The Microsoft identity platform's v2.0 token endpoint for the client
-- credentials grant with a certificate credential: POST
-- /{tenant}/oauth2/v2.0/token, form client_id, scope, client_assertion_type
-- (jwt-bearer), client_assertion, grant_type=client_credentials.  The
-- assertion is verified under the registered certificate: PS256 with
-- x5t#S256, or RS256 with x5t (SHA-1), the thumbprint that certificate's;
-- aud this token URL, iss = sub = the client id, a jti never seen before,
-- nbf/iat not in the future, exp in the future and at most 10 minutes
-- after nbf.  Success {"access_token","expires_in","ext_expires_in",
-- "token_type"}; errors {"error","error_description","error_codes",...}
-- with AADSTS numbers (700024: not within its valid time range).
-- config: certificate (PEM), tenant, client_id, scopes (allowed), now, token.
return function(config, mock)
  local check = dofile('tests/mocks/jwt_check.lua')
  local sign = require 'tokrun.sign'
  local codec = require 'tokrun.codec'

  local path = '/' .. config.tenant .. '/oauth2/v2.0/token'
  local function fail(status, error, code, text)
    return { status = status, headers = { Date = check.date(config.now) }, json = { error = error,
      error_description = string.format('AADSTS%d: %s Trace ID: 0f6c. Timestamp: %s', code, text,
        os.date('!%Y-%m-%d %H:%M:%SZ', config.now)),
      error_codes = { code }, timestamp = os.date('!%Y-%m-%d %H:%M:%SZ', config.now),
      trace_id = '0f6c', correlation_id = '5a1e' } }
  end
  local THUMB = { PS256 = { 'x5t#S256', 'sha256' }, RS256 = { 'x5t', 'sha1' } }

  local function assertion_problem(f, state)
    local header, claims = check.read(f.client_assertion, config.certificate, { 'PS256', 'RS256' })
    if not header then
      return fail(401, 'invalid_client', 700027, 'Client assertion failed signature validation.')
    end
    local word, md = THUMB[header.alg][1], THUMB[header.alg][2]
    if header[word] ~= codec.base64url(sign.thumbprint(config.certificate, md)) then
      return fail(401, 'invalid_client', 700027, 'The certificate with identifier used to sign the client '
        .. 'assertion is not registered on application.')
    end
    if claims.aud ~= mock.url .. path then
      return fail(401, 'invalid_client', 700021, 'Client assertion application identifier doesn\'t match '
        .. '\'client_id\' parameter or the audience is invalid.')
    end
    if claims.iss ~= config.client_id or claims.sub ~= config.client_id or f.client_id ~= config.client_id then
      return fail(401, 'invalid_client', 700023, 'Client assertion audience claim does not match Realm issuer.')
    end
    local nbf, exp = check.int(claims.nbf), check.int(claims.exp)
    if not nbf or not exp or nbf > config.now or exp <= config.now or exp - nbf > 600 then
      return fail(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.')
    end
    if type(claims.jti) ~= 'string' or state.jti[claims.jti] then
      return fail(401, 'invalid_client', 7000215, 'Client assertion has been used before (jti replayed).')
    end
    state.jti[claims.jti] = true
  end

  return {
    ['POST /*'] = function(req, state)
      state.jti = state.jti or {}
      if req.path ~= path then
        return fail(400, 'invalid_request', 90002, "Tenant '" .. req.path:match('^/([^/]*)') .. "' not found.")
      end
      local f = check.form(req.body)
      if not f then return fail(400, 'invalid_request', 900144, 'The request body must contain grant_type.') end
      if f.grant_type ~= 'client_credentials' then
        return fail(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.')
      end
      if f.client_assertion_type ~= 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' then
        return fail(400, 'invalid_request', 700025, 'Client is public so neither client_assertion nor '
          .. 'client_secret should be presented.')
      end
      local bad = assertion_problem(f, state)
      if bad then return bad end
      local known = false
      for _, s in ipairs(config.scopes) do known = known or s == f.scope end
      if not known then
        return fail(400, 'invalid_scope', 1002012, 'The provided value for scope ' .. tostring(f.scope)
          .. ' is not valid.')
      end
      return { headers = { Date = check.date(config.now) }, json = { token_type = 'Bearer', expires_in = 3599,
        ext_expires_in = 3599, access_token = config.token } }
    end,
  }
end
