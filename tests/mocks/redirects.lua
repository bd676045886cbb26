-- Redirects for tests/cli/fixtures/redirect_key.lua: /start/<kind> answers
-- a 302 and /final the token, for GET and POST alike.
--   same   -> /final on this server
--   cross  -> config.other .. '/final' (another origin: a second mock)
--   loop   -> /hop/1 -> /hop/2 -> ... without end
-- config: other? (the URL of the second mock), token.
return function(config)
  local function redirect(req)
    local kind = req.path:match('^/start/(.*)$')
    local to = kind == 'same' and '/final'
      or kind == 'cross' and config.other and config.other .. '/final'
      or kind == 'loop' and '/hop/1'
    if not to then return { status = 404, json = { error = 'unknown redirect ' .. kind } } end
    return { status = 302, headers = { Location = to } }
  end
  local function hop(req)
    local n = tonumber(req.path:match('^/hop/(%d+)$')) or 0
    return { status = 302, headers = { Location = '/hop/' .. (n + 1) } }
  end
  local function final() return { json = { token = config.token } } end
  return {
    ['GET /start/*'] = redirect, ['POST /start/*'] = redirect,
    ['GET /hop/*'] = hop,
    ['GET /final'] = final, ['POST /final'] = final,
  }
end
