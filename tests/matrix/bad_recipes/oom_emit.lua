-- Bad recipe: a table of hundreds of MB built while the result is emitted.
return {
  name = 'bad_oom_emit',
  params = { { name = 'skip', default = 'false' } },
  steps = {
    { name = 'mint', when = '{skip}', url = 'http://127.0.0.1:9/t', capture = { token = 'token' } },
  },
  emit = { token = function()
    local t = {}
    for i = 1, 1e9 do t[i] = i end
    return t[1]
  end },
}
