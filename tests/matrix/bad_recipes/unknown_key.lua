-- Bad recipe: a misspelt field ('hedaers') in a step.
return {
  name = 'bad_unknown_key',
  steps = {
    { name = 'mint', url = 'http://127.0.0.1:9/t', hedaers = { ['X-A'] = 'b' }, capture = { token = 'token' } },
  },
  emit = { token = '{token}' },
}
