build/obj/src/core/dname.o: src/core/dname.c src/core/common.h \
 src/core/str.h src/core/xmalloc.h src/core/banned.h src/core/dname.h \
 src/core/limits.h
src/core/common.h:
src/core/str.h:
src/core/xmalloc.h:
src/core/banned.h:
src/core/dname.h:
src/core/limits.h:
