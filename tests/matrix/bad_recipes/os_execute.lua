-- Bad recipe: tries os.execute (not in the sandbox).
os.execute('touch /tmp/tokrun-bad-recipe-os-execute')
return { name = 'bad_os_execute' }
