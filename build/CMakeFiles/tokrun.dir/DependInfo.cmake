
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/runtime/codec.c" "CMakeFiles/tokrun.dir/runtime/codec.c.o" "gcc" "CMakeFiles/tokrun.dir/runtime/codec.c.o.d"
  "/work/main/runtime/encode.c" "CMakeFiles/tokrun.dir/runtime/encode.c.o" "gcc" "CMakeFiles/tokrun.dir/runtime/encode.c.o.d"
  "/work/main/runtime/hmac.c" "CMakeFiles/tokrun.dir/runtime/hmac.c.o" "gcc" "CMakeFiles/tokrun.dir/runtime/hmac.c.o.d"
  "/work/main/runtime/json.c" "CMakeFiles/tokrun.dir/runtime/json.c.o" "gcc" "CMakeFiles/tokrun.dir/runtime/json.c.o.d"
  "/work/main/runtime/main.c" "CMakeFiles/tokrun.dir/runtime/main.c.o" "gcc" "CMakeFiles/tokrun.dir/runtime/main.c.o.d"
  "/work/main/runtime/process.c" "CMakeFiles/tokrun.dir/runtime/process.c.o" "gcc" "CMakeFiles/tokrun.dir/runtime/process.c.o.d"
  "/work/main/runtime/sys.c" "CMakeFiles/tokrun.dir/runtime/sys.c.o" "gcc" "CMakeFiles/tokrun.dir/runtime/sys.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
