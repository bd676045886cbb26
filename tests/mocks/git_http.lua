-- A git smart-HTTP server that demands a token, and the OAuth2 token
-- endpoint that mints it.  POST /token (client credentials: client_id and
-- client_secret in the form) mints tok-1, tok-2, ...; every /REPO.git/
-- request must carry HTTP Basic USER:TOKEN with a minted token not revoked
-- (POST /revoke?token=T revokes one), else 401 with a Basic challenge.
-- Accepted requests run the real `git http-backend` as a CGI program over
-- config.root (GIT_PROJECT_ROOT).
-- config: root, client_id, client_secret, username (required username, or
-- any), expires_in.
return function(config)
  local codec = require 'tokrun.codec'
  local process = require 'tokrun.process'

  local function form(body)
    local out = {}
    for pair in (body or ''):gmatch('[^&]+') do
      local k, v = pair:match('^([^=]*)=(.*)$')
      if k then out[codec.unpct(k, true) or k] = codec.unpct(v, true) end
    end
    return out
  end

  local function denied(why)
    return { status = 401, headers = { ['WWW-Authenticate'] = 'Basic realm="git"' }, body = why .. '\n' }
  end

  -- CGI/1.1 (RFC 3875): the request in the environment and on stdin; the
  -- answer is header lines (Status: among them), a blank line, the body.
  local function backend(req, user)
    local path = req.path:gsub('%?.*$', '')
    local env = {
      GIT_PROJECT_ROOT = config.root, GIT_HTTP_EXPORT_ALL = '1', PATH = os.getenv('PATH') or '/usr/bin:/bin',
      REQUEST_METHOD = req.method, PATH_INFO = path, QUERY_STRING = req.query or '',
      CONTENT_TYPE = req.headers['content-type'] or '', CONTENT_LENGTH = tostring(#(req.body or '')),
      REMOTE_USER = user, REMOTE_ADDR = '127.0.0.1', GATEWAY_INTERFACE = 'CGI/1.1', SERVER_PROTOCOL = 'HTTP/1.1',
      HTTP_CONTENT_ENCODING = req.headers['content-encoding'], GIT_PROTOCOL = req.headers['git-protocol'],
    }
    local r, err = process.run { argv = { 'git', 'http-backend' }, env = env, stdin = req.body or '',
      timeout = 30, max_output = 64 * 1024 * 1024 }
    if not r then return { status = 500, body = 'http-backend: ' .. err.message } end
    local head, body = r.stdout:match('^(.-)\r?\n\r?\n(.*)$')
    if not head then return { status = 500, body = 'http-backend answered no CGI headers: ' .. r.stderr } end
    local resp = { status = 200, headers = {}, body = body }
    for line in head:gmatch('[^\r\n]+') do
      local name, value = line:match('^([^:]+):%s*(.*)$')
      if name and name:lower() == 'status' then
        resp.status = tonumber(value:match('^%d+'))
      elseif name then
        resp.headers[name] = value
      end
    end
    return resp
  end

  local function git(req, state)
    local raw = (req.headers.authorization or ''):match('^Basic (%S+)$')
    local user, token = (raw and codec.unbase64(raw) or ''):match('^([^:]*):(.*)$')
    if not token then return denied('authentication required') end
    state.valid = state.valid or {}
    if not state.valid[token] then return denied('bad token') end
    if config.username and user ~= config.username then return denied('bad username') end
    state.accepted = (state.accepted or 0) + 1
    return backend(req, user)
  end

  return {
    ['POST /token'] = function(req, state)
      local f = form(req.body)
      if f.grant_type ~= 'client_credentials' or f.client_id ~= config.client_id
        or f.client_secret ~= config.client_secret then
        return { status = 401, json = { error = 'invalid_client' } }
      end
      state.minted = (state.minted or 0) + 1
      local token = 'tok-' .. state.minted
      state.valid = state.valid or {}
      state.valid[token] = true
      return { json = { access_token = token, token_type = 'Bearer', expires_in = config.expires_in or 3600 } }
    end,
    ['POST /revoke'] = function(req, state)
      local token = (req.query or ''):match('token=([^&]+)')
      if state.valid then state.valid[token] = nil end
      return { body = 'revoked\n' }
    end,
    ['GET /stats'] = function(_, state)
      return { json = { minted = state.minted or 0, accepted = state.accepted or 0 } }
    end,
    ['GET /repo.git/*'] = git,
    ['POST /repo.git/*'] = git,
  }
end
