-- SignalWire's LaML-compatible token API (signalwire):
--   POST   /api/laml/2010-04-01/Accounts/<project>/tokens   {"name","permissions":[...],"subproject_id"?}
--   DELETE /api/laml/2010-04-01/Accounts/<project>/tokens/<id>
-- HTTP Basic project_id:api_token.  Errors: 400/401/404 {"code","message",
-- "more_info","status"}; 422 {"type","code","message","attribute","url"}.
-- config: project_id, api_token, new_token (the token value minted),
-- existing (ids of tokens that already exist), disabled (permissions this
-- project may not grant).  state.tokens: id -> {name, permissions}.
return function(config, mock)   -- luacheck: ignore mock
  local codec = require 'tokrun.codec'

  local KNOWN = {}
  for _, p in ipairs { 'calling', 'chat', 'datasphere', 'fax', 'management', 'messaging', 'numbers',
    'pubsub', 'storage', 'tasking', 'video' } do KNOWN[p] = true end
  local DISABLED = {}
  for _, p in ipairs(config.disabled or {}) do DISABLED[p] = true end

  local function twilio_error(status, code, message)
    return { status = status, json = { code = code, message = message, status = status,
      more_info = 'https://developer.signalwire.com/compatibility-api/reference/error-codes#' .. code } }
  end

  local function invalid(attribute, message)
    return { status = 422, json = { type = 'validation_error', code = 'invalid_parameter',
      message = message, attribute = attribute,
      url = 'https://developer.signalwire.com/rest/overview/error-codes/#invalid_parameter' } }
  end

  -- nil when the request carries the project's Basic credentials for the
  -- account in its path, else the 401 to answer.
  local function unauthorized(req, account)
    local want = 'Basic ' .. codec.base64(config.project_id .. ':' .. config.api_token)
    if req.headers['authorization'] ~= want or account ~= config.project_id then
      return twilio_error(401, 20003, 'Authentication Error - invalid username')
    end
  end

  local function init(state)
    if not state.tokens then
      state.tokens, state.issued = {}, 0
      for _, id in ipairs(config.existing or {}) do state.tokens[id] = { name = 'old' } end
    end
  end

  local function create(req, state, account)
    local denied = unauthorized(req, account)
    if denied then return denied end
    if not (req.headers['content-type'] or ''):match('^application/json') then
      return twilio_error(400, 21600, 'Content-Type must be application/json')
    end
    local b = req.json
    if type(b) ~= 'table' then return twilio_error(400, 21601, 'The request body is not JSON') end
    for k in pairs(b) do
      if k ~= 'name' and k ~= 'permissions' and k ~= 'subproject_id' then
        return invalid(k, 'unknown attribute ' .. tostring(k))
      end
    end
    if type(b.name) ~= 'string' or b.name == '' then return invalid('name', 'name is required') end
    if type(b.permissions) ~= 'table' or #b.permissions == 0 then
      return invalid('permissions', 'permissions must be a non-empty array')
    end
    for _, p in ipairs(b.permissions) do
      if not KNOWN[p] then return invalid('permissions', 'unknown permission ' .. tostring(p)) end
      if DISABLED[p] then return invalid('permissions', 'permission ' .. p .. ' is not enabled for this project') end
    end
    if b.subproject_id ~= nil and type(b.subproject_id) ~= 'string' then
      return invalid('subproject_id', 'subproject_id must be a string')
    end
    init(state)
    state.issued = state.issued + 1
    local id = string.format('6f1c2b0e-0000-4000-8000-%012d', state.issued)
    state.tokens[id] = { name = b.name, permissions = b.permissions }
    return { status = 200, json = { id = id, name = b.name, permissions = b.permissions,
      token = config.new_token } }
  end

  local function delete(req, state, account, id)
    local denied = unauthorized(req, account)
    if denied then return denied end
    init(state)
    if not state.tokens[id] then
      return twilio_error(404, 20404, 'The requested resource was not found')
    end
    state.tokens[id] = nil
    return { status = 204, body = '' }
  end

  return {
    ['POST /api/laml/2010-04-01/Accounts/*'] = function(req, state)
      local account = req.path:match('^/api/laml/2010%-04%-01/Accounts/([^/]+)/tokens$')
      if not account then return twilio_error(404, 20404, 'The requested resource was not found') end
      return create(req, state, account)
    end,
    ['DELETE /api/laml/2010-04-01/Accounts/*'] = function(req, state)
      local account, id = req.path:match('^/api/laml/2010%-04%-01/Accounts/([^/]+)/tokens/([^/]+)$')
      if not account then return twilio_error(404, 20404, 'The requested resource was not found') end
      return delete(req, state, account, id)
    end,
    -- Not SignalWire's: lets a spec see which tokens exist.
    ['GET /__mock/tokens'] = function(_, state)
      init(state)
      local ids = {}
      for id in pairs(state.tokens) do ids[#ids + 1] = id end
      table.sort(ids)
      return { status = 200, json = { tokens = ids } }
    end,
  }
end
