-- Velt's token endpoints as documented.
-- v1: POST /v1/auth/token/get, JSON {"data":{"apiKey","authToken","userId",
--     "userProperties":{"organizationId","isAdmin"?,"email"?}}}
-- v2: POST /v2/auth/generate_token, headers x-velt-api-key and
--     x-velt-auth-token, the same body without the keys.
-- Success {"result":{"status":"success","message","data":{"token":JWT}}};
-- errors {"error":{"message","status"}} with gRPC status strings.
-- config: api_key, auth_token, now_ms, ttl_s (the JWT's exp = now + ttl_s;
-- no exp claim when false), forbidden_org? (PERMISSION_DENIED),
-- unknown_org? (NOT_FOUND).
return function(config)
  local codec = require 'tokrun.codec'
  local hmac = require 'tokrun.hmac'
  local json = require 'tokrun.json'

  local HTTP = { INVALID_ARGUMENT = 400, UNAUTHENTICATED = 401, PERMISSION_DENIED = 403, NOT_FOUND = 404 }
  local function fail(status, message)
    return { status = HTTP[status], json = { error = { message = message, status = status } } }
  end

  local function jwt(claims)
    local head = codec.base64url(json.encode({ alg = 'HS256', typ = 'JWT' })):gsub('=', '')
    local body = codec.base64url(json.encode(claims)):gsub('=', '')
    local sig = codec.base64url(hmac.digest('sha256', 'velt-mock-signing-key', head .. '.' .. body)):gsub('=', '')
    return head .. '.' .. body .. '.' .. sig
  end

  local ALLOWED = { data = { apiKey = true, authToken = true, userId = true, userProperties = true },
    userProperties = { organizationId = true, isAdmin = true, email = true } }

  local function unknown_field(t, allowed)
    for k in pairs(t) do if not allowed[k] then return k end end
  end

  -- The body's shape; v2 carries no keys in it.
  local function check_body(req, v2)
    if not (req.headers['content-type'] or ''):match('^application/json') then
      return fail('INVALID_ARGUMENT', 'Content-Type must be application/json')
    end
    local data = type(req.json) == 'table' and req.json.data
    if type(data) ~= 'table' then return fail('INVALID_ARGUMENT', 'data is required') end
    local extra = unknown_field(req.json, { data = true }) or unknown_field(data, ALLOWED.data)
    if extra then return fail('INVALID_ARGUMENT', 'Unknown field: ' .. extra) end
    if v2 and (data.apiKey ~= nil or data.authToken ~= nil) then
      return fail('INVALID_ARGUMENT', 'apiKey and authToken go in headers in v2, not in the body')
    end
    if type(data.userId) ~= 'string' or data.userId == '' then return fail('INVALID_ARGUMENT', 'userId is required') end
    local props = data.userProperties
    if type(props) ~= 'table' or type(props.organizationId) ~= 'string' or props.organizationId == '' then
      return fail('INVALID_ARGUMENT', 'userProperties.organizationId is required')
    end
    extra = unknown_field(props, ALLOWED.userProperties)
    if extra then return fail('INVALID_ARGUMENT', 'Unknown field: userProperties.' .. extra) end
    if props.isAdmin ~= nil and type(props.isAdmin) ~= 'boolean' then
      return fail('INVALID_ARGUMENT', 'userProperties.isAdmin must be a boolean')
    end
    if props.email ~= nil and (type(props.email) ~= 'string' or not props.email:match('^[^@%s]+@[^@%s]+$')) then
      return fail('INVALID_ARGUMENT', 'userProperties.email must be an email address')
    end
    return nil, data
  end

  local function mint(api_key, auth_token, data)
    if api_key ~= config.api_key then return fail('UNAUTHENTICATED', 'Invalid API key.') end
    if auth_token ~= config.auth_token then return fail('INVALID_ARGUMENT', 'Auth token not found.') end
    local org = data.userProperties.organizationId
    if org == config.forbidden_org then return fail('PERMISSION_DENIED', 'API key cannot access this organization.') end
    if org == config.unknown_org then return fail('NOT_FOUND', 'Organization not found.') end
    local now = config.now_ms // 1000
    local claims = { userId = data.userId, organizationId = org, iat = now }
    if config.ttl_s then claims.exp = now + config.ttl_s end
    return { status = 200, json = { result = { status = 'success',
      message = 'Token generated successfully.', data = { token = jwt(claims) } } } }
  end

  return {
    ['POST /v1/auth/token/get'] = function(req)
      local bad, data = check_body(req, false)
      if bad then return bad end
      return mint(data.apiKey, data.authToken, data)
    end,
    ['POST /v2/auth/generate_token'] = function(req)
      local bad, data = check_body(req, true)
      if bad then return bad end
      return mint(req.headers['x-velt-api-key'], req.headers['x-velt-auth-token'], data)
    end,
  }
end
