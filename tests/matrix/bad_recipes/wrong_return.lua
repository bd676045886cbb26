-- Bad recipe: returns a string instead of a declaration table.
return 'velafi'
