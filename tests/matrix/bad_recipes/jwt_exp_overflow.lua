-- Bad recipe: a JWT lifetime so long that iat + exp wrapped around to a
-- time before 1970 (a token signed as already expired).
return {
  name = 'bad_jwt_exp_overflow',
  steps = {
    { name = 'assertion', jwt = { alg = 'ES256', key = '{key}', exp = math.maxinteger } },
  },
  params = { { name = 'key', env = 'BAD_API_KEY', secret = true, required = true } },
  emit = { token = '{assertion}' },
}
