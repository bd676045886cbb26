-- Velafi: an API token from an HMAC-SHA256-signed GET.
-- signature = hex HMAC-SHA256(api_secret, "timestamp=MS"); the body's
-- `code` decides success whatever the HTTP status says.
return {
  name = 'velafi',
  description = 'Velafi API token (HMAC-signed GET)',
  params = {
    { name = 'base_url', env = 'VELAFI_BASE_URL', default = 'https://api.velafi.com',
      description = 'API base URL; sandbox: https://api-test.velafi.com' },
    { name = 'api_key', env = 'VELAFI_API_KEY', secret = true, required = true },
    { name = 'api_secret', env = 'VELAFI_API_SECRET', secret = true, required = true },
  },
  steps = {
    {
      name = 'generate',
      method = 'GET',
      url = '{base_url}/v2/token/generate',
      query = { { 'timestamp', '{now_ms}' } },
      sign = { hmac = 'sha256', key = '{api_secret}', message = '{query}',
        into = { query = 'signature' } },
      headers = { ['X-BH-APIKEY'] = '{api_key}' },
      status_from = 'code',
      expect = { status = 200 },
      code_from = 'code',
      message_from = 'msg',
      errors = {
        { code = { -1022, -2014, -2015 }, kind = 'auth' },
        { code = -1021, kind = 'config',
          report = 'clock skew: the timestamp is outside the 5000 ms recvWindow; check this machine\'s clock' },
      },
      capture = {
        token = { path = 'data.token', secret = true },
        expires_at = { path = 'data.expireTime', as = 'epoch_ms' },
      },
    },
  },
  emit = { token = '{token}', token_type = 'api_token', expires_at = '{expires_at}' },
}
