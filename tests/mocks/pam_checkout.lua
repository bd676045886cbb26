-- A NetIQ-style PAM command controller (pam_checkout):
--   POST /rest/cmdctrl/Request        {"Request":{"type":"PasswordCheckout",...}}
--   PUT  /rest/cmdctrl/Request/<id>   {"Request":{"type":"PasswordCheckin","runHost"}}
-- Authorization: Token token=<api_token>.  Errors are {"vrm","status","message"}
-- with HTTP 200 (the body's status counts), as the controller answers.
-- config: api_token, account, passwd; state.leases: id -> runHost of each
-- password checked out and not yet checked in.
return function(config, mock)   -- luacheck: ignore mock
  local VRM = '3.7.0.1'

  local function fail(status, message)
    return { status = config.error_http_status or 200,
             json = { vrm = VRM, status = status, message = message } }
  end

  local function authorized(req)
    return req.headers['authorization'] == 'Token token=' .. config.api_token
  end

  -- The body's Request object, or nil and why it is not one.
  local function request_of(req, want_type, allowed)
    if not (req.headers['content-type'] or ''):match('^application/json') then
      return nil, 'Content-Type must be application/json'
    end
    local r = type(req.json) == 'table' and req.json.Request
    if type(r) ~= 'table' then return nil, 'body must be {"Request":{...}}' end
    for k in pairs(req.json) do
      if k ~= 'Request' then return nil, 'unexpected field ' .. k end
    end
    for k in pairs(r) do
      if not allowed[k] then return nil, 'unexpected field Request.' .. k end
    end
    if r.type ~= want_type then return nil, 'Request.type must be ' .. want_type end
    if type(r.runHost) ~= 'string' or r.runHost == '' then return nil, 'Request.runHost is required' end
    return r
  end

  local CHECKOUT = { type = true, runHost = true, reason = true, duration = true, emailid = true }
  local CHECKIN = { type = true, runHost = true }

  return {
    ['POST /rest/cmdctrl/Request'] = function(req, state)
      if not authorized(req) then return fail(401, 'Authentication failed: invalid token') end
      local r, why = request_of(req, 'PasswordCheckout', CHECKOUT)
      if not r then return fail(400, why) end
      if type(r.reason) ~= 'string' or r.reason == '' then return fail(400, 'Request.reason is required') end
      -- The controller takes the duration in minutes, as a string.
      if type(r.duration) ~= 'string' or not r.duration:match('^%d+$') then
        return fail(400, 'Request.duration must be a string of minutes')
      end
      if r.emailid ~= nil and type(r.emailid) ~= 'string' then return fail(400, 'Request.emailid must be a string') end
      if config.unknown_host == r.runHost then return fail(404, 'No account for host ' .. r.runHost) end
      state.leases = state.leases or {}
      state.issued = (state.issued or 0) + 1
      local id = string.format('%s%04d', config.lease_prefix or 'CO-', state.issued)
      state.leases[id] = r.runHost
      local checkout = { Request = { id = id }, account = config.account, passwd = config.passwd }
      if config.omit_passwd then checkout.passwd = nil end
      return { status = 200, json = { CheckOut = checkout, message = 'OK', status = 200, vrm = VRM } }
    end,

    ['PUT /rest/cmdctrl/Request/*'] = function(req, state)
      if not authorized(req) then return fail(401, 'Authentication failed: invalid token') end
      local r, why = request_of(req, 'PasswordCheckin', CHECKIN)
      if not r then return fail(400, why) end
      local id = req.path:match('^/rest/cmdctrl/Request/([^/]+)$')
      local leases = state.leases or {}
      if not id or not leases[id] then return fail(404, 'Request ' .. tostring(id) .. ' not found') end
      if leases[id] ~= r.runHost then return fail(400, 'Request ' .. id .. ' is not for host ' .. r.runHost) end
      leases[id] = nil
      return { status = 200, json = { message = 'OK', status = 200, vrm = VRM } }
    end,

    -- Not the controller's: lets a spec see the passwords still checked out.
    ['GET /__mock/leases'] = function(_, state)
      local ids = {}
      for id in pairs(state.leases or {}) do ids[#ids + 1] = id end
      table.sort(ids)
      return { status = 200, json = { leases = ids, issued = state.issued or 0 } }
    end,
  }
end
