-- Google service account access token: the OAuth 2.0 JWT bearer grant
-- (RFC 7523) that Google's client libraries use.  The JSON key file that
-- GOOGLE_APPLICATION_CREDENTIALS names gives the account's email, key id,
-- private key and token URI; the assertion (RS256, kid the key id) asks
-- for the scopes, for one hour, and with subject a user to impersonate
-- (domain-wide delegation).  Minting is safe to repeat.
return {
  name = 'google_service_account',
  description = 'Google Cloud access token for a service account key file',
  params = {
    { name = 'key_file', env = 'GOOGLE_APPLICATION_CREDENTIALS', type = 'json_file', required = true,
      fields = { 'client_email', 'private_key_id', 'token_uri' }, secret_fields = { 'private_key' },
      description = 'path of the service account JSON key file' },
    { name = 'scopes', type = 'list', default = { 'https://www.googleapis.com/auth/cloud-platform' } },
    { name = 'subject', description = 'a user to act as (domain-wide delegation)' },
  },
  steps = {
    { name = 'assertion', jwt = { alg = 'RS256', key = '{key_file.private_key}',
        header = { kid = '{key_file.private_key_id}', typ = 'JWT' },
        claims = { iss = '{key_file.client_email}', scope = '{scopes|spaces}', aud = '{key_file.token_uri}',
                   sub = '{subject}' },
        iat = true, exp = 3600 } },
    { name = 'token', method = 'POST', url = '{key_file.token_uri}', resend = 'safe',
      form = { { 'grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer' }, { 'assertion', '{assertion}' } },
      capture = {
        token = { path = 'access_token', as = 'string', secret = true },
        token_type = { path = 'token_type', optional = true },
        expires_in = { path = 'expires_in', as = 'integer' },
      } },
  },
  errors = {   -- RFC 6749 section 5.2: {"error", "error_description"}
    { code = 'invalid_grant', kind = 'auth', clock_skew = true, provider_message = 'Invalid JWT: Token must be a '
      .. 'short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT '
      .. 'claim.' },
    { code = { 'invalid_grant', 'invalid_client' }, kind = 'auth' },
    { code = { 'invalid_scope', 'unauthorized_client', 'invalid_request', 'unsupported_grant_type' }, kind = 'config' },
  },
  emit = { token = '{token}', token_type = '{token_type}', ttl = '{expires_in}' },
}
