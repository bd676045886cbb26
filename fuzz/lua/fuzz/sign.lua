-- tokrun.sign on hostile input: load_key takes any bytes (with or without
-- a passphrase) and returns a key or nil, message, never raising; a key
-- that loads signs with every algorithm that fits it, and the signature
-- verifies.  verify takes any signature bytes for every ES width (the JOSE
-- r||s form converted to DER) and is false unless they are the signature.
local sign = require 'tokrun.sign'
local fuzz = require 'fuzz.lib'

local pcall, type, tostring, ipairs = pcall, type, tostring, ipairs

local ALGS = { 'RS256', 'PS384', 'ES256', 'ES384', 'ES512', 'EdDSA' }

-- A P-256 key made for this checker alone (openssl genpkey); it guards
-- nothing.
local P256 = sign.load_key([[
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0MbLMFED9GL1xCmU
RtcFtfjO/2y779BMgWW3rkgUReShRANCAATxbnvhnyvev9IszLCAjlCV6DundAJe
bLSkdZvgu6aqu7BMGuZv6njsYhIEG2NthQopa5ceGrkj3IvZq2qSymDY
-----END PRIVATE KEY-----
]])
local MSG = 'eyJhbGciOiJFUzI1NiJ9.eyJmdXp6Ijp0cnVlfQ'
local GOOD = sign.sign('ES256', P256, MSG)

local function check_key(data, pass)
  local ok, key, msg = pcall(sign.load_key, data, pass)
  fuzz.check(ok, 'load_key raised on %s: %s', fuzz.show(data), tostring(key))
  if not key then
    fuzz.check(type(msg) == 'string' and #msg < 100, 'load_key(%s) failed without a message', fuzz.show(data))
    return
  end
  for _, alg in ipairs(ALGS) do
    local sok, sig, err = pcall(sign.sign, alg, key, MSG)
    fuzz.check(sok, 'sign(%s) raised on a loaded key: %s', alg, tostring(sig))
    if sig then
      fuzz.check(sign.verify(alg, key, MSG, sig), '%s signature of a loaded key does not verify', alg)
    else
      fuzz.check(type(err) == 'string', 'sign(%s) failed without a message', alg)
    end
  end
  key:close()
end

local function check_signature(sig)
  for _, alg in ipairs({ 'ES256', 'ES384', 'ES512' }) do
    local ok, r = pcall(sign.verify, alg, P256, MSG, sig)
    fuzz.check(ok, 'verify(%s) raised on %s: %s', alg, fuzz.show(sig), tostring(r))
    fuzz.check(r == (alg == 'ES256' and sig == GOOD), 'verify(%s) = %s for %s', alg, tostring(r), fuzz.show(sig))
  end
end

return function(data)
  local r = fuzz.reader(data)
  local mode = r:byte()
  if mode < 64 then
    check_signature(r:rest())
  elseif mode < 128 then   -- a valid signature with some bytes changed
    local out, i = {}, 1
    for b in GOOD:gmatch('.') do
      out[i] = string.char(b:byte() ~ r:byte())
      i = i + 1
    end
    check_signature(table.concat(out))
  else
    local pass = mode >= 192 and r:str(16) or nil
    check_key(r:rest(), pass)
  end
end
