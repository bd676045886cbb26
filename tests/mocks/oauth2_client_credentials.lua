-- An OAuth 2.0 token endpoint for the client credentials grant (RFC 6749
-- section 4.4): POST /token, application/x-www-form-urlencoded body with
-- grant_type=client_credentials, scope?, audience?; the client
-- authenticates by exactly one method (section 2.3.1): HTTP Basic over the
-- form-urlencoded id and secret, or client_id/client_secret in the body.
-- Errors are section 5.2's {"error","error_description"}: invalid_client is
-- 401 (with WWW-Authenticate) when the client tried Basic, else 400.
-- config: client_id, client_secret, token, expires_in?, token_type?,
-- auth_method? (the one registered; any when unset), scopes? (allowed),
-- audience? (required value), unauthorized? (client may not use the grant),
-- resources? (the resource indicators it knows, RFC 8707: another is
-- invalid_target), granted_scope? (what it grants instead of what was asked).
return function(config)
  local codec = require 'tokrun.codec'

  local function fail(status, error, description, basic)
    return { status = status, headers = {
        ['Cache-Control'] = 'no-store',
        ['WWW-Authenticate'] = basic and 'Basic realm="token"' or nil },
      json = { error = error, error_description = description } }
  end

  local function form(body)
    local out = {}
    for pair in body:gmatch('[^&]+') do
      local k, v = pair:match('^([^=]*)=(.*)$')
      if not k then return nil end
      k, v = codec.unpct(k, true), codec.unpct(v, true)
      if not k or not v or out[k] then return nil end   -- repeated parameters are invalid (3.2)
      out[k] = v
    end
    return out
  end

  -- id, secret, method | nil, error response
  local function client(req, f)
    local auth = req.headers.authorization
    local in_body = f.client_id ~= nil or f.client_secret ~= nil
    if auth and in_body then
      return nil, fail(400, 'invalid_request', 'use only one client authentication method')
    end
    if auth then
      local b64 = auth:match('^Basic (%S+)$')
      local raw = b64 and codec.unbase64(b64)
      local id, secret = (raw or ''):match('^([^:]*):(.*)$')
      id, secret = id and codec.unpct(id, true), secret and codec.unpct(secret, true)
      if not (id and secret) then return nil, fail(401, 'invalid_client', 'malformed Basic credentials', true) end
      return id, secret, 'client_secret_basic'
    end
    if in_body then return f.client_id, f.client_secret, 'client_secret_post' end
    return nil, fail(401, 'invalid_client', 'client authentication required', true)
  end

  local function scopes_ok(scope)
    if scope == nil or config.scopes == nil then return true end
    local allowed = {}
    for _, s in ipairs(config.scopes) do allowed[s] = true end
    for s in scope:gmatch('%S+') do if not allowed[s] then return false end end
    return true
  end

  return {
    ['POST /token'] = function(req)
      if not (req.headers['content-type'] or ''):match('^application/x%-www%-form%-urlencoded') then
        return fail(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded')
      end
      local f = form(req.body or '')
      if not f then return fail(400, 'invalid_request', 'malformed or repeated form parameters') end
      local id, secret, method = client(req, f)
      if not id then return secret end
      local basic = method == 'client_secret_basic'
      if id ~= config.client_id or secret ~= config.client_secret
        or (config.auth_method and method ~= config.auth_method) then
        return fail(basic and 401 or 400, 'invalid_client', 'client authentication failed', basic)
      end
      if f.grant_type == nil then return fail(400, 'invalid_request', 'grant_type is required') end
      if f.grant_type ~= 'client_credentials' then
        return fail(400, 'unsupported_grant_type', 'only client_credentials is supported')
      end
      if config.unauthorized then
        return fail(400, 'unauthorized_client', 'this client may not use the client_credentials grant')
      end
      if not scopes_ok(f.scope) then return fail(400, 'invalid_scope', 'unknown scope: ' .. f.scope) end
      if config.audience and f.audience ~= config.audience then
        return fail(400, 'invalid_request', 'unknown audience')
      end
      if f.resource ~= nil then
        local known = false
        for _, r in ipairs(config.resources or {}) do known = known or r == f.resource end
        if not f.resource:match('^%a[%w+.-]*://[^#]*$') or not known then
          return fail(400, 'invalid_target', 'the resource is invalid, unknown or malformed: ' .. f.resource)
        end
      end
      return { status = 200, headers = { ['Cache-Control'] = 'no-store', Pragma = 'no-cache' },
        json = { access_token = config.token, token_type = config.token_type or 'Bearer',
                 expires_in = config.expires_in, scope = config.granted_scope or f.scope } }
    end,
  }
end
