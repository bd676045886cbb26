-- GitHub's installation access token endpoint, as the REST API documents
-- it: POST /app/installations/{installation_id}/access_tokens with
-- Authorization: Bearer <App JWT>, Accept: application/vnd.github+json and
-- X-GitHub-Api-Version: 2022-11-28; optional JSON repositories (names),
-- repository_ids, permissions.  The JWT must be RS256, signed by the App's
-- key, iss the app ID or client ID, iat not in the future, exp in the
-- future and at most 10 minutes ahead.  201 {"token","expires_at",
-- "permissions","repository_selection"}; errors {"message",
-- "documentation_url","status"}: 401 for the JWT, 404 unknown
-- installation, 422 repositories or permissions it does not have.
-- config: public_key (PEM), app_id, client_id, installation_id, now
-- (this server's clock, seconds), token, repositories (name -> id),
-- permissions (what the installation holds).
return function(config)
  local check = dofile('tests/mocks/jwt_check.lua')

  local DOCS = 'https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app'
  local function now() return config.now end
  local function fail(status, message)
    return { status = status, headers = { Date = check.date(now()) },
      json = { message = message, documentation_url = DOCS, status = tostring(status) } }
  end

  -- nil when the App JWT is acceptable, else the 401 GitHub gives
  local function app_jwt(req)
    local header, claims = check.read(check.bearer(req), config.public_key, { 'RS256' })
    if not header then return fail(401, 'A JSON web token could not be decoded') end
    if claims.iss ~= config.app_id and claims.iss ~= config.client_id
      and tostring(claims.iss) ~= tostring(config.app_id) then
      return fail(401, "'Issuer' claim ('iss') must be an Integer")
    end
    local iat, exp = check.int(claims.iat), check.int(claims.exp)
    if not iat or iat > now() then
      return fail(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
    end
    if not exp or exp <= now() then
      return fail(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which "
        .. 'the assertion expires')
    end
    if exp > now() + 600 then return fail(401, "'Expiration time' claim ('exp') is too far in the future") end
  end

  local function narrowed(body)
    local selection = { permissions = config.permissions, repository_selection = 'all' }
    for _, name in ipairs(body.repositories or {}) do
      if not config.repositories[name] then
        return nil, fail(422, 'There is at least one repository that does not exist or is not accessible to the '
          .. 'parent installation.')
      end
      selection.repository_selection = 'selected'
    end
    for _, id in ipairs(body.repository_ids or {}) do
      local known = false
      for _, rid in pairs(config.repositories) do known = known or rid == id end
      if math.type(id) ~= 'integer' or not known then
        return nil, fail(422, 'There is at least one repository that does not exist or is not accessible to the '
          .. 'parent installation.')
      end
      selection.repository_selection = 'selected'
    end
    if body.permissions then
      for perm, level in pairs(body.permissions) do
        local held = config.permissions[perm]
        if not held or (held == 'read' and level ~= 'read') then
          return nil, fail(422, 'The permissions requested are not granted to this installation.')
        end
      end
      selection.permissions = body.permissions
    end
    return selection
  end

  return {
    ['POST /app/installations/*'] = function(req)
      local id = req.path:match('^/app/installations/(%d+)/access_tokens$')
      if not id then return fail(404, 'Not Found') end
      local bad = app_jwt(req)
      if bad then return bad end
      if req.headers['x-github-api-version'] ~= '2022-11-28' then
        return fail(400, "API version '" .. tostring(req.headers['x-github-api-version']) .. "' is not supported.")
      end
      if req.headers.accept ~= 'application/vnd.github+json' then return fail(415, 'Unsupported Media Type') end
      if tonumber(id) ~= config.installation_id then return fail(404, 'Not Found') end
      local body = req.body ~= '' and req.json or {}
      if type(body) ~= 'table' then return fail(400, 'Problems parsing JSON') end
      local selection, err = narrowed(body)
      if not selection then return err end
      return { status = 201, headers = { Date = check.date(now()) }, json = {
        token = config.token, expires_at = os.date('!%Y-%m-%dT%H:%M:%SZ', now() + 3600),
        permissions = selection.permissions, repository_selection = selection.repository_selection } }
    end,
  }
end
