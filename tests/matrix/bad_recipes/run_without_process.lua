-- Bad recipe: a `run` step without capabilities = { 'process' }.
return {
  name = 'bad_run_no_process',
  steps = {
    { name = 'create', run = { argv = { 'sh', '-c', 'echo TOKEN; echo abc' } }, parse = 'table',
      capture = { token = 'rows.1.TOKEN' } },
  },
  emit = { token = '{token}' },
}
