-- The result on stdout or in a file: json (the result envelope),
-- token, env (shell-quoted export lines) and exec-credential (Kubernetes).
local json = require 'tokrun.json'

local M = {}

local pairs, ipairs, sort, concat = pairs, ipairs, table.sort, table.concat

local ENVELOPE = { 'recipe', 'ok', 'token', 'token_type', 'expires_at',
  'obtained_at', 'cached', 'data' }
local ERROR_FIELDS = { 'kind', 'message', 'http_status', 'provider_code' }

M.formats = { json = true, token = true, env = true, ['exec-credential'] = true }

-- Single quotes keep every byte literal in sh; a ' itself becomes '\''.
function M.shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function envelope(result)
  local t = {}
  for _, k in ipairs(ENVELOPE) do t[k] = result[k] end
  return json.encode(json.ordered(t, ENVELOPE))
end

-- M.render(result, format) -> the bytes to print or write
function M.render(result, format)
  if format == 'token' then return result.token .. '\n' end
  if format == 'env' then
    local names = {}
    for name in pairs(result.env) do names[#names + 1] = name end
    sort(names)
    local lines = {}
    for _, name in ipairs(names) do
      lines[#lines + 1] = 'export ' .. name .. '=' .. M.shell_quote(tostring(result.env[name])) .. '\n'
    end
    return concat(lines)
  end
  if format == 'exec-credential' then
    local status = { token = result.token }
    if result.expires_at ~= json.null then status.expirationTimestamp = result.expires_at end
    return json.encode(json.ordered({
      apiVersion = 'client.authentication.k8s.io/v1', kind = 'ExecCredential',
      status = status,
    }, { 'apiVersion', 'kind', 'status' })) .. '\n'
  end
  return envelope(result) .. '\n'
end

-- M.error_json(recipe, err) -> the failure object for --format json
function M.error_json(recipe, err)
  local e = {}
  for _, k in ipairs(ERROR_FIELDS) do
    local v = err[k]
    if v == nil then v = json.null end
    e[k] = v
  end
  return json.encode(json.ordered({ recipe = recipe or json.null, ok = false,
    error = json.ordered(e, ERROR_FIELDS) }, { 'recipe', 'ok', 'error' })) .. '\n'
end

return M
