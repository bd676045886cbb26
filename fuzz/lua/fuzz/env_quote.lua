-- output.shell_quote(s) is one sh word that means s, read back by the
-- POSIX single-quote rules (fuzz/sh.lua, itself checked against sh by
-- tests/lualib/output_spec.lua).
local output = require 'tokrun.output'
local sh = require 'fuzz.sh'
local fuzz = require 'fuzz.lib'

local tostring = tostring

return function(data)
  local s = (data:gsub('%z', ''))   -- an environment value holds no NUL
  local q = output.shell_quote(s)
  local back, msg = sh.unquote(q)
  fuzz.check(back == s, 'shell_quote(%s) = %s reads back as %s (%s)', fuzz.show(s), fuzz.show(q),
    fuzz.show(back), tostring(msg))
end
