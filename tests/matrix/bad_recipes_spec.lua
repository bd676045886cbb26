-- A corpus of broken recipes (tests/matrix/bad_recipes/*.lua): each one,
-- under `tokrun check` and under a plain run, fails with the recipe exit
-- code (65) and one clear line naming the file -- or, for a bound that
-- only the run's deadline enforces, the timeout's documented 69 -- and
-- never crashes, hangs, prints a traceback or calls itself an internal
-- error.
local cli = require 'cli_helper'
local sys = require 'tokrun.sys'

local DIR = cli.root .. '/tests/matrix/bad_recipes'
local BOUND = 20   -- seconds any one run may take before it counts as a hang

-- What each case must say (a plain substring of stderr), and for the
-- cases `check` cannot see -- the recipe is well-formed until its code
-- runs -- what the run must end with.  line: the line a syntax error names.
local CASES = {
  syntax_error = { says = "unexpected symbol near '='", line = 7 },
  wrong_type = { says = "retries: must be an integer, got string 'three'" },
  wrong_return = { says = 'a recipe must return a table, got string' },
  unknown_key = { says = "step 'mint': unknown word 'hedaers'; did you mean 'headers'?" },
  undeclared_placeholder = { says = "undeclared placeholder '{api_secret}'" },
  missing_emit = { says = "missing 'emit'" },
  missing_steps = { says = "missing 'steps'" },
  emit_without_token = { says = "emit: missing 'token'" },
  load_loop = { says = 'still running after 2s' },
  huge_string = { says = 'string.rep would build more than' },
  deep_recursion = { says = 'stack overflow' },
  os_execute = { says = "attempt to call a nil value (field 'execute')" },
  io_open = { says = "global 'io'" },
  require_os = { says = "global 'require'" },
  debug_lib = { says = "global 'debug'" },
  load_text = { says = "global 'load'" },
  string_dump_method = { says = "attempt to call a nil value (local 'dump')" },
  run_without_process = { says = "needs capabilities = { 'process' }" },
  insecure = { says = 'recipes cannot turn TLS verification off' },
  insecure_top = { says = "unknown word 'insecure'" },
  -- valid declarations whose function values misbehave only when run
  -- (the run's bounds name the recipe, not its file: `names`)
  run_loop = { check_ok = true, args = { '--timeout', '3' }, code = 69, says = 'still running after --timeout 3s',
    names = 'bad_run_loop' },
  huge_string_run = { check_ok = true, says = 'string.rep would build more than', names = 'bad_huge_run' },
  deep_recursion_run = { check_ok = true, says = 'stack overflow' },
  -- out of memory inside the run's own error handling was once internal (70)
  oom_emit = { check_ok = true, says = 'more than its memory bound (64 MiB)', names = 'bad_oom_emit' },
}

-- Every file in the corpus has a case, and every case a file.
local function corpus()
  local names = {}
  for _, f in ipairs(assert(sys.readdir(DIR))) do
    local name = f:match('^(.+)%.lua$')
    if name then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

local function assert_clean_failure(r, path, code, says, t, names)
  assert.is_true(t < BOUND, 'took ' .. t .. ' s')
  assert.equal(code, r.code, r.stderr)
  assert.equal(1, select(2, r.stderr:gsub('\n', '')), 'not one line:\n' .. r.stderr)
  assert.matches('^tokrun: ', r.stderr)
  assert.truthy(r.stderr:find(names or path, 1, true), 'the message does not name the file:\n' .. r.stderr)
  assert.truthy(r.stderr:find(says, 1, true), 'expected "' .. says .. '" in:\n' .. r.stderr)
  for _, bad in ipairs({ 'stack traceback', 'internal error', 'Segmentation', 'core dumped', 'PANIC' }) do
    assert.is_nil(r.stderr:find(bad, 1, true), r.stderr)
    assert.is_nil(r.stdout:find(bad, 1, true), r.stdout)
  end
end

local function timed(args, env)
  local t0 = sys.monotonic()
  local r = cli.run(args, env, { timeout = BOUND })
  return r, sys.monotonic() - t0
end

describe('a bad recipe', function()
  it('has a case for every file in the corpus', function()
    for _, name in ipairs(corpus()) do assert.truthy(CASES[name], name .. '.lua has no case') end
    for name in pairs(CASES) do assert.truthy(sys.lstat(DIR .. '/' .. name .. '.lua'), name .. '.lua is missing') end
  end)

  for _, name in ipairs(corpus()) do
    local case = CASES[name] or {}
    local path = DIR .. '/' .. name .. '.lua'

    it(name .. ': `tokrun check` ' .. (case.check_ok and 'accepts the declaration' or 'fails with 65 naming the file'),
      function()
        local r, t = timed({ 'check', path })
        if case.check_ok then
          assert.equal(0, r.code, r.stderr)
          assert.equal(path .. ': ok (' .. r.stdout:match('%((.-)%)') .. ')\n', r.stdout)
        else
          assert_clean_failure(r, path, 65, case.says, t)
          if case.line then assert.truthy(r.stderr:find(path .. ':' .. case.line .. ':', 1, true), r.stderr) end
        end
      end)

    it(name .. ': a plain run fails cleanly with ' .. (case.code or 65), function()
      local args = {}
      for _, a in ipairs(case.args or {}) do args[#args + 1] = a end
      args[#args + 1] = path
      local r, t = timed(args, { BAD_API_KEY = 'bad-recipe-canary' })
      assert_clean_failure(r, path, case.code or 65, case.says, t, case.names)
      assert.equal(false, r.json and r.json.ok)
      assert.equal(case.code == 69 and 'timeout' or 'recipe', r.json.error.kind)
    end)
  end

  it('written as a binary chunk is refused by check and by a run, with 65', function()
    local dir = cli.tmpdir()
    local path = dir .. '/binary.lua'
    local chunk = string.dump(function() return { name = 'binary' } end)
    assert(sys.write_atomic(path, chunk, 384))
    for _, args in ipairs({ { 'check', path }, { path } }) do
      local r, t = timed(args)
      assert_clean_failure(r, path, 65, 'binary chunks are not recipes', t)
    end
    cli.cleanup()
  end)

  it('that touched the file system through the sandbox left nothing behind', function()
    assert.is_nil(sys.lstat('/tmp/tokrun-bad-recipe-os-execute'))
    assert.is_nil(sys.lstat('/tmp/tokrun-bad-recipe-io-open'))
  end)
end)
