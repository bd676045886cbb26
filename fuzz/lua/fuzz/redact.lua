-- A secret (4 bytes or more, no '*', from the input) embedded in random
-- text in each form a request can carry it in: r:apply leaves no
-- occurrence of the secret nor of the part of each form that depends on
-- the secret alone.  Also r:json_text of a JSON body holding the secret.
local codec = require 'tokrun.codec'
local json = require 'tokrun.json'
local cjson = require 'cjson'
local redact = require 'tokrun.redact'
local fuzz = require 'fuzz.lib'

local pcall, ipairs = pcall, ipairs
local find, gsub, lower, sub = string.find, string.gsub, string.lower, string.sub

-- The characters of a base64 encoding (of url variant) of
-- prefix .. secret .. suffix that depend only on the secret's bytes:
-- character i covers bits 6i .. 6i+5.
local function b64_core(enc, plen, slen)
  local first = (8 * plen + 5) // 6
  local last = (8 * (plen + slen)) // 6 - 1
  return sub(enc, first + 1, last + 1)
end

-- A JSON string's contents as an encoder writes it.
local function unquoted(s)
  return sub(s, 2, -2)
end

-- [{what, text_form, leak}] what to embed and what must not remain.
local function forms(secret, user, prefix, suffix)
  local out = {
    { 'raw', secret, secret },
    { 'pct', codec.pct(secret) }, { 'pct lowercase', (gsub(codec.pct(secret), '%%%x%x', lower)) },
    { 'form', codec.form(secret) }, { 'form lowercase', (gsub(codec.form(secret), '%%%x%x', lower)) },
    { 'cjson', unquoted(cjson.encode(secret)) },
  }
  local ok, j = pcall(json.encode, secret)
  if ok then out[#out + 1] = { 'tokrun.json', unquoted(j) } end
  local whole = prefix .. secret .. suffix
  local b64, b64url = codec.base64(whole), codec.base64url(whole)
  out[#out + 1] = { 'base64', b64, b64_core(b64, #prefix, #secret) }
  out[#out + 1] = { 'base64url', b64url, b64_core(b64url, #prefix, #secret) }
  local basic = user .. ':' .. secret
  local b = codec.base64(basic)
  out[#out + 1] = { 'Basic', 'Basic ' .. b, b64_core(b, #user + 1, #secret) }
  for _, f in ipairs(out) do f[3] = f[3] or f[2] end
  return out
end

return function(data)
  local r = fuzz.reader(data)
  local secret = (gsub(r:str(48), '%*', ''))
  if #secret < 4 then return end
  local user = (gsub(r:str(16), '[%*:]', ''))
  local prefix, suffix = r:bytes(r:byte() % 3), r:bytes(r:byte() % 3)
  local fillers = {}
  for i = 1, 12 do fillers[i] = r:str(12) end

  local red = redact.new()
  red:add_basic(user, secret)
  local list = forms(secret, user, prefix, suffix)
  local parts = {}
  for i, f in ipairs(list) do parts[#parts + 1] = fillers[i] or ''; parts[#parts + 1] = f[2] end
  parts[#parts + 1] = r:rest()
  local text = table.concat(parts)
  local out = red:apply(text)
  for _, f in ipairs(list) do
    fuzz.check(not find(out, f[3], 1, true),
      'the %s form of secret %s leaks: %s in %s (from %s)', f[1], fuzz.show(secret),
      fuzz.show(f[3]), fuzz.show(out), fuzz.show(text))
  end

  -- a -v trace of a JSON body that holds the secret under an ordinary key
  local ok, body = pcall(json.encode, { v = (fillers[1] or '') .. secret .. (fillers[2] or '') })
  if ok then
    local traced = red:json_text(body)
    for _, f in ipairs(list) do
      fuzz.check(not find(traced, f[3], 1, true),
        'json_text leaks the %s form of secret %s: %s in %s (from %s)', f[1], fuzz.show(secret),
        fuzz.show(f[3]), fuzz.show(traced), fuzz.show(body))
    end
  end
end
