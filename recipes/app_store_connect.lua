-- App Store Connect API token: no request, the JWT is the token.  ES256
-- with the API key's .p8 private key, kid its key ID; iss the issuer ID,
-- aud appstoreconnect-v1, exp 20 minutes after iat (Apple's maximum), and
-- optionally scope: the requests it may make ("GET /v1/apps").
return {
  name = 'app_store_connect',
  description = 'App Store Connect API token (ES256 JWT)',
  params = {
    { name = 'issuer_id', env = 'ASC_ISSUER_ID', required = true },
    { name = 'key_id', env = 'ASC_KEY_ID', required = true, pattern = '[A-Z0-9]+' },
    { name = 'private_key', env = 'ASC_PRIVATE_KEY', secret = true, required = true,
      description = 'the AuthKey_KEYID.p8 private key (PEM); ASC_PRIVATE_KEY_FILE names the file' },
    { name = 'scope', type = 'list', description = 'requests the token is limited to, e.g. GET /v1/apps' },
  },
  steps = {
    { name = 'asc_jwt', jwt = { alg = 'ES256', key = '{private_key}', header = { kid = '{key_id}', typ = 'JWT' },
        claims = { iss = '{issuer_id}', aud = 'appstoreconnect-v1', scope = '{scope}' }, iat = true, exp = 1200 } },
  },
  emit = { token = '{asc_jwt}', token_type = 'jwt', expires_at = '{asc_jwt|jwt_exp}' },
}
