build/obj/src/config/config_parse.o: src/config/config_parse.c \
 src/core/common.h src/core/str.h src/core/xmalloc.h src/core/banned.h \
 src/config/config_parse.h src/core/limits.h
src/core/common.h:
src/core/str.h:
src/core/xmalloc.h:
src/core/banned.h:
src/config/config_parse.h:
src/core/limits.h:
