-- Bad recipe: a function value that recurses forever when run.
local function down(n) return 1 + down(n + 1) end
return {
  name = 'bad_recursion_run',
  derive = { value = function() return down(1) end },
  steps = {
    { name = 'mint', url = 'http://127.0.0.1:9/t/{value}', capture = { token = 'token' } },
  },
  emit = { token = '{token}' },
}
