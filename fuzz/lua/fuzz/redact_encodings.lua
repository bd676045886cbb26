-- A secret (4 bytes or more, no '*', from the input) echoed back as other
-- languages' percent-encoders write it (Python's quote and quote_plus,
-- JavaScript's encodeURIComponent, encodeURI and URLSearchParams, Go's
-- PathEscape, QueryEscape and EscapedPath; either case of hex), or with
-- its control characters escaped, among other secrets and random text:
-- r:apply leaves no occurrence of it, nor of any form the redactor
-- registered (its one-pass scanner agrees with a plain search), and
-- r:line leaves no control character.
local redact = require 'tokrun.redact'
local fuzz = require 'fuzz.lib'

local byte, find, format, gsub = string.byte, string.find, string.format, string.gsub

-- What each encoder leaves as is (written from their documentation), and
-- whether it writes a space as '+'.
local ENCODERS = {
  { 'python quote', ' A-Za-z0-9_.~/-', false },
  { 'python quote_plus', ' A-Za-z0-9_.~-', true },
  { 'encodeURIComponent', " A-Za-z0-9_.!~*'()-", false },
  { 'encodeURI', " A-Za-z0-9_.!~*'();,/?:@&=+$#-", false },
  { 'URLSearchParams', ' A-Za-z0-9*_.-', true },
  { 'go PathEscape', ' A-Za-z0-9_.~$&+:=@-', false },
  { 'go QueryEscape', ' A-Za-z0-9_.~-', true },
  { 'go EscapedPath', ' A-Za-z0-9_.~$&+,/:;=@-', false },
}

-- keep starts with the space, which only a form encoder keeps (as '+')
local function encode(s, enc, hex)
  local keep = enc[3] and enc[2] or enc[2]:sub(2)
  local out = gsub(s, '[^' .. keep .. ']', function(c) return format(hex, byte(c)) end)
  if enc[3] then out = gsub(out, ' ', '+') end
  return out
end

return function(data)
  local r = fuzz.reader(data)
  local secret = (gsub(r:str(40), '%*', ''))
  if #secret < 4 then return end
  local others = {}
  for i = 1, r:byte() % 4 do others[i] = (gsub(r:str(24), '%*', '')) end

  local red = redact.new()
  red:add(secret)
  for _, o in ipairs(others) do red:add(o) end

  local echoes = { secret, redact.oneline(secret) }
  for _, enc in ipairs(ENCODERS) do
    echoes[#echoes + 1] = encode(secret, enc, '%%%02X')
    echoes[#echoes + 1] = encode(secret, enc, '%%%02x')
  end
  local parts = {}
  for i, e in ipairs(echoes) do
    parts[#parts + 1] = r:str(8)
    parts[#parts + 1] = e
    if i % 3 == 0 and others[1] then parts[#parts + 1] = others[1] end
  end
  parts[#parts + 1] = r:rest()
  local text = table.concat(parts)
  local out = red:apply(text)

  for _, e in ipairs(echoes) do
    fuzz.check(not find(out, e, 1, true), 'secret %s leaks as %s in %s (from %s)', fuzz.show(secret),
      fuzz.show(e), fuzz.show(out), fuzz.show(text))
  end
  for form in pairs(red.forms) do
    fuzz.check(not find(out, form, 1, true), 'registered form %s survives in %s (from %s)', fuzz.show(form),
      fuzz.show(out), fuzz.show(text))
  end
  fuzz.check(red:apply(out) == out, 'apply is not idempotent on %s', fuzz.show(text))
  local line = red:line(text)
  fuzz.check(not find(line, '[%z\1-\31\127]'), 'line leaves a control character: %s', fuzz.show(line))
end
