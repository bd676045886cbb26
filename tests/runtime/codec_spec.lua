-- tokrun.codec: hex, base64, base64url and percent encoding.
local codec = require 'tokrun.codec'

local all_bytes = {}
for b = 0, 255 do all_bytes[#all_bytes + 1] = string.char(b) end
all_bytes = table.concat(all_bytes)

-- RFC 4648 section 10, test vectors.
local rfc4648 = {
  { '', '', '' },
  { 'f', 'Zg==', '66' },
  { 'fo', 'Zm8=', '666f' },
  { 'foo', 'Zm9v', '666f6f' },
  { 'foob', 'Zm9vYg==', '666f6f62' },
  { 'fooba', 'Zm9vYmE=', '666f6f6261' },
  { 'foobar', 'Zm9vYmFy', '666f6f626172' },
}

describe('tokrun.codec base64', function()
  for _, v in ipairs(rfc4648) do
    it(('encodes %q as %q (RFC 4648 section 10)'):format(v[1], v[2]), function()
      assert.equal(v[2], codec.base64(v[1]))
      assert.equal(v[1], codec.unbase64(v[2]))
    end)
  end

  it('decodes base64 without its padding', function()
    assert.equal('f', codec.unbase64('Zg'))
    assert.equal('fooba', codec.unbase64('Zm9vYmE'))
  end)

  it('writes base64url with - and _ where base64 has + and /, without padding', function()
    assert.equal('+/8=', codec.base64('\xfb\xff'))
    assert.equal('-_8', codec.base64url('\xfb\xff'))
    assert.equal('Zg', codec.base64url('f'))
    assert.equal('\xfb\xff', codec.unbase64url('-_8'))
    assert.equal('\xfb\xff', codec.unbase64url('-_8='))
  end)

  it('round-trips all 256 byte values in both alphabets', function()
    assert.equal(all_bytes, codec.unbase64(codec.base64(all_bytes)))
    assert.equal(all_bytes, codec.unbase64url(codec.base64url(all_bytes)))
    for b = 0, 255 do
      local s = string.char(b)
      assert.equal(s, codec.unbase64(codec.base64(s)))
      assert.equal(s, codec.unbase64url(codec.base64url(s .. 'xy')):sub(1, 1))
    end
  end)

  it('returns nil and a message for a byte outside the alphabet', function()
    local s, err = codec.unbase64('Zm9v!mFy')
    assert.is_nil(s)
    assert.equal('invalid base64 at byte 5', err)
    assert.is_nil((codec.unbase64('-_8=')))
    assert.is_nil((codec.unbase64url('+/8=')))
    assert.is_nil((codec.unbase64('Zm9v YmFy')))
  end)

  it('returns nil and a message for misplaced or wrong padding', function()
    assert.is_nil((codec.unbase64('Zg=')))
    assert.is_nil((codec.unbase64('Zm9v=')))
    assert.is_nil((codec.unbase64('Zg===')))
    assert.is_nil((codec.unbase64('Zg==Zg==')))
    assert.is_nil((codec.unbase64('====')))
    local s, err = codec.unbase64('Zm9vY')
    assert.is_nil(s)
    assert.equal('invalid base64: input ends too early', err)
  end)
end)

describe('tokrun.codec hex', function()
  for _, v in ipairs(rfc4648) do
    it(('encodes %q as %q (RFC 4648 section 10, in lowercase)'):format(v[1], v[3]), function()
      assert.equal(v[3], codec.hex(v[1]))
      assert.equal(v[1], codec.unhex(v[3]:upper()))
    end)
  end

  it('round-trips all 256 byte values', function()
    assert.equal(512, #codec.hex(all_bytes))
    assert.equal(all_bytes, codec.unhex(codec.hex(all_bytes)))
  end)

  it('returns nil and a message for a non-hex digit or an odd length', function()
    local s, err = codec.unhex('00ag')
    assert.is_nil(s)
    assert.equal('invalid hex at byte 4', err)
    s, err = codec.unhex('abc')
    assert.is_nil(s)
    assert.equal('invalid hex: input ends too early', err)
  end)
end)

describe('tokrun.codec percent-encoding', function()
  it('keeps RFC 3986 unreserved characters and encodes the rest in uppercase hex', function()
    assert.equal('a%20b%2Fc~%C3%A9', codec.pct('a b/c~é'))
    assert.equal('AZaz09-._~', codec.pct('AZaz09-._~'))
    assert.equal('%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%3F%25%23%5B%5D',
                 codec.pct("!*'();:@&=+$,?%#[]"))
    assert.equal('%00%0A%FF', codec.pct('\0\n\xff'))
  end)

  it('form-encodes a space as + and a + as %2B', function()
    assert.equal('a+b%2Bc%26d%3De', codec.form('a b+c&d=e'))
    assert.equal('%C3%A9~', codec.form('é~'))
  end)

  it('decodes %XX in either case', function()
    assert.equal('a b/c~é', codec.unpct('a%20b%2fc~%C3%a9'))
  end)

  it('decodes + as a space only when asked', function()
    assert.equal('a+b c', codec.unpct('a+b%20c'))
    assert.equal('a b c', codec.unpct('a+b%20c', true))
  end)

  it('round-trips all 256 byte values', function()
    assert.equal(all_bytes, codec.unpct(codec.pct(all_bytes)))
    assert.equal(all_bytes, codec.unpct(codec.form(all_bytes), true))
  end)

  it('returns nil and a message for a % without two hex digits', function()
    local s, err = codec.unpct('100%zz')
    assert.is_nil(s)
    assert.equal('invalid percent-encoding at byte 4', err)
    assert.is_nil((codec.unpct('%4')))
    assert.is_nil((codec.unpct('%')))
  end)
end)

describe('tokrun.codec.query', function()
  it('joins name=value pairs in the order given, both percent-encoded', function()
    assert.equal('timestamp=1740568725231&b=x%20y&a=%26%3D',
                 codec.query { { 'timestamp', '1740568725231' }, { 'b', 'x y' }, { 'a', '&=' } })
  end)

  it('encodes names as well as values', function()
    assert.equal('a%20b=1&c%2Bd=', codec.query { { 'a b', '1' }, { 'c+d', '' } })
  end)

  it('accepts numbers as values', function()
    assert.equal('n=42&x=1.5', codec.query { { 'n', 42 }, { 'x', 1.5 } })
  end)

  it('gives an empty string for no pairs', function()
    assert.equal('', codec.query {})
  end)

  it('raises on a malformed pair list', function()
    assert.has_error(function() codec.query('a=1') end)
    assert.error_matches(function() codec.query { { 'a', '1' }, 'b' } end,
                         'bad query pair #2: expected a {name, value} table, got string', 1, true)
    assert.error_matches(function() codec.query { { 'a' } } end,
                         'bad query pair #1: value must be a string or a number, got nil', 1, true)
    assert.error_matches(function() codec.query { { true, 'x' } } end,
                         'bad query pair #1: name must be a string or a number, got boolean', 1, true)
  end)
end)

describe('tokrun.codec misuse', function()
  it('raises when given something other than a string', function()
    for _, name in ipairs { 'hex', 'unhex', 'base64', 'unbase64', 'base64url',
                            'unbase64url', 'pct', 'form', 'unpct' } do
      assert.has_error(function() codec[name]({}) end)
      assert.has_error(function() codec[name]() end)
    end
  end)
end)
