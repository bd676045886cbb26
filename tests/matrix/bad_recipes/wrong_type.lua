-- Bad recipe: a field of the wrong type (steps[1].retries must be a number).
return {
  name = 'bad_wrong_type',
  steps = {
    { name = 'mint', url = 'http://127.0.0.1:9/t', retries = 'three', capture = { token = 'token' } },
  },
  emit = { token = '{token}' },
}
