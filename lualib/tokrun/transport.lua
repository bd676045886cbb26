-- Where a request may go and how it gets there: secrets never over plain
-- http except to this machine, no userinfo unless a step allows it, and
-- redirects followed one hop at a time, a cross-origin hop only for a GET
-- without a body and never carrying a credential.
local errors = require 'tokrun.errors'
local json = require 'tokrun.json'
local redact = require 'tokrun.redact'
local request = require 'tokrun.request'
local trace = require 'tokrun.trace'
local url = require 'tokrun.url'
local sys = require 'tokrun.sys'

local M = {}

local pairs, ipairs, tonumber = pairs, ipairs, tonumber
local string_format, min = string.format, math.min

M.MAX_REDIRECTS = 5
local REDIRECT = { [301] = true, [302] = true, [303] = true, [307] = true, [308] = true }

local function parse(target, step, where, kind)
  local u, err = url.parse(target)
  if not u then errors.raise(kind, string_format('%s: cannot use the URL %s: %s', where, target, err)) end
  if u.user and not step.allow_userinfo then
    errors.raise(kind, string_format('%s: refusing a URL with a user name or password before its host (%s);'
      .. ' put credentials in headers, or set allow_userinfo on the step', where, url.origin(u)))
  end
  return u
end

local function carries_secret(secrets, req)
  local probe = { req.url, json.encode(req.headers), req.body or '' }
  for _, kv in ipairs(req.query) do probe[#probe + 1] = kv[2] end
  probe = table.concat(probe, '\n')
  return secrets:apply(probe) ~= probe
end

-- M.check(ctx, step, req, where) -> parsed URL; raises `config` when the
-- request must not be sent.
function M.check(ctx, step, req, where)
  local u = parse(req.url, step, where, 'config')
  if u.scheme == 'http' and not url.loopback(u.host) and carries_secret(ctx.secrets, req) then
    errors.raise('config', string_format('%s: refusing to send secrets over plain http:// to %s; use https://',
      where, u.host))
  end
  return u
end

-- Headers that must not follow a request to another origin.
local function strip_secret_headers(secrets, headers)
  local out = {}
  for name, v in pairs(headers) do
    if not redact.secret_header(name) and secrets:apply(v) == v then out[name] = v end
  end
  return out
end

local function send(ctx, step, req, u)
  local left = ctx.deadline - sys.monotonic()
  if left <= 0 then return nil, { kind = 'timeout', message = 'the run ran out of time (--timeout)' } end
  local http = require 'tokrun.http'
  return http.request {
    method = req.method, url = req.url, query = req.query, headers = req.headers,
    body = req.body, timeout = min(left, step.timeout or left),
    connect_timeout = min(left, 10), max_body = step.max_body,
    cacert = ctx.tls.cacert, insecure = ctx.tls.insecure,
    client_cert = ctx.tls.client_cert, client_key = ctx.tls.client_key,
    -- a plain-http request (loopback only, if it carries a secret) never
    -- goes through a proxy
    no_proxy = u.scheme == 'http' or nil,
  }
end

-- M.exchange(ctx, step, req, where) -> response | nil, transport error.
-- Follows redirects when the step allows it.
function M.exchange(ctx, step, req, where)
  local hops = step.follow_redirects == true and M.MAX_REDIRECTS or tonumber(step.follow_redirects) or 0
  local cur, cur_url = req, M.check(ctx, step, req, where)
  for hop = 0, hops do
    if ctx.verbose then trace.request(ctx.secrets, ctx.log, cur, hop == 0 and '> ' or '> (redirect) ') end
    local resp, err = send(ctx, step, cur, cur_url)
    if err then return nil, err end
    local location = resp.headers.location
    if not REDIRECT[resp.status] or not location or hops == 0 then return resp end
    if hop == hops then
      errors.raise('protocol', string_format(
        '%s: stopped after %d redirects (the most a step follows); the last was to %s', where, hops, location),
        { http_status = resp.status })
    end
    trace.response(ctx, resp)   -- the caller shows the final answer
    if location:sub(1, 1) == '/' and location:sub(2, 2) ~= '/' then
      location = url.origin(cur_url) .. location
    end
    local next_url = parse(location, step, where, 'protocol')
    if cur_url.scheme == 'https' and next_url.scheme == 'http' then
      errors.raise('protocol', string_format('%s: refusing a redirect from https to plain http (%s)',
        where, url.origin(next_url)))
    end
    local nxt = { method = cur.method, url = location, query = {}, headers = cur.headers, body = cur.body }
    if resp.status == 303 then nxt.method, nxt.body = 'GET', nil end
    if url.origin(next_url) ~= url.origin(cur_url) then
      if nxt.method ~= 'GET' or nxt.body then
        errors.raise('protocol', string_format('%s: refusing a cross-origin redirect of a %s with a body to %s',
          where, cur.method, url.origin(next_url)))
      end
      nxt.headers = strip_secret_headers(ctx.secrets, cur.headers)
    end
    M.check(ctx, step, nxt, where)
    cur, cur_url = nxt, next_url
  end
end

M.full_url = request.full_url

return M
