build/obj/src/smtp/smtp_data.o: src/smtp/smtp_data.c src/core/common.h \
 src/core/str.h src/core/xmalloc.h src/core/banned.h src/core/limits.h \
 src/smtp/smtp_data.h
src/core/common.h:
src/core/str.h:
src/core/xmalloc.h:
src/core/banned.h:
src/core/limits.h:
src/smtp/smtp_data.h:
