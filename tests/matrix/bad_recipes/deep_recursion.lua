-- Bad recipe: a function that recurses forever while loading.
local function down(n) return 1 + down(n + 1) end
return { name = 'bad_recursion_' .. down(1) }
