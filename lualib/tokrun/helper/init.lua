-- What the credential helpers share: bounded input from the client,
-- host names checked the same way, and a credential obtained through the
-- cache (on by default: a helper that mints on every call is the
-- complaint users have about every other helper).
local errors = require 'tokrun.errors'

local M = {}

local string_format, type, tostring = string.format, type, tostring

M.MAX_LINE = 64 * 1024          -- bytes in one line of a client's request
M.MAX_INPUT = 1024 * 1024       -- bytes in the whole request

-- M.read_input() -> the client's request on stdin | nil, message
function M.read_input()
  local data = io.stdin:read(M.MAX_INPUT + 1) or ''
  if #data > M.MAX_INPUT then return nil, string_format('the request is over %d bytes', M.MAX_INPUT) end
  return data
end

-- M.show(s) -> s quoted for a one-line message: control and non-ASCII
-- bytes as \xNN, at most 80 bytes of it.
function M.show(s)
  s = tostring(s)
  local more = #s > 80 and '...' or ''
  return "'" .. s:sub(1, 80):gsub('[^ -~]', function(c) return string_format('\\x%02x', c:byte()) end) .. more .. "'"
end

-- M.host(s) -> the host ("name" or "name:port", lower case) | nil, message.
-- A name with userinfo, a path or anything but a DNS name, an IPv4 or a
-- bracketed IPv6 address is refused: a credential is never sent to a host
-- that is not exactly the one asked for.
function M.host(s)
  if type(s) ~= 'string' or s == '' then return nil, 'no host' end
  if s:find('@', 1, true) then return nil, 'the host has userinfo (user@host)' end
  local name, port = s:match('^(%[[%x:.]+%])(.*)$')
  if not name then name, port = s:match('^([%w.-]+)(.*)$') end
  if not name or (port ~= '' and not port:match('^:%d%d?%d?%d?%d?$'))
    or name:find('^[.-]') or name:find('..', 1, true) then
    return nil, string_format('%s is not a host name', M.show(s))
  end
  local n = port ~= '' and tonumber(port:sub(2))
  if n and (n < 1 or n > 65535) then return nil, string_format('%s has no valid port', M.show(s)) end
  return name:lower() .. port
end

function M.loopback(host)
  local name = host:match('^(%[[^%]]+%])') or host:match('^[^:]+')
  return name == 'localhost' or name == '[::1]' or name:match('^127%.%d+%.%d+%.%d+$') ~= nil
end

-- Raises the protocol error a malformed request is (its own message names
-- the helper).
function M.bad_request(helper, msg)
  errors.raise('protocol', string_format('%s: malformed request: %s', helper, msg))
end

-- M.prepare(opts, recipe, what) -> ctx.  A lease recipe is refused
-- before anything runs: no helper protocol can carry a lease id.
function M.prepare(opts, recipe, what)
  if opts.dry_run then errors.raise('usage', what .. ': --dry-run would print on stdout, which is the protocol\'s') end
  if opts.output then errors.raise('usage', what .. ': -o does not apply; the answer goes to the client') end
  if opts.cache == nil then opts.cache = true end
  local ctx = require('tokrun.session').prepare_cached(opts, recipe)
  if ctx.decl.release then
    errors.raise('usage', string_format('%s: %s cannot carry the lease id of a recipe that yields a lease; '
      .. 'use tokrun exec', ctx.decl.name, what))
  end
  return ctx
end

-- M.obtain(opts, ctx) -> result, through the cache.
function M.obtain(opts, ctx)
  local session = require 'tokrun.session'
  if not session.cacheable(opts) then return session.checkout(ctx) end
  local result
  local code = require('tokrun.cache').run(opts, ctx, function()
    session.check(ctx)
    return session.checkout(ctx)
  end, function(_, _, r) result = r; return 0 end)
  if code ~= 0 and result then result.deferred_code = code end
  return result
end

-- M.forget(opts, ctx [, token]) -> true when a cache entry was dropped
function M.forget(opts, ctx, token)
  if not require('tokrun.session').cacheable(opts) then return false end
  local cache = require 'tokrun.cache'
  if token == nil then cache.drop(opts, ctx); return true end
  return cache.forget(opts, ctx, token)
end

-- M.line_value(helper, name, v) -> v as a string, when it can go on one
-- line of a line protocol; else raises protocol (76).
function M.line_value(helper, name, v)
  v = tostring(v)
  if v:find('[%z\r\n]') then
    errors.raise('protocol', string_format('%s: the credential cannot be answered: its %s holds a NUL or a newline',
      helper, name))
  end
  return v
end

return M
