-- Snowflake key-pair authentication: no request, the JWT is the token (the
-- SQL API takes it as a bearer token with X-Snowflake-Authorization-Token-
-- Type: KEYPAIR_JWT).  RS256; sub ACCOUNT.USER in upper case, the account
-- without its region or cloud suffix; iss that and the fingerprint of the
-- key's public half (SHA256:base64 of its DER SubjectPublicKeyInfo, as
-- DESC USER shows RSA_PUBLIC_KEY_FP); one hour, Snowflake's maximum.
return {
  name = 'snowflake_keypair',
  description = 'Snowflake key-pair authentication JWT',
  params = {
    { name = 'account', env = 'SNOWFLAKE_ACCOUNT', required = true, pattern = '[%w_.-]+',
      description = 'account identifier: ORGNAME-ACCOUNTNAME, or a locator such as xy12345.us-east-1' },
    { name = 'user', env = 'SNOWFLAKE_USER', required = true },
    { name = 'private_key', env = 'SNOWFLAKE_PRIVATE_KEY', secret = true, required = true,
      description = 'the RSA private key (PEM; PKCS#8, possibly encrypted)' },
    { name = 'passphrase', env = 'SNOWFLAKE_PRIVATE_KEY_PASSPHRASE', secret = true },
  },
  derive = {
    qualified_user = function(v) return v.account:match('^[^.]+'):upper() .. '.' .. v.user:upper() end,
  },
  steps = {
    { name = 'keypair_jwt', jwt = { alg = 'RS256', key = '{private_key}', passphrase = '{passphrase}',
        claims = { iss = '{qualified_user}.{key_fingerprint}', sub = '{qualified_user}' }, iat = true, exp = 3600 } },
  },
  emit = { token = '{keypair_jwt}', token_type = 'KEYPAIR_JWT', expires_at = '{keypair_jwt|jwt_exp}' },
}
