
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/runtime/encode.c" "CMakeFiles/tokrun_http.dir/runtime/encode.c.o" "gcc" "CMakeFiles/tokrun_http.dir/runtime/encode.c.o.d"
  "/work/main/runtime/http.c" "CMakeFiles/tokrun_http.dir/runtime/http.c.o" "gcc" "CMakeFiles/tokrun_http.dir/runtime/http.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
