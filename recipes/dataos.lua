-- DataOS: an API key from the DataOS CLI, as operators make one today:
--   dataos-ctl user apikey create [-n NAME] -d DURATION [-i USER_ID]
-- The CLI prints a table for people; columns are found by header name.
return {
  name = 'dataos',
  description = 'DataOS API key (runs dataos-ctl user apikey create)',
  capabilities = { 'process' },
  params = {
    { name = 'dataos_ctl', env = 'DATAOS_CTL', default = 'dataos-ctl', description = 'path of the CLI' },
    { name = 'name', env = 'DATAOS_APIKEY_NAME', pattern = '^[%w_.-]+$',
      description = 'key name; the CLI picks one when absent' },
    { name = 'duration', env = 'DATAOS_APIKEY_DURATION', default = '24h', pattern = '^%d[%w.]*$',
      description = 'lifetime, e.g. 24h, 168h' },
    { name = 'user_id', env = 'DATAOS_USER_ID', pattern = '^[%w_.@-]+$' },
  },
  steps = {
    { name = 'create', parse = 'table', timeout = 30,
      run = { argv = { '{dataos_ctl}', 'user', 'apikey', 'create',
        { '-n', '{name}' }, '-d', '{duration}', { '-i', '{user_id}' } } },
      capture = {
        token = { path = 'rows.1.TOKEN', secret = true },
        expires_at = { path = 'rows.1.EXPIRATION', as = 'rfc3339' },
        key_name = 'rows.1.NAME',
      } },
  },
  emit = { token = '{token}', token_type = 'apikey', expires_at = '{expires_at}',
    data = { name = '{key_name}' } },
}
