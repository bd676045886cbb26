-- Turns what bench/run measured into one table, the performance targets
-- (MET or MISS), a JSON record and callgrind profiles:
--   tokrun lua bench/report.lua WORK OUT
-- WORK holds commands.tsv (key, label, stdin, command), slots.tsv (rows not
-- measured, with the reason), order (every row key), hf/roundN-PART.json
-- (hyperfine), rss/KEY ("peak-RSS-KiB minor-faults", one run a line),
-- cg/KEY.PID (callgrind), prof/KEY.{incl,self}.txt (callgrind_annotate),
-- libcurl (KEY=true|false: whether a cache answer mapped libcurl),
-- mock_latency.json, mock_stats.json and meta.
-- Writes OUT.json and OUT-profile-KEY.txt; prints the table.
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

-- The commands, in bench/run's order; rows whose prerequisite is missing.
local commands, by_key = {}, {}
for line in (read(work .. "/commands.tsv") or ""):gmatch("[^\n]+") do
  local key, label, input, cmd = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
  commands[#commands + 1] = { key = key, label = label, command = cmd, stdin = input ~= "-" and input or nil,
                              times = {}, rounds = {} }
  by_key[key] = commands[#commands]
end
local slots = {}
for line in (read(work .. "/slots.tsv") or ""):gmatch("[^\n]+") do
  local key, label, reason = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
  slots[#slots + 1] = { key = key, label = label, reason = reason }
  slots[key] = slots[#slots]
end

local meta = {}
for line in (read(work .. "/meta") or ""):gmatch("[^\n]+") do
  local k, v = line:match("^([^=]+)=(.*)$")
  if k then meta[k] = v end
end
local maps_libcurl = {}
for line in (read(work .. "/libcurl") or ""):gmatch("[^\n]+") do
  local k, v = line:match("^([^=]+)=(.*)$")
  if k then maps_libcurl[k] = v == "true" end
end

-- Wall time: every sample of every round; per-round medians kept so the
-- spread of a ratio across rounds can be shown.  hf/roundN-PART.json.
local nrounds = 0
for _, path in ipairs(lines_of("ls " .. work .. "/hf/round*.json 2>/dev/null")) do
  local r = tonumber(path:match("round(%d+)[^/]*%.json$"))
  nrounds = math.max(nrounds, r)
  for _, res in ipairs(cjson.decode(read(path)).results) do
    local c = assert(by_key[res.command], "unknown command in hyperfine output: " .. res.command)
    for _, t in ipairs(res.times) do c.times[#c.times + 1] = t * 1000 end
    c.rounds[r] = res.median * 1000
  end
end

-- Peak RSS (KiB) and minor page faults, and instructions (sum over the
-- command's processes).
for _, c in ipairs(commands) do
  c.wall_ms = median(c.times)
  local rss, faults = {}, {}
  for m, f in (read(work .. "/rss/" .. c.key) or ""):gmatch("(%d+) (%d+)") do
    rss[#rss + 1], faults[#faults + 1] = tonumber(m), tonumber(f)
  end
  c.rss_kib, c.minor_faults = median(rss), median(faults)
  local files = lines_of("ls " .. work .. "/cg/" .. c.key .. ".[0-9]* 2>/dev/null")
  if #files > 0 then
    c.instructions, c.processes = 0, #files
    for _, f in ipairs(files) do
      local s = read(f) or ""
      c.instructions = c.instructions + tonumber(s:match("\ntotals: (%d+)") or s:match("\nsummary: (%d+)") or 0)
    end
  end
end

-- What each row is compared with: the same transport's curl, bare Lua for
-- what answers without the network, the file cache for Redis.
local REF = { full_https = "curl_https", curl_https = "curl_https", floor_https = "curl_https",
              cache = "lua54", helper = "lua54", floor_hmac = "lua54",
              git_fill = "lua54", redis_tcp = "cache", redis_tls = "cache", rs256_snowflake = "lua54",
              es256_asc = "lua54", tokrun_lua = "lua54", lua54 = "lua54" }
for _, c in ipairs(commands) do
  local ref = by_key[REF[c.key] or "curl_http"]
  c.ref = ref and ref.key
  if ref and c.wall_ms and ref.wall_ms then c.ratio = c.wall_ms / ref.wall_ms end
  if ref and c.instructions and ref.instructions then c.ir_ratio = c.instructions / ref.instructions end
  c.round_ratios = {}
  for r = 1, nrounds do
    if ref and c.rounds[r] and ref.rounds[r] then c.round_ratios[#c.round_ratios + 1] = c.rounds[r] / ref.rounds[r] end
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

local function millions(n)
  return n and format("%.1f M", n / 1e6) or "-"
end

-- The table: every row in bench/run's order, slots where they belong.
local rows = { { "command", "median wall (ms)", "ratio", "to", "(per round)", "peak RSS (MiB)",
                 "minor faults", "instructions", "ratio" } }
local order = {}
for line in (read(work .. "/order") or ""):gmatch("[^\n]+") do order[#order + 1] = line end
if #order == 0 then for _, c in ipairs(commands) do order[#order + 1] = c.key end end
for _, key in ipairs(order) do
  local c, s = by_key[key], slots[key]
  if c then
    local lo, hi = span(c.round_ratios)
    rows[#rows + 1] = {
      c.label,
      c.wall_ms and format("%.2f", c.wall_ms) or "-",
      c.ratio and format("%.2fx", c.ratio) or "-",
      c.ref or "-",
      lo and format("%.2f-%.2f", lo, hi) or "-",
      c.rss_kib and format("%.1f", c.rss_kib / 1024) or "-",
      c.minor_faults and format("%.0f", c.minor_faults) or "-",
      c.instructions and (millions(c.instructions)
                          .. (c.processes > 1 and format(" (%d procs)", c.processes) or "")) or "-",
      c.ir_ratio and format("%.2fx", c.ir_ratio) or "-",
    }
  elseif s then
    rows[#rows + 1] = { s.label, "n/a: " .. s.reason, "", "", "", "", "", "", "" }
  end
end
local widths = {}
for _, row in ipairs(rows) do
  for i, cell in ipairs(row) do
    if not cell:find("^n/a: ") then widths[i] = math.max(widths[i] or 0, #cell) end
  end
end
local text = {}
for n, row in ipairs(rows) do
  local cells = {}
  if row[2]:find("^n/a: ") then
    text[#text + 1] = "| " .. row[1] .. (" "):rep(widths[1] - #row[1]) .. " | " .. row[2]
  else
    for i, cell in ipairs(row) do
      cells[i] = (i == 1 or i == 4) and cell .. (" "):rep(widths[i] - #cell) or (" "):rep(widths[i] - #cell) .. cell
    end
    text[#text + 1] = "| " .. concat(cells, " | ") .. " |"
  end
  if n == 1 then
    local dashes = {}
    for i = 1, #row do
      dashes[i] = (i == 1 or i == 4) and ("-"):rep(widths[i]) or ("-"):rep(widths[i] - 1) .. ":"
    end
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

-- The performance targets.  A target whose row is missing is n/a, with
-- the slot's reason.
local targets = {}
local function na(name, key)
  local s = slots[key]
  targets[#targets + 1] = { name = name, met = nil, na = true,
                            shown = "n/a: " .. (s and s.reason or "no row " .. key) }
end
local function ratio_target(name, key, ref, limit)
  local a, b = by_key[key], by_key[ref]
  if not (a and b and a.wall_ms and b.wall_ms) then return na(name, a and ref or key) end
  local v = a.wall_ms / b.wall_ms
  local ir = a.instructions and b.instructions and format("; instructions %.2fx", a.instructions / b.instructions) or ""
  targets[#targets + 1] = { name = name, value = v, limit = limit, met = v <= limit,
    shown = format("%.2fx (%.2f vs %.2f ms; %s%s)", v, a.wall_ms, b.wall_ms, round_span(a, b), ir) }
end
local RSS_LIMIT_MIB = 6
local function rss_target(name, key)
  local c = by_key[key]
  if not (c and c.rss_kib) then return na(name, key) end
  local mib = c.rss_kib / 1024
  targets[#targets + 1] = { name = name, value = mib, limit = RSS_LIMIT_MIB, met = mib < RSS_LIMIT_MIB,
                            shown = format("%.2f MiB", mib) }
end
local function libcurl_target(name, key)
  if maps_libcurl[key] == nil then return na(name, key) end
  targets[#targets + 1] = { name = name, met = not maps_libcurl[key],
                            shown = maps_libcurl[key] and "libcurl mapped" or "libcurl not mapped" }
end
ratio_target("full run <= 1.0x curl -s, http", "full_http", "curl_http", 1.0)
ratio_target("full run <= 1.0x curl -s, https", "full_https", "curl_https", 1.0)
ratio_target("full run clearly beats date|openssl|curl (<= 0.5x)", "full_http", "shell", 0.5)
ratio_target("cache hit <= 2x lua5.4 empty script", "cache", "lua54", 2.0)
rss_target("cache hit under 6 MiB peak RSS", "cache")
libcurl_target("cache hit does not map libcurl", "cache")
ratio_target("git helper cache hit <= 2x lua5.4 empty script", "helper", "lua54", 2.0)
rss_target("git helper cache hit under 6 MiB peak RSS", "helper")
libcurl_target("git helper cache hit does not map libcurl", "helper")
ratio_target("Redis hit (TCP) <= 1.5x file cache hit", "redis_tcp", "cache", 1.5)
ratio_target("Redis hit (TLS) <= 1.5x file cache hit", "redis_tls", "cache", 1.5)

-- The floors: what a C program doing the same work on the same libraries
-- pays, next to the same targets (no mark: they say what is reachable).
local function floor_line(name, key, ref)
  local a, b = by_key[key], by_key[ref]
  if not (a and b and a.wall_ms and b.wall_ms) then return end
  local ir = a.instructions and b.instructions and format("; instructions %.2fx", a.instructions / b.instructions) or ""
  targets[#targets + 1] = { name = name, value = a.wall_ms / b.wall_ms, info = true,
    shown = format("%.2fx (%.2f vs %.2f ms%s)", a.wall_ms / b.wall_ms, a.wall_ms, b.wall_ms, ir) }
end
floor_line("(floor) C: sign + libcurl GET vs curl -s, http", "floor_http", "curl_http")
floor_line("(floor) C: sign + libcurl GET vs curl -s, https", "floor_https", "curl_https")
floor_line("(floor) C: one OpenSSL HMAC vs lua5.4 empty", "floor_hmac", "lua54")
floor_line("(over the floor) tokrun full run, http", "full_http", "floor_http")
floor_line("(over the floor) tokrun full run, https", "full_https", "floor_https")
floor_line("(over the floor) tokrun cache hit", "cache", "floor_hmac")

local mock = cjson.decode(read(work .. "/mock_latency.json") or "{}")
local stats = cjson.decode(read(work .. "/mock_stats.json") or "{}")

print(format("\ntokrun bench %s on %s (%s cpus, load %s), %d rounds x %s runs per command",
             meta.date or "?", meta.host or "?", meta.cpus or "?", meta.loadavg or "?", nrounds, meta.runs or "?"))
print(format("%s; %s (%s); %s; %s", meta.nginx or "nginx ?",
             meta.tokrun or "?", meta.tokrun_commit or "?", meta.curl or "?", meta.openssl or "?"))
print(format("server: nginx %d us per request (the Lua mock, which checks signatures: %d us;"
             .. " it answered %d ok, %d failed)",
             mock.nginx_us or -1, mock.mock_us or -1, stats.ok or -1, stats.failed or -1))
print("rows read from stdin are timed through sh, whose spawn time hyperfine subtracts\n")
print(concat(text, "\n"))
print("\nPerformance targets:")
for _, t in ipairs(targets) do
  local mark = t.na and "n/a " or t.info and "    " or t.met and "MET " or "MISS"
  print(format("  %s %-50s %s", mark, t.name, t.shown))
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
  p.objects_all = objects
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

local profiles, written = {}, {}
for _, key in ipairs { "full_http", "full_https", "cache", "helper", "curl_http", "curl_https",
                       "floor_http", "floor_https", "floor_hmac" } do
  if by_key[key] then
    profiles[key] = profile(key)
    if profiles[key] then written[#written + 1] = out .. "-profile-" .. key .. ".txt" end
  end
end

-- Where tokrun's extra instructions are, next to curl on the same
-- transport: self instructions per shared object, side by side.
local function short(object) return object:match("([^/]+)$") or object end
local function versus(key, ref)
  local a, b = profiles[key], profiles[ref]
  if not (a and b) then return nil end
  local sums, names = {}, {}
  for _, o in ipairs(a.objects_all) do
    local n = short(o.object)
    if not sums[n] then names[#names + 1] = n; sums[n] = { 0, 0 } end
    sums[n][1] = sums[n][1] + o.ir
  end
  for _, o in ipairs(b.objects_all) do
    local n = short(o.object)
    if not sums[n] then names[#names + 1] = n; sums[n] = { 0, 0 } end
    sums[n][2] = sums[n][2] + o.ir
  end
  table.sort(names, function(x, y) return sums[x][1] + sums[x][2] > sums[y][1] + sums[y][2] end)
  local lines = { format("\nSelf instructions by shared object, %s vs %s:", key, ref),
                  format("  %-28s %12s %12s %12s", "object", key, ref, "difference") }
  local list = {}
  for i, n in ipairs(names) do
    if i > 14 then break end
    local d = sums[n][1] - sums[n][2]
    list[#list + 1] = { object = n, ir = sums[n][1], ref_ir = sums[n][2] }
    lines[#lines + 1] = format("  %-28s %12s %12s %12s", n, thousands(sums[n][1]), thousands(sums[n][2]),
                               (d >= 0 and "+" or "-") .. thousands(math.abs(d)))
  end
  lines[#lines + 1] = format("  %-28s %12s %12s %12s", "total", thousands(a.total_ir), thousands(b.total_ir),
                             (a.total_ir >= b.total_ir and "+" or "-") .. thousands(math.abs(a.total_ir - b.total_ir)))
  print(concat(lines, "\n"))
  return list
end
local comparisons = {
  http = versus("full_http", "curl_http"), https = versus("full_https", "curl_https"),
  floor_http = versus("full_http", "floor_http"), floor_https = versus("full_https", "floor_https"),
  floor_cache = versus("cache", "floor_hmac"),
}
for _, p in pairs(profiles) do p.objects_all = nil end

local record = {
  date = meta.date, machine = { host = meta.host, cpus = tonumber(meta.cpus), cpu = meta.cpu, loadavg = meta.loadavg },
  versions = { tokrun = meta.tokrun, commit = meta.tokrun_commit, binary_sha256 = meta.tokrun_sha256,
               curl = meta.curl, openssl = meta.openssl, nginx = meta.nginx, python = meta.python,
               hyperfine = meta.hyperfine },
  method = { rounds = nrounds, runs_per_round = tonumber(meta.runs),
             wall = "hyperfine, median of all runs of all rounds; order reversed every other round; "
                    .. "rows with stdin through sh, its spawn time subtracted",
             rss = "/usr/bin/time -f '%M %R', median",
             instructions = "valgrind --tool=callgrind, totals, children summed" },
  server = { nginx_us_per_request = mock.nginx_us, mock_us_per_request = mock.mock_us, mock_answered_ok = stats.ok,
             mock_answered_failed = stats.failed },
  commands = {},
  not_measured = {},
  targets = {},
  profiles = profiles,
  versus_curl = comparisons,
}
for _, c in ipairs(commands) do
  record.commands[#record.commands + 1] = {
    key = c.key, label = c.label, command = c.command, stdin = c.stdin, samples = #c.times,
    median_wall_ms = round(c.wall_ms, 3), ref = c.ref, ratio = round(c.ratio, 3),
    instructions_ratio = round(c.ir_ratio, 3),
    round_medians_ms = c.rounds, round_ratios = c.round_ratios,
    peak_rss_mib = c.rss_kib and round(c.rss_kib / 1024, 2), minor_faults = c.minor_faults,
    instructions = c.instructions, processes = c.processes, maps_libcurl = maps_libcurl[c.key],
  }
end
for _, s in ipairs(slots) do
  record.not_measured[#record.not_measured + 1] = { key = s.key, label = s.label, reason = s.reason }
end
for _, t in ipairs(targets) do
  record.targets[#record.targets + 1] = { name = t.name, value = t.value, limit = t.limit,
                                          status = t.na and "n/a" or t.info and "info" or t.met and "MET" or "MISS",
                                          shown = t.shown }
end
write(out .. ".json", cjson.encode(record) .. "\n")
written[#written + 1] = out .. ".json"
print("\nwrote " .. concat(written, ", "))
