-- tokrun.sign: asymmetric JWS signatures (RS*, PS*, ES*, EdDSA), keys in
-- every form tools write them, thumbprints and SPKI fingerprints.  Keys
-- are made at test time by `openssl genpkey`; signatures are checked again
-- by the openssl command.
local sign = require 'tokrun.sign'
local codec = require 'tokrun.codec'
local keys = require 'keys_helper'
local cli = require 'cli_helper'

local b64u, unb64u = codec.base64url, codec.unbase64url

local function hex(s) return codec.hex(s):upper() end

-- RFC 7515 appendix A: the JWS Payload of A.1-A.3, base64url-encoded.
local RFC7515_PAYLOAD = 'eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt'
  .. 'cGxlLmNvbS9pc19yb290Ijp0cnVlfQ'

-- RFC 7515 appendix A.2.1: the RSA key (as a JWK) and the RS256 signature.
local A2 = {
  n = 'ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-'
    .. 'SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-'
    .. 'UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2e'
    .. 'thFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ',
  e = 'AQAB',
  d = 'Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui39'
    .. '5IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGc'
    .. 'opV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2'
    .. 'SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ',
  p = '4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn'
    .. '7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc',
  q = 'uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62w'
    .. 'Dmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc',
  dp = 'BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn1'
    .. '2Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0',
  dq = 'h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjM'
    .. 'd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU',
  qi = 'IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKL'
    .. 'EdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U',
  header = 'eyJhbGciOiJSUzI1NiJ9',
  signature = 'cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9'
    .. 'uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN'
    .. '9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIh'
    .. 'WkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw',
}

-- RFC 7515 appendix A.3.1: the P-256 key and one ES256 signature (ECDSA
-- is randomised: the signature can be verified, not reproduced).
local A3 = {
  x = 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y = 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  d = 'jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI',
  header = 'eyJhbGciOiJFUzI1NiJ9',
  signature = 'DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q',
}

-- RFC 8037 appendix A.1 (the Ed25519 key) and A.4 (its JWS of
-- "Example of Ed25519 signing"); Ed25519 is deterministic.
local RFC8037 = {
  d = 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x = '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
  header = 'eyJhbGciOiJFZERTQSJ9',
  payload = 'RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc',
  signature = 'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
}

local function int(b64) return 'INTEGER:0x' .. hex(unb64u(b64)) end

-- The JWKs above as DER, written by `openssl asn1parse -genconf`.
local function rfc_keys(dir)
  local rsa = dir:asn1('a2', 'asn1=SEQUENCE:rsa\n[rsa]\nversion=INTEGER:0\nn=' .. int(A2.n) .. '\ne=' .. int(A2.e)
    .. '\nd=' .. int(A2.d) .. '\np=' .. int(A2.p) .. '\nq=' .. int(A2.q) .. '\ndp=' .. int(A2.dp)
    .. '\ndq=' .. int(A2.dq) .. '\nqi=' .. int(A2.qi) .. '\n')
  local point = '04' .. hex(unb64u(A3.x)) .. hex(unb64u(A3.y))
  local ec = dir:asn1('a3', 'asn1=SEQUENCE:ec\n[ec]\nversion=INTEGER:1\nd=FORMAT:HEX,OCTETSTRING:'
    .. hex(unb64u(A3.d)) .. '\ncurve=EXPLICIT:0,OID:prime256v1\npub=EXPLICIT:1,FORMAT:HEX,BITSTRING:' .. point .. '\n')
  local ec_pub = dir:asn1('a3pub', 'asn1=SEQUENCE:spki\n[spki]\nalg=SEQUENCE:alg\nkey=FORMAT:HEX,BITSTRING:'
    .. point .. '\n[alg]\nalg=OID:id-ecPublicKey\ncurve=OID:prime256v1\n')
  local ed = dir:asn1('ed', 'asn1=SEQUENCE:p8\n[p8]\nversion=INTEGER:0\nalg=SEQUENCE:alg\n'
    .. 'key=FORMAT:HEX,OCTWRAP,OCTETSTRING:' .. hex(unb64u(RFC8037.d)) .. '\n[alg]\nalg=OID:1.3.101.112\n')
  return { rsa = rsa, ec = ec, ec_pub = ec_pub, ed = ed }
end

describe('tokrun.sign', function()
  local dir, rfc

  setup(function()
    dir = keys.dir(cli.tmpdir())
    rfc = rfc_keys(dir)
  end)
  teardown(cli.cleanup)

  describe('known answers', function()
    it('reproduces the RS256 signature of RFC 7515 appendix A.2 exactly', function()
      local key = assert(sign.load_key(rfc.rsa))
      local sig = sign.sign('RS256', key, A2.header .. '.' .. RFC7515_PAYLOAD)
      assert.equal(A2.signature, b64u(sig))
      assert.is_true(sign.verify('RS256', key, A2.header .. '.' .. RFC7515_PAYLOAD, sig))
    end)

    it('verifies the ES256 signature of RFC 7515 appendix A.3 and rejects it altered', function()
      local msg = A3.header .. '.' .. RFC7515_PAYLOAD
      local sig = unb64u(A3.signature)
      assert.is_true(sign.verify('ES256', rfc.ec_pub, msg, sig))
      assert.is_true(sign.verify('ES256', assert(sign.load_key(rfc.ec)), msg, sig))
      assert.is_false(sign.verify('ES256', rfc.ec_pub, msg .. 'x', sig))
      local flipped = string.char(sig:byte(1) ~ 1) .. sig:sub(2)
      assert.is_false(sign.verify('ES256', rfc.ec_pub, msg, flipped))
    end)

    it('signs with the RFC 7515 A.3 key what the same key verifies', function()
      local key = assert(sign.load_key(rfc.ec))
      local sig = sign.sign('ES256', key, 'payload')
      assert.equal(64, #sig)
      assert.is_true(sign.verify('ES256', rfc.ec_pub, 'payload', sig))
    end)

    it('reproduces the Ed25519 signature of RFC 8037 appendix A.4 exactly', function()
      local key = assert(sign.load_key(rfc.ed))
      local msg = RFC8037.header .. '.' .. RFC8037.payload
      local sig = sign.sign('EdDSA', key, msg)
      assert.equal(RFC8037.signature, b64u(sig))
      assert.is_true(sign.verify('EdDSA', sign.public_key(key), msg, sig))
      -- the public key derived from d is RFC 8037's x
      local pub_der = keys.openssl({ 'pkey', '-pubin', '-outform', 'DER' }, sign.public_key(key))
      assert.equal(RFC8037.x, b64u(pub_der:sub(-32)))
    end)
  end)

  describe('signatures the openssl command accepts', function()
    local cases = {
      { 'RS256', 'rsa2048' }, { 'RS384', 'rsa2048' }, { 'RS512', 'rsa2048' },
      { 'PS256', 'rsa2048' }, { 'PS384', 'rsa2048' }, { 'PS512', 'rsa2048' },
      { 'ES256', 'p256', 64 }, { 'ES384', 'p384', 96 }, { 'ES512', 'p521', 132 },
      { 'EdDSA', 'ed25519', 64 },
    }
    for _, c in ipairs(cases) do
      local alg, kind, size = c[1], c[2], c[3]
      it(alg .. ' with a ' .. kind .. ' key', function()
        local pem = dir:key(alg, kind)
        local key = assert(sign.load_key(pem))
        local msg = 'eyJhbGciOiJ' .. alg .. '.payload'
        local sig = sign.sign(alg, key, msg)
        if size then assert.equal(size, #sig) else assert.equal(256, #sig) end
        assert.is_true(dir:verify(alg, alg, msg, sig))
        assert.is_false(dir:verify(alg, alg, msg .. '!', sig))
        assert.is_true(sign.verify(alg, dir:pub(alg), msg, sig))
        assert.is_false(sign.verify(alg, dir:pub(alg), msg .. '!', sig))
      end)
    end

    it('writes ES signatures as r||s padded to the curve size (RFC 7518 section 3.4)', function()
      local key = assert(sign.load_key(dir:key('pad', 'p521')))
      for i = 1, 8 do
        local sig = sign.sign('ES512', key, 'message ' .. i)
        assert.equal(132, #sig)
        assert.is_true(sign.verify('ES512', key, 'message ' .. i, sig))
      end
    end)

    it('verifies openssl-made signatures, converting DER ECDSA to r||s and back', function()
      dir:key('osl', 'p256')
      keys.write(dir:file('m.txt'), 'signed by openssl')
      local der = keys.openssl({ 'dgst', '-sha256', '-sign', dir:file('osl.pem'), dir:file('m.txt') })
      local parsed = keys.openssl({ 'asn1parse', '-inform', 'DER' }, der)
      local r, s = parsed:match('INTEGER%s*:(%x+).-INTEGER%s*:(%x+)')
      local function pad(h) return string.rep('0', 64 - #h) .. h end
      local jose = codec.unhex(pad(r):lower() .. pad(s):lower())
      assert.is_true(sign.verify('ES256', dir:pub('osl'), 'signed by openssl', jose))
    end)
  end)

  describe('key forms', function()
    local pem
    setup(function() pem = dir:key('forms', 'rsa2048') end)

    local function same_key(key)
      assert.equal(sign.public_key(assert(sign.load_key(pem))), sign.public_key(key))
    end

    it('loads PKCS#8 PEM, PKCS#1 RSA PEM and DER', function()
      same_key(assert(sign.load_key(pem)))
      same_key(assert(sign.load_key(dir:convert('forms', { 'rsa', '-traditional' }, 'pkcs1.pem'))))
      same_key(assert(sign.load_key(dir:convert('forms', { 'pkey', '-outform', 'DER' }, 'p8.der'))))
      same_key(assert(sign.load_key(dir:convert('forms', { 'rsa', '-outform', 'DER', '-traditional' }, 'p1.der'))))
      assert.matches('^%-%-%-%-%-BEGIN RSA PRIVATE KEY', keys.read(dir:file('pkcs1.pem')))
    end)

    it('loads SEC1 EC keys, PEM and DER', function()
      dir:key('sec1', 'p256')
      local sec1 = dir:convert('sec1', { 'ec' }, 'sec1.ec.pem')
      assert.matches('^%-%-%-%-%-BEGIN EC PRIVATE KEY', sec1)
      local key = assert(sign.load_key(sec1))
      assert.equal('EC P-256', key:type())
      assert.equal('EC P-256', assert(sign.load_key(dir:convert('sec1', { 'ec', '-outform', 'DER' }, 's.der'))):type())
    end)

    it('loads encrypted PKCS#8 with its passphrase, PEM and DER', function()
      local enc = dir:convert('forms', { 'pkcs8', '-topk8', '-passout', 'pass:correct horse' }, 'enc.pem')
      assert.matches('ENCRYPTED PRIVATE KEY', enc)
      same_key(assert(sign.load_key(enc, 'correct horse')))
      local der = dir:convert('forms', { 'pkcs8', '-topk8', '-outform', 'DER', '-passout', 'pass:pw' }, 'enc.der')
      same_key(assert(sign.load_key(der, 'pw')))
    end)

    it('finds the key in a PEM file that holds the certificate first', function()
      local bundle = dir:cert('forms') .. pem
      same_key(assert(sign.load_key(bundle)))
    end)

    it('describes keys without showing their material', function()
      local key = assert(sign.load_key(pem))
      assert.equal('RSA 2048', key:type())
      assert.equal('tokrun.sign.key (RSA 2048)', tostring(key))
      assert.equal('Ed25519', assert(sign.load_key(dir:key('ed', 'ed25519'))):type())
      assert.equal('EC P-384', assert(sign.load_key(dir:key('p384', 'p384'))):type())
      key:close()
      assert.equal('tokrun.sign.key (closed)', tostring(key))
      key:close()   -- idempotent
      assert.error_matches(function() sign.sign('RS256', key, 'x') end, 'the key is closed')
    end)

    it('closes a key that goes out of scope with <close>', function()
      local kept
      do
        local key <close> = assert(sign.load_key(pem))
        kept = key
        assert.equal('RSA 2048', key:type())
      end
      assert.equal('tokrun.sign.key (closed)', tostring(kept))
    end)
  end)

  describe('bad keys', function()
    local pem
    setup(function() pem = dir:key('bad', 'rsa2048') end)

    local function refused(message, data, pass)
      local key, msg = sign.load_key(data, pass)
      assert.is_nil(key)
      assert.equal(message, msg)
    end

    it('refuses an encrypted key without its passphrase, or with the wrong one', function()
      local enc = dir:convert('bad', { 'pkcs8', '-topk8', '-passout', 'pass:right' }, 'bad.enc.pem')
      refused('the key is encrypted and needs its passphrase', enc)
      refused('the passphrase does not decrypt the key', enc, 'wrong')
      local legacy = dir:convert('bad', { 'rsa', '-traditional', '-aes128', '-passout', 'pass:right' }, 'bad.old.pem')
      assert.matches('Proc%-Type: 4,ENCRYPTED', legacy)
      refused('the key is encrypted and needs its passphrase', legacy)
      assert.equal('RSA 2048', assert(sign.load_key(legacy, 'right')):type())
    end)

    it('refuses a certificate, a public key and data that is no key', function()
      refused('this is a certificate, not a private key', dir:cert('bad'))
      refused('this is a public key, not a private key', dir:pub('bad'))
      refused('not a private key (PEM or DER: PKCS#8, PKCS#1 RSA or SEC1 EC)', 'hello world')
      refused('not a private key (PEM or DER: PKCS#8, PKCS#1 RSA or SEC1 EC)', pem:sub(1, 200))
      refused('not a private key (PEM or DER: PKCS#8, PKCS#1 RSA or SEC1 EC)',
        '-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n')
      refused('the key is empty', '')
    end)

    it('refuses a damaged key whose public part does not match its private part', function()
      -- RFC 7515 A.3's private scalar with another key's public point
      dir:key('other', 'p256')
      local text = keys.openssl({ 'ec', '-in', dir:file('other.pem'), '-text', '-noout' })
      local point = text:match('pub:%s*([%x:%s]+)ASN1'):gsub('[:%s]', ''):upper()
      local ec = dir:asn1('mixed', 'asn1=SEQUENCE:ec\n[ec]\nversion=INTEGER:1\nd=FORMAT:HEX,OCTETSTRING:'
        .. hex(unb64u(A3.d)) .. '\ncurve=EXPLICIT:0,OID:prime256v1\npub=EXPLICIT:1,FORMAT:HEX,BITSTRING:' .. point .. '\n')
      refused('the key is damaged: its public part does not match its private part', ec)
      -- RFC 7515 A.2's key with a modulus that is not p*q: signing (by the
      -- CRT parts) makes what the modulus does not verify
      local n = unb64u(A2.n)
      local bad_n = 'INTEGER:0x' .. hex(n:sub(1, -2) .. string.char(n:byte(-1) ~ 2))
      local rsa = assert(sign.load_key(dir:asn1('badn', 'asn1=SEQUENCE:rsa\n[rsa]\nversion=INTEGER:0\nn=' .. bad_n
        .. '\ne=' .. int(A2.e) .. '\nd=' .. int(A2.d) .. '\np=' .. int(A2.p) .. '\nq=' .. int(A2.q)
        .. '\ndp=' .. int(A2.dp) .. '\ndq=' .. int(A2.dq) .. '\nqi=' .. int(A2.qi) .. '\n')))
      local sig, msg = sign.sign('RS256', rsa, 'x')
      assert.is_nil(sig)
      assert.equal('the key is damaged: its public part does not match its private part', msg)
    end)

    it('never echoes any of the key in its messages', function()
      local body = pem:match('\n(.-)\n')
      for _, data in ipairs({ pem:sub(1, 300), (pem:gsub('A', 'B', 3)) }) do
        local _, msg = sign.load_key(data)
        assert.not_matches(body:sub(1, 16), msg or '', 1, true)
      end
    end)

    it('returns nil and a message naming both when the key does not fit the algorithm', function()
      local rsa = assert(sign.load_key(pem))
      local p256 = assert(sign.load_key(dir:key('bad256', 'p256')))
      local ed = assert(sign.load_key(dir:key('baded', 'ed25519')))
      local small = assert(sign.load_key(dir:key('small', 'rsa1024')))
      local k1 = assert(sign.load_key(dir:key('k1', 'secp256k1')))
      local function mismatch(msg, alg, key)
        local sig, err = sign.sign(alg, key, 'x')
        assert.is_nil(sig)
        assert.equal(msg, err)
      end
      mismatch('the key is EC P-256, RS256 needs an RSA key', 'RS256', p256)
      mismatch('the key is Ed25519, PS256 needs an RSA key', 'PS256', ed)
      mismatch('the key is RSA 2048, ES256 needs an EC P-256 key', 'ES256', rsa)
      mismatch('the key is EC P-256, ES384 needs an EC P-384 key', 'ES384', p256)
      mismatch('the key is EC P-256, EdDSA needs an Ed25519 key', 'EdDSA', p256)
      mismatch('the key is RSA 1024, RS256 needs an RSA key of 2048 bits or more', 'RS256', small)
      mismatch('the key is EC (an unsupported curve), ES256 needs an EC P-256 key', 'ES256', k1)
    end)
  end)

  describe('verify', function()
    local key, sig
    setup(function()
      key = assert(sign.load_key(dir:key('v', 'p256')))
      sig = sign.sign('ES256', key, 'msg')
    end)

    it('takes a public key, a certificate, or a key object', function()
      assert.is_true(sign.verify('ES256', dir:pub('v'), 'msg', sig))
      assert.is_true(sign.verify('ES256', dir:cert('v'), 'msg', sig))
      assert.is_true(sign.verify('ES256', key, 'msg', sig))
      local der = keys.openssl({ 'pkey', '-pubin', '-outform', 'DER' }, dir:pub('v'))
      assert.is_true(sign.verify('ES256', der, 'msg', sig))
    end)

    it('is false for signatures of the wrong length or shape', function()
      for _, bad in ipairs({ '', sig:sub(1, 63), sig .. 'x', ('\0'):rep(64), ('\255'):rep(64) }) do
        assert.is_false(sign.verify('ES256', key, 'msg', bad))
      end
      local rsa = assert(sign.load_key(dir:key('vr', 'rsa2048')))
      assert.is_false(sign.verify('RS256', rsa, 'msg', ''))
      assert.is_false(sign.verify('RS256', rsa, 'msg', ('x'):rep(256)))
    end)

    it('is false, with the reason, for a key of the wrong type', function()
      local ok, msg = sign.verify('RS256', dir:pub('v'), 'msg', sig)
      assert.is_false(ok)
      assert.equal('the key is EC P-256, RS256 needs an RSA key', msg)
    end)
  end)

  describe('thumbprints and fingerprints', function()
    it('computes x5t and x5t#S256 as openssl does', function()
      dir:key('tp', 'rsa2048')
      local cert = dir:cert('tp')
      assert.equal(hex(dir:thumbprint('tp', 'sha1')), hex(assert(sign.thumbprint(cert, 'sha1'))))
      assert.equal(hex(dir:thumbprint('tp', 'sha256')), hex(assert(sign.thumbprint(cert, 'sha256'))))
      local der = keys.read(dir:file('tp.crt.der'))
      assert.equal(hex(dir:thumbprint('tp', 'sha256')), hex(assert(sign.thumbprint(der, 'sha256'))))
    end)

    it('returns nil and a message for what is not a certificate', function()
      for _, bad in ipairs({ '', 'hello', dir:key('nc', 'p256') }) do
        local t, msg = sign.thumbprint(bad, 'sha1')
        assert.is_nil(t)
        assert.equal('not a certificate (PEM or DER)', msg)
      end
    end)

    it('fingerprints the SubjectPublicKeyInfo as openssl does', function()
      local key = assert(sign.load_key(dir:key('fp', 'rsa2048')))
      local want = hex(dir:spki_sha256('fp'))
      assert.equal(want, hex(sign.spki_fingerprint(key)))
      assert.equal(want, hex(sign.spki_fingerprint(dir:pub('fp'))))
      assert.equal(want, hex(sign.spki_fingerprint(dir:cert('fp'))))
    end)

    it('writes the public key as PEM that openssl reads', function()
      local key = assert(sign.load_key(dir:key('pk', 'p384')))
      local pub = sign.public_key(key)
      assert.matches('^%-%-%-%-%-BEGIN PUBLIC KEY%-%-%-%-%-\n', pub)
      assert.equal(dir:pub('pk'), pub)
    end)
  end)

  describe('misuse', function()
    it('raises on wrong argument types and unknown algorithms', function()
      local key = assert(sign.load_key(dir:key('mis', 'p256')))
      assert.has_error(function() sign.load_key() end)
      assert.has_error(function() sign.load_key({}) end)
      assert.has_error(function() sign.load_key('x', {}) end)
      assert.error_matches(function() sign.sign('HS256', key, 'x') end, 'invalid option')
      assert.error_matches(function() sign.sign('ES256', 'pem', 'x') end, 'tokrun.sign.key expected')
      assert.has_error(function() sign.sign('ES256', key) end)
      assert.error_matches(function() sign.verify('ES256', 'not a key', 'm', 's') end, 'not a public key')
      assert.has_error(function() sign.verify('ES256', key, 'm') end)
      assert.has_error(function() sign.thumbprint('x', 'md5') end)
      assert.error_matches(function() sign.spki_fingerprint('nope') end, 'not a key')
      assert.has_error(function() sign.public_key('pem') end)
      assert.error_matches(function() sign.load_key(('x'):rep(1024 * 1024 + 1)) end, 'larger than 1 MiB')
    end)
  end)
end)
