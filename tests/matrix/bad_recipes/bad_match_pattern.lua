-- Bad recipe: a capture's match is not a Lua pattern (it failed only when
-- the answer came, as an internal error).
return {
  name = 'bad_match_pattern',
  steps = {
    { name = 'mint', url = 'http://127.0.0.1:9/t', capture = { token = { path = 'token', match = '[tok' } } },
  },
  emit = { token = '{token}' },
}
