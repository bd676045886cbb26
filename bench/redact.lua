-- Redaction cost: `build/tokrun lua bench/redact.lua [REPEAT]`.  Times
-- r:add and r:apply for long secrets (random, and repetitive with a near
-- miss in the text: the worst case of a search that restarts at every
-- position) and for many secrets over a 1 MB body; best of REPEAT runs.
local redact = require 'tokrun.redact'
local sys = require 'tokrun.sys'

local repeat_n = tonumber(arg and arg[1]) or 3
math.randomseed(42)

local function random_text(n, lo, hi)
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(lo, hi)) end
  return table.concat(t)
end

local function best(fn)
  local t = math.huge
  for _ = 1, repeat_n do
    local t0 = sys.monotonic()
    fn()
    t = math.min(t, sys.monotonic() - t0)
  end
  return t
end

local function long_secret(label, secret)
  local r
  local add = best(function() r = redact.new(); r:add(secret) end)
  local text = '{"access_token":"' .. secret .. '"} ' .. secret:sub(1, -2) .. '!'
  local apply = best(function() r:apply(text) end)
  print(string.format('%-34s add %8.3f s   apply %8.3f s', label, add, apply))
end

for _, n in ipairs({ 60000, 120000 }) do
  long_secret(string.format('%d-char random secret', n), random_text(n, 97, 122))
  long_secret(string.format('%d-char repetitive secret', n), ('a'):rep(n))
end

local r = redact.new()
local secrets = {}
for i = 1, 1000 do secrets[i] = random_text(32, 33, 126); r:add(secrets[i]) end
local lorem = ('lorem ipsum dolor sit amet '):rep(40000)
print(string.format('%-34s apply %8.3f s', '1000 secrets, 1 MB of prose', best(function() r:apply(lorem) end)))
local parts = {}
for i = 1, 30000 do parts[i] = random_text(20, 33, 126) .. secrets[i % 1000 + 1]:sub(1, 16) end
local near = table.concat(parts)
print(string.format('%-34s apply %8.3f s', '1000 secrets, 1 MB of near misses', best(function() r:apply(near) end)))
