-- Dataverse: rotates the API token.  The old token dies the moment the
-- server answers, so the request is never re-sent once it reached the
-- server, and a result that cannot be written to -o goes to stdout.
-- The expiry is in the server's time: UTC unless server_utc_offset says.
return {
  name = 'dataverse',
  description = 'Dataverse API token (rotation)',
  mint_once = true,
  params = {
    { name = 'base_url', env = 'DATAVERSE_BASE_URL', required = true },
    { name = 'api_token', env = 'DATAVERSE_API_TOKEN', secret = true, required = true },
    { name = 'server_utc_offset', pattern = '[+-]%d%d:?%d%d',
      description = "the server's UTC offset, e.g. +02:00 (default UTC)" },
  },
  steps = {
    {
      name = 'recreate',
      method = 'POST',
      resend = 'never',
      url = '{base_url}/api/users/token/recreate',
      query = { { 'returnExpiration', 'true' } },
      headers = { ['X-Dataverse-key'] = '{api_token}' },
      expect = { body = { status = 'OK' } },
      message_from = 'message',
      capture = {   -- "New token for USER is TOKEN and expires on YYYY-MM-DD HH:MM:SS.mmm"
        token = { path = 'data.message', match = '^New token for .- is (%S+)', secret = true },
        user = { path = 'data.message', match = '^New token for (.-) is %S+' },
        expires_at = { path = 'data.message', match = ' expires on (%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d[.%d]*)',
          as = 'datetime', utc_offset = '{server_utc_offset}', optional = true },
      },
    },
  },
  emit = { token = '{token}', token_type = 'api_token', expires_at = '{expires_at}', data = { user = '{user}' } },
}
