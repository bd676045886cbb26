-- The `jwt` step kind: builds a compact JWS from the step's `jwt` table and
-- keeps it under the step's name ({assertion}), for a later step to send
-- (a bearer header, a form field) or for `emit` to deliver as the token.
--
--   { name = 'assertion', jwt = { alg = 'RS256', key = '{private_key}',
--       passphrase = '{passphrase}', header = { kid = '{key_id}', typ = 'JWT' },
--       x5t = '{certificate}',            -- or ['x5t#S256']
--       claims = { iss = '{app_id}', aud = '...' },
--       iat = true | { backdate = 60 }, nbf = true, exp = 600, jti = true } }
--
-- exp is the lifetime in seconds, counted from iat.  The time claims come
-- from the run's clock (--now), moved by ctx.clock_offset when a provider's
-- clock was found to differ.  The key is loaded, used and closed here;
-- nothing of it reaches a message, and the JWT itself is a secret: --dry-run
-- shows its header and claims, never its signature.
local codec = require 'tokrun.codec'
local errors = require 'tokrun.errors'
local json = require 'tokrun.json'
local jwt = require 'tokrun.jwt'
local sign = require 'tokrun.sign'
local template = require 'tokrun.template'

local type, pairs, tostring, setmetatable = type, pairs, tostring, setmetatable
local string_format = string.format

-- How a message names where a template's value came from: the parameter
-- (or key file field) behind a lone placeholder.
local function source_of(tpl, what)
  local name = type(tpl) == 'string' and tpl:match('^{([%a_][%w_.]*)}$')
  if not name then return what end
  local head, field = name:match('^([^.]+)%.(.+)$')
  if head then return string_format("parameter '%s' (field %s)", head, field) end
  return string_format("parameter '%s'", name)
end

local function config(where, fmt, ...)
  errors.raise('config', where .. ': ' .. string_format(fmt, ...))
end

-- A PEM pasted into a CI variable often arrives with its newlines as "\n".
local function pem_text(v)
  if type(v) ~= 'string' then return v end
  if not v:find('\n', 1, true) and v:find('\\n', 1, true) then return (v:gsub('\\n', '\n')) end
  return v
end

local function load_key(spec, vars, where)
  local pem = pem_text(template.value(spec.key, vars))
  local from = source_of(spec.key, 'the key')
  if pem == nil or pem == '' then config(where, '%s: the private key is not set', from) end
  if type(pem) ~= 'string' then config(where, '%s: the private key must be PEM or DER text', from) end
  local pass = spec.passphrase and template.value(spec.passphrase, vars)
  if pass ~= nil and type(pass) ~= 'string' then pass = tostring(pass) end
  local key, msg = sign.load_key(pem, pass)
  if not key then
    if msg:find('passphrase', 1, true) and spec.passphrase then
      msg = msg .. string_format(' (%s)', source_of(spec.passphrase, 'the passphrase'))
    end
    config(where, '%s: %s', from, msg)
  end
  return key, from
end

local function header_of(spec, vars, where)
  local header = spec.header and template.value(spec.header, vars) or {}
  for word, md in pairs({ x5t = 'sha1', ['x5t#S256'] = 'sha256' }) do
    if spec[word] ~= nil then
      local cert = pem_text(template.value(spec[word], vars))
      local from = source_of(spec[word], 'the certificate')
      if cert == nil or cert == '' then config(where, '%s: the certificate for %s is not set', from, word) end
      local t, msg = jwt.x5t(tostring(cert), md)
      if not t then config(where, '%s: %s', from, msg) end
      header[word] = t
    end
  end
  return header
end

return function(ctx, step, vars, where)
  local spec = step.jwt
  local alg = template.value(spec.alg, vars)
  if not jwt.ALGS[alg] then
    config(where, "%s: alg must be one of %s, got '%s'", source_of(spec.alg, 'jwt'), jwt.ALG_LIST, tostring(alg))
  end
  local key <close>, from = load_key(spec, vars, where)
  local header = header_of(spec, vars, where)
  local cvars = setmetatable({}, { __index = function(_, k)
    if k == 'key_fingerprint' then return 'SHA256:' .. codec.base64(sign.spki_fingerprint(key)) end
    return vars[k]
  end })
  local claims = spec.claims and template.value(spec.claims, cvars, json.array) or {}
  local now = ctx.now_ms() // 1000 + (ctx.clock_offset or 0)
  for k, v in pairs(jwt.time_claims(now, spec)) do claims[k] = v end
  local token, msg = jwt.encode(alg, key, header, claims)
  if not token then config(where, '%s: %s', from, msg) end
  ctx.secrets:add(token)
  vars[step.name] = token
  if ctx.dry_run then
    ctx.out('# ' .. where)
    ctx.out('jwt ' .. jwt.describe(token))
  elseif ctx.verbose then
    ctx.log('* jwt ' .. jwt.describe(token))
  end
end
