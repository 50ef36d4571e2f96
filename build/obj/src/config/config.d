build/obj/src/config/config.o: src/config/config.c src/core/common.h \
 src/core/str.h src/core/xmalloc.h src/core/banned.h src/config/config.h \
 src/core/buf.h src/core/limits.h src/config/config_parse.h \
 src/core/dname.h src/core/log.h
src/core/common.h:
src/core/str.h:
src/core/xmalloc.h:
src/core/banned.h:
src/config/config.h:
src/core/buf.h:
src/core/limits.h:
src/config/config_parse.h:
src/core/dname.h:
src/core/log.h:
