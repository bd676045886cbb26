file(REMOVE_RECURSE
  "CMakeFiles/tokrun.dir/runtime/codec.c.o"
  "CMakeFiles/tokrun.dir/runtime/codec.c.o.d"
  "CMakeFiles/tokrun.dir/runtime/encode.c.o"
  "CMakeFiles/tokrun.dir/runtime/encode.c.o.d"
  "CMakeFiles/tokrun.dir/runtime/hmac.c.o"
  "CMakeFiles/tokrun.dir/runtime/hmac.c.o.d"
  "CMakeFiles/tokrun.dir/runtime/json.c.o"
  "CMakeFiles/tokrun.dir/runtime/json.c.o.d"
  "CMakeFiles/tokrun.dir/runtime/main.c.o"
  "CMakeFiles/tokrun.dir/runtime/main.c.o.d"
  "CMakeFiles/tokrun.dir/runtime/process.c.o"
  "CMakeFiles/tokrun.dir/runtime/process.c.o.d"
  "CMakeFiles/tokrun.dir/runtime/sys.c.o"
  "CMakeFiles/tokrun.dir/runtime/sys.c.o.d"
  "tokrun"
  "tokrun.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/tokrun.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
