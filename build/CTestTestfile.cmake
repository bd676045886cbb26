# CMake generated Testfile for 
# Source directory: /work/main
# Build directory: /work/main/build
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(busted "/work/main/build/tokrun" "lua" "/work/main/tests/run.lua" "--tokrun=/work/main/build/tokrun")
set_tests_properties(busted PROPERTIES  WORKING_DIRECTORY "/work/main" _BACKTRACE_TRIPLES "/work/main/CMakeLists.txt;77;add_test;/work/main/CMakeLists.txt;0;")
