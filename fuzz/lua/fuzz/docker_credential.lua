-- The Docker helper's parsers on arbitrary bytes never raise: a server
-- URL it accepts yields a plain host name (no userinfo, no control byte),
-- and a store request it accepts is an object of the protocol's keys.
local docker = require 'tokrun.helper.docker'
local helper = require 'tokrun.helper'
local fuzz = require 'fuzz.lib'

local pcall, type, tostring = pcall, type, tostring

return function(data)
  local ok, host, url = pcall(docker.parse_server, data)
  fuzz.check(ok, 'parse_server raised on %s: %s', fuzz.show(data), tostring(host))
  if host then
    fuzz.check(helper.host(host) == host, 'parse_server gave %s, not a plain host name', fuzz.show(host))
    fuzz.check(not url:find('[%z\1-\31 ]'), 'parse_server accepted a control byte: %s', fuzz.show(data))
    local authority = (url:match('^[hH][tT][tT][pP][sS]?://(.*)$') or url):match('^[^/?#]*')
    fuzz.check(not authority:find('@', 1, true), 'parse_server accepted userinfo: %s', fuzz.show(data))
  else
    fuzz.check(type(url) == 'string', 'parse_server returned nil without a message')
  end
  local sok, t, msg = pcall(docker.parse_store, data)
  fuzz.check(sok, 'parse_store raised on %s: %s', fuzz.show(data), tostring(t))
  if t then
    for k in pairs(t) do
      fuzz.check(k == 'ServerURL' or k == 'Username' or k == 'Secret', 'parse_store kept key %s', fuzz.show(k))
    end
  else
    fuzz.check(type(msg) == 'string', 'parse_store returned nil without a message')
  end
end
