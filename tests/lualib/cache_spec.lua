-- tokrun.cache: the policy over both backends -- what is fresh, what is
-- stored and what an entry is bound to, single flight, refusals -- driven
-- directly with a counted mint, on a private directory and on a real
-- redis-server.
local cache = require 'tokrun.cache'
local hmac = require 'tokrun.hmac'
local codec = require 'tokrun.codec'
local json = require 'tokrun.json'
local sys = require 'tokrun.sys'
local server = require 'redis_server'
local cli = require 'cli_helper'

local KEY = codec.base64(string.rep('\7', 32))

local function ctx_for(path, over)
  local secrets = require('tokrun.redact').new()
  local c = {
    decl = { name = 'fixture', params = { { name = 'secret', secret = true }, { name = 'who' } } },
    path = path, source = 'return {}', values = { secret = 's3cret', who = 'me' },
    secrets = secrets, deadline = sys.monotonic() + 10, log = function() end,
  }
  for k, v in pairs(over or {}) do c[k] = v end
  return c
end

local function result(token, ttl)
  local now = sys.now_ms() // 1000
  return { token = token, token_type = 'test', expires_at = 'x', expires_epoch = ttl and now + ttl or nil,
    obtained_at = 'y', obtained_epoch = now, cached = false, data = { n = 1 },
    env = { TOKEN_VAR = token, OTHER = 'o' } }
end

local function counted(token, ttl)
  local m = { n = 0 }
  m.fn = function()
    m.n = m.n + 1
    return result(token, ttl)
  end
  return m
end

local function files(dir, pattern)
  local out = {}
  for _, f in ipairs(sys.readdir(dir)) do
    if f:match(pattern) then out[#out + 1] = dir .. '/' .. f end
  end
  return out
end

describe('tokrun.cache', function()
  local dir, recipe, opts

  before_each(function()
    dir = cli.tmpdir()
    recipe = dir .. '/fixture.lua'
    assert(sys.write_atomic(recipe, 'return {}'))
    opts = { cache = dir .. '/cache', timeout = 10, min_ttl = 300, max_age = 3600 }
  end)
  teardown(cli.cleanup)

  describe('on the local directory', function()
    it('mints once, then serves the entry with cached = true and the env restored', function()
      local m = counted('tok-1', 3600)
      local a = cache.obtain(opts, ctx_for(recipe), m.fn)
      local b = cache.obtain(opts, ctx_for(recipe), m.fn)
      assert.equal(1, m.n)
      assert.is_false(a.cached)
      assert.is_true(b.cached)
      assert.same({ TOKEN_VAR = 'tok-1', OTHER = 'o' }, b.env)
      assert.same({ n = 1 }, b.data)
    end)

    it('stores the token once, not again for each env name that carries it', function()
      cache.obtain(opts, ctx_for(recipe), counted('tok-once', 3600).fn)
      local entry = files(opts.cache, '%.json$')
      assert.equal(1, #entry)
      local text = sys.read_file(entry[1], 1 << 20)
      assert.equal(1, select(2, text:gsub('tok%-once', '')))
    end)

    it('reuses an entry far over 256 KiB', function()
      local big = string.rep('t', 700 * 1024)
      local m = counted(big, 3600)
      cache.obtain(opts, ctx_for(recipe), m.fn)
      local b = cache.obtain(opts, ctx_for(recipe), m.fn)
      assert.equal(1, m.n)
      assert.is_true(b.cached)
      assert.equal(big, b.token)
    end)

    it('mints again when less than --min-ttl is left, or past --max-age without expiry', function()
      local m = counted('short', 200)
      cache.obtain(opts, ctx_for(recipe), m.fn)
      cache.obtain(opts, ctx_for(recipe), m.fn)
      assert.equal(2, m.n)
      opts.max_age = 0
      local n = counted('forever')
      cache.obtain(opts, ctx_for(recipe), n.fn)
      cache.obtain(opts, ctx_for(recipe), n.fn)
      assert.equal(2, n.n)
    end)

    it('binds an entry to the canonical recipe path and content hash, checked on read', function()
      local m = counted('mine', 3600)
      cache.obtain(opts, ctx_for(recipe), m.fn)
      local entry = files(opts.cache, '%.json$')[1]
      local e = json.decode(sys.read_file(entry, 1 << 20))
      assert.equal(sys.realpath(recipe), e.recipe_path)
      assert.equal(hmac.hexhash('sha256', 'return {}'), e.recipe_sha256)
      -- a forged entry under this key, claiming another file of the same name
      e.recipe_path, e.token = '/elsewhere/fixture.lua', 'forged'
      assert(sys.write_atomic(entry, json.encode(e), 384))
      local r = cache.obtain(opts, ctx_for(recipe), m.fn)
      assert.equal('mine', r.token)
      assert.equal(2, m.n)
    end)

    it('creates the directory with its missing parents, each 0700', function()
      opts.cache = dir .. '/a/b/cache'
      cache.obtain(opts, ctx_for(recipe), counted('t', 3600).fn)
      for _, d in ipairs { dir .. '/a', dir .. '/a/b', dir .. '/a/b/cache' } do
        local st = assert(sys.lstat(d))
        assert.equal('dir', st.type)
        assert.equal(448, st.mode & 511, d)
      end
    end)

    it('waits for the lock within --timeout, then fails with locked', function()
      local m = counted('t', 3600)
      cache.obtain(opts, ctx_for(recipe), m.fn)   -- creates the key and the lock file
      local lockfile = files(opts.cache, '%.lock$')
      local held = {}
      for i, f in ipairs(lockfile) do held[i] = assert(sys.lock(f, 1)) end
      local ctx = ctx_for(recipe, { values = { secret = 'another', who = 'me' }, deadline = sys.monotonic() + 0.3 })
      -- another secret: another key, whose lock is free
      assert.equal('t', cache.obtain(opts, ctx, m.fn).token)
      opts.min_ttl = 4000   -- the entry is stale: a mint is needed, the lock is held
      local ok, err = pcall(cache.obtain, opts, ctx_for(recipe, { deadline = sys.monotonic() + 0.3 }), m.fn)
      for _, l in ipairs(held) do l:unlock() end
      assert.is_false(ok)
      assert.equal('locked', err.kind)
    end)

    it('drops an entry', function()
      local m = counted('t', 3600)
      cache.obtain(opts, ctx_for(recipe), m.fn)
      cache.drop(opts, ctx_for(recipe))
      cache.obtain(opts, ctx_for(recipe), m.fn)
      assert.equal(2, m.n)
    end)

    it('refuses a recipe that yields a lease (usage)', function()
      local ok, err = pcall(cache.obtain, opts, ctx_for(recipe, { decl = { name = 'l', release = {} } }),
        counted('t').fn)
      assert.is_false(ok)
      assert.equal('usage', err.kind)
    end)
  end)

  describe('locations', function()
    it('reads redis://, rediss://, unix:// and directories', function()
      local kind, u = cache.location { cache = 'redis://127.0.0.1:7000/3' }
      assert.equal('redis', kind)
      assert.same({ '127.0.0.1', 7000, 3, false }, { u.host, u.port, u.db, u.tls })
      kind, u = cache.location { cache = 'rediss://cache.example' }
      assert.same({ 'redis', 'cache.example', 6379, 0, true }, { kind, u.host, u.port, u.db, u.tls })
      kind, u = cache.location { cache = 'unix:///run/redis.sock' }
      assert.same({ 'redis', '/run/redis.sock' }, { kind, u.path })
      kind, u = cache.location { cache = '/some/dir' }
      assert.same({ 'file', '/some/dir' }, { kind, u })
    end)

    it('refuses credentials in the URL and unknown schemes (usage)', function()
      for _, bad in ipairs { 'redis://user:pw@127.0.0.1', 'http://127.0.0.1', 'redis://127.0.0.1:99999' } do
        local ok, err = pcall(cache.location, { cache = bad })
        assert.is_false(ok, bad)
        assert.equal('usage', err.kind)
        assert.is_nil(err.message:find('pw', 1, true))
      end
      local ok, err = pcall(cache.location, { cache = true, cache_fallback = 'maybe' })
      assert.is_false(ok)
      assert.equal('usage', err.kind)
    end)
  end)

  describe('on Redis', function()
    local srv

    setup(function()
      srv = server.start {}
      sys.setenv('TOKRUN_CACHE_KEY', KEY)
    end)
    teardown(function()
      sys.setenv('TOKRUN_CACHE_KEY', nil)
      server.stop_all()
    end)

    -- the entries' names (the key-check record apart)
    local function entries()
      local out = {}
      for _, k in ipairs(srv:command { 'KEYS', '*' }) do
        if k:match('^tokrun:v1:%x+$') then out[#out + 1] = k end
      end
      return out
    end

    local function ropts()
      return { cache = srv.url, timeout = 10, min_ttl = 300, max_age = 3600 }
    end

    it('mints once and serves the entry, stored under an opaque name with a TTL', function()
      local m = counted('r-tok', 3600)
      cache.obtain(ropts(), ctx_for(recipe), m.fn)
      local b = cache.obtain(ropts(), ctx_for(recipe), m.fn)
      assert.equal(1, m.n)
      assert.is_true(b.cached)
      assert.equal('r-tok', b.token)
      local keys = entries()
      assert.equal(1, #keys)
      assert.matches('^tokrun:v1:%x+$', keys[1])
      local ttl = srv:command { 'PTTL', keys[1] }
      assert.is_true(ttl > 3000 * 1000 and ttl <= 3300 * 1000, tostring(ttl))
      assert.is_nil(srv:command({ 'GET', keys[1] }):find('r-tok', 1, true))
      srv:command { 'FLUSHALL' }
    end)

    it('replaces a value only by one that expires later', function()
      local long = counted('long', 7200)
      cache.obtain(ropts(), ctx_for(recipe), long.fn)
      local key = entries()[1]
      local o = ropts()
      o.min_ttl = 7250   -- the stored one is stale for this run; its own mint lives shorter
      local short = counted('short', 7300)
      assert.equal('short', cache.obtain(o, ctx_for(recipe), short.fn).token)
      assert.is_true(srv:command { 'PTTL', key } > 6000 * 1000)
      assert.equal('long', cache.obtain(ropts(), ctx_for(recipe), long.fn).token)
      srv:command { 'FLUSHALL' }
    end)

    it('refuses a rotating recipe unless --shared-rotation', function()
      local rot = { decl = { name = 'rot', mint_once = true, params = {} }, values = {} }
      local ok, err = pcall(cache.obtain, ropts(), ctx_for(recipe, rot), counted('t').fn)
      assert.is_false(ok)
      assert.equal('usage', err.kind)
      assert.matches('%-%-shared%-rotation', err.message)
      local o = ropts()
      o.shared_rotation = true
      assert.equal('t', cache.obtain(o, ctx_for(recipe, rot), counted('t', 3600).fn).token)
      -- the local cache takes it as before
      assert.equal('t', cache.obtain(opts, ctx_for(recipe, rot), counted('t', 3600).fn).token)
      srv:command { 'FLUSHALL' }
    end)

    it('needs TOKRUN_CACHE_KEY (config)', function()
      sys.setenv('TOKRUN_CACHE_KEY', nil)
      local ok, err = pcall(cache.obtain, ropts(), ctx_for(recipe), counted('t').fn)
      sys.setenv('TOKRUN_CACHE_KEY', 'c2hvcnQ=')
      local ok2, err2 = pcall(cache.obtain, ropts(), ctx_for(recipe), counted('t').fn)
      sys.setenv('TOKRUN_CACHE_KEY', KEY)
      assert.is_false(ok)
      assert.equal('config', err.kind)
      assert.is_false(ok2)
      assert.equal('config', err2.kind)
    end)

    it('falls back to the local cache when Redis is unreachable, or fails with fallback=fail', function()
      local o = ropts()
      o.cache = 'redis://127.0.0.1:' .. require('tokrun.mock').closed_port() .. '/0'
      local m = counted('local', 3600)
      sys.setenv('XDG_CACHE_HOME', dir .. '/xdg')
      local r = cache.obtain(o, ctx_for(recipe), m.fn)
      assert.equal('local', r.token)
      assert.equal(1, #files(dir .. '/xdg/tokrun', '%.json$'))
      o.cache_fallback = 'fail'
      local ok, err = pcall(cache.obtain, o, ctx_for(recipe), m.fn)
      sys.setenv('XDG_CACHE_HOME', nil)
      assert.is_false(ok)
      assert.equal('network', err.kind)
      assert.equal(1, m.n)
    end)
  end)
end)
