-- Where a request may go: secrets never over plain http except to this
-- machine, userinfo only when a step allows it.
local transport = require 'tokrun.transport'
local redact = require 'tokrun.redact'

local function ctx_with(secret)
  local secrets = redact.new()
  secrets:add(secret)
  return { secrets = secrets }
end

local function req(url, headers)
  return { method = 'GET', url = url, query = {}, headers = headers or {} }
end

local function refusal(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.equal('config', err.kind)
  return err.message
end

describe('transport.check', function()
  local ctx = ctx_with('sekrit-value')

  it('lets a secret go over https anywhere and over http to loopback', function()
    assert.equal('example.test', transport.check(ctx, {}, req('https://example.test/t', { K = 'sekrit-value' }), 'w').host)
    assert.equal('127.0.0.1', transport.check(ctx, {}, req('http://127.0.0.1:9/t', { K = 'sekrit-value' }), 'w').host)
    assert.equal('::1', transport.check(ctx, {}, req('http://[::1]:9/t', { K = 'sekrit-value' }), 'w').host)
  end)

  it('refuses a secret over plain http to another host, wherever it is in the request', function()
    assert.matches('refusing to send secrets over plain http:// to example.test',
      refusal(function() transport.check(ctx, {}, req('http://example.test/t', { K = 'sekrit-value' }), 'w') end),
      1, true)
    local q = req('http://example.test/t')
    q.query = { { 'k', 'sekrit-value' } }
    refusal(function() transport.check(ctx, {}, q, 'w') end)
  end)

  it('judges the host after userinfo, and refuses userinfo unless the step allows it', function()
    local msg = refusal(function() transport.check(ctx, {}, req('http://127.0.0.1:1@example.test/t'), 'w') end)
    assert.matches('refusing a URL with a user name or password', msg, 1, true)
    local u = transport.check(ctx, { allow_userinfo = true }, req('https://u:p@example.test/t'), 'w')
    assert.equal('example.test', u.host)
    refusal(function()
      transport.check(ctx, { allow_userinfo = true }, req('http://127.0.0.1@example.test/t', { K = 'sekrit-value' }),
        'w')
    end)
  end)
end)
