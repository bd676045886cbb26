CMakeFiles/tokrun.dir/runtime/encode.c.o: /work/main/runtime/encode.c \
 /usr/include/stdc-predef.h /work/main/runtime/encode.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h
