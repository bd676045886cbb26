-- Bad recipe: reaches for the real string library through a string's
-- metatable and dumps a function with it; recipes get no string.dump.
local dump = ('').dump
local bytes = dump(function() return 1 end)
return { name = 'bad_dump_' .. #bytes }
