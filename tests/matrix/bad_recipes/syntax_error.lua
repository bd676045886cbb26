-- Bad recipe: a syntax error on line 6 (a missing closing brace).
return {
  name = 'bad_syntax',
  steps = {
    { name = 'mint', url = 'http://127.0.0.1:9/t', capture = { token = 'token' } },
  emit = { token = '{token}' },
  = 
}
