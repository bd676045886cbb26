-- Zephyr Cloud (a made-up provider, the README's walkthrough): a deploy
-- token from a POST signed with HMAC-SHA256 over method, path, timestamp
-- and body, sent base64 in a header.
return {
  name = 'zephyr',
  description = 'Zephyr Cloud deploy token (HMAC-signed POST)',
  params = {
    { name = 'base_url', env = 'ZEPHYR_BASE_URL', default = 'https://api.zephyr.example' },
    { name = 'key_id', env = 'ZEPHYR_KEY_ID', required = true },
    { name = 'key_secret', env = 'ZEPHYR_KEY_SECRET', secret = true, required = true },
    { name = 'scopes', env = 'ZEPHYR_SCOPES', type = 'list', default = { 'deploy' },
      enum = { 'deploy', 'logs', 'metrics' } },
    { name = 'ttl', env = 'ZEPHYR_TTL', type = 'integer', default = 3600 },
  },
  steps = {
    { name = 'mint',
      method = 'POST', url = '{base_url}/v1/tokens',
      headers = { ['X-Zephyr-Key'] = '{key_id}', ['X-Zephyr-Timestamp'] = '{now}' },
      json = { scopes = '{scopes}', ttl = '{ttl}' },
      sign = { hmac = 'sha256', key = '{key_secret}', encoding = 'base64',
               message = '{method}\n{path}\n{now}\n{body}', into = { header = 'X-Zephyr-Signature' } },
      expect = { status = 201 },
      code_from = 'error.code', message_from = 'error.message',
      errors = { { code = { 'bad_signature', 'unknown_key' }, kind = 'auth' } },
      resend = 'safe',
      capture = { token = { path = 'token', secret = true },
                  expires_at = { path = 'expires_at', as = 'rfc3339' } } },
  },
  emit = { token = '{token}', token_type = 'bearer', expires_at = '{expires_at}',
           env = { ZEPHYR_TOKEN = '{token}' } },
}
