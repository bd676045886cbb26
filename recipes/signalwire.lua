-- SignalWire: create an API token (LaML-compatible REST API, HTTP Basic
-- project_id:api_token).  With rotate=true the old token is deleted only
-- after the new one came back; if that fails the new one is still delivered.
local tokens = '{base}/api/laml/2010-04-01/Accounts/{project_id}/tokens'
return {
  name = 'signalwire',
  description = 'SignalWire API token (optionally replacing an old one)',
  mint_once = true,
  params = {
    { name = 'base_url', env = 'SIGNALWIRE_BASE_URL' },
    { name = 'space', env = 'SIGNALWIRE_SPACE', pattern = '^[A-Za-z0-9-]+$',
      description = 'the SPACE in https://SPACE.signalwire.com' },
    { name = 'project_id', env = 'SIGNALWIRE_PROJECT_ID', required = true },
    { name = 'api_token', env = 'SIGNALWIRE_API_TOKEN', secret = true, required = true },
    { name = 'name', env = 'SIGNALWIRE_TOKEN_NAME', required = true },
    { name = 'permissions', env = 'SIGNALWIRE_PERMISSIONS', type = 'list', required = true,
      enum = { 'calling', 'chat', 'datasphere', 'fax', 'management', 'messaging', 'numbers',
        'pubsub', 'storage', 'tasking', 'video' } },
    { name = 'subproject_id', env = 'SIGNALWIRE_SUBPROJECT_ID' },
    { name = 'rotate', type = 'boolean', default = false, description = 'delete old_token_id afterwards' },
    { name = 'old_token_id', env = 'SIGNALWIRE_OLD_TOKEN_ID', required_if = 'rotate' },
  },
  derive = { base = { '{base_url}', 'https://{space}.signalwire.com',
    missing = 'set SIGNALWIRE_SPACE (or SIGNALWIRE_BASE_URL)' } },
  errors = { { status = 422, kind = 'config', report = 'the provider rejected a parameter' } },
  steps = {
    { name = 'create', method = 'POST', url = tokens,
      auth = { basic = { '{project_id}', '{api_token}' } },
      json = { name = '{name}', permissions = '{permissions}', subproject_id = '{subproject_id}' },
      code_from = { 'code', 'errors.1.code' }, message_from = { 'message', 'errors.1.message' },
      field_from = { 'attribute', 'errors.1.attribute' },
      capture = { token = { path = 'token', secret = true }, token_id = 'id',
        token_name = 'name', granted = 'permissions' } },
    { name = 'delete_old', method = 'DELETE', url = tokens .. '/{old_token_id}', when = '{rotate}',
      auth = { basic = { '{project_id}', '{api_token}' } },
      on_failure = 'deliver', failure_note = 'old_token_id {old_token_id} is still valid: delete it yourself' },
  },
  emit = { token = '{token}', token_type = 'api_token',
    data = { id = '{token_id}', name = '{token_name}', permissions = '{granted}' } },
}
