-- Bad recipe: a step timeout that is not a number at all (0/0).
return {
  name = 'bad_nan_timeout',
  steps = {
    { name = 'mint', url = 'http://127.0.0.1:9/t', timeout = 0/0, capture = { token = 'token' } },
  },
  emit = { token = '{token}' },
}
