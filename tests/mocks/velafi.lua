-- Velafi's token endpoint as documented, BHEX-style:
-- GET /v2/token/generate?timestamp=MS&signature=HEX with X-BH-APIKEY,
-- signature = lowercase hex HMAC-SHA256(api_secret, "timestamp=MS"), the
-- timestamp within the 5000 ms recvWindow of config.now_ms (the clock the
-- spec passes with --now; the wall clock when unset).
-- config: api_key, api_secret, token, now_ms?, ttl_ms (default 24 h),
-- error_status? (HTTP status for error bodies; default BHEX's 400/401),
-- recv_window_ms? (default 5000; bench/ widens it so one pre-signed URL
-- stays valid for a whole run of `curl`).
return function(config)
  local hmac = require 'tokrun.hmac'
  local RECV_WINDOW = config.recv_window_ms or 5000

  local MESSAGES = {
    [-1021] = { 400, 'Timestamp for this request is outside of the recvWindow.' },
    [-1022] = { 400, 'Signature for this request is not valid.' },
    [-1102] = { 400, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed." },
    [-2014] = { 400, 'API-key format invalid.' },
    [-2015] = { 401, 'Invalid API-key, IP, or permissions for action.' },
  }
  local function fail(code)
    local m = MESSAGES[code]
    return { status = config.error_status or m[1], json = { code = code, msg = m[2] } }
  end

  local function now_ms()
    return config.now_ms or math.floor(require('socket').gettime() * 1000)
  end

  return {
    ['GET /v2/token/generate'] = function(req)
      local key = req.headers['x-bh-apikey']
      if key == nil or key == '' or key:find('[%c]') then return fail(-2014) end
      -- exactly timestamp=MS&signature=HEX, in this order: the signature
      -- covers the query string before it
      local ts, sig = req.query:match('^timestamp=(%d+)&signature=(%x+)$')
      if not ts then
        if not req.query:match('^timestamp=%d+') then return fail(-1102) end
        return fail(-1022)
      end
      if key ~= config.api_key then return fail(-2015) end
      if math.abs(tonumber(ts) - now_ms()) > RECV_WINDOW then return fail(-1021) end
      local want = hmac.hexdigest('sha256', config.api_secret, 'timestamp=' .. ts)
      if not hmac.equal(sig, want) then return fail(-1022) end
      return { status = 200, json = { code = 200, msg = 'SUCCESS', data = {
        token = config.token,
        expireTime = tostring(tonumber(ts) + (config.ttl_ms or 86400000)),
      } } }
    end,
  }
end
