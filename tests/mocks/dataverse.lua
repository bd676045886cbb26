-- Dataverse's token rotation: POST /api/users/token/recreate with
-- X-Dataverse-key.  The old token dies the moment the new one is made,
-- so a request with the old key after a rotation is a "Bad API key".
-- With returnExpiration=true the message carries the expiry in the
-- server's local time ("YYYY-MM-DD HH:MM:SS.mmm").
-- config: user, api_token, new_token, now_ms, ttl_s (default 1 year),
-- server_offset_s (seconds east of UTC the server's clock reads; default 0).
return function(config)
  local function bad_key()
    return { status = 401, json = { status = 'ERROR', message = 'Bad API key' } }
  end

  return {
    ['POST /api/users/token/recreate'] = function(req, state)
      local current = state.token or config.api_token
      if req.headers['x-dataverse-key'] ~= current then return bad_key() end
      state.token = config.new_token
      local msg = 'New token for ' .. config.user .. ' is ' .. config.new_token
      if req.params.returnExpiration == 'true' then
        local expires_ms = config.now_ms + (config.ttl_s or 365 * 86400) * 1000
        local local_s = expires_ms // 1000 + (config.server_offset_s or 0)
        msg = msg .. ' and expires on ' .. os.date('!%Y-%m-%d %H:%M:%S', local_s)
          .. string.format('.%03d', expires_ms % 1000)
      end
      return { status = 200, json = { status = 'OK', data = { message = msg } } }
    end,
  }
end
