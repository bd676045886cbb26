-- Bad recipe: emit names no token.
return {
  name = 'bad_emit_no_token',
  steps = {
    { name = 'mint', url = 'http://127.0.0.1:9/t', capture = { token = 'token' } },
  },
  emit = { token_type = 'api_token' },
}
