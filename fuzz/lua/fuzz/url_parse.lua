-- http.parse_url, libcurl's reading of a URL, on any string: it never
-- raises; a refusal is "bad URL: ..."; a reading is well formed (scheme
-- lower-case, host lower-case without brackets, port an integer in range),
-- and the URL rebuilt from its scheme, host and port -- without userinfo,
-- the part that fools hand-written parsers -- reads back to the same host
-- and port.
local http = require 'tokrun.http'
local fuzz = require 'fuzz.lib'

return function(data)
  local ok, u, msg = pcall(http.parse_url, data)
  fuzz.check(ok, 'parse_url raised on %s: %s', fuzz.show(data), tostring(u))
  if not u then
    fuzz.check(type(msg) == 'string' and msg:find('^bad URL: '), 'refusal of %s: %s', fuzz.show(data),
      fuzz.show(tostring(msg)))
    return
  end
  fuzz.check(type(u.scheme) == 'string' and u.scheme == u.scheme:lower(), 'scheme %s', fuzz.show(tostring(u.scheme)))
  fuzz.check(type(u.host) == 'string' and u.host == u.host:lower() and not u.host:find('[%[%]]'),
    'host %s of %s', fuzz.show(tostring(u.host)), fuzz.show(data))
  fuzz.check(u.port == nil or (math.type(u.port) == 'integer' and u.port >= 0 and u.port <= 65535),
    'port %s of %s', tostring(u.port), fuzz.show(data))
  fuzz.check(type(u.path) == 'string', 'path of %s', fuzz.show(data))
  if u.scheme ~= 'http' and u.scheme ~= 'https' then return end
  local host = u.host:find(':', 1, true) and '[' .. u.host .. ']' or u.host
  local again, err = http.parse_url(('%s://%s:%d/'):format(u.scheme, host, u.port))
  fuzz.check(again, '%s read as host %s port %d, which does not read back: %s', fuzz.show(data),
    fuzz.show(u.host), u.port, tostring(err))
  fuzz.check(again.host == u.host and again.port == u.port and again.user == nil,
    '%s: host %s port %d reads back as %s port %s', fuzz.show(data), fuzz.show(u.host), u.port,
    fuzz.show(tostring(again.host)), tostring(again.port))
end
