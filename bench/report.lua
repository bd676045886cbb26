-- Turns what bench/run measured into one table, the performance
-- targets, a JSON record and two profiles:
--   tokrun lua bench/report.lua WORK OUT
-- WORK holds commands.tsv, hf/round*.json (hyperfine), rss/KEY (peak RSS
-- in KiB, one run a line), cg/KEY.PID (callgrind), prof/{full,cache}.*.txt
-- (callgrind_annotate), mock_latency.json, mock_stats.json and meta.
-- Writes OUT.json, OUT-profile-full.txt and OUT-profile-cache.txt.
local cjson = require "cjson"

local work, out = arg[1], arg[2]
assert(work and out, "usage: tokrun lua bench/report.lua WORK OUT")

local TOP = 15
local format, concat = string.format, table.concat

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function lines_of(cmd)
  local p = assert(io.popen(cmd))
  local t = {}
  for l in p:lines() do t[#t + 1] = l end
  p:close()
  return t
end

local function median(t)
  if #t == 0 then return nil end
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

local function round(x, digits)
  if x == nil then return nil end
  local m = 10 ^ (digits or 0)
  return math.floor(x * m + 0.5) / m
end

local function thousands(n)
  if n == nil then return "-" end
  local s = format("%d", n)
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

-- The commands, in bench/run's order.
local commands, by_key = {}, {}
for line in (read(work .. "/commands.tsv") or ""):gmatch("[^\n]+") do
  local key, label, cmd = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
  commands[#commands + 1] = { key = key, label = label, command = cmd, times = {}, rounds = {} }
  by_key[key] = commands[#commands]
end

local meta = {}
for line in (read(work .. "/meta") or ""):gmatch("[^\n]+") do
  local k, v = line:match("^([^=]+)=(.*)$")
  if k then meta[k] = v end
end

-- Wall time: every sample of every round; per-round medians kept so the
-- spread of a ratio across rounds can be shown.
local nrounds = 0
for _, path in ipairs(lines_of("ls " .. work .. "/hf/round*.json 2>/dev/null")) do
  nrounds = nrounds + 1
  for _, r in ipairs(cjson.decode(read(path)).results) do
    local c = assert(by_key[r.command], "unknown command in hyperfine output: " .. r.command)
    for _, t in ipairs(r.times) do c.times[#c.times + 1] = t * 1000 end
    c.rounds[nrounds] = r.median * 1000
  end
end

-- Peak RSS (KiB) and instructions (sum over the command's processes).
for _, c in ipairs(commands) do
  c.wall_ms = median(c.times)
  local rss = {}
  for v in (read(work .. "/rss/" .. c.key) or ""):gmatch("%d+") do rss[#rss + 1] = tonumber(v) end
  c.rss_kib = median(rss)
  local files = lines_of("ls " .. work .. "/cg/" .. c.key .. ".[0-9]* 2>/dev/null")
  if #files > 0 then
    c.instructions, c.processes = 0, #files
    for _, f in ipairs(files) do
      local s = read(f) or ""
      c.instructions = c.instructions + tonumber(s:match("\ntotals: (%d+)") or s:match("\nsummary: (%d+)") or 0)
    end
  end
end

local floor = by_key.curl
for _, c in ipairs(commands) do
  if c.wall_ms and floor.wall_ms then c.ratio_to_curl = c.wall_ms / floor.wall_ms end
  c.round_ratios = {}
  for r = 1, nrounds do
    if c.rounds[r] and floor.rounds[r] then c.round_ratios[r] = c.rounds[r] / floor.rounds[r] end
  end
end

local function span(t)
  local lo, hi
  for _, v in pairs(t) do
    lo = (lo == nil or v < lo) and v or lo
    hi = (hi == nil or v > hi) and v or hi
  end
  return lo, hi
end

-- The table.
local rows = { { "command", "median wall (ms)", "ratio to curl", "(per round)", "peak RSS (MiB)", "instructions" } }
for _, c in ipairs(commands) do
  local lo, hi = span(c.round_ratios)
  rows[#rows + 1] = {
    c.label,
    c.wall_ms and format("%.2f", c.wall_ms) or "-",
    c.ratio_to_curl and format("%.2fx", c.ratio_to_curl) or "-",
    lo and format("%.2f-%.2f", lo, hi) or "-",
    c.rss_kib and format("%.1f", c.rss_kib / 1024) or "-",
    c.instructions and (thousands(c.instructions)
                        .. (c.processes > 1 and format(" (%d procs)", c.processes) or "")) or "-",
  }
end
local widths = {}
for _, row in ipairs(rows) do
  for i, cell in ipairs(row) do widths[i] = math.max(widths[i] or 0, #cell) end
end
local text = {}
for n, row in ipairs(rows) do
  local cells = {}
  for i, cell in ipairs(row) do
    cells[i] = i == 1 and cell .. (" "):rep(widths[i] - #cell) or (" "):rep(widths[i] - #cell) .. cell
  end
  text[#text + 1] = "| " .. concat(cells, " | ") .. " |"
  if n == 1 then
    local dashes = { ("-"):rep(widths[1]) }
    for i = 2, #row do dashes[i] = ("-"):rep(widths[i] - 1) .. ":" end
    text[#text + 1] = "| " .. concat(dashes, " | ") .. " |"
  end
end

-- "lo-hi" of a/b over the rounds: how far one round's answer can stray.
local function round_span(a, b)
  local t = {}
  for r = 1, nrounds do
    if a.rounds[r] and b.rounds[r] then t[#t + 1] = a.rounds[r] / b.rounds[r] end
  end
  local lo, hi = span(t)
  return lo and format("rounds %.2f-%.2f", lo, hi) or "no rounds"
end

-- The performance targets.
local full, cache, lua54, shell = by_key.full, by_key.cache, by_key.lua54, by_key.shell
local targets = {
  { name = "full run <= 1.0x bare curl (median wall)",
    value = full.ratio_to_curl, limit = 1.0, met = full.ratio_to_curl and full.ratio_to_curl <= 1.0,
    shown = format("%.2fx (%s)", full.ratio_to_curl or 0, round_span(full, floor)) },
  { name = "full run clearly beats date|openssl|curl",
    value = full.wall_ms / shell.wall_ms, limit = 1.0, met = full.wall_ms < shell.wall_ms,
    shown = format("%.2fx the pipeline's time", full.wall_ms / shell.wall_ms) },
  { name = "cache hit <= 4x lua5.4 empty script (median wall)",
    value = cache.wall_ms / lua54.wall_ms, limit = 4.0, met = cache.wall_ms <= 4 * lua54.wall_ms,
    shown = format("%.2fx (%.2f ms vs %.2f ms; %s)", cache.wall_ms / lua54.wall_ms, cache.wall_ms, lua54.wall_ms,
                   round_span(cache, lua54)) },
  { name = "cache hit < 8 MiB peak RSS",
    value = cache.rss_kib and cache.rss_kib / 1024, limit = 8, met = cache.rss_kib and cache.rss_kib < 8 * 1024,
    shown = format("%.1f MiB", (cache.rss_kib or 0) / 1024) },
  { name = "cache hit does not load libcurl",
    value = meta.cache_maps_libcurl, met = meta.cache_maps_libcurl == "false",
    shown = meta.cache_maps_libcurl == "false" and "libcurl not mapped" or "libcurl mapped" },
}
if cache.instructions and lua54.instructions then
  targets[#targets + 1] = { name = "(instructions) cache hit vs lua5.4 empty",
    value = cache.instructions / lua54.instructions, shown = format("%.1fx", cache.instructions / lua54.instructions) }
end
if full.instructions and floor.instructions then
  targets[#targets + 1] = { name = "(instructions) full run vs curl",
    value = full.instructions / floor.instructions, shown = format("%.2fx", full.instructions / floor.instructions) }
end

local mock = cjson.decode(read(work .. "/mock_latency.json") or "{}")
local stats = cjson.decode(read(work .. "/mock_stats.json") or "{}")

print(format("\ntokrun bench %s on %s (%s cpus, load %s), %d rounds x %s runs per command",
             meta.date or "?", meta.host or "?", meta.cpus or "?", meta.loadavg or "?", nrounds, meta.runs or "?"))
print(format("mock: %d us per request (the spec kit's server: %d us); answered %d ok, %d failed\n",
             mock.bench_us or -1, mock.kit_us or -1, stats.ok or -1, stats.failed or -1))
print(concat(text, "\n"))
print("\nPerformance targets:")
for _, t in ipairs(targets) do
  local mark = t.met == nil and "    " or t.met and "MET " or "MISS"
  print(format("  %s %-52s %s", mark, t.name, t.shown))
end

-- Profiles: who spends the instructions.
-- Self Ir per shared object, read straight from the callgrind file (the
-- annotate output drops the object on inlined lines).
local function by_object(path)
  local names, sums, ob, skip, npos = {}, {}, "?", false, 1
  for line in io.lines(path) do
    local c = line:sub(1, 1)
    if c:match("[%d%+%-%*]") then
      if skip then
        skip = false
      else
        local i, ir = 0, nil
        for tok in line:gmatch("%S+") do
          i = i + 1
          if i == npos + 1 then ir = tonumber(tok) break end
        end
        if ir then sums[ob] = (sums[ob] or 0) + ir end
      end
    elseif line:match("^ob=") then
      local id, name = line:match("^ob=%((%d+)%)%s*(.*)$")
      if id then
        if name ~= "" then names[id] = name end
        ob = names[id] or "?"
      else
        ob = line:sub(4)
      end
    elseif line:match("^cob=") then
      -- a callee's object: only its name is learnt (ids are shared with ob=)
      local id, name = line:match("^cob=%((%d+)%)%s*(.*)$")
      if id and name ~= "" then names[id] = name end
    elseif line:match("^calls=") then
      skip = true
    elseif line:match("^positions:") then
      npos = select(2, line:gsub("%S+", "")) - 1
    end
  end
  local list = {}
  for name, ir in pairs(sums) do list[#list + 1] = { object = name, ir = ir } end
  table.sort(list, function(a, b) return a.ir > b.ir end)
  return list
end

-- callgrind_annotate lines: "  1,234 (12.34%)  file:function [object]".
local function annotated(path)
  local list = {}
  for _, line in ipairs(lines_of("cat " .. path)) do
    local ir, rest = line:match("^%s*([%d,]+) %(%s*[%d%.]+%%%)%s+(.+)$")
    if ir and rest ~= "PROGRAM TOTALS" then
      local where, obj = rest:match("^(.-)%s+%[(.-)%]$")
      where = where or rest
      local fn = where:match("^[^:]*:(.*)$") or where
      list[#list + 1] = { ir = tonumber((ir:gsub(",", ""))), fn = fn, object = obj, line = rest }
    end
  end
  return list
end

-- The interpreter's own call machinery and the process entry chain: in
-- every inclusive profile, saying nothing about where the time goes.
local PLUMBING = {
  ["(below main)"] = true, ["__libc_start_main@@GLIBC_2.34"] = true, main = true,
  luaD_callnoyield = true, luaD_precall = true, luaD_call = true, luaD_pcall = true,
  luaD_rawrunprotected = true, luaV_execute = true, lua_pcallk = true, lua_callk = true,
  f_call = true, luaB_pcall = true, luaB_xpcall = true, ccall = true, luaT_callTMres = true,
}

-- Named phases, by inclusive Ir of the function that does each.
local PHASES = {
  { "_dl_start", "ld.so at exec: map and relocate the linked libraries" },
  { "^dlopen", "dlopen at run time (native modules and what they link)" },
  { "luaY_parser", "parsing Lua source (lualib modules, the recipe)" },
  { "luaU_undump", "loading precompiled Lua chunks (lualib linked into the host)" },
  { "ll_require", "require: find, load and run modules (includes dlopen, undump, parse)" },
  { "luaL_openlibs", "opening Lua's standard libraries" },
  { "OPENSSL_init_crypto", "OpenSSL: OPENSSL_init_crypto" },
  { "EVP_MAC_fetch", "OpenSSL: EVP_MAC_fetch (provider lookup for HMAC)" },
  { "EVP_MD_fetch", "OpenSSL: EVP_MD_fetch (provider lookup for a digest)" },
  { "OPENSSL_init_ssl", "OpenSSL: OPENSSL_init_ssl" },
  { "curl_global_init", "libcurl: curl_global_init" },
  { "curl_easy_perform", "libcurl: curl_easy_perform (the HTTP exchange)" },
  { "lua_close", "lua_close (freeing the state)" },
  { "^exit$", "exit (atexit handlers, library destructors)" },
}

local function profile(key)
  local c = by_key[key]
  local files = lines_of("ls " .. work .. "/cg/" .. key .. ".[0-9]* 2>/dev/null")
  if #files == 0 then return nil end
  local total = c.instructions
  local incl = annotated(work .. "/prof/" .. key .. ".incl.txt")
  local objects = by_object(files[1])
  local p = { command = c.command, total_ir = total, objects = {}, phases = {}, top_inclusive = {},
              top_below_plumbing = {} }
  local buf = { format("callgrind profile: %s\n  %s\n  total %s instructions\n", c.label, c.command, thousands(total)) }
  buf[#buf + 1] = "\nSelf instructions by shared object:"
  for i, o in ipairs(objects) do
    if i > 10 then break end
    p.objects[i] = o
    buf[#buf + 1] = format("  %14s  %5.1f%%  %s", thousands(o.ir), 100 * o.ir / total, o.object)
  end
  buf[#buf + 1] = "\nPhases (inclusive instructions of the function doing each):"
  for _, ph in ipairs(PHASES) do
    for _, e in ipairs(incl) do
      if not e.fn:find("'%d") and e.fn:find(ph[1]) then
        p.phases[#p.phases + 1] = { what = ph[2], fn = e.fn, ir = e.ir }
        buf[#buf + 1] = format("  %14s  %5.1f%%  %s [%s]", thousands(e.ir), 100 * e.ir / total, ph[2], e.fn)
        break
      end
    end
  end
  local function top(title, list_out, filter)
    buf[#buf + 1] = "\n" .. title
    local seen = {}
    for _, e in ipairs(incl) do
      if #list_out >= TOP then break end
      -- 'N marks a recursion level (counted again at each depth); a line
      -- without its object repeats one that has it
      if e.object and not e.fn:find("'%d") and not seen[e.line] and filter(e) then
        seen[e.line] = true
        list_out[#list_out + 1] = { ir = e.ir, fn = e.fn, object = e.object }
        buf[#buf + 1] = format("  %14s  %5.1f%%  %s", thousands(e.ir), 100 * e.ir / total, e.line)
      end
    end
  end
  top(format("Top %d functions by inclusive instructions (callgrind_annotate --inclusive=yes):", TOP),
      p.top_inclusive, function(e) return not e.fn:match("^0x%x+$") end)
  top(format("Top %d below the process entry and the Lua VM's call machinery:", TOP),
      p.top_below_plumbing, function(e)
        return not PLUMBING[e.fn] and not e.fn:match("^0x%x+$") and not e.fn:match("^_dl_catch")
      end)
  write(out .. "-profile-" .. key .. ".txt", concat(buf, "\n") .. "\n")
  return p
end

local profiles = { full = profile("full"), cache = profile("cache") }

local record = {
  date = meta.date, machine = { host = meta.host, cpus = tonumber(meta.cpus), cpu = meta.cpu, loadavg = meta.loadavg },
  versions = { tokrun = meta.tokrun, commit = meta.tokrun_commit, binary_sha256 = meta.tokrun_sha256,
               curl = meta.curl, python = meta.python,
               hyperfine = meta.hyperfine },
  method = { rounds = nrounds, runs_per_round = tonumber(meta.runs),
             wall = "hyperfine -N, median of all runs of all rounds; order reversed every other round",
             rss = "/usr/bin/time -f %M, median", instructions = "valgrind --tool=callgrind, totals, children summed" },
  mock = { bench_us_per_request = mock.bench_us, kit_us_per_request = mock.kit_us, answered_ok = stats.ok,
           answered_failed = stats.failed },
  commands = {},
  targets = {},
  profiles = profiles,
}
for _, c in ipairs(commands) do
  record.commands[#record.commands + 1] = {
    key = c.key, label = c.label, command = c.command, samples = #c.times,
    median_wall_ms = round(c.wall_ms, 3), ratio_to_curl = round(c.ratio_to_curl, 3),
    round_medians_ms = c.rounds, round_ratios_to_curl = c.round_ratios,
    peak_rss_mib = c.rss_kib and round(c.rss_kib / 1024, 2), instructions = c.instructions,
    processes = c.processes,
  }
end
for _, t in ipairs(targets) do
  record.targets[#record.targets + 1] = { name = t.name, value = t.value, limit = t.limit, met = t.met,
                                          shown = t.shown }
end
write(out .. ".json", cjson.encode(record) .. "\n")
print(format("\nwrote %s.json, %s-profile-full.txt, %s-profile-cache.txt", out, out, out))
