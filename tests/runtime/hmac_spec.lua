-- tokrun.hmac: HMAC, digests and constant-time comparison.
local hmac = require 'tokrun.hmac'

local function unhex(s)
  return (s:gsub('%x%x', function(h) return string.char(tonumber(h, 16)) end))
end

local function bytes(from, to)
  local t = {}
  for b = from, to do t[#t + 1] = string.char(b) end
  return table.concat(t)
end

-- RFC 4231 section 4, test cases 1-7 (HMAC-SHA-256/384/512).
local rfc4231 = {
  { name = 'test case 1', key = ('\x0b'):rep(20), data = 'Hi There',
    sha256 = 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    sha384 = 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c'
          .. 'faea9ea9076ede7f4af152e8b2fa9cb6',
    sha512 = '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde'
          .. 'daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854' },
  { name = 'test case 2', key = 'Jefe', data = 'what do ya want for nothing?',
    sha256 = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    sha384 = 'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e'
          .. '8e2240ca5e69e2c78b3239ecfab21649',
    sha512 = '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554'
          .. '9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737' },
  { name = 'test case 3', key = ('\xaa'):rep(20), data = ('\xdd'):rep(50),
    sha256 = '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
    sha384 = '88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b'
          .. '2a5ab39dc13814b94e3ab6e101a34f27',
    sha512 = 'fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39'
          .. 'bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb' },
  { name = 'test case 4', key = bytes(1, 25), data = ('\xcd'):rep(50),
    sha256 = '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
    sha384 = '3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e'
          .. '6801dd23c4a7d679ccf8a386c674cffb',
    sha512 = 'b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db'
          .. 'a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd' },
  -- Test case 5 publishes only the first 128 bits of each MAC.
  { name = 'test case 5 (truncated to 128 bits)', key = ('\x0c'):rep(20),
    data = 'Test With Truncation', prefix = true,
    sha256 = 'a3b6167473100ee06e0c796c2955552b',
    sha384 = '3abf34c3503b2a23a46efc619baef897',
    sha512 = '415fad6271580a531d4179bc891d87a6' },
  { name = 'test case 6', key = ('\xaa'):rep(131),
    data = 'Test Using Larger Than Block-Size Key - Hash Key First',
    sha256 = '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    sha384 = '4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6'
          .. '0c2ef6ab4030fe8296248df163f44952',
    sha512 = '80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352'
          .. '6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598' },
  { name = 'test case 7', key = ('\xaa'):rep(131),
    data = 'This is a test using a larger than block-size key and a larger t'
        .. 'han block-size data. The key needs to be hashed before being use'
        .. 'd by the HMAC algorithm.',
    sha256 = '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    sha384 = '6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5'
          .. 'a678cc31e799176d3860e6110c46523e',
    sha512 = 'e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944'
          .. 'b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58' },
}

-- RFC 2202 section 3, test cases 1-7 (HMAC-SHA-1).
local rfc2202 = {
  { name = 'test case 1', key = ('\x0b'):rep(20), data = 'Hi There',
    digest = 'b617318655057264e28bc0b6fb378c8ef146be00' },
  { name = 'test case 2', key = 'Jefe', data = 'what do ya want for nothing?',
    digest = 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79' },
  { name = 'test case 3', key = ('\xaa'):rep(20), data = ('\xdd'):rep(50),
    digest = '125d7342b9ac11cd91a39af48aa17b4f63f175d3' },
  { name = 'test case 4', key = bytes(1, 25), data = ('\xcd'):rep(50),
    digest = '4c9007f4026250c6bc8414f9bf50c86c2d7235da' },
  { name = 'test case 5', key = ('\x0c'):rep(20), data = 'Test With Truncation',
    digest = '4c1a03424b55e07fe7f27be1d58bb9324a9a5a04' },
  { name = 'test case 6', key = ('\xaa'):rep(80),
    data = 'Test Using Larger Than Block-Size Key - Hash Key First',
    digest = 'aa4ae5e15272d00e95705637ce8a3b55ed402112' },
  { name = 'test case 7', key = ('\xaa'):rep(80),
    data = 'Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data',
    digest = 'e8e99d0f45237d786d6bbaa7965c7808bbff1a91' },
}

describe('tokrun.hmac.hexdigest', function()
  for _, case in ipairs(rfc4231) do
    for _, alg in ipairs { 'sha256', 'sha384', 'sha512' } do
      it('matches RFC 4231 ' .. case.name .. ' for ' .. alg, function()
        local got = hmac.hexdigest(alg, case.key, case.data)
        if case.prefix then
          assert.equal(case[alg], got:sub(1, #case[alg]))
        else
          assert.equal(case[alg], got)
        end
      end)
    end
  end

  for _, case in ipairs(rfc2202) do
    it('matches RFC 2202 ' .. case.name .. ' for sha1', function()
      assert.equal(case.digest, hmac.hexdigest('sha1', case.key, case.data))
    end)
  end

  it('signs a Velafi timestamp exactly as `openssl dgst -hmac` does', function()
    local secret = 'vf-sk-3b1d9e0c7a'
    local msg = 'timestamp=1740568725231'
    local p = assert(io.popen("printf '%s' '" .. msg .. "' | openssl dgst -sha256 -hmac '"
                              .. secret .. "'"))
    local out = p:read('a')
    p:close()
    local expected = assert(out:match('= (%x+)%s*$'), out)
    assert.equal(expected, hmac.hexdigest('sha256', secret, msg))
  end)

  it('accepts an empty key and an empty message', function()
    -- HMAC-SHA-256("", ""), as printed by Python's hmac module.
    assert.equal('b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad',
                 hmac.hexdigest('sha256', '', ''))
  end)

  it('handles keys and messages containing NUL bytes', function()
    assert.not_equal(hmac.hexdigest('sha256', 'k\0a', 'm'), hmac.hexdigest('sha256', 'k\0b', 'm'))
    assert.not_equal(hmac.hexdigest('sha256', 'k', 'm\0a'), hmac.hexdigest('sha256', 'k', 'm\0b'))
  end)
end)

describe('tokrun.hmac.digest', function()
  it('returns the raw bytes that hexdigest spells in hex', function()
    local case = rfc4231[2]
    local raw = hmac.digest('sha512', case.key, case.data)
    assert.equal(64, #raw)
    assert.equal(unhex(case.sha512), raw)
  end)

  it('gives each algorithm its digest length', function()
    assert.equal(20, #hmac.digest('sha1', 'k', 'm'))
    assert.equal(32, #hmac.digest('sha256', 'k', 'm'))
    assert.equal(48, #hmac.digest('sha384', 'k', 'm'))
    assert.equal(64, #hmac.digest('sha512', 'k', 'm'))
  end)

  it('raises on an unknown algorithm', function()
    assert.error_matches(function() hmac.digest('md5', 'k', 'm') end,
                         "bad argument #1 to '%S+' %(invalid option 'md5'%)")
    assert.has_error(function() hmac.hexdigest('SHA256', 'k', 'm') end)
    assert.has_error(function() hmac.hexdigest(nil, 'k', 'm') end)
  end)

  it('raises when the key or message is missing', function()
    assert.has_error(function() hmac.digest('sha256', nil, 'm') end)
    assert.has_error(function() hmac.digest('sha256', 'k') end)
    assert.has_error(function() hmac.digest('sha256', {}, 'm') end)
  end)
end)

describe('tokrun.hmac.hash', function()
  -- FIPS 180-2 appendix examples: the one-block message "abc".
  it('matches the FIPS 180-2 digests of "abc"', function()
    assert.equal('a9993e364706816aba3e25717850c26c9cd0d89d', hmac.hexhash('sha1', 'abc'))
    assert.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
                 hmac.hexhash('sha256', 'abc'))
    assert.equal('cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed'
                 .. '8086072ba1e7cc2358baeca134c825a7', hmac.hexhash('sha384', 'abc'))
    assert.equal('ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a'
                 .. '2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
                 hmac.hexhash('sha512', 'abc'))
  end)

  it('returns the raw digest that hexhash spells in hex', function()
    assert.equal(unhex(hmac.hexhash('sha256', '')), hmac.hash('sha256', ''))
    assert.equal('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
                 hmac.hexhash('sha256', ''))
  end)

  it('raises on an unknown algorithm', function()
    assert.has_error(function() hmac.hash('md5', 'abc') end)
  end)
end)

describe('tokrun.hmac.equal', function()
  it('is true for equal strings', function()
    assert.is_true(hmac.equal('signature', 'signature'))
    assert.is_true(hmac.equal('', ''))
    assert.is_true(hmac.equal('a\0b', 'a\0b'))
  end)

  it('is false for strings of the same length that differ', function()
    assert.is_false(hmac.equal('signaturE', 'signature'))
    assert.is_false(hmac.equal('a\0b', 'a\0c'))
  end)

  it('is false for strings of different lengths', function()
    assert.is_false(hmac.equal('sig', 'signature'))
    assert.is_false(hmac.equal('', 'x'))
    assert.is_false(hmac.equal('a', 'a\0'))
  end)

  it('raises when an argument is not a string', function()
    assert.has_error(function() hmac.equal('a') end)
    assert.has_error(function() hmac.equal({}, 'a') end)
  end)
end)

describe('tokrun.hmac', function()
  it('holds digests, HMAC and equal only: random bytes come from tokrun.sys', function()
    local names = {}
    for k in pairs(hmac) do names[#names + 1] = k end
    table.sort(names)
    assert.same({ 'digest', 'equal', 'hash', 'hexdigest', 'hexhash' }, names)
  end)
end)
