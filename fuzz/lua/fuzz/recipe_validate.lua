-- recipe.validate on declarations built from the input: a valid recipe
-- edited at random places, or a table made from nothing.  It returns the
-- declaration or raises a recipe error (kind 'recipe'); anything else it
-- raises is a bug.
local recipe = require 'tokrun.recipe'
local errors = require 'tokrun.errors'
local fuzz = require 'fuzz.lib'

local pcall, pairs, ipairs, type, tostring = pcall, pairs, ipairs, type, tostring

-- Every word the schema knows, words of earlier versions, and names
-- recipes use.
local KEYS = { 'insecure', 'safe_to_repeat', 'error_message', 'text', 'token', 'api_key', 'base_url',
  'id', 'sig', 'TOKEN' }
for _, words in pairs(require('tokrun.schema').contexts) do
  for word, w in pairs(words) do
    if type(w) == 'table' then KEYS[#KEYS + 1] = word end
  end
end
table.sort(KEYS)
local WORDS = {
  'fuzz', 'process', 'fs', 'GET', 'POST', '{api_key}', '{base_url}', '{token}', '{id}',
  '{now_ms}', '{query}', '{nope}', '{api_key|form}', '{x|bad}', 'https://example.com/{id}',
  '{base_url}/v1/{token}', 'epoch_ms', 'jwt_exp', 'rfc3339', 'datetime', 'bogus', 'auth',
  'recipe', 'config', 'string', 'integer', 'boolean', 'list', '%d+', '[', '^a$', 'sha256',
  'data.token', 'API_KEY', 'velafi', 'a b', '', 'id', 'api_key', 'token', 'base_url',
}

local function skeleton()
  return {
    name = 'fuzz', description = 'a recipe to edit',
    params = {
      { name = 'api_key', env = 'API_KEY', secret = true, required = true },
      { name = 'base_url', default = 'https://example.com', pattern = '^https://.*' },
      { name = 'mode', type = 'list', enum = { 'a', 'b' }, default = { 'a' }, required_if = 'base_url' },
    },
    derive = { sig = '{api_key}' },
    steps = { {
      name = 'get', method = 'POST', url = '{base_url}/v1/{api_key}',
      query = { { 'a', '{api_key}' } }, headers = { ['X-Key'] = '{api_key}' },
      auth = { basic = { '{api_key}', '{sig}' } }, json = { a = { '{api_key}' } },
      capture = { token = 'data.token', id = { path = 'data.id', as = 'string', secret = true } },
      sign = { hmac = 'sha256', key = '{api_key}', message = '{query}', into = { query = 'signature' } },
      errors = { { status = 401, kind = 'auth', message = 'denied' } },
      when = { api_key = true }, retries = 2, resend = 'safe',
    } },
    emit = { token = '{token}', expires_at = '{now}', data = { id = '{id}' }, env = { TOKEN = '{token}' } },
    release = { lease = 'id', steps = { { name = 'release', method = 'DELETE', url = '{base_url}/r/{id}' } } },
    errors = { { code = 'x', kind = 'config' } },
    capabilities = { 'fs' },
  }
end

local gen

local function gen_table(r, depth)
  local t = {}
  for _ = 1, r:byte() % 6 do
    local kb = r:byte()
    local key
    if kb < 160 then key = KEYS[kb % #KEYS + 1]
    elseif kb < 224 then key = kb % 4 + 1
    elseif kb < 240 then key = r:str(8)
    elseif kb < 248 then key = kb % 2 == 0
    else key = {} end
    t[key] = gen(r, depth + 1)
  end
  return t
end

function gen(r, depth)
  local op = r:byte() % 12
  if depth > 4 and op >= 7 then op = op % 7 end
  if op == 0 then return nil end
  if op <= 2 then return WORDS[r:byte() % #WORDS + 1] end
  if op == 3 then return r:str(16) end
  if op == 4 then return r:byte() - 8 end
  if op == 5 then return r:byte() / 7 end
  if op == 6 then
    if r:byte() % 2 == 0 then return r:byte() % 2 == 0 end
    return function() return 'x' end
  end
  if op <= 9 then return gen_table(r, depth) end
  local list = {}
  for i = 1, r:byte() % 4 do list[i] = gen(r, depth + 1) end
  return list
end

-- t's keys in an order that does not depend on the string hash seed, so a
-- saved input replays the same edits.
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == 'string' or ta == 'number' then return a < b end
    if ta == 'boolean' then return not a and b end
    return false
  end)
  return keys
end

-- Every table in v, for picking a place to edit.
local function tables(v, out)
  out[#out + 1] = v
  for _, k in ipairs(sorted_keys(v)) do
    if type(v[k]) == 'table' then tables(v[k], out) end
  end
  return out
end

return function(data)
  local r = fuzz.reader(data)
  local decl
  if r:byte() % 8 == 0 then
    decl = gen(r, 0)
  else
    decl = skeleton()
    for _ = 1, r:byte() % 5 + 1 do
      local all = tables(decl, {})
      local t = all[r:byte() % #all + 1]
      local kb = r:byte()
      local key
      if kb < 128 then
        local existing = sorted_keys(t)
        key = existing[kb % (#existing + 1) + 1] or 1
      elseif kb < 224 then key = KEYS[kb % #KEYS + 1]
      elseif kb < 240 then key = kb % 3 + 1
      else key = kb % 2 == 0 end
      t[key] = gen(r, 1)
    end
  end
  local ok, err = pcall(recipe.validate, decl, 'fuzz.lua')
  if not ok then
    fuzz.check(errors.is(err) and err.kind == 'recipe',
      'recipe.validate raised a non-recipe error: %s (%s)', tostring(err), type(err))
  end
end
