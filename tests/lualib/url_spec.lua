-- URLs are split by libcurl's rules: the host is the one after the last
-- '@' of the authority, IPv6 literals keep their colons, the port defaults
-- by scheme.
local url = require 'tokrun.url'

describe('url.parse', function()
  it('finds the host libcurl would connect to behind userinfo', function()
    local u = assert(url.parse('http://127.0.0.1:1@127.0.0.2:8080/p?q=1#f'))
    assert.equal('127.0.0.2', u.host)
    assert.equal(8080, u.port)
    assert.equal('127.0.0.1', u.user)
    assert.equal('1', u.password)
    assert.equal('/p', u.path)
    assert.equal('q=1', u.query)
  end)

  it('reads IPv6 literals and default ports', function()
    local u = assert(url.parse('https://[::1]/x'))
    assert.equal('::1', u.host)
    assert.equal(443, u.port)
    assert.equal('https://[::1]:443', url.origin(u))
    assert.equal('http://example.test:80', url.origin('HTTP://Example.TEST/'))
  end)

  it('refuses what is not an http(s) URL', function()
    assert.is_nil(url.parse('ftp://example.test/'))
    assert.is_nil(url.parse('/relative'))
    assert.is_nil(url.parse('http://'))
    assert.is_nil(url.parse('http://a b/'))
    assert.is_nil(url.parse('http://x/\r\nHost: evil'))
  end)

  it('reads hosts as libcurl connects to them (127.1 is 127.0.0.1)', function()
    assert.equal('127.0.0.1', url.parse('http://127.1:9/').host)
    assert.equal('http://127.0.0.1:9', url.origin('http://127.1:9/x'))
  end)

  it('knows loopback hosts', function()
    assert.is_true(url.loopback('127.0.0.1'))
    assert.is_true(url.loopback('127.1.2.3'))
    assert.is_true(url.loopback('::1'))
    assert.is_true(url.loopback('localhost'))
    assert.is_false(url.loopback('127.0.0.1.example.test'))
    assert.is_false(url.loopback('10.0.0.1'))
  end)
end)
