-- Bad recipe: no emit.
return {
  name = 'bad_missing_emit',
  steps = {
    { name = 'mint', url = 'http://127.0.0.1:9/t', capture = { token = 'token' } },
  },
}
