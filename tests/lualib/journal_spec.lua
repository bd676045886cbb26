-- tokrun.journal: a private file per pending lease, never a secret.
local journal = require 'tokrun.journal'
local json = require 'tokrun.json'
local sys = require 'tokrun.sys'

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(sys.mkdir(p, 448))
  return p
end

local function with_state(dir, fn)
  local old = os.getenv('XDG_STATE_HOME')
  sys.setenv('XDG_STATE_HOME', dir)
  local ok, err = pcall(fn)
  sys.setenv('XDG_STATE_HOME', old)
  if not ok then error(err, 0) end
end

local DECL = { name = 'pamx', params = {
  { name = 'base_url' }, { name = 'api_token', secret = true }, { name = 'run_host' }, { name = 'reason' } } }

local function ctx()
  return { decl = DECL, path = '/nonexistent/pamx.lua',
    values = { base_url = 'https://pam.example', api_token = 'tok/+= secret', run_host = 'db01', reason = 'r' } }
end

describe('journal', function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  it('creates the directory and its missing parents 0700, and each entry 0600', function()
    with_state(dir .. '/a/b', function()
      local e = journal.open(ctx(), { base_url = true, api_token = true, run_host = true })
      for _, d in ipairs({ dir .. '/a', dir .. '/a/b', dir .. '/a/b/tokrun', dir .. '/a/b/tokrun/leases' }) do
        assert.equal(448, sys.lstat(d).mode & 511, d)
      end
      assert.equal(384, sys.lstat(e.file).mode & 511)
    end)
  end)

  it('keeps only the non-secret parameters the release uses, then the lease id', function()
    with_state(dir, function()
      local e = journal.open(ctx(), { base_url = true, api_token = true, run_host = true })
      local text = assert(sys.read_file(e.file, 65536))
      assert.is_nil(text:find('tok/+= secret', 1, true))
      local v = json.decode(text)
      assert.same({ base_url = 'https://pam.example', run_host = 'db01' }, v.params)
      assert.equal(json.null, v.lease)
      assert.is_true(journal.alive(v))
      e:set_lease('CO-7')
      local list = journal.list()
      assert.equal(1, #list)
      assert.equal('CO-7', list[1].lease)
      assert.matches('^pamx %(base_url=https://pam.example, run_host=db01, %d+%-%d+%-%d+T[%d:]+Z, pid %d+%)$',
        journal.describe(list[1]))
      e:remove()
      assert.same({}, journal.list())
    end)
  end)

  it('refuses a journal directory others can read (74)', function()
    assert(sys.mkdir(dir .. '/tokrun', 448))
    assert(sys.mkdir(dir .. '/tokrun/leases', 493))   -- 0755
    with_state(dir, function()
      local ok, err = pcall(journal.open, ctx(), {})
      assert.is_false(ok)
      assert.equal('io', err.kind)
      assert.matches('must be mode 0700', err.message)
    end)
  end)

  it('takes a process that is gone, or a reused pid, for a run that is gone', function()
    assert.is_false(journal.alive({ pid = (1 << 22) + 12345 }))
    local mine = json.decode(json.encode({ pid = 1, start = 'not-its-start' }))
    assert.is_false(journal.alive(mine))
  end)
end)
