-- The git-credential request parser on arbitrary bytes (and on requests
-- made of plausible lines) never raises; a request it accepts has only
-- keys git defines, values with no NUL, CR or LF, one host that is a plain
-- host name (no userinfo), and a url= that agrees with it.
local git = require 'tokrun.helper.git'
local helper = require 'tokrun.helper'
local fuzz = require 'fuzz.lib'

local pcall, type, pairs, tostring = pcall, type, pairs, tostring

local KEYS = { 'protocol', 'host', 'path', 'username', 'password', 'url', 'capability[]', 'wwwauth[]',
  'password_expiry_utc', 'authtype', 'hots', 'quit' }
local VALUES = { 'https', 'http', 'git.example.com', 'GIT.example.com:8443', 'user@evil', 'a/b', '',
  'https://git.example.com/x', 'https://u:p@git.example.com/', 'authtype', '[::1]:80', 'x\0y', 'evil.example' }

-- a request from the input: its own bytes, or lines picked by its bytes
local function request(r)
  if r:byte() % 2 == 0 then return r:rest() end
  local lines = {}
  for i = 1, r:byte() % 8 do
    local k, v = KEYS[r:byte() % #KEYS + 1], VALUES[r:byte() % #VALUES + 1]
    if r:byte() % 5 == 0 then v = r:str(20) end
    lines[i] = k .. '=' .. v .. '\n'
    if r:byte() % 9 == 0 then lines[i] = lines[i] .. '\n' end
  end
  return table.concat(lines)
end

return function(data)
  local text = request(fuzz.reader(data))
  local ok, req, msg = pcall(git.parse, text)
  fuzz.check(ok, 'git.parse raised on %s: %s', fuzz.show(text), tostring(req))
  if req == nil then
    fuzz.check(type(msg) == 'string' and msg ~= '', 'git.parse returned nil without a message')
    return
  end
  local hosts = 0
  for line in text:gmatch('[^\n]*') do
    if line:sub(1, 5) == 'host=' then hosts = hosts + 1 end
  end
  fuzz.check(hosts <= 1, 'git.parse accepted %d host= lines: %s', hosts, fuzz.show(text))
  for k, v in pairs(req) do
    local values = type(v) == 'table' and v or { v }
    for _, s in pairs(values) do
      fuzz.check(type(s) == 'string' and not s:find('[%z\r\n]'), 'key %s has value %s', k, fuzz.show(s))
    end
  end
  if req.host then
    fuzz.check(not req.host:find('@', 1, true), 'git.parse accepted a host with userinfo: %s', fuzz.show(text))
    fuzz.check(helper.host(req.host) == req.host, 'host %s is not a plain host name', fuzz.show(req.host))
  end
  if req.url then
    fuzz.check(not req.url:match('^[^:]*://[^/?#]*@'), 'git.parse accepted a url= with userinfo: %s',
      fuzz.show(text))
  end
end
