-- The result on stdout or in a file: json (the envelope), token, env
-- (shell-quoted export lines), exec-credential (Kubernetes) and
-- aws-credential-process (the AWS CLI's credential_process).
--
-- Every format is total: a credential it cannot carry (a NUL byte outside
-- JSON, invalid UTF-8 inside JSON) is a `protocol` error returned, never a
-- crash, so the caller can still release a lease or print its id.
local json = require 'tokrun.json'

local M = {}

local type, pairs, ipairs, tostring, pcall = type, pairs, ipairs, tostring, pcall
local sort, concat, string_format = table.sort, table.concat, string.format
local utf8_len = utf8.len

local ENVELOPE = { 'recipe', 'ok', 'token', 'token_type', 'expires_at',
  'obtained_at', 'cached', 'data' }
local ERROR_FIELDS = { 'kind', 'message', 'http_status', 'provider_code' }

-- format -> what it can carry.  lease: whether a lease id reaches the
-- caller (a lease recipe is refused, before checkout, by a format that
-- cannot); needs: emit words the recipe must declare.
M.formats = {
  json = { lease = true },
  token = { lease = false },
  env = { lease = true },
  ['exec-credential'] = { lease = false },
  ['aws-credential-process'] = { lease = false, needs = { 'access_key_id', 'secret_access_key' } },
}
M.names = { 'json', 'token', 'env', 'exec-credential', 'aws-credential-process' }

M.K8S_VERSIONS = { ['client.authentication.k8s.io/v1'] = true, ['client.authentication.k8s.io/v1beta1'] = true }

local function failure(kind, fmt, ...)
  return nil, { kind = kind, message = string_format(fmt, ...) }
end

-- M.check_text(s, nul_ok) -> true | nil, why: s can be printed as text
-- (UTF-8; a NUL byte only where nul_ok).
function M.check_text(s, nul_ok)
  s = tostring(s)
  if not nul_ok and s:find('\0', 1, true) then return nil, 'a NUL byte' end
  if not utf8_len(s) then return nil, 'invalid UTF-8' end
  return true
end

-- Single quotes keep every byte literal in sh; a ' itself becomes '\''.
function M.shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function encode(t, what)
  local ok, text = pcall(json.encode, t)
  if not ok then
    return failure('protocol', 'the credential cannot be printed as %s: %s', what, tostring(text))
  end
  return text .. '\n'
end

local function raw(result, format, names)
  for _, name in ipairs(names) do
    local v = result[name]
    if v ~= nil then
      local ok, why = M.check_text(v, false)
      if not ok then
        return failure('protocol', 'the credential cannot be printed as %s: its %s holds %s', format, name, why)
      end
    end
  end
  return true
end

local function envelope(result)
  local t = {}
  for _, k in ipairs(ENVELOPE) do t[k] = result[k] end
  return encode(json.ordered(t, ENVELOPE), 'JSON')
end

local function env_lines(result)
  local names = {}
  for name in pairs(result.env) do names[#names + 1] = name end
  sort(names)
  local lines = {}
  for _, name in ipairs(names) do
    local v = tostring(result.env[name])
    if v:find('\0', 1, true) then
      return failure('protocol', 'the credential cannot be printed as env: %s holds a NUL byte', name)
    end
    lines[#lines + 1] = 'export ' .. name .. '=' .. M.shell_quote(v) .. '\n'
  end
  return concat(lines)
end

-- The apiVersion kubectl asked for in KUBERNETES_EXEC_INFO (v1 when absent).
function M.k8s_version(exec_info)
  if exec_info == nil or exec_info == '' then return 'client.authentication.k8s.io/v1' end
  local info = json.decode(exec_info)
  if type(info) ~= 'table' then
    return failure('config', 'KUBERNETES_EXEC_INFO is not a JSON object')
  end
  local v = info.apiVersion
  if v == nil or v == json.null then return 'client.authentication.k8s.io/v1' end
  if not M.K8S_VERSIONS[v] then
    return failure('config', "KUBERNETES_EXEC_INFO asks for apiVersion '%s'; tokrun answers "
      .. 'client.authentication.k8s.io/v1 and v1beta1', tostring(v))
  end
  return v
end

local function exec_credential(result, how)
  local version, err = M.k8s_version(how.exec_info)
  if not version then return nil, err end
  local ok, rerr = raw(result, 'exec-credential', { 'token' })
  if not ok then return nil, rerr end
  local status = { token = result.token }
  if result.expires_at ~= json.null then status.expirationTimestamp = result.expires_at end
  return encode(json.ordered({ apiVersion = version, kind = 'ExecCredential', status = status },
    { 'apiVersion', 'kind', 'status' }), 'an ExecCredential')
end

local AWS_KEYS = { 'Version', 'AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration' }

local function aws(result)
  if type(result.access_key_id) ~= 'string' or type(result.secret_access_key) ~= 'string' then
    return failure('protocol', 'the result has no access_key_id and secret_access_key for aws-credential-process')
  end
  local ok, err = raw(result, 'aws-credential-process', { 'access_key_id', 'secret_access_key', 'session_token' })
  if not ok then return nil, err end
  local t = { Version = 1, AccessKeyId = result.access_key_id, SecretAccessKey = result.secret_access_key,
    SessionToken = result.session_token }
  if result.expires_at ~= json.null then t.Expiration = result.expires_at end
  return encode(json.ordered(t, AWS_KEYS), 'aws-credential-process JSON')
end

-- M.render(result, format [, how]) -> the bytes to print or write | nil,
-- {kind, message}.  how.exec_info: KUBERNETES_EXEC_INFO's value.
function M.render(result, format, how)
  how = how or {}
  if format == 'token' then
    local ok, err = raw(result, 'token', { 'token' })
    if not ok then return nil, err end
    return result.token .. '\n'
  end
  if format == 'env' then return env_lines(result) end
  if format == 'exec-credential' then return exec_credential(result, how) end
  if format == 'aws-credential-process' then return aws(result) end
  return envelope(result)
end

-- M.refuse(decl, format) -> nil | message: why this recipe cannot be
-- delivered in this format at all (a usage error, before anything runs).
function M.refuse(decl, format, what)
  local f = M.formats[format]
  what = what or ('--format ' .. format)
  if decl.release and not f.lease then
    return string_format('%s: %s cannot carry the lease id of a recipe that yields a lease; '
      .. 'use --format json or tokrun exec', decl.name, what)
  end
  for _, word in ipairs(f.needs or {}) do
    if (decl.emit or {})[word] == nil then
      return string_format('%s: %s needs a recipe that emits %s', decl.name, what, word)
    end
  end
end

-- M.error_json(recipe, err) -> the failure object for --format json
function M.error_json(recipe, err)
  local e = {}
  for _, k in ipairs(ERROR_FIELDS) do
    local v = err[k]
    if v == nil then v = json.null end
    e[k] = v
  end
  local text = encode(json.ordered({ recipe = recipe or json.null, ok = false,
    error = json.ordered(e, ERROR_FIELDS) }, { 'recipe', 'ok', 'error' }), 'JSON')
  if text then return text end
  -- a provider's invalid UTF-8 in a message: printed with the bytes escaped
  e.message = tostring(e.message):gsub('[\128-\255]', function(c) return string_format('\\x%02x', c:byte()) end)
  if type(e.provider_code) == 'string' then
    e.provider_code = e.provider_code:gsub('[\128-\255]', function(c) return string_format('\\x%02x', c:byte()) end)
  end
  return json.encode(json.ordered({ recipe = recipe or json.null, ok = false,
    error = json.ordered(e, ERROR_FIELDS) }, { 'recipe', 'ok', 'error' })) .. '\n'
end

return M
