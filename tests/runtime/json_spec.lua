-- tokrun.json: exact decoding over lua-cjson, deterministic encoding.
local json = require 'tokrun.json'

describe('tokrun.json.decode', function()
  it('returns nil and a message for malformed JSON without raising', function()
    for _, bad in ipairs { '', '{', '[1,', 'nul', '"\\x"', '{"a":1,}', '[1 2]',
                           '{"a"}', "{'a':1}", '"abc', 'NaN', 'Infinity', '0x10',
                           '[1]x' } do
      local ok, v, err = pcall(json.decode, bad)
      assert.is_true(ok, bad)
      assert.is_nil(v, bad)
      assert.is_string(err, bad)
    end
  end)

  it('says where the JSON went wrong', function()
    local v, err = json.decode('"\\x"')
    assert.is_nil(v)
    assert.matches('character 2', err, 1, true)
  end)

  it('refuses nesting deeper than 128 levels', function()
    local v, err = json.decode(('['):rep(10000))
    assert.is_nil(v)
    assert.matches('nested', err)
    assert.is_nil((json.decode(('['):rep(129) .. (']'):rep(129))))
    assert.is_table(json.decode(('['):rep(128) .. (']'):rep(128)))
  end)

  it('turns integral numbers into integers', function()
    local v = json.decode('{"id":12345,"big":9007199254740992,"neg":-7,"exp":1e3,"n":[0,2]}')
    for _, x in ipairs { v.id, v.big, v.neg, v.exp, v.n[1], v.n[2] } do
      assert.equal('integer', math.type(x))
    end
    assert.equal(12345, v.id)
    assert.equal(1000, v.exp)
    assert.equal('integer', math.type(json.decode('42')))
  end)

  it('keeps fractions and out-of-range numbers as floats', function()
    assert.equal('float', math.type(json.decode('1.5')))
    assert.equal(1.5, json.decode('[1.5]')[1])
    assert.equal('float', math.type(json.decode('1e300')))
    assert.equal('float', math.type(json.decode('{"x":-0.25}').x))
  end)

  -- Found by fuzz/json_decode: cjson reads 1e400 as inf, which
  -- json.encode (rightly) refuses, so a decoded body could not be traced.
  it('refuses numbers too large for a double, at any depth, as bad input', function()
    for _, s in ipairs({ '1e400', '-1e400', '[1, 1e999]', '{"a":{"exp":-1E309}}' }) do
      local v, msg = json.decode(s)
      assert.is_nil(v, s)
      assert.matches('out of range', msg)
    end
    assert.equal(0.0, json.decode('1e-400'))
  end)

  it('decodes null as json.null', function()
    assert.equal(json.null, json.decode('null'))
    local v = json.decode('{"a":null,"b":[null]}')
    assert.equal(json.null, v.a)
    assert.equal(json.null, v.b[1])
  end)

  it('marks non-empty arrays, and not objects', function()
    local v = json.decode('{"list":[1,2],"obj":{"1":"x"},"nested":[[3]]}')
    assert.is_true(json.is_array(v.list))
    assert.is_true(json.is_array(v.nested[1]))
    assert.is_false(json.is_array(v))
    assert.is_false(json.is_array(v.obj))
    assert.equal('x', v.obj['1'])
  end)

  it('decodes strings, escapes and booleans', function()
    assert.same({ s = 'a"b\\c/é\n', t = true, f = false },
                json.decode('{"s":"a\\"b\\\\c\\/\\u00e9\\n","t":true,"f":false}'))
  end)

  it('raises when given something other than a string', function()
    assert.has_error(function() json.decode() end)
    assert.has_error(function() json.decode({}) end)
    assert.has_error(function() json.decode(12) end)
  end)
end)

describe('tokrun.json.encode', function()
  it('writes integers exactly, without a decimal point', function()
    assert.equal('12345', json.encode(12345))
    assert.equal('12345', json.encode(json.decode('12345')))
    assert.equal('{"id":12345}', json.encode(json.decode('{"id":12345}')))
    assert.equal('9223372036854775807', json.encode(math.maxinteger))
    assert.equal('-9223372036854775808', json.encode(math.mininteger))
  end)

  it('writes floats with 17 significant digits', function()
    assert.equal('1.5', json.encode(1.5))
    assert.equal('0.10000000000000001', json.encode(0.1))
    assert.equal('3', json.encode(3.0))
    assert.equal('1.0000000000000001e+300', json.encode(1e300))
    assert.equal('-0.5', json.encode(-0.5))
  end)

  it('raises on numbers JSON cannot represent', function()
    assert.error_matches(function() json.encode(1 / 0) end, 'non%-finite')
    assert.error_matches(function() json.encode({ x = -1 / 0 }) end, 'non%-finite')
    assert.error_matches(function() json.encode(0 / 0) end, 'non%-finite')
  end)

  it('writes booleans, nil and json.null', function()
    assert.equal('[true,false,null]', json.encode { true, false, json.null })
    assert.equal('null', json.encode(nil))
  end)

  it('writes json.array({}) as [] and an unmarked empty table as {}', function()
    assert.equal('[]', json.encode(json.array({})))
    assert.equal('[]', json.encode(json.array()))
    assert.equal('{}', json.encode({}))
    assert.equal('{"a":[],"b":{}}', json.encode { a = json.array(), b = {} })
  end)

  it('writes a table with keys 1..n as an array', function()
    assert.equal('[1,"two",[3]]', json.encode { 1, 'two', { 3 } })
  end)

  it('writes nil holes in a json.array as null', function()
    assert.equal('[1,null,3]', json.encode(json.array { 1, nil, 3 }))
  end)

  it('sorts object keys bytewise', function()
    assert.equal('{"A":1,"B":2,"a":3,"aa":4,"b":5,"é":6}',
                 json.encode { b = 5, aa = 4, a = 3, ['é'] = 6, B = 2, A = 1 })
  end)

  it('gives byte-identical output whatever order the keys were inserted in', function()
    local keys = {}
    for i = 1, 200 do keys[i] = 'key' .. i end
    local expected
    for round = 1, 20 do
      local t = { nested = {} }
      local order = {}
      for i = 1, #keys do order[i] = keys[i] end
      for i = #order, 2, -1 do
        local j = (i * 7919 + round * 104729) % i + 1
        order[i], order[j] = order[j], order[i]
      end
      for _, k in ipairs(order) do t[k] = #k end
      for i = #order, 1, -1 do t.nested[order[i]] = order[i] end
      for i = 1, round do t['tmp' .. i] = true; t['tmp' .. i] = nil end
      local s = json.encode(t)
      expected = expected or s
      assert.equal(expected, s)
    end
  end)

  it('escapes quotes, backslashes and control characters, and leaves / alone', function()
    assert.equal('"q\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u001f\x7f"',
                 json.encode('q"b\\s/\b\f\n\r\t\0\31\127'))
  end)

  it('copies valid UTF-8 as it is', function()
    assert.equal('"é€😀"', json.encode('é€😀'))
    assert.equal('{"ключ":"значение"}', json.encode { ['ключ'] = 'значение' })
  end)

  it('raises on invalid UTF-8 in a string or a key', function()
    for _, bad in ipairs { '\xff', 'a\xc3', '\xc0\xaf', '\xe0\x80\xaf', '\xed\xa0\x80',
                           '\xf4\x90\x80\x80', '\x80', '\xf0\x9f\x98' } do
      assert.error_matches(function() json.encode(bad) end, 'invalid UTF-8 in string', 1, true)
    end
    assert.error_matches(function() json.encode { ['\xff'] = 1 } end, 'invalid UTF-8 in string',
                         1, true)
  end)

  it('raises on a key that is not a string, naming it', function()
    assert.error_matches(function() json.encode { 1, 2, x = 3 } end,
                         'cannot encode a table with a number key (1) as JSON', 1, true)
    assert.error_matches(function() json.encode { [1] = 1, [3] = 3 } end, 'number key')
    assert.error_matches(function() json.encode { [true] = 1 } end,
                         'cannot encode a table with a boolean key (true) as JSON', 1, true)
    assert.error_matches(function() json.encode(json.array { 1, x = 2 }) end,
                         'cannot encode a json.array with a string key (x)', 1, true)
  end)

  it('raises on values JSON cannot represent', function()
    assert.error_matches(function() json.encode { f = print } end, 'cannot encode a function')
    assert.error_matches(function() json.encode(coroutine.create(print)) end,
                         'cannot encode a thread')
    assert.error_matches(function() json.encode(io.stdout) end, 'cannot encode a userdata')
  end)

  it('raises on a table that contains itself', function()
    local t = { a = {} }
    t.a.b = t
    assert.error_matches(function() json.encode(t) end, 'contains itself')
  end)

  it('allows the same table twice when it is not a cycle', function()
    local shared = { 1 }
    assert.equal('{"a":[1],"b":[1]}', json.encode { a = shared, b = shared })
  end)

  it('raises on nesting deeper than 128 levels', function()
    local deep = {}
    local t = deep
    for _ = 1, 128 do t[1] = {}; t = t[1] end
    assert.error_matches(function() json.encode(deep) end, 'nested deeper than 128')
    assert.equal(('['):rep(127) .. '{}' .. (']'):rep(127), json.encode(deep[1]))
  end)

  it('fails cleanly under a memory limit and gives its buffer back', function()
    local sys = require 'tokrun.sys'
    local big = {}
    for i = 1, 20 do big['k' .. i] = ('v'):rep(20000) .. i end
    collectgarbage(); collectgarbage()
    local before = sys.memory_used()
    sys.set_memory_limit(before + 64 * 1024)
    local ok, err = pcall(json.encode, big)
    sys.set_memory_limit(0)
    assert.is_false(ok)
    assert.matches('memory', err)
    collectgarbage(); collectgarbage()
    assert.is_true(sys.memory_used() - before < 16 * 1024)
    assert.is_true(#json.encode(big) > 400000)
  end)

  it('round-trips a decoded document byte for byte', function()
    local doc = '{"data":{"id":"6b3f","permissions":["read","write"]},"expires_in":3600,'
      .. '"list":[],"n":-0.5,"nothing":null,"ok":true,"s":"tab\\there é"}'
    local v = assert(json.decode(doc))
    -- An empty array decodes as an unmarked empty table: it comes back as {}.
    assert.equal(doc:gsub('"list":%[%]', '"list":{}'), json.encode(v))
    assert.same(v, json.decode(json.encode(v)))
  end)
end)

describe('tokrun.json.array', function()
  it('returns the table it marked', function()
    local t = { 1, 2 }
    assert.equal(t, json.array(t))
    assert.is_true(json.is_array(t))
  end)

  it('is_array is false for unmarked tables and non-tables', function()
    assert.is_false(json.is_array({ 1, 2 }))
    assert.is_false(json.is_array('x'))
    assert.is_false(json.is_array(setmetatable({}, {})))
  end)

  it('raises when given something other than a table', function()
    assert.has_error(function() json.array('x') end)
  end)
end)

describe('tokrun.json.ordered', function()
  local envelope = { 'recipe', 'ok', 'token', 'token_type', 'expires_at', 'obtained_at',
                     'cached', 'data' }

  it('writes the result envelope keys in their declared order', function()
    local r = json.ordered({
      data = { permissions = json.array { 'a' }, id = 'x' }, cached = false,
      obtained_at = '2026-11-22T14:22:51Z', expires_at = json.null, token_type = 'api_token',
      token = '09ef3523', ok = true, recipe = 'velafi',
    }, envelope)
    assert.equal('{"recipe":"velafi","ok":true,"token":"09ef3523","token_type":"api_token",'
      .. '"expires_at":null,"obtained_at":"2026-11-22T14:22:51Z","cached":false,'
      .. '"data":{"id":"x","permissions":["a"]}}', json.encode(r))
  end)

  it('skips listed keys that are absent and sorts the unlisted ones after', function()
    local r = json.ordered({ z = 1, ok = false, recipe = 'pam', error = { kind = 'auth' } },
                           envelope)
    assert.equal('{"recipe":"pam","ok":false,"error":{"kind":"auth"},"z":1}', json.encode(r))
  end)

  it('returns the table it ordered', function()
    local t = {}
    assert.equal(t, json.ordered(t, { 'a' }))
  end)

  it('raises on a key list that is not a list of distinct strings', function()
    assert.has_error(function() json.ordered({}, 'a') end)
    assert.error_matches(function() json.ordered({}, { 'a', 1 }) end, 'key #2 is a number')
    assert.error_matches(function() json.ordered({}, { 'a', 'a' }) end, "key 'a' is listed twice")
  end)
end)
