-- OAuth 2.0 client credentials grant (RFC 6749 section 4.4) against any
-- token URL.  auth_method: client_secret_basic (HTTP Basic over the
-- form-urlencoded id and secret, section 2.3.1) or client_secret_post.
-- resource names the API the token is for (RFC 8707); the scope granted
-- is reported in data.
local grant = { { 'grant_type', 'client_credentials' }, { 'scope', '{scope}' }, { 'audience', '{audience}' },
  { 'resource', '{resource}' } }
local capture = {
  token = { path = 'access_token', as = 'string', secret = true },
  token_type = { path = 'token_type', optional = true },
  expires_in = { path = 'expires_in', as = 'integer', optional = true },
  granted_scope = { path = 'scope', as = 'string', optional = true },
}
return {
  name = 'oauth2_client_credentials',
  description = 'OAuth 2.0 access token (client credentials grant)',
  params = {
    { name = 'token_url', env = 'OAUTH2_TOKEN_URL', required = true },
    { name = 'client_id', env = 'OAUTH2_CLIENT_ID', required = true },
    { name = 'client_secret', env = 'OAUTH2_CLIENT_SECRET', secret = true, required = true },
    { name = 'scope', description = 'space-separated scopes' },
    { name = 'audience' },
    { name = 'resource', description = 'the absolute URI of the API the token is for (RFC 8707)' },
    { name = 'auth_method', enum = { 'client_secret_basic', 'client_secret_post' }, default = 'client_secret_basic' },
  },
  steps = {
    { name = 'token', when = { auth_method = 'client_secret_basic' }, method = 'POST', url = '{token_url}',
      auth = { basic = { '{client_id|form}', '{client_secret|form}' } }, form = grant,
      resend = 'safe', capture = capture },
    { name = 'token_post', when = { auth_method = 'client_secret_post' }, method = 'POST', url = '{token_url}',
      form = { grant[1], grant[2], grant[3], grant[4],
               { 'client_id', '{client_id}' }, { 'client_secret', '{client_secret}' } },
      resend = 'safe', capture = capture },
  },
  errors = {   -- RFC 6749 section 5.2: {"error", "error_description"}
    { code = 'invalid_client', kind = 'auth' },
    { code = { 'invalid_grant', 'invalid_scope', 'unauthorized_client', 'unsupported_grant_type', 'invalid_request',
      'invalid_target' }, kind = 'config' },   -- invalid_target: RFC 8707 section 2
  },
  emit = { token = '{token}', token_type = '{token_type}', ttl = '{expires_in}',
           data = { scope = '{granted_scope}' } },
}
