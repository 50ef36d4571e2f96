build/obj/src/core/str.o: src/core/str.c src/core/common.h src/core/str.h \
 src/core/xmalloc.h src/core/banned.h
src/core/common.h:
src/core/str.h:
src/core/xmalloc.h:
src/core/banned.h:
