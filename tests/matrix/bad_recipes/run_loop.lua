-- Bad recipe: loads fine, but a function value loops forever when run.
return {
  name = 'bad_run_loop',
  derive = { value = function() while true do end end },
  steps = {
    { name = 'mint', url = 'http://127.0.0.1:9/t/{value}', capture = { token = 'token' } },
  },
  emit = { token = '{token}' },
}
