-- The pieces of the recipe language, one word at a time: templates, URLs,
-- signing, reading answers, times.
local template = require 'tokrun.template'
local request = require 'tokrun.request'
local response = require 'tokrun.response'
local timefmt = require 'tokrun.timefmt'
local errors = require 'tokrun.errors'
local json = require 'tokrun.json'
local codec = require 'tokrun.codec'
local hmac = require 'tokrun.hmac'

local function raises(kind, fn)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.is_true(errors.is(err), tostring(err))
  assert.equal(kind, err.kind)
  return err
end

describe('templates', function()
  local vars = { a = 'x', n = 42, list = { 'p', 'q' }, yes = true }

  it('keeps the type of a lone placeholder', function()
    assert.equal(42, template.string('{n}', vars))
    assert.same({ 'p', 'q' }, template.string('{list}', vars))
    assert.equal(true, template.string('{yes}', vars))
  end)

  it('interpolates placeholders inside text', function()
    assert.equal('x-42-p,q', template.string('{a}-{n}-{list}', vars))
  end)

  it('makes a string with an unset placeholder unset, so optional fields drop out', function()
    assert.is_nil(template.string('{a}/{missing}', vars))
    assert.same({ keep = 'x' }, template.value({ keep = '{a}', drop = '{missing}' }, vars))
    assert.same({ 'x' }, template.value({ '{a}', '{missing}' }, vars))
  end)

  it('turns a value into a string with |string', function()
    assert.equal('42', template.string('{n|string}', vars))
  end)

  it('marks arrays so an empty list stays a JSON array', function()
    local v = template.value({ items = '{empty}' }, { empty = {} }, json.array)
    assert.equal('{"items":[]}', json.encode(v))
  end)

  it('passes vars to a function, the escape hatch', function()
    assert.equal('X', template.value(function(v) return v.a:upper() end, vars))
  end)
end)

describe('URLs', function()
  it('percent-encodes values in the path', function()
    assert.equal('https://h.example/a/x%2Fy%20z', request.url('{base}/a/{id}', { base = 'https://h.example/', id = 'x/y z' }, 'w'))
  end)

  it('refuses a base that is not an http(s) URL', function()
    raises('config', function() request.url('{base}/x', { base = 'file:///etc/passwd' }, 'w') end)
  end)

  it('accepts only [A-Za-z0-9.-] in a host', function()
    assert.equal('https://acme-1.example.com/x', request.url('https://{space}.example.com/x', { space = 'acme-1' }, 'w'))
    raises('config', function() request.url('https://{space}.example.com/x', { space = 'evil.com/x?' }, 'w') end)
  end)

  it('names the missing values of a URL', function()
    local e = raises('config', function() request.url('{base}/x/{id}', {}, 'recipe: step s') end)
    assert.truthy(e.message:find('recipe: step s', 1, true))
    assert.truthy(e.message:find('base', 1, true))
  end)
end)

describe('building a request', function()
  local step = {
    name = 's', method = 'POST', url = '{base}/t',
    query = { { 'ts', '{now_ms}' }, { 'opt', '{missing}' } },
    auth = { basic = { '{user}', '{pass}' } },
    json = { user = '{user}', n = '{n}' },
    sign = { hmac = 'sha256', key = '{pass}', message = '{query}', into = { query = 'sig' } },
  }
  local vars = { base = 'https://h.example', user = 'u', pass = 'p w', n = 3, now_ms = 1700000000000 }

  it('renders the ordered query, auth, body and the signature over the exact query', function()
    local req, to_sign = request.build(step, vars, 'w')
    assert.equal('ts=1700000000000', to_sign)
    assert.same({ { 'ts', '1700000000000' }, { 'sig', hmac.hexdigest('sha256', 'p w', 'ts=1700000000000') } }, req.query)
    assert.equal('Basic ' .. codec.base64('u:p w'), req.headers.Authorization)
    assert.equal('{"n":3,"user":"u"}', req.body)
    assert.equal('application/json', req.headers['Content-Type'])
  end)

  it('reads the clock once per attempt', function()
    local calls = 0
    local v = setmetatable({}, { __index = function(_, k)
      if k == 'now_ms' then calls = calls + 1; return 1000 * calls end
      return vars[k]
    end })
    local req = request.build({ name = 's', url = '{base}', headers = { A = '{now_ms}', B = '{now_ms}' } }, v, 'w')
    assert.equal(req.headers.A, req.headers.B)
  end)
end)

describe('reading an answer', function()
  local step = { name = 's', status_from = 'status', code_from = 'code',
    errors = { { code = 'E1', kind = 'auth' } } }

  it('lets the body status count over HTTP 200', function()
    assert.equal(401, response.status(step, { status = 200 }, { status = 401 }))
    assert.is_false(response.ok(step, 401, {}))
  end)

  it('classifies by declared rule, then by HTTP status', function()
    local resp = { status = 400, headers = {}, body = '{}' }
    assert.equal('auth', response.failure({}, step, resp, { code = 'E1' }, 400, 'w').kind)
    assert.equal('provider', response.failure({}, step, resp, { code = 'E2' }, 400, 'w').kind)
    assert.equal('auth', response.failure({}, {}, { status = 403, headers = {}, body = '' }, nil, 403, 'w').kind)
    assert.equal('rate_limited', response.failure({}, {}, { status = 429, headers = {}, body = '' }, nil, 429, 'w').kind)
    local e5 = response.failure({}, {}, { status = 502, headers = {}, body = '<html>' }, nil, 502, 'w')
    assert.equal(69, errors.exit_code(e5))
    assert.truthy(e5.message:find('not JSON', 1, true))
  end)

  it('captures by path with conversions, and names what is missing', function()
    local vars = {}
    response.capture({ capture = { t = 'a.b.1', e = { path = 'ms', as = 'epoch_ms' } } },
      { a = { b = { 'tok' } }, ms = '1767225600999' }, vars, 'w')
    assert.equal('tok', vars.t)
    assert.equal(1767225600, vars.e)
    local e = raises('protocol', function() response.capture({ capture = { t = 'nope' } }, {}, {}, 'w') end)
    assert.truthy(e.message:find('nope', 1, true))
  end)

  it('reads a JWT exp claim', function()
    local payload = codec.base64url(json.encode({ exp = 1767229200 }))
    assert.equal(1767229200, response.jwt_exp('eyJhbGciOiJIUzI1NiJ9.' .. payload .. '.sig'))
    assert.is_nil(response.jwt_exp('not-a-jwt'))
  end)
end)

describe('times', function()
  it('formats and parses RFC 3339 in UTC', function()
    assert.equal('2026-01-01T00:00:00Z', timefmt.rfc3339(1767225600))
    assert.equal(1767225600, timefmt.parse_rfc3339('2026-01-01T00:00:00Z'))
    assert.equal(1767225600, timefmt.parse_rfc3339('2026-01-01T02:00:00.5+02:00'))
    assert.is_nil(timefmt.parse_rfc3339('yesterday'))
  end)

  it('reads a server-local date time in a given offset', function()
    assert.equal(1767225600, timefmt.parse_datetime('2026-01-01 00:00:00.123'))
    assert.equal(1767225600, timefmt.parse_datetime('2026-01-01 02:00:00', '+02:00'))
    assert.is_nil(timefmt.parse_datetime('2026-01-01 02:00:00', 'Europe/Berlin'))
  end)

  it('counts leap years and month ends', function()
    assert.equal(951782400, timefmt.parse_rfc3339('2000-02-29T00:00:00Z'))
    assert.is_nil(timefmt.parse_rfc3339('2026-13-01T00:00:00Z'))
  end)
end)

describe('recipe error messages', function()
  local recipe = require 'tokrun.recipe'
  it('name the whole path of a recipe whose path Lua shortened', function()
    local path = '/srv/ops/a-rather-long-directory-name/with-more-levels/below-it/acme.lua'
    local msg = '...rectory-name/with-more-levels/below-it/acme.lua:7: boom'
    assert.equal(path .. ':7: boom', recipe.full_source(msg, path))
    assert.equal('a function failed: ' .. path .. ':2: stack overflow',
      recipe.full_source('a function failed: ...ls/below-it/acme.lua:2: stack overflow', path))
    assert.equal('...other.lua:1: x', recipe.full_source('...other.lua:1: x', path))
  end)
end)
