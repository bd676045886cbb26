-- URLs, parsed once and by libcurl's own rules: every origin decision
-- (plain http only to loopback, cross-origin redirects) looks at the host
-- libcurl will connect to, so userinfo ("http://127.0.0.1:1@evil/") or an
-- IPv6 literal cannot make one host look like another.
local M = {}

local type, tonumber, tostring = type, tonumber, tostring
local string_format = string.format

local DEFAULT_PORT = { http = 80, https = 443 }

-- The same split in Lua, for when the http module (libcurl) is not
-- loaded; it agrees with curl_url on what decides an origin: the scheme,
-- userinfo up to the authority's last '@', a bracketed IPv6 literal, the port.
local function lua_parse(s)
  local scheme, rest = s:match('^(%a[%w+.-]*)://(.*)$')
  if not scheme then return nil, 'not an absolute URL' end
  local authority, tail = rest:match('^([^/?#]*)(.*)$')
  local user, password, hostport
  local at = authority:match('^.*()@')
  if at then
    local info = authority:sub(1, at - 1)
    hostport = authority:sub(at + 1)
    user, password = info:match('^([^:]*):(.*)$')
    if not user then user = info end
  else
    hostport = authority
  end
  local host, port
  if hostport:sub(1, 1) == '[' then
    host, port = hostport:match('^%[([%x:.]+)%]:?(%d*)$')
    if not host then return nil, 'malformed IPv6 address' end
  else
    host, port = hostport:match('^([^:]*):?(%d*)$')
    if not host then return nil, 'malformed port' end
  end
  if host == '' then return nil, 'no host' end
  if hostport:match(':$') then port = '' end
  local path, query, fragment = tail:match('^([^?#]*)%??([^#]*)#?(.*)$')
  return {
    scheme = scheme:lower(), user = user, password = password, host = host:lower(),
    port = tonumber(port) or DEFAULT_PORT[scheme:lower()], path = path ~= '' and path or '/',
    query = query ~= '' and query or nil, fragment = fragment ~= '' and fragment or nil,
  }
end

-- M.parse(s) -> {scheme, host, port, user, password, path, query, fragment}
-- | nil, message.  host is lower case, IPv6 without brackets; port is a
-- number, the scheme's default when absent.
function M.parse(s)
  if type(s) ~= 'string' then return nil, 'not a string' end
  if s:find('[%c ]') then return nil, 'it holds a space or a control character' end
  local loaded = package.loaded['tokrun.http']
  local u, err
  if loaded and loaded.parse_url then
    u, err = loaded.parse_url(s)
    if u then
      u.host = u.host:gsub('^%[(.*)%]$', '%1'):lower()
      u.scheme = u.scheme:lower()
      u.port = tonumber(u.port) or DEFAULT_PORT[u.scheme]
    end
  else
    u, err = lua_parse(s)
  end
  if not u then return nil, err end
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
