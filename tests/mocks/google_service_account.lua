-- Google's OAuth 2.0 token endpoint for the JWT bearer grant (RFC 7523) as
-- service accounts use it: POST /token, form grant_type=urn:ietf:params:
-- oauth:grant-type:jwt-bearer&assertion=JWT.  The assertion must be RS256
-- with kid a key of the account, signed by it (verified), iss the
-- account's email, aud this token URL, scope known scopes, iat and exp
-- within Google's bounds (exp at most an hour after iat, iat not in the
-- future, exp not past), sub only when delegation is allowed.
-- Success {"access_token","expires_in","token_type"}; errors
-- {"error","error_description"} as Google writes them.
-- config: public_key (PEM), key_id, client_email, scopes (allowed), now
-- (this server's clock), token, delegation (sub allowed).
return function(config, mock)
  local check = dofile('tests/mocks/jwt_check.lua')

  local function fail(status, error, description)
    return { status = status, headers = { Date = check.date(config.now) },
      json = { error = error, error_description = description } }
  end
  local TIMEFRAME = 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. '
    .. 'Check your iat and exp values in the JWT claim.'

  local function scopes_ok(scope)
    local allowed = {}
    for _, s in ipairs(config.scopes) do allowed[s] = true end
    local n = 0
    for s in (scope or ''):gmatch('%S+') do
      if not allowed[s] then return false end
      n = n + 1
    end
    return n > 0
  end

  return {
    ['POST /token'] = function(req)
      if not (req.headers['content-type'] or ''):match('^application/x%-www%-form%-urlencoded') then
        return fail(400, 'invalid_request', 'Invalid Content-Type')
      end
      local f = check.form(req.body)
      if not f then return fail(400, 'invalid_request', 'Invalid request') end
      if f.grant_type ~= 'urn:ietf:params:oauth:grant-type:jwt-bearer' then
        return fail(400, 'unsupported_grant_type', 'Invalid grant_type: ' .. tostring(f.grant_type))
      end
      local header, claims = check.read(f.assertion, config.public_key, { 'RS256' })
      if not header or header.kid ~= config.key_id then return fail(400, 'invalid_grant', 'Invalid JWT Signature.') end
      if claims.iss ~= config.client_email then return fail(400, 'invalid_grant', 'Invalid grant: account not found') end
      if claims.aud ~= mock.url .. '/token' then
        return fail(400, 'invalid_grant', 'Invalid JWT: Failed audience check.')
      end
      local iat, exp = check.int(claims.iat), check.int(claims.exp)
      if not iat or not exp or iat > config.now + 10 or exp <= config.now or exp - iat > 3600 then
        return fail(400, 'invalid_grant', TIMEFRAME)
      end
      if claims.sub ~= nil and not config.delegation then
        return fail(401, 'unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, '
          .. 'or client not authorized for any of the scopes requested.')
      end
      if not scopes_ok(claims.scope) then
        return fail(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.')
      end
      return { headers = { Date = check.date(config.now), ['Cache-Control'] = 'no-cache, no-store' },
        json = { access_token = config.token, expires_in = 3599, token_type = 'Bearer' } }
    end,
  }
end
