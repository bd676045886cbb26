-- Velt: a user JWT.  v1 sends the keys in the JSON body; api_version=2
-- sends them as headers.  expires_at comes from the JWT's exp claim, else
-- 48 hours.  Minting a JWT is safe to repeat.
local user = { organizationId = '{organization_id}', isAdmin = '{is_admin}', email = '{email}' }
local success = { body = { ['result.status'] = 'success' } }
local capture = {
  token = { path = 'result.data.token', as = 'string', secret = true },
  expires_at = { path = 'result.data.token', as = 'jwt_exp', optional = true },
}
return {
  name = 'velt',
  description = 'Velt user JWT',
  params = {
    { name = 'base_url', env = 'VELT_BASE_URL', default = 'https://api.velt.dev' },
    { name = 'api_key', env = 'VELT_API_KEY', secret = true, required = true },
    { name = 'auth_token', env = 'VELT_AUTH_TOKEN', secret = true, required = true },
    { name = 'user_id', required = true },
    { name = 'organization_id', required = true },
    { name = 'is_admin', type = 'boolean' },
    { name = 'email' },
    { name = 'api_version', type = 'integer', enum = { 1, 2 }, default = 1 },
  },
  steps = {
    { name = 'token', when = { api_version = 1 }, method = 'POST', url = '{base_url}/v1/auth/token/get',
      json = { data = { apiKey = '{api_key}', authToken = '{auth_token}', userId = '{user_id}',
                        userProperties = user } },
      resend = 'safe', expect = success, capture = capture },
    { name = 'generate_token', when = { api_version = 2 }, method = 'POST', url = '{base_url}/v2/auth/generate_token',
      headers = { ['x-velt-api-key'] = '{api_key}', ['x-velt-auth-token'] = '{auth_token}' },
      json = { data = { userId = '{user_id}', userProperties = user } },
      resend = 'safe', expect = success, capture = capture },
  },
  errors = {   -- {"error":{"message","status"}} with gRPC status strings
    { code = { 'UNAUTHENTICATED', 'PERMISSION_DENIED' }, kind = 'auth' },
    { code = 'INVALID_ARGUMENT', provider_message = 'Auth token not found.', kind = 'auth' },
    { code = 'INVALID_ARGUMENT', kind = 'config' },
  },
  emit = { token = '{token}', token_type = 'jwt', expires_at = '{expires_at}', ttl = { hours = 48 } },
}
