-- Bad recipe: tries require (no package/require in the sandbox).
local process = require('tokrun.process')
return { name = 'bad_require', x = process }
