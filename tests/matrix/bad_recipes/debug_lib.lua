-- Bad recipe: tries the debug library (not in the sandbox).
debug.sethook()
return { name = 'bad_debug' }
