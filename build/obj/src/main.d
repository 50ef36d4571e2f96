build/obj/src/main.o: src/main.c src/core/common.h src/core/str.h \
 src/core/xmalloc.h src/core/banned.h src/cli/cli.h
src/core/common.h:
src/core/str.h:
src/core/xmalloc.h:
src/core/banned.h:
src/cli/cli.h:
