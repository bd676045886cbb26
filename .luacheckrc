-- luacheck (Debian lua-check): `luacheck lualib recipes tests docs/examples`
std = 'lua54'
max_line_length = 120
files['tests'] = { std = '+busted' }
files['recipes'] = { std = 'lua54' }
exclude_files = { 'build*/**' }
