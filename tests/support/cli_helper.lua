-- Runs the built tokrun binary as a subprocess, the way cron would, with a
-- clean environment: only PATH, HOME and what the spec passes.
local process = require 'tokrun.process'
local json = require 'tokrun.json'
local assert = require 'luassert'

local M = {}

M.bin = os.getenv('TOKRUN_BIN') or require('tokrun.sys').paths().exe
M.root = require('tokrun.sys').paths().srcdir or '.'

-- M.run(args, env [, opts]) -> {code=, stdout=, stderr=, json=}
-- opts.stdin, opts.timeout (seconds, default 30)
function M.run(args, env, opts)
  opts = opts or {}
  local argv = { M.bin }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local e = { PATH = os.getenv('PATH'), HOME = os.getenv('HOME') or '/tmp',
    XDG_CACHE_HOME = os.getenv('TOKRUN_TEST_CACHE'), XDG_STATE_HOME = M.state_home() }
  for k, v in pairs(env or {}) do e[k] = v end
  local r, err = process.run { argv = argv, env = e, stdin = opts.stdin,
    timeout = opts.timeout or 30, max_output = 16 * 1024 * 1024 }
  assert(r, err and err.message)
  r.code = r.status
  r.json = r.stdout:sub(1, 1) == '{' and json.decode(r.stdout) or nil
  return r
end

-- M.state_home() -> this spec run's own XDG_STATE_HOME (the lease
-- journal), removed when the run ends
local state_home
function M.state_home()
  if not state_home then
    state_home = os.tmpname()
    os.remove(state_home)
    assert(require('tokrun.sys').mkdir(state_home, 448))
    M.state_sentinel = setmetatable({}, { __gc = function() os.execute("rm -rf '" .. state_home .. "'") end })
  end
  return state_home
end

-- M.recipe(name) -> path of a recipe in the source tree
function M.recipe(name)
  return M.root .. '/recipes/' .. name .. '.lua'
end

-- M.assert_no_secret(r, secrets): none of the canaries (or their derived
-- forms) in stdout or stderr.  opts.allow_stdout: the result itself may
-- carry them (a token on stdout is the point).
function M.assert_clean(r, canaries, allow_stdout)
  local redact = require('tokrun.redact').new()
  for _, c in ipairs(canaries) do redact:add(c) end
  assert.equal(r.stderr, redact:apply(r.stderr), 'a secret reached stderr:\n' .. r.stderr)
  if not allow_stdout then
    assert.equal(r.stdout, redact:apply(r.stdout), 'a secret reached stdout:\n' .. r.stdout)
  end
end

-- M.tmpdir() -> a fresh directory under /tmp (removed by M.cleanup)
local dirs = {}
function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(require('tokrun.sys').mkdir(p, 448))
  dirs[#dirs + 1] = p
  return p
end

function M.cleanup()
  for _, d in ipairs(dirs) do os.execute("rm -rf '" .. d .. "'") end
  dirs = {}
end

-- M.seen(srv) -> the requests a mock saw as "METHOD /path" strings (the
-- mocks' own /__mock/ routes left out)
function M.seen(srv)
  local out = {}
  for _, r in ipairs(srv:requests()) do
    if not r.path:match('^/__mock/') then out[#out + 1] = r.method .. ' ' .. r.path end
  end
  return out
end

-- M.open_leases(srv) -> the password checkouts the PAM mock still holds
function M.open_leases(srv)
  local resp = assert(require('tokrun.http').request { url = srv.url .. '/__mock/leases', timeout = 5 })
  return json.decode(resp.body).leases
end

-- M.assert_one_line(r): stderr is one "tokrun: ..." line, no traceback
function M.assert_one_line(r)
  assert.matches('^tokrun: [^\n]+\n$', r.stderr)
  assert.not_matches('stack traceback', r.stderr)
end

return M
