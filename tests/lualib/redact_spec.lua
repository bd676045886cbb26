-- Secrets never reach a trace, an error or a warning, in any
-- of the forms a request carries them.
local redact = require 'tokrun.redact'
local codec = require 'tokrun.codec'

-- A canary with a slash (cjson writes \/), a plus and a space (the
-- encodings differ), a quote and a non-ASCII letter.
local SECRET = 's3cr3t/+ x"\u{e9}'

local function redactor()
  local r = redact.new()
  r:add(SECRET)
  return r
end

describe('redact', function()
  describe('apply', function()
    it('masks the secret itself anywhere in a larger string', function()
      local r = redactor()
      assert.equal('error: key *** rejected', r:apply('error: key ' .. SECRET .. ' rejected'))
      assert.equal('******', r:apply(SECRET .. SECRET))
    end)

    it('masks the secret JSON-escaped as cjson writes it', function()
      local r = redactor()
      assert.equal('{"k":"***"}', r:apply('{"k":"s3cr3t\\/+ x\\"\u{e9}"}'))
    end)

    it('masks the secret JSON-escaped by other encoders', function()
      local r = redactor()
      assert.equal('"***"', r:apply('"s3cr3t/+ x\\"\u{e9}"'))
      assert.equal('"***"', r:apply('"s3cr3t/+ x\\"\\u00e9"'))
      assert.equal('"***"', r:apply('"s3cr3t/+ x\\"\\u00E9"'))
    end)

    it('masks control characters escaped the way cjson escapes them', function()
      local r = redact.new()
      r:add('line1\nline2\t\1\127')
      assert.equal('"***"', r:apply('"line1\\nline2\\t\\u0001\\u007f"'))
    end)

    -- Found by fuzz/redact: tokrun.json leaves DEL as it is, so a secret
    -- with DEL and a quote in a request body leaked from a -v trace.
    it('masks the secret JSON-escaped as tokrun.json writes it (DEL as is)', function()
      local r = redact.new()
      local secret = 'a"b\1\127/c'
      r:add(secret)
      local body = require('tokrun.json').encode({ v = secret })
      assert.equal('{"v":"a\\"b\\u0001\127/c"}', body)
      assert.equal('{"v":"***"}', r:apply(body))
      assert.equal('{"v":"***"}', r:json_text(body))
    end)

    it('masks the secret percent-encoded in either case', function()
      local r = redactor()
      assert.equal('?s=***&t=1', r:apply('?s=s3cr3t%2F%2B%20x%22%C3%A9&t=1'))
      assert.equal('?s=***&t=1', r:apply('?s=s3cr3t%2f%2b%20x%22%c3%a9&t=1'))
    end)

    it('masks the secret form-encoded, + for space, in either case', function()
      local r = redactor()
      assert.equal('a=1&s=***', r:apply('a=1&s=s3cr3t%2F%2B+x%22%C3%A9'))
      assert.equal('a=1&s=***', r:apply('a=1&s=s3cr3t%2f%2b+x%22%c3%a9'))
    end)

    it('masks the base64 and base64url of the secret alone', function()
      local r = redactor()
      assert.equal('<***>', r:apply('<' .. codec.base64(SECRET) .. '>'))
      assert.equal('<***>', r:apply('<' .. codec.base64url(SECRET) .. '>'))
    end)

    it('masks the secret inside any larger base64 or base64url string', function()
      local r = redactor()
      for pre = 0, 5 do
        for post = 0, 3 do
          local plain = ('P'):rep(pre) .. SECRET .. ('S'):rep(post)
          for _, enc in ipairs({ codec.base64, codec.base64url }) do
            local encoded = enc(plain)
            local out = r:apply('<' .. encoded .. '>')
            local left, right = out:match('^<(.-)%*%*%*(.*)>$')
            assert.truthy(left, ('prefix %d suffix %d: %s'):format(pre, post, out))
            -- what is left unmasked encodes no whole byte of the secret:
            -- at most the prefix's characters and one shared with the secret
            assert.is_true(#left <= (4 * pre) // 3 + 1, out)
            assert.is_true(#right <= #encoded - (4 * (pre + #SECRET)) // 3, out)
          end
        end
      end
    end)

    it('masks HTTP Basic credentials, which encode user:secret', function()
      local r = redact.new()
      r:add_basic('project-1', SECRET)
      local header = 'Authorization: Basic ' .. codec.base64('project-1:' .. SECRET)
      assert.equal('Authorization: Basic ***', r:apply(header))
      assert.equal('***', r:apply(SECRET))
    end)

    it('masks a Bearer token', function()
      local r = redact.new()
      r:add('eyJhbGciOiJIUzI1NiJ9.e30.sig')
      assert.equal('Authorization: Bearer ***', r:apply('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig'))
    end)

    it('masks every registered secret', function()
      local r = redact.new()
      r:add('first-secret')
      r:add('second-secret')
      assert.equal('*** and ***', r:apply('first-secret and second-secret'))
    end)

    it('leaves text without secrets untouched', function()
      local r = redactor()
      local text = 'GET /v2/token/generate?timestamp=1700000000000 HTTP/1.1\nHost: api.velafi.com\n'
      assert.equal(text, r:apply(text))
      assert.equal('', r:apply(''))
    end)

    it('is idempotent', function()
      local r = redactor()
      local text = table.concat({ SECRET, codec.pct(SECRET), codec.base64('ab' .. SECRET),
        'Basic ' .. codec.base64('u:' .. SECRET), 's3cr3t\\/+ x\\"\u{e9}' }, ' | ')
      local once = r:apply(text)
      assert.equal(once, r:apply(once))
    end)

    it('treats secrets as plain text, not Lua patterns', function()
      local r = redact.new()
      r:add('a.b%1[')
      assert.equal('axb %1 ***', r:apply('axb %1 a.b%1['))
    end)

    it('ignores nil and empty secrets', function()
      local r = redact.new()
      r:add(nil)
      r:add('')
      r:add_basic('user', nil)
      assert.equal('user: nothing to hide', r:apply('user: nothing to hide'))
    end)

    it('raises on a secret that is not a string', function()
      local r = redact.new()
      assert.has_error(function() r:add({}) end)
      assert.has_error(function() r:apply(nil) end)
    end)

    it('does not mask a secret added to another redactor', function()
      local a, b = redact.new(), redact.new()
      a:add('only-in-a')
      assert.equal('only-in-a', b:apply('only-in-a'))
    end)
  end)

  describe('headers', function()
    it('masks credential headers whole, by name in any case', function()
      local r = redact.new()
      local out = r:headers({
        Authorization = 'Basic dXNlcjpwYXNz', ['proxy-authorization'] = 'Basic x',
        Cookie = 'session=1', ['Set-Cookie'] = 'session=2; HttpOnly',
        ['X-BH-APIKEY'] = 'k', ['x-velt-auth-token'] = 't', ['X-Client-Secret'] = 's',
        ['Content-Type'] = 'application/json', Accept = '*/*',
      })
      assert.same({
        Authorization = '***', ['proxy-authorization'] = '***', Cookie = '***', ['Set-Cookie'] = '***',
        ['X-BH-APIKEY'] = '***', ['x-velt-auth-token'] = '***', ['X-Client-Secret'] = '***',
        ['Content-Type'] = 'application/json', Accept = '*/*',
      }, out)
    end)

    it('redacts secrets in the values of other headers', function()
      local r = redactor()
      local input = { Referer = 'https://x/?s=' .. codec.pct(SECRET) }
      local out = r:headers(input)
      assert.equal('https://x/?s=***', out.Referer)
      assert.equal('https://x/?s=' .. codec.pct(SECRET), input.Referer, 'input left unchanged')
    end)

    it('masks every value of a repeated header', function()
      local r = redactor()
      assert.same({ ['Set-Cookie'] = { '***', '***' }, Via = { 'a', '***' } },
        r:headers({ ['Set-Cookie'] = { 'a=1', 'b=2' }, Via = { 'a', SECRET } }))
    end)
  end)

  describe('json_text', function()
    it('masks values under credential keys at any depth', function()
      local r = redact.new()
      local out = r:json_text('{"result":{"status":"success","data":{"token":"eyJ.x.y","expires":5}},'
        .. '"apiKey":"k1","userProperties":{"Password":"p"}}')
      assert.is_nil(out:find('eyJ.x.y', 1, true))
      assert.is_nil(out:find('k1', 1, true))
      assert.is_nil(out:find('"p"', 1, true))
      assert.truthy(out:find('"token":"***"', 1, true))
      assert.truthy(out:find('"apiKey":"***"', 1, true))
      assert.truthy(out:find('"Password":"***"', 1, true))
      assert.truthy(out:find('"status":"success"', 1, true))
      assert.truthy(out:find('"expires":5', 1, true))
    end)

    it('masks an object or array under a credential key whole', function()
      local r = redact.new()
      local out = r:json_text('{"credentials":{"user":"u","pass":"p"},"keys":["a","b"],"n":[1,2]}')
      assert.truthy(out:find('"credentials":"***"', 1, true))
      assert.truthy(out:find('"keys":"***"', 1, true))
      assert.truthy(out:find('"n":[1,2]', 1, true))
    end)

    it('masks keys inside arrays of objects', function()
      local r = redact.new()
      local out = r:json_text('[{"client_secret":"s1"},{"name":"n"}]')
      assert.is_nil(out:find('s1', 1, true))
      assert.truthy(out:find('"name":"n"', 1, true))
    end)

    it('still redacts registered secrets under other keys', function()
      local r = redactor()
      local out = r:json_text('{"message":"bad secret ' .. 's3cr3t\\/+ x\\"\u{e9}' .. '"}')
      assert.equal('{"message":"bad secret ***"}', out)
    end)

    it('masks credential fields of a form body', function()
      local r = redact.new()
      assert.equal('grant_type=client_credentials&client_secret=***&scope=a+b&access%5Ftoken=***',
        r:json_text('grant_type=client_credentials&client_secret=s%2F1&scope=a+b&access%5Ftoken=t'))
    end)

    it('passes other text through apply', function()
      local r = redactor()
      assert.equal('upstream said: *** is wrong {', r:json_text('upstream said: ' .. SECRET .. ' is wrong {'))
      assert.equal('plain text', r:json_text('plain text'))
    end)
  end)
end)

-- Issue 10: percent-encodings of other languages' libraries, overlapping
-- and repetitive secrets in one linear pass, control characters, headers.
describe('redact, against hostile echoes', function()
  local byte, format, gsub = string.byte, string.format, string.gsub
  local KEY = [[k/+&<>"!*'() ey]]

  local function encode(s, keep, hex, plus)
    local out = gsub(s, '[^' .. (plus and ' ' or '') .. keep .. ']', function(c) return format(hex, byte(c)) end)
    return plus and (gsub(out, ' ', '+')) or out
  end

  it('masks the secret as Python, JavaScript and Go percent-encode it, in either case of hex', function()
    local r = redact.new()
    r:add(KEY)
    local styles = {
      { "A-Za-z0-9_.~/-" },                    -- Python quote
      { "A-Za-z0-9_.~-", true },               -- Python quote_plus, Go QueryEscape
      { "A-Za-z0-9_.!~*'()-" },                -- encodeURIComponent
      { "A-Za-z0-9_.!~*'();,/?:@&=+$#-" },     -- encodeURI
      { "A-Za-z0-9_.~$&+:=@-" },               -- Go PathEscape
      { "A-Za-z0-9*_.-", true },               -- URLSearchParams
    }
    for _, st in ipairs(styles) do
      for _, hex in ipairs({ '%%%02X', '%%%02x' }) do
        local e = encode(KEY, st[1], hex, st[2])
        assert.equal('<***>', r:apply('<' .. e .. '>'), e)
      end
    end
  end)

  it('masks the union of overlapping secrets, leaving no tail of either', function()
    local r = redact.new()
    r:add('abcdefghij-first')
    r:add('ghij-first-and-second')
    assert.equal('x ***.', r:apply('x abcdefghij-first-and-second.'))
    assert.equal('******', r:apply('abcdefghij-firstabcdefghij-first'))
  end)

  it('masks long repetitive secrets and leaves their near misses', function()
    local secret = ('a'):rep(20000) .. 'b'
    local r = redact.new()
    r:add(secret)
    local near = ('a'):rep(30000)
    assert.equal(near .. ' *** ' .. near, r:apply(near .. ' ' .. secret .. ' ' .. near))
    assert.equal(('a'):rep(10000) .. '***', r:apply(('a'):rep(10000) .. secret))
  end)

  it('masks every one of many secrets, short and long', function()
    local r = redact.new()
    local list = {}
    for i = 1, 300 do
      list[i] = format('s%03d-%s', i, ('z'):rep(i % 17))
      r:add(list[i])
    end
    r:add('xy')
    local out = r:apply(table.concat(list, ' ') .. ' xy')
    assert.equal(('*** '):rep(300) .. '***', out)
  end)

  it('escapes control characters for one-line output, C1 included', function()
    assert.equal('a\\x1b[31mb\\r\\nc\\x00\\x7f\\u009bd \u{e9}', redact.oneline('a\27[31mb\r\nc\0\127\u{9b}d \u{e9}'))
    assert.equal('plain', redact.oneline('plain'))
  end)

  it('redacts a line before and after escaping it', function()
    local r = redact.new()
    r:add('pass\1word')
    assert.equal('bad *** / ***', r:line('bad pass\1word / pass\\x01word'))
  end)

  it('tells which headers are credentials whole', function()
    for _, h in ipairs({ 'Authorization', 'proxy-authorization', 'Cookie', 'Set-Cookie', 'X-Api-Key', 'X-Auth-Token',
      'client-secret' }) do
      assert.truthy(redact.secret_header(h), h)
    end
    for _, h in ipairs({ 'Content-Type', 'Accept', 'User-Agent' }) do assert.falsy(redact.secret_header(h), h) end
  end)
end)
