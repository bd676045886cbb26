-- tokrun.xml: XML answers read into tables that the JSON capture paths
-- read, with no DTD of any kind and bounded size and depth.
local xml = require 'tokrun.xml'

local STS = [[<?xml version="1.0" encoding="UTF-8"?>
<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
      <SecretAccessKey>se/cr+et</SecretAccessKey>
      <SessionToken>tok&amp;en&#x21;</SessionToken>
      <Expiration>2026-01-01T01:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>]]

describe('tokrun.xml.decode', function()
  it('reads elements as nested tables and leaf elements as their text', function()
    local t = assert(xml.decode(STS))
    local c = t.AssumeRoleWithWebIdentityResponse.AssumeRoleWithWebIdentityResult.Credentials
    assert.same({ AccessKeyId = 'ASIAEXAMPLE', SecretAccessKey = 'se/cr+et', SessionToken = 'tok&en!',
      Expiration = '2026-01-01T01:00:00Z' }, c)
    assert.equal('r-1', t.AssumeRoleWithWebIdentityResponse.ResponseMetadata.RequestId)
  end)

  it('makes a repeated element a list in document order, and keeps attributes and mixed text', function()
    local t = assert(xml.decode('<r><i>1</i><i>2</i><i k="v">3</i><e/><m>a<b>c</b>d</m></r>'))
    assert.same({ '1', '2', { ['@k'] = 'v', ['#text'] = '3' } }, t.r.i)
    assert.equal('', t.r.e)
    assert.same({ b = 'c', ['#text'] = 'ad' }, t.r.m)
  end)

  it('lists a repeated element whatever mix of text and tables its occurrences are', function()
    local t = assert(xml.decode('<r><a><b>1</b><b k="v">2</b><b><c/></b><b>4</b></a></r>'))
    assert.same({ '1', { ['@k'] = 'v', ['#text'] = '2' }, { c = '' }, '4' }, t.r.a.b)
    t = assert(xml.decode('<r><b k="v">1</b><b>2</b></r>'))
    assert.same({ { ['@k'] = 'v', ['#text'] = '1' }, '2' }, t.r.b)
  end)

  it('refuses any DOCTYPE, before an entity in it could be read', function()
    local laughs = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>'
    local t, msg = xml.decode(laughs)
    assert.is_nil(t)
    assert.matches('DOCTYPE declaration is refused', msg, 1, true)
    t, msg = xml.decode('<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>')
    assert.is_nil(t)
    assert.matches('DOCTYPE', msg, 1, true)
  end)

  it('expands no entity but the five of XML itself', function()
    local t, msg = xml.decode('<x>&ext;</x>')
    assert.is_nil(t)
    assert.matches('undefined entity', msg, 1, true)
    assert.equal('<>&"\'', xml.decode('<x>&lt;&gt;&amp;&quot;&apos;</x>').x)
  end)

  it('bounds the size and the depth', function()
    local t, msg = xml.decode('<x>' .. ('a'):rep(100) .. '</x>', 50)
    assert.is_nil(t)
    assert.matches('over 50 bytes', msg, 1, true)
    local deep = ('<a>'):rep(xml.MAX_DEPTH + 1) .. ('</a>'):rep(xml.MAX_DEPTH + 1)
    t, msg = xml.decode(deep)
    assert.is_nil(t)
    assert.matches('nested too deeply', msg, 1, true)
    assert.truthy(xml.decode(('<a>'):rep(xml.MAX_DEPTH) .. ('</a>'):rep(xml.MAX_DEPTH)))
  end)

  it('returns nil and a message naming the line for a malformed document', function()
    for _, s in ipairs({ '', 'not xml', '<a><b></a>', '<a>\0</a>', '<a/><b/>', '<a>\255</a>' }) do
      local t, msg = xml.decode(s)
      assert.is_nil(t, s)
      assert.matches('line %d+', msg)
    end
  end)

  it('raises for a wrong argument type (misuse)', function()
    assert.has_error(function() xml.decode({}) end)
    assert.has_error(function() xml.decode('<a/>', 0) end)
  end)
end)
