-- Bad recipe: tries load (not in the sandbox) to escape it.
local f = load('return os')
return { name = 'bad_load', x = f() }
