-- GitHub App installation access token: an App JWT (RS256, iat backdated
-- 60 s against clock drift, exp 10 minutes after iat, iss the App's client
-- ID or app ID) exchanged for an installation token, optionally narrowed
-- to some repositories and permissions.  Minting is safe to repeat.
return {
  name = 'github_app',
  description = 'GitHub App installation access token',
  params = {
    { name = 'base_url', env = 'GITHUB_API_URL', default = 'https://api.github.com',
      description = 'API root; GitHub Enterprise Server: https://HOST/api/v3' },
    { name = 'client_id', env = 'GITHUB_APP_CLIENT_ID', description = "the App's client ID (Iv23...)" },
    { name = 'app_id', env = 'GITHUB_APP_ID', type = 'integer', description = "the App's numeric ID" },
    { name = 'private_key', env = 'GITHUB_APP_PRIVATE_KEY', secret = true, required = true,
      description = "the App's private key (PEM)" },
    { name = 'installation_id', env = 'GITHUB_APP_INSTALLATION_ID', type = 'integer', required = true },
    { name = 'repositories', type = 'list', description = 'repository names the token is limited to' },
    { name = 'repository_ids', type = 'list', description = 'repository IDs the token is limited to' },
    { name = 'permissions', description = 'JSON object, e.g. {"contents":"read"}' },
  },
  derive = { issuer = { '{client_id}', '{app_id}', missing = 'set GITHUB_APP_CLIENT_ID or GITHUB_APP_ID' } },
  steps = {
    { name = 'app_jwt', jwt = { alg = 'RS256', key = '{private_key}', claims = { iss = '{issuer}' },
        iat = { backdate = 60 }, exp = 600 } },
    { name = 'token', method = 'POST', url = '{base_url}/app/installations/{installation_id}/access_tokens',
      auth = { bearer = '{app_jwt}' },
      headers = { Accept = 'application/vnd.github+json', ['X-GitHub-Api-Version'] = '2022-11-28' },
      json = { repositories = '{repositories}', repository_ids = '{repository_ids|integers}',
               permissions = '{permissions|json}' },
      resend = 'safe', expect = { status = 201 },
      capture = {
        token = { path = 'token', as = 'string', secret = true },
        expires_at = { path = 'expires_at', as = 'rfc3339' },
        granted = { path = 'permissions', optional = true },
        repository_selection = { path = 'repository_selection', optional = true },
      } },
  },
  errors = {   -- {"message","documentation_url","status"}
    { status = 401, kind = 'auth', clock_skew = true, provider_message = {   -- the JWT's time claims
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which "
          .. 'the assertion expires',
        "'Expiration time' claim ('exp') is too far in the future" } },
    { status = 401, kind = 'auth', hint = 'check the App ID or client ID and the private key' },
    { status = { 404, 422 }, kind = 'config' },
  },
  emit = { token = '{token}', token_type = 'github_installation', expires_at = '{expires_at}',
           data = { permissions = '{granted}', repository_selection = '{repository_selection}' } },
}
