-- A Kubernetes API server's smallest face, over HTTPS (the kit's test CA):
-- GET /api/v1/namespaces/NS/configmaps/NAME answers a ConfigMap when the
-- request carries Authorization: Bearer config.token, else 401 with a
-- Status object, as the API server does.  GET /__mock/kube counts
-- {accepted, rejected}.
-- config: token.
return function(config)
  local function status(code, reason, message)
    return { status = code, json = { kind = 'Status', apiVersion = 'v1', metadata = {}, status = 'Failure',
      message = message, reason = reason, code = code } }
  end
  return {
    ['GET /api/v1/namespaces/*'] = function(req, state)
      if req.headers.authorization ~= 'Bearer ' .. config.token then
        state.rejected = (state.rejected or 0) + 1
        return status(401, 'Unauthorized', 'Unauthorized')
      end
      local ns, name = req.path:match('^/api/v1/namespaces/([%w-]+)/configmaps/([%w.-]+)$')
      if not ns then return status(404, 'NotFound', 'the server could not find the requested resource') end
      state.accepted = (state.accepted or 0) + 1
      return { json = { kind = 'ConfigMap', apiVersion = 'v1',
        metadata = { name = name, namespace = ns }, data = { greeting = 'hello from the mock API' } } }
    end,
    ['GET /__mock/kube'] = function(_, state)
      return { json = { accepted = state.accepted or 0, rejected = state.rejected or 0 } }
    end,
  }
end
