-- URLs, parsed once and by libcurl's own rules: every origin decision
-- (plain http only to loopback, cross-origin redirects) looks at the host
-- libcurl will connect to, so userinfo ("http://127.0.0.1:1@evil/") or an
-- IPv6 literal cannot make one host look like another.
local M = {}

local type, tostring = type, tostring
local string_format = string.format

-- M.parse(s) -> {scheme, host, port, user, password, path, query, fragment}
-- | nil, message, by libcurl's own parser (curl_url): host is lower case,
-- IPv6 without brackets, 127.1 read as 127.0.0.1; port is a number, the
-- scheme's default when absent.
function M.parse(s)
  if type(s) ~= 'string' then return nil, 'not a string' end
  if s:find('[%c ]') then return nil, 'it holds a space or a control character' end
  local u, err = require('tokrun.http').parse_url(s)
  if not u then return nil, (err:gsub('^bad URL: ', '')) end
  if u.scheme ~= 'http' and u.scheme ~= 'https' then
    return nil, string_format("scheme '%s' is not http or https", u.scheme)
  end
  return u
end

-- M.origin(u) -> "scheme://host:port" (u a parsed URL or a string)
function M.origin(u)
  if type(u) == 'string' then u = assert(M.parse(u)) end
  local host = u.host:find(':', 1, true) and ('[' .. u.host .. ']') or u.host
  return string_format('%s://%s:%s', u.scheme, host, tostring(u.port))
end

-- M.loopback(host) -> boolean: this machine, by address or name.
function M.loopback(host)
  return host == 'localhost' or host == '::1' or host:match('^127%.%d+%.%d+%.%d+$') ~= nil
end

return M
