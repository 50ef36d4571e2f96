build/obj/src/core/buf.o: src/core/buf.c src/core/common.h src/core/str.h \
 src/core/xmalloc.h src/core/banned.h src/core/buf.h src/core/log.h
src/core/common.h:
src/core/str.h:
src/core/xmalloc.h:
src/core/banned.h:
src/core/buf.h:
src/core/log.h:
