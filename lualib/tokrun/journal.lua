-- The lease journal: even `kill -9` must not strand a lease.  Before a
-- checkout request is sent, a run records the pending lease in a private
-- file (the recipe, the non-secret parameters its release steps use, the
-- time, the run's process); the lease id is added once the checkout
-- answers, and the file is removed when the lease is released or handed
-- over by a plain run.  `tokrun release --pending` checks in what a run
-- that is gone left behind; `tokrun list --leases` shows the journal.
-- Never a secret, never the credential.
local errors = require 'tokrun.errors'
local json = require 'tokrun.json'
local sys = require 'tokrun.sys'
local timefmt = require 'tokrun.timefmt'

local M = {}

local ipairs, pairs, type, tostring, tonumber = ipairs, pairs, type, tostring, tonumber
local string_format, sort = string.format, table.sort

local PRIVATE_DIR = 448    -- 0700
local PRIVATE_FILE = 384   -- 0600
local MAX_ENTRY = 64 * 1024

local function io_error(fmt, ...)
  errors.raise('io', string_format(fmt, ...))
end

-- dir and every missing parent, each created 0700 (as the XDG spec asks).
local function make_dirs(dir)
  if sys.lstat(dir) then return end
  local parent = dir:match('^(.+)/[^/]+$')
  if parent then make_dirs(parent) end
  sys.mkdir(dir, PRIVATE_DIR)
end

-- Where the journal lives, or nil when neither variable says.
local function base_dir()
  local base = os.getenv('XDG_STATE_HOME')
  if base and base:sub(1, 1) == '/' then return base end
  local home = os.getenv('HOME')
  return home and home:sub(1, 1) == '/' and home .. '/.local/state' or nil
end

-- M.dir() -> the journal directory, created when missing: a real
-- directory of ours, mode 0700.
function M.dir()
  local base = base_dir()
  if not base then io_error('the lease journal needs XDG_STATE_HOME or HOME (an absolute path)') end
  local dir = base .. '/tokrun/leases'
  make_dirs(dir)
  local st = sys.lstat(dir)
  if not st then io_error('the lease journal %s cannot be created', dir) end
  if st.type ~= 'dir' then io_error('the lease journal %s is not a directory (symlinks are refused)', dir) end
  if st.uid ~= sys.geteuid() then io_error('the lease journal %s is not owned by this user', dir) end
  if st.mode & 63 ~= 0 then io_error('the lease journal %s must be mode 0700, is %04o', dir, st.mode & 4095) end
  return dir
end

-- This process: its id and its start time (so a reused pid is not taken
-- for the run that wrote an entry).
local function start_time(pid)
  local stat = sys.read_file('/proc/' .. pid .. '/stat', 4096)
  local rest = stat and stat:match('^.*%) (.*)$')
  if not rest then return nil end
  local i, state = 2, nil   -- fields after the command name start at 3 (state)
  for field in rest:gmatch('%S+') do
    i = i + 1
    if i == 3 then state = field end
    if i == 22 then return field, state end
  end
end

local function this_process()
  local pid = tonumber(((sys.realpath('/proc/self') or ''):match('^/proc/(%d+)$')))
  return pid, pid and start_time(pid)
end

-- M.alive(entry) -> whether the run that wrote entry still runs (a
-- zombie does not)
function M.alive(e)
  if type(e.pid) ~= 'number' then return false end
  local start, state = start_time(e.pid)
  return start ~= nil and state ~= 'Z' and state ~= 'X' and (e.start == nil or e.start == start)
end

local FIELDS = { 'recipe', 'path', 'params', 'time', 'pid', 'start', 'lease' }

local Entry = {}
Entry.__index = Entry

local function write(self)
  if self.removed then return end
  local t = {}
  for _, k in ipairs(FIELDS) do t[k] = self[k] end
  t.lease = t.lease or json.null
  local ok, err = sys.write_atomic(self.file, json.encode(json.ordered(t, FIELDS)) .. '\n', PRIVATE_FILE)
  if not ok then io_error('cannot record the pending lease: %s', err) end
end

-- M.open(ctx, names) -> entry (nil, with a warning, when there is no
-- place for a journal), written before anything is checked out.
-- names: the set of parameters the release steps use; only the
-- non-secret ones are kept (the secrets come from the environment again).
function M.open(ctx, names)
  if not base_dir() then
    io.stderr:write('tokrun: warning: neither XDG_STATE_HOME nor HOME is set: no lease journal, '
      .. 'so a killed run would leave its lease checked out\n')
    return nil
  end
  local params = {}
  for _, p in ipairs(ctx.decl.params or {}) do
    local v = ctx.values[p.name]
    if names[p.name] and not p.secret and v ~= nil then
      params[p.name] = type(v) == 'table' and table.concat(v, ',') or tostring(v)
    end
  end
  local pid, start = this_process()
  local now = sys.now_ms()
  local e = setmetatable({
    recipe = ctx.decl.name, path = sys.realpath(ctx.path) or ctx.path, params = params,
    time = timefmt.rfc3339(now // 1000), pid = pid, start = start,
  }, Entry)
  e.file = string_format('%s/%s-%d-%d-%04x.json', M.dir(), (e.recipe:gsub('[^%w_-]', '_')), pid or 0, now,
    math.random(0, 0xffff))
  write(e)
  return e
end

-- entry:set_lease(id): the checkout answered with this lease
function Entry:set_lease(id)
  id = tostring(id)
  if self.lease == id then return end
  self.lease = id
  write(self)
end

-- entry:remove(): the lease was released or handed over
function Entry:remove()
  if self.removed then return end
  self.removed = true
  os.remove(self.file)
end

-- M.list() -> the journal's entries, oldest first, each with its file.
-- An entry that does not read is skipped (never trusted).
function M.list()
  local base = base_dir()
  if not base or not sys.lstat(base .. '/tokrun/leases') then return {} end   -- nothing journaled yet
  local dir = M.dir()
  local out = {}
  for _, name in ipairs(sys.readdir(dir) or {}) do
    if name:match('%.json$') then
      local file = dir .. '/' .. name
      local data, st = sys.read_file(file, MAX_ENTRY, true)
      local e = data and st.uid == sys.geteuid() and json.decode(data)
      if type(e) == 'table' and type(e.recipe) == 'string' and type(e.path) == 'string'
        and type(e.params) == 'table' then
        if e.lease == json.null then e.lease = nil end
        e.file = file
        out[#out + 1] = setmetatable(e, Entry)
      end
    end
  end
  sort(out, function(a, b)
    if a.time ~= b.time then return tostring(a.time) < tostring(b.time) end
    return a.file < b.file
  end)
  return out
end

-- M.forget(path, lease): a lease released by `tokrun release` leaves the
-- journal too.
function M.forget(path, lease)
  local ok, list = pcall(M.list)
  if not ok then return end
  path = sys.realpath(path) or path
  for _, e in ipairs(list) do
    if e.path == path and e.lease == tostring(lease) then e:remove() end
  end
end

-- M.describe(entry) -> "pam_checkout (run_host=db01, 2026-...Z, pid 42)"
function M.describe(e)
  local names = {}
  for k in pairs(e.params) do names[#names + 1] = k end
  sort(names)
  local parts = {}
  for _, k in ipairs(names) do parts[#parts + 1] = k .. '=' .. tostring(e.params[k]) end
  parts[#parts + 1] = tostring(e.time)
  parts[#parts + 1] = 'pid ' .. tostring(e.pid)
  return string_format('%s (%s)', e.recipe, table.concat(parts, ', '))
end

-- The entries `release --pending [RECIPE]` handles: runs that are gone,
-- of that recipe (a name or a path) when one is given.
local function pending(recipe_arg)
  local want = recipe_arg and (sys.realpath(recipe_arg) or recipe_arg)
  local out = {}
  for _, e in ipairs(M.list()) do
    if not M.alive(e) and (not want or e.recipe == want or e.path == want) then out[#out + 1] = e end
  end
  return out
end

local UNKNOWN = 'outcome unknown: the run ended while the checkout request was in flight; '
  .. 'ask the provider whether it checked out, then remove %s'

-- M.release_pending(opts, session) -> exit status.  Each lease of a run
-- that is gone is released with the parameters the journal kept (the
-- secrets come from the environment, as for any run); an entry without a
-- lease id is reported as outcome unknown and kept.  One line per entry
-- on stdout; 75 when any release failed.
function M.release_pending(opts, session)
  local status = 0
  for _, e in ipairs(pending(opts.args[1])) do
    local what = M.describe(e)
    if not e.lease then
      io.stdout:write(what, ': ', string_format(UNKNOWN, e.file), '\n')
    else
      local run = {}
      for k, v in pairs(opts) do run[k] = v end
      run.params = {}
      for k, v in pairs(e.params) do run.params[#run.params + 1] = k .. '=' .. tostring(v) end
      local needed = require('tokrun.lease').params_for_release
      local ctx
      local ok, err = pcall(function()
        local decl = require('tokrun.recipe').load(e.path)
        ctx = session.prepare(run, e.path, needed(decl))
        session.bounded(ctx, require('tokrun.engine').release, ctx, e.lease)
      end)
      if ok then
        e:remove()
        io.stdout:write(what, ': lease ', e.lease, ' released\n')
      else
        err = errors.wrap(err)
        io.stdout:write(what, ': lease ', e.lease, ' not released: ',
          ctx and ctx.secrets:line(err.message) or require('tokrun.redact').oneline(err.message), '\n')
        status = 75
      end
    end
  end
  return status
end

-- M.print_leases() -> 0: `tokrun list --leases`, one line per entry.
function M.print_leases()
  for _, e in ipairs(M.list()) do
    local state = M.alive(e) and 'running' or 'gone'
    local lease = e.lease and ('lease ' .. e.lease) or 'outcome unknown'
    io.stdout:write(string_format('%s: %s, run %s  (%s)\n', M.describe(e), lease, state, e.file))
  end
  return 0
end

return M
