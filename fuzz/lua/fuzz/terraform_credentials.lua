-- The Terraform helper's parsers on arbitrary bytes never raise: a host it
-- accepts is a plain host name, and a store request it accepts is a JSON
-- object with a string token.
local terraform = require 'tokrun.helper.terraform'
local helper = require 'tokrun.helper'
local fuzz = require 'fuzz.lib'

local pcall, type, tostring = pcall, type, tostring

return function(data)
  local ok, host, msg = pcall(terraform.parse_host, data)
  fuzz.check(ok, 'parse_host raised on %s: %s', fuzz.show(data), tostring(host))
  if host then
    fuzz.check(not data:find('[@/%z\1-\32]'), 'parse_host accepted %s', fuzz.show(data))
    fuzz.check(helper.host(host) == host and host == data:lower(), 'parse_host gave %s for %s', fuzz.show(host),
      fuzz.show(data))
  else
    fuzz.check(type(msg) == 'string', 'parse_host returned nil without a message')
  end
  local sok, t, smsg = pcall(terraform.parse_store, data)
  fuzz.check(sok, 'parse_store raised on %s: %s', fuzz.show(data), tostring(t))
  if t then
    fuzz.check(type(t.token) == 'string', 'parse_store accepted an object without a string token')
  else
    fuzz.check(type(smsg) == 'string', 'parse_store returned nil without a message')
  end
end
