-- Bad recipe: builds a string of hundreds of MB when run.
return {
  name = 'bad_huge_run',
  derive = { value = function() return string.rep('x', 512 * 1024 * 1024) end },
  steps = {
    { name = 'mint', url = 'http://127.0.0.1:9/t/{value}', capture = { token = 'token' } },
  },
  emit = { token = '{token}' },
}
