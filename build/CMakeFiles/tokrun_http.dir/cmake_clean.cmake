file(REMOVE_RECURSE
  "CMakeFiles/tokrun_http.dir/runtime/encode.c.o"
  "CMakeFiles/tokrun_http.dir/runtime/encode.c.o.d"
  "CMakeFiles/tokrun_http.dir/runtime/http.c.o"
  "CMakeFiles/tokrun_http.dir/runtime/http.c.o.d"
  "lib/tokrun/http.pdb"
  "lib/tokrun/http.so"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/tokrun_http.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
