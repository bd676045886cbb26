-- Microsoft identity platform (Entra ID) client credentials with a
-- certificate: a client assertion signed by the app's private key,
-- identified by its certificate's thumbprint -- PS256 with x5t#S256, or
-- for older tenants (thumbprint=sha1) RS256 with x5t -- lasting 10 minutes,
-- exchanged for an access token to the scope's resource.  The authority
-- is overridable for sovereign clouds.  Minting is safe to repeat.
local claims = { aud = '{token_url}', iss = '{client_id}', sub = '{client_id}' }
return {
  name = 'azure_client_certificate',
  description = 'Microsoft Entra ID access token for an app with a certificate credential',
  params = {
    { name = 'authority', env = 'AZURE_AUTHORITY_HOST', default = 'https://login.microsoftonline.com' },
    { name = 'tenant_id', env = 'AZURE_TENANT_ID', required = true, pattern = '[%w.-]+' },
    { name = 'client_id', env = 'AZURE_CLIENT_ID', required = true },
    { name = 'certificate', env = 'AZURE_CLIENT_CERTIFICATE', required = true,
      description = "the app's certificate (PEM); AZURE_CLIENT_CERTIFICATE_FILE names a file holding it" },
    { name = 'private_key', env = 'AZURE_CLIENT_KEY', secret = true, required = true },
    { name = 'passphrase', env = 'AZURE_CLIENT_KEY_PASSPHRASE', secret = true },
    { name = 'scope', default = 'https://graph.microsoft.com/.default' },
    { name = 'thumbprint', enum = { 'sha256', 'sha1' }, default = 'sha256',
      description = 'sha256: PS256 and x5t#S256; sha1: RS256 and x5t' },
  },
  derive = { token_url = '{authority}/{tenant_id}/oauth2/v2.0/token' },
  steps = {
    { name = 'assertion', when = { thumbprint = 'sha256' },
      jwt = { alg = 'PS256', ['x5t#S256'] = '{certificate}', key = '{private_key}', passphrase = '{passphrase}',
        header = { typ = 'JWT' }, claims = claims, jti = true, nbf = true, iat = true, exp = 600 } },
    { name = 'assertion_sha1', when = { thumbprint = 'sha1' },
      jwt = { alg = 'RS256', x5t = '{certificate}', key = '{private_key}', passphrase = '{passphrase}',
        header = { typ = 'JWT' }, claims = claims, jti = true, nbf = true, iat = true, exp = 600 } },
    { name = 'token', method = 'POST', url = '{token_url}', resend = 'safe', code_from = { 'error_codes.1', 'error' },
      form = { { 'client_id', '{client_id}' }, { 'scope', '{scope}' },
        { 'client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' },
        { 'client_assertion', '{assertion}' }, { 'client_assertion', '{assertion_sha1}' },
        { 'grant_type', 'client_credentials' } },
      capture = {
        token = { path = 'access_token', as = 'string', secret = true },
        token_type = { path = 'token_type', optional = true },
        expires_in = { path = 'expires_in', as = 'integer' },
      } },
  },
  errors = {   -- {"error","error_description","error_codes"}: the AADSTS number is the provider code
    { code = 700024, kind = 'auth', clock_skew = true },   -- the assertion is not within its valid time range
    { status = 401, kind = 'auth' },
    { code = 'invalid_client', kind = 'auth' },
    { status = 400, kind = 'config' },
  },
  emit = { token = '{token}', token_type = '{token_type}', ttl = '{expires_in}' },
}
