-- Routes for tests/lualib/mock_spec.lua: an echo of the request and a few
-- answers that exercise the kit's faults.
return function(config, mock)
  local function echo(req)
    return { json = { method = req.method, path = req.path, query = req.query,
                      headers = req.headers, body = req.body, params = req.params,
                      json = req.json } }
  end
  return {
    ['GET /echo'] = echo,
    ['POST /echo'] = echo,
    -- A handler keeps a count in its per-server state.
    ['GET /count'] = function(_, state)
      state.n = (state.n or 0) + 1
      return { body = tostring(state.n) }
    end,
    ['GET /secret'] = function() return { body = config.secret } end,
    ['GET /self'] = function() return { body = mock.url } end,
    ['GET /delay/*'] = function(req)
      return { delay = tonumber(req.path:match('[^/]+$')), body = 'late' }
    end,
    ['GET /big/*'] = function(req)
      return { body_size = tonumber(req.path:match('[^/]+$')) }
    end,
    ['GET /slow'] = function() return { slow_body = 1, body = ('y'):rep(20) } end,
    ['GET /drop'] = function() return { drop = true } end,
    ['GET /truncated'] = function() return { drop_after_headers = true, body_size = 1000 } end,
    ['GET /boom'] = function() error('boom from the handler') end,
  }
end
