build/obj/src/core/log.o: src/core/log.c src/core/common.h src/core/str.h \
 src/core/xmalloc.h src/core/banned.h src/core/log.h
src/core/common.h:
src/core/str.h:
src/core/xmalloc.h:
src/core/banned.h:
src/core/log.h:
