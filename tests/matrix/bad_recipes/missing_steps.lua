-- Bad recipe: no steps.
return {
  name = 'bad_missing_steps',
  emit = { token = 'constant' },
}
