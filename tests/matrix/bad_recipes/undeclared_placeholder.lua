-- Bad recipe: {api_secret} is not a declared parameter.
return {
  name = 'bad_placeholder',
  params = { { name = 'api_key', env = 'BAD_API_KEY', secret = true } },
  steps = {
    { name = 'mint', url = 'http://127.0.0.1:9/t', headers = { ['X-Secret'] = '{api_secret}' },
      capture = { token = 'token' } },
  },
  emit = { token = '{token}' },
}
