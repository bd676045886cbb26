-- Runs the busted suite inside the host, so the specs see the modules a
-- recipe sees.  Usage: tokrun lua tests/run.lua [--tokrun=PATH] [busted args]
-- The binary under test is exported as TOKRUN_BIN for the end-to-end specs.
local sys = require 'tokrun.sys'
local args = {}
local bin = sys.paths().exe
for _, a in ipairs(arg) do
  local v = a:match('^%-%-tokrun=(.*)$')
  if v then bin = v else args[#args + 1] = a end
end
sys.setenv('TOKRUN_BIN', bin)
arg = args
require 'busted.runner'({ standalone = false })
