-- What the checkers share: fail (aborts, so libFuzzer keeps the input) and
-- a reader that turns the input's bytes into the values a checker needs.
local native = require 'fuzz.native'

local M = {}

local byte, sub, format, gsub = string.byte, string.sub, string.format, string.gsub

-- s with every byte outside printable ASCII as \xNN, for failure messages.
function M.show(s)
  return "'" .. gsub(tostring(s), '[^%w%p ]', function(c) return format('\\x%02x', byte(c)) end) .. "'"
end

-- fail(fmt, ...): the check failed; aborts.
function M.fail(fmt, ...)
  native.fail(format(fmt, ...))
end

function M.check(cond, fmt, ...)
  if not cond then M.fail(fmt, ...) end
  return cond
end

local Reader = {}
Reader.__index = Reader

-- reader(data) -> a cursor over data; reading past the end gives zeros
-- and empty strings, so every input is usable.
function M.reader(data)
  return setmetatable({ s = data, i = 1 }, Reader)
end

function Reader:left()
  return #self.s - self.i + 1
end

-- one byte, 0..255
function Reader:byte()
  local b = byte(self.s, self.i)
  if not b then return 0 end
  self.i = self.i + 1
  return b
end

-- n bytes (fewer at the end)
function Reader:bytes(n)
  local out = sub(self.s, self.i, self.i + n - 1)
  self.i = self.i + #out
  return out
end

-- a string of at most max bytes, its length given by one byte
function Reader:str(max)
  return self:bytes(self:byte() % (max + 1))
end

function Reader:rest()
  return self:bytes(self:left())
end

return M
