-- Bad recipe: builds a string of hundreds of MB while loading.
local s = string.rep('x', 512 * 1024 * 1024)
return { name = 'bad_huge_' .. #s }
