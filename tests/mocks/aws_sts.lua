-- AWS STS over its Query protocol (form-encoded POST /, XML answers), the
-- two actions the specs use:
--   AssumeRoleWithWebIdentity (unsigned): the web identity token must be
--     config.web_identity_token (or one of config.web_identity_tokens),
--     RoleArn config.role_arn, DurationSeconds 900..43200; mints keys
--     ASIAMOCK000N / secret / session token N, expiring DurationSeconds
--     from now.
--   GetCallerIdentity: must be signed with SigV4 by a minted key: the
--     Authorization header names the access key id, X-Amz-Security-Token
--     is its session token, and the signature verifies with its secret.
-- Errors are STS's <ErrorResponse><Error><Type/><Code/><Message/></Error>.
-- GET /__mock/sts answers {"minted": N, "identities": N}.
-- config: role_arn, web_identity_token | web_identity_tokens, account.
return function(config)
  local codec = require 'tokrun.codec'
  local hmac = require 'tokrun.hmac'

  local NS = 'https://sts.amazonaws.com/doc/2011-06-15/'

  local function esc(s)
    return (tostring(s):gsub('[&<>"]', { ['&'] = '&amp;', ['<'] = '&lt;', ['>'] = '&gt;', ['"'] = '&quot;' }))
  end

  local function fail(status, code, message)
    return { status = status, headers = { ['Content-Type'] = 'text/xml' }, body = table.concat({
      '<ErrorResponse xmlns="', NS, '">\n  <Error>\n    <Type>Sender</Type>\n    <Code>', code,
      '</Code>\n    <Message>', esc(message), '</Message>\n  </Error>\n  <RequestId>req-err</RequestId>\n',
      '</ErrorResponse>\n' }) }
  end

  local function form(body)
    local out = {}
    for pair in (body or ''):gmatch('[^&]+') do
      local k, v = pair:match('^([^=]*)=(.*)$')
      if not k then return nil end
      out[codec.unpct(k, true)] = codec.unpct(v, true)
    end
    return out
  end

  local function iso(t) return os.date('!%Y-%m-%dT%H:%M:%SZ', t) end

  local function token_ok(t)
    if t == config.web_identity_token then return true end
    for _, v in ipairs(config.web_identity_tokens or {}) do if v == t then return true end end
    return false
  end

  local function assume(f, state)
    if not f.WebIdentityToken or f.WebIdentityToken == '' then
      return fail(400, 'ValidationError', 'WebIdentityToken is required')
    end
    if not token_ok(f.WebIdentityToken) then
      return fail(400, 'InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider')
    end
    if f.RoleArn ~= config.role_arn then
      return fail(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity')
    end
    local duration = tonumber(f.DurationSeconds or '3600')
    if not duration or duration < 900 or duration > 43200 then
      return fail(400, 'ValidationError', 'DurationSeconds must be between 900 and 43200')
    end
    if not (f.RoleSessionName or ''):match('^[%w+=,.@-]+$') then
      return fail(400, 'ValidationError', 'RoleSessionName is invalid')
    end
    state.minted = (state.minted or 0) + 1
    local n = state.minted
    local key = { id = string.format('ASIAMOCK%04d', n), secret = 'mock/Secret+' .. n .. '/Key',
      token = 'IQoJb3JpZ2luX2VjE' .. n .. '//mock+session&token=' .. n }
    state.keys = state.keys or {}
    state.keys[key.id] = key
    local role = config.role_arn:match(':role/(.+)$')
    return { headers = { ['Content-Type'] = 'text/xml' }, body = table.concat({
      '<AssumeRoleWithWebIdentityResponse xmlns="', NS, '">\n',
      '  <AssumeRoleWithWebIdentityResult>\n',
      '    <SubjectFromWebIdentityToken>system:serviceaccount:default:app</SubjectFromWebIdentityToken>\n',
      '    <AssumedRoleUser>\n      <Arn>arn:aws:sts::', config.account or '123456789012', ':assumed-role/', esc(role),
      '/', esc(f.RoleSessionName), '</Arn>\n      <AssumedRoleId>AROAMOCK:', esc(f.RoleSessionName),
      '</AssumedRoleId>\n    </AssumedRoleUser>\n',
      '    <Credentials>\n      <SessionToken>', esc(key.token), '</SessionToken>\n',
      '      <SecretAccessKey>', esc(key.secret), '</SecretAccessKey>\n',
      '      <Expiration>', iso(os.time() + duration), '</Expiration>\n',
      '      <AccessKeyId>', key.id, '</AccessKeyId>\n    </Credentials>\n',
      '    <Audience>sts.amazonaws.com</Audience>\n',
      '  </AssumeRoleWithWebIdentityResult>\n',
      '  <ResponseMetadata><RequestId>req-', n, '</RequestId></ResponseMetadata>\n',
      '</AssumeRoleWithWebIdentityResponse>\n' }) }
  end

  local function uri_encode(s)
    return (s:gsub('[^%w%-._~]', function(c) return string.format('%%%02X', c:byte()) end))
  end

  -- SigV4 (the AWS General Reference's "Create a signed AWS API request")
  local function verify(req, state)
    local auth = req.headers.authorization or ''
    local id, date, region, service, signed, sig = auth:match(
      '^AWS4%-HMAC%-SHA256 Credential=([^/]+)/(%d+)/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([^,]+), ?Signature=(%x+)$')
    if not id then return nil, fail(403, 'IncompleteSignature', 'no SigV4 Authorization header') end
    local key = (state.keys or {})[id]
    if not key then return nil, fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid') end
    if req.headers['x-amz-security-token'] ~= key.token then
      return nil, fail(403, 'InvalidClientTokenId', 'X-Amz-Security-Token is not the session token of ' .. id)
    end
    local amzdate = req.headers['x-amz-date'] or ''
    local query = {}
    for pair in (req.query or ''):gmatch('[^&]+') do
      local k, v = pair:match('^([^=]*)=?(.*)$')
      query[#query + 1] = uri_encode(codec.unpct(k) or k) .. '=' .. uri_encode(codec.unpct(v) or v)
    end
    table.sort(query)
    local headers = {}
    for name in signed:gmatch('[^;]+') do
      local v = req.headers[name]
      if v == nil then return nil, fail(403, 'SignatureDoesNotMatch', 'signed header ' .. name .. ' is missing') end
      headers[#headers + 1] = name .. ':' .. v:gsub('^%s+', ''):gsub('%s+$', ''):gsub('%s+', ' ') .. '\n'
    end
    local canonical = table.concat({ req.method, req.path == '' and '/' or req.path, table.concat(query, '&'),
      table.concat(headers), signed, hmac.hexhash('sha256', req.body or '') }, '\n')
    local scope = table.concat({ date, region, service, 'aws4_request' }, '/')
    local to_sign = table.concat({ 'AWS4-HMAC-SHA256', amzdate, scope, hmac.hexhash('sha256', canonical) }, '\n')
    local k = hmac.digest('sha256', 'AWS4' .. key.secret, date)
    k = hmac.digest('sha256', k, region)
    k = hmac.digest('sha256', k, service)
    k = hmac.digest('sha256', k, 'aws4_request')
    if not hmac.equal(hmac.hexdigest('sha256', k, to_sign), sig) then
      return nil, fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match')
    end
    return key
  end

  local function caller(req, state)
    local key, err = verify(req, state)
    if not key then return err end
    state.identities = (state.identities or 0) + 1
    return { headers = { ['Content-Type'] = 'text/xml' }, body = table.concat({
      '<GetCallerIdentityResponse xmlns="', NS, '">\n  <GetCallerIdentityResult>\n',
      '    <Arn>arn:aws:sts::', config.account or '123456789012', ':assumed-role/mock/', key.id, '</Arn>\n',
      '    <UserId>AROAMOCK:', key.id, '</UserId>\n    <Account>', config.account or '123456789012', '</Account>\n',
      '  </GetCallerIdentityResult>\n  <ResponseMetadata><RequestId>req-id</RequestId></ResponseMetadata>\n',
      '</GetCallerIdentityResponse>\n' }) }
  end

  return {
    ['POST /'] = function(req, state)
      local f = form(req.body)
      if not f then return fail(400, 'MalformedQueryString', 'the form body is malformed') end
      if f.Version ~= '2011-06-15' then return fail(400, 'InvalidAction', 'Version must be 2011-06-15') end
      if f.Action == 'AssumeRoleWithWebIdentity' then
        if req.headers.authorization then
          return fail(400, 'InvalidAction', 'AssumeRoleWithWebIdentity takes no signature in this mock')
        end
        return assume(f, state)
      end
      if f.Action == 'GetCallerIdentity' then return caller(req, state) end
      return fail(400, 'InvalidAction', 'unknown action ' .. tostring(f.Action))
    end,
    ['GET /__mock/sts'] = function(_, state)
      return { json = { minted = state.minted or 0, identities = state.identities or 0 } }
    end,
  }
end
