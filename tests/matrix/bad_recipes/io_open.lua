-- Bad recipe: tries to write a file with io.open (no io in the sandbox).
local f = io.open('/tmp/tokrun-bad-recipe-io-open', 'w')
f:write('x')
return { name = 'bad_io_open' }
