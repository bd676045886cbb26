-- Shared by the JWT mocks (not a routes file): reads a compact JWS as a
-- provider does -- three base64url parts, a header naming an allowed alg,
-- a signature that tokrun.sign.verify accepts under the configured public
-- key or certificate -- and gives the provider's own clock as a Date header.
local codec = require 'tokrun.codec'
local json = require 'tokrun.json'
local sign = require 'tokrun.sign'

local M = {}

-- M.read(token, public_key, algs) -> header, claims | nil, reason
-- reason: 'malformed', 'alg' (not allowed), 'signature'
function M.read(token, public_key, algs)
  local h, c, s = (token or ''):match('^([%w_-]+)%.([%w_-]+)%.([%w_-]+)$')
  if not h then return nil, 'malformed' end
  local header = json.decode(codec.unbase64url(h) or '')
  local claims = json.decode(codec.unbase64url(c) or '')
  local sig = codec.unbase64url(s)
  if type(header) ~= 'table' or type(claims) ~= 'table' or not sig then return nil, 'malformed' end
  local allowed = false
  for _, a in ipairs(algs) do allowed = allowed or header.alg == a end
  if not allowed then return nil, 'alg' end
  if not sign.verify(header.alg, public_key, h .. '.' .. c, sig) then return nil, 'signature' end
  return header, claims
end

-- M.bearer(req) -> the token of an Authorization: Bearer header, or nil
function M.bearer(req)
  return (req.headers.authorization or ''):match('^Bearer (%S+)$')
end

-- M.int(v) -> v if it is an integer NumericDate (RFC 7519 section 2)
function M.int(v)
  return math.type(v) == 'integer' and v or nil
end

-- M.date(now) -> the IMF-fixdate of an HTTP Date header (RFC 9110 5.6.7)
function M.date(now)
  return os.date('!%a, %d %b %Y %H:%M:%S GMT', now)
end

-- M.form(body) -> name -> value of an x-www-form-urlencoded body, or nil
-- when malformed or a name repeats
function M.form(body)
  local out = {}
  for pair in (body or ''):gmatch('[^&]+') do
    local k, v = pair:match('^([^=]*)=(.*)$')
    if not k then return nil end
    k, v = codec.unpct(k, true), codec.unpct(v, true)
    if not k or not v or out[k] then return nil end
    out[k] = v
  end
  return out
end

return M
