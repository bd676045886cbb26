-- Zephyr Cloud, the made-up provider of the README walkthrough: POST
-- /v1/tokens with X-Zephyr-Key, X-Zephyr-Timestamp (within 300 s of
-- config.now) and X-Zephyr-Signature = base64 HMAC-SHA256(secret,
-- "POST\n/v1/tokens\nTIMESTAMP\nBODY").  config: key_id, key_secret, token,
-- now (seconds).
return function(config)
  local hmac = require 'tokrun.hmac'
  local codec = require 'tokrun.codec'
  local SCOPES = { deploy = true, logs = true, metrics = true }

  local function fail(status, code, message)
    return { status = status, json = { error = { code = code, message = message } } }
  end

  return {
    ['POST /v1/tokens'] = function(req)
      local h = req.headers
      if h['x-zephyr-key'] ~= config.key_id then return fail(401, 'unknown_key', 'No such key.') end
      local ts = tonumber(h['x-zephyr-timestamp'])
      if not ts or math.abs(ts - config.now) > 300 then
        return fail(400, 'stale_request', 'Timestamp outside the 300 s window.')
      end
      local want = codec.base64(hmac.digest('sha256', config.key_secret,
        'POST\n/v1/tokens\n' .. h['x-zephyr-timestamp'] .. '\n' .. req.body))
      if not hmac.equal(want, h['x-zephyr-signature'] or '') then
        return fail(401, 'bad_signature', 'Signature mismatch.')
      end
      local body = req.json
      if type(body) ~= 'table' or type(body.scopes) ~= 'table' or math.type(body.ttl) ~= 'integer' then
        return fail(400, 'invalid_request', 'Expected {"scopes":[...],"ttl":N}.')
      end
      for _, s in ipairs(body.scopes) do
        if not SCOPES[s] then return fail(400, 'invalid_scope', 'Unknown scope ' .. tostring(s) .. '.') end
      end
      return { status = 201, json = { token = config.token,
        expires_at = os.date('!%Y-%m-%dT%H:%M:%SZ', config.now + body.ttl) } }
    end,
  }
end
