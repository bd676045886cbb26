-- luacheck (Debian lua-check): `luacheck lualib recipes tests docs/examples`
std = 'lua54'
max_line_length = 120
files['tests'] = { std = '+busted', max_line_length = false }
files['tests/run.lua'] = { globals = { 'arg' } }
files['recipes'] = { std = 'lua54' }
-- the bad-recipe corpus is broken on purpose
exclude_files = { 'build*/**', 'tests/matrix/bad_recipes/**' }
