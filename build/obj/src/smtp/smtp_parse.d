build/obj/src/smtp/smtp_parse.o: src/smtp/smtp_parse.c src/core/common.h \
 src/core/str.h src/core/xmalloc.h src/core/banned.h \
 src/smtp/smtp_parse.h
src/core/common.h:
src/core/str.h:
src/core/xmalloc.h:
src/core/banned.h:
src/smtp/smtp_parse.h:
