-- Bad recipe: asks for TLS verification off (only --insecure may).
return {
  name = 'bad_insecure',
  steps = {
    { name = 'mint', url = 'https://127.0.0.1:9/t', insecure = true, capture = { token = 'token' } },
  },
  emit = { token = '{token}' },
}
