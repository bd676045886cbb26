-- Nimbus Cloud (a made-up provider, the README's asymmetric walkthrough):
-- a service key signs an ES256 JWT assertion that the token endpoint
-- exchanges for an access token (the OAuth 2.0 JWT bearer grant).
return {
  name = 'nimbus',
  description = 'Nimbus Cloud access token (ES256 JWT assertion)',
  params = {
    { name = 'base_url', env = 'NIMBUS_BASE_URL', default = 'https://auth.nimbus.example' },
    { name = 'service_id', env = 'NIMBUS_SERVICE_ID', required = true },
    { name = 'key_id', env = 'NIMBUS_KEY_ID', required = true },
    { name = 'private_key', env = 'NIMBUS_PRIVATE_KEY', secret = true, required = true },
  },
  steps = {
    { name = 'assertion', jwt = { alg = 'ES256', key = '{private_key}', header = { kid = '{key_id}' },
        claims = { iss = '{service_id}', sub = '{service_id}', aud = '{base_url}/oauth/token' },
        iat = { backdate = 30 }, exp = 300, jti = true } },
    { name = 'token', method = 'POST', url = '{base_url}/oauth/token', resend = 'safe',
      form = { { 'grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer' }, { 'assertion', '{assertion}' } },
      capture = { token = { path = 'access_token', secret = true },
                  expires_in = { path = 'expires_in', as = 'integer' } } },
  },
  errors = {
    { code = 'invalid_grant', kind = 'auth' },
    { status = 401, provider_message = 'assertion expired or not yet valid', kind = 'auth', clock_skew = true },
  },
  emit = { token = '{token}', token_type = 'bearer', ttl = '{expires_in}' },
}
