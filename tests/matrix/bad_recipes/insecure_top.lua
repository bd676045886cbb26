-- Bad recipe: `insecure = true` at the top level.
return {
  name = 'bad_insecure_top',
  insecure = true,
  steps = {
    { name = 'mint', url = 'https://127.0.0.1:9/t', capture = { token = 'token' } },
  },
  emit = { token = '{token}' },
}
