-- Rewrites a Lua 5.4 binary chunk (luac output) without the names of local
-- variables and upvalues, keeping everything else, line information
-- included: tracebacks and error positions still read file:line, while the
-- host interns some thousand fewer strings when it loads the library.
--   lua5.4 cmake/drop_names.lua IN OUT   (CMakeLists.txt runs it after luac5.4)
-- The format is ldump.c's; anything unexpected stops the build.
local input, output = arg[1], arg[2]
assert(input and output, 'usage: lua5.4 drop_names.lua IN OUT')
local s = assert(io.open(input, 'rb')):read('a')
local pos, out = 1, {}

local function take(n)
  local piece = s:sub(pos, pos + n - 1)
  assert(#piece == n, input .. ': truncated chunk')
  pos = pos + n
  return piece
end
local function emit(piece) out[#out + 1] = piece end
local function copy(n) emit(take(n)) end

-- A size: 7-bit groups, most significant first, the last one with bit 7 set.
local function size()
  local start, x = pos, 0
  repeat
    local b = assert(s:byte(pos), input .. ': truncated chunk')
    pos = pos + 1
    x = x * 128 + (b & 0x7f)
  until b & 0x80 ~= 0
  return x, s:sub(start, pos - 1)
end
local function copy_size() local x, raw = size(); emit(raw); return x end
local function copy_string() local n = copy_size(); if n > 0 then copy(n - 1) end end
local function skip_string() local n = size(); if n > 0 then take(n - 1) end end

local NIL, FALSE, TRUE, INT, FLT, SHRSTR, LNGSTR = 0x00, 0x01, 0x11, 0x03, 0x13, 0x04, 0x14

assert(take(5) == '\27Lua\x54', input .. ': not a Lua 5.4 chunk')
emit('\27Lua\x54')
copy(1 + 6)                            -- format, LUAC_DATA
local sizes = take(3)                  -- Instruction, lua_Integer, lua_Number
emit(sizes)
copy(sizes:byte(2) + sizes:byte(3))    -- LUAC_INT, LUAC_NUM
copy(1)                                -- the main function's upvalue count

local function func()
  copy_string()                        -- source
  copy_size(); copy_size()             -- linedefined, lastlinedefined
  copy(3)                              -- numparams, is_vararg, maxstacksize
  copy(sizes:byte(1) * copy_size())    -- code
  for _ = 1, copy_size() do            -- constants
    local t = take(1)
    emit(t)
    t = t:byte()
    if t == INT then copy(sizes:byte(2))
    elseif t == FLT then copy(sizes:byte(3))
    elseif t == SHRSTR or t == LNGSTR then copy_string()
    else assert(t == NIL or t == FALSE or t == TRUE, input .. ': unknown constant type') end
  end
  copy(3 * copy_size())                -- upvalues: instack, idx, kind
  for _ = 1, copy_size() do func() end -- nested functions
  copy(copy_size())                    -- lineinfo
  for _ = 1, copy_size() do copy_size(); copy_size() end   -- abslineinfo
  for _ = 1, size() do skip_string(); size(); size() end   -- locvars: dropped
  emit('\x80')
  for _ = 1, size() do skip_string() end                   -- upvalue names: dropped
  emit('\x80')
end
func()
assert(pos == #s + 1, input .. ': trailing bytes')
local f = assert(io.open(output, 'wb'))
assert(f:write(table.concat(out)))
assert(f:close())
