-- The credential cache policy (docs/cli.md, Cache), written once for every
-- backend: the key (the recipe's canonical path and content, its
-- non-secret parameters, the TLS options, and an HMAC of its secrets --
-- never the secrets), what is fresh (--min-ttl, --max-age), single flight
-- (one mints, the others wait within --timeout and reuse), and what is
-- cached.  Storage is a backend: tokrun.cache.file (a private directory)
-- or tokrun.cache.redis (shared by a fleet), each with name, get, lock,
-- unlock, put and drop.
local errors = require 'tokrun.errors'
local hmac = require 'tokrun.hmac'
local json = require 'tokrun.json'
local params = require 'tokrun.params'
local sys = require 'tokrun.sys'

local M = {}

local pairs, ipairs, type, tostring = pairs, ipairs, type, tostring
local string_format, concat, sort = string.format, table.concat, table.sort
local math_min = math.min

-- An entry holds one response's worth of credential (the http bound) and
-- its envelope.
M.MAX_ENTRY = (1 << 20) + 64 * 1024

local function warn(ctx, msg)
  io.stderr:write('tokrun: ', ctx.secrets:line(msg), '\n')
end

-- M.location(opts) -> "file", dir | "redis", parsed URL.  --cache with no
-- value takes TOKRUN_CACHE when set.
function M.location(opts)
  if opts.cache_fallback ~= nil and opts.cache_fallback ~= 'local' and opts.cache_fallback ~= 'fail' then
    errors.raise('usage', string_format("--cache-fallback must be local or fail, got '%s'", opts.cache_fallback))
  end
  local where = opts.cache
  if where == true then
    local env = os.getenv('TOKRUN_CACHE')
    where = env ~= '' and env or nil
  end
  if type(where) == 'string' and where:match('^%a+://') then
    local url, err = require('tokrun.cache.redis').parse(where)
    if not url then
      -- the URL is not repeated: it may hold a password
      errors.raise('usage', string_format('--cache=%s: %s', where:match('^%a+://'), err))
    end
    return 'redis', url
  end
  return 'file', where
end

-- The key material: everything that could change the credential, the
-- secrets apart (a backend HMACs them under its own key).
local function material(ctx, opts)
  local parts = {
    'tokrun-cache-v1',
    -- an entry minted by another tokrun (another recipe language) is not
    -- served: a hit skips the recipe check the mint did
    'tokrun=' .. sys.paths().version,
    'recipe=' .. ctx.recipe_path,
    'content=' .. ctx.recipe_sha256,
    'cacert=' .. tostring(opts.cacert), 'client_cert=' .. tostring(opts.client_cert),
    'client_key=' .. tostring(opts.client_key),
  }
  local secrets = {}
  for _, p in ipairs(ctx.decl.params or {}) do
    local v = ctx.values[p.name]
    local file = type(v) == 'table' and params.file_text(v)   -- a JSON key file: its text, a secret
    if type(v) == 'table' then v = file or concat(v, ',') end
    local line = p.name .. '=' .. (v == nil and '' or tostring(v))
    if p.secret or file then secrets[#secrets + 1] = line else parts[#parts + 1] = 'param:' .. line end
  end
  sort(secrets)
  return parts, secrets
end

local function bind(ctx)
  if not ctx.recipe_sha256 then
    ctx.recipe_path = sys.realpath(ctx.path) or ctx.path
    ctx.recipe_sha256 = hmac.hexhash('sha256', ctx.source)
  end
end

-- What is stored: the result but what must not outlive the run (a lease,
-- a deferred error), bound to the recipe's file and content, the token
-- once (env values that are the token refer to it).
local function encode(ctx, result)
  local entry, env, env_token = {}, {}, {}
  for k, v in pairs(result) do
    if k ~= 'deferred' and k ~= 'lease' then entry[k] = v end
  end
  for name, v in pairs(result.env or {}) do
    if v == result.token then env_token[#env_token + 1] = name else env[name] = v end
  end
  sort(env_token)
  entry.env, entry.env_token = env, json.array(env_token)
  entry.recipe, entry.recipe_path, entry.recipe_sha256 = ctx.decl.name, ctx.recipe_path, ctx.recipe_sha256
  return json.encode(entry)
end

-- A stored entry -> result | nil.  Used only when it has every field a
-- delivery reads, is this recipe's (name, canonical path and content) and
-- is fresh; a corrupt or foreign entry is ignored and replaced.
local function decode(ctx, opts, text)
  local e = text and json.decode(text)
  if type(e) ~= 'table' or e.recipe ~= ctx.decl.name or e.recipe_path ~= ctx.recipe_path
    or e.recipe_sha256 ~= ctx.recipe_sha256 or type(e.token) ~= 'string'
    or type(e.obtained_epoch) ~= 'number' or type(e.env) ~= 'table' or type(e.env_token) ~= 'table'
    or type(e.data) ~= 'table' or type(e.obtained_at) ~= 'string' then
    return nil
  end
  local now = sys.now_ms() // 1000
  if type(e.expires_epoch) == 'number' then
    if e.expires_epoch - now <= opts.min_ttl then return nil end
  elseif now - e.obtained_epoch >= opts.max_age then
    return nil
  end
  for _, name in ipairs(e.env_token) do
    if type(name) ~= 'string' then return nil end
    e.env[name] = e.token
  end
  e.env_token, e.recipe_path, e.recipe_sha256 = nil, nil, nil
  e.cached = true
  return e
end

-- How long a stored result stays usable (ms): until --min-ttl before it
-- expires, or --max-age after it was obtained.
local function usable_ms(opts, result)
  local now = sys.now_ms()
  if type(result.expires_epoch) == 'number' then
    return (result.expires_epoch - opts.min_ttl) * 1000 - now
  end
  return ((result.obtained_epoch or now // 1000) + opts.max_age) * 1000 - now
end

local function read(b, key, ctx, opts)
  local entry = decode(ctx, opts, b:get(key))
  if entry then ctx.secrets:add(entry.token) end
  return entry
end

-- One obtain through backend b: a fresh entry, or the lock and a mint;
-- waiting within --timeout (backoff b.poll) while another run mints.
local function through(b, opts, ctx, mint)
  local key = b:name(material(ctx, opts))
  local entry = read(b, key, ctx, opts)
  if entry then return entry end
  local nap, max_nap = b.poll[1], b.poll[2]
  local lock
  while true do
    lock = b:lock(key)
    if lock then break end
    entry = read(b, key, ctx, opts)
    if entry then return entry end
    local left = ctx.deadline - sys.monotonic()
    if left <= 0 then
      errors.raise('locked', string_format('%s: another run holds the cache lock; gave up after %gs',
        ctx.decl.name, opts.timeout))
    end
    sys.sleep(math_min(nap, left))
    nap = math_min(nap * 2, max_nap)
  end
  entry = read(b, key, ctx, opts)   -- minted while we waited?
  if entry then
    b:unlock(lock)
    return entry
  end
  ctx.minting = true
  local ok, result = pcall(mint)
  if not ok then
    b:unlock(lock)
    error(result, 0)
  end
  local stored, err = b:put(key, encode(ctx, result), usable_ms(opts, result))
  b:unlock(lock)
  if not stored then warn(ctx, 'warning: ' .. err) end
  return result
end

-- Refusals before any work: a lease is never cached; a rotation is not
-- shared unless asked for.
local function refuse(opts, ctx, kind)
  if ctx.decl.release then
    errors.raise('usage', ctx.decl.name .. ': a recipe that yields a lease is never cached; drop --cache')
  end
  if kind == 'redis' and ctx.decl.mint_once and not opts.shared_rotation then
    errors.raise('usage', ctx.decl.name .. ': this recipe rotates its credential (minting twice '
      .. 'kills the first); a shared cache refuses it unless --shared-rotation is given')
  end
end

local function local_backend(opts, dir)
  return require('tokrun.cache.file').open(dir, opts, M.MAX_ENTRY)
end

-- M.backend(opts, ctx) -> backend.  A shared cache that cannot be reached
-- falls back to the local one with a warning (--cache-fallback=local) or
-- fails (fail); a TLS trust failure always fails.
function M.backend(opts, ctx)
  local kind, where = M.location(opts)
  refuse(opts, ctx, kind)
  if kind == 'file' then return local_backend(opts, where) end
  local ok, b = pcall(require('tokrun.cache.redis').open, where, opts, ctx)
  if ok then return b end
  return M.fallback(opts, ctx, b)
end

function M.fallback(opts, ctx, err)
  if not (errors.is(err) and err.cache_down) then error(err, 0) end
  if err.kind == 'tls' or opts.cache_fallback == 'fail' then error(err, 0) end
  warn(ctx, 'warning: ' .. err.message .. '; using the local cache')
  return local_backend(opts, nil)
end

-- M.obtain(opts, ctx, mint) -> result.  Locks are released before it
-- returns, so delivery (and exec) never holds one.
function M.obtain(opts, ctx, mint)
  bind(ctx)
  local b = M.backend(opts, ctx)
  if not b.shared then return through(b, opts, ctx, mint) end
  local ok, res = pcall(through, b, opts, ctx, mint)
  if ok then return res end
  if ctx.minting then error(res, 0) end   -- the mint's own failure, or after it
  return through(M.fallback(opts, ctx, res), opts, ctx, mint)
end

-- M.drop(opts, ctx): forgets the cached entry of this recipe and its
-- parameters (for erase/forget helpers).
function M.drop(opts, ctx)
  bind(ctx)
  local b = M.backend(opts, ctx)
  b:drop(b:name(material(ctx, opts)))
end

-- M.forget(opts, ctx, token) -> true when the entry was dropped: only an
-- entry holding token (the credential a client just rejected), so an
-- erase meant for another helper's credential keeps ours.
function M.forget(opts, ctx, token)
  bind(ctx)
  local b = M.backend(opts, ctx)
  local key = b:name(material(ctx, opts))
  local entry = decode(ctx, opts, b:get(key))
  if not entry or entry.token ~= token then return false end
  b:drop(key)
  return true
end

-- M.run(opts, ctx, mint, deliver) -> exit status: obtain, then deliver.
function M.run(opts, ctx, mint, deliver)
  local result = M.obtain(opts, ctx, mint)
  local code = deliver(opts, ctx, result)
  if result.deferred then
    warn(ctx, result.deferred.message)
    return code ~= 0 and code or errors.exit_code(result.deferred)
  end
  return code
end

return M
