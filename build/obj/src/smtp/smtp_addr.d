build/obj/src/smtp/smtp_addr.o: src/smtp/smtp_addr.c src/core/common.h \
 src/core/str.h src/core/xmalloc.h src/core/banned.h src/core/dname.h \
 src/smtp/smtp_addr.h src/core/limits.h
src/core/common.h:
src/core/str.h:
src/core/xmalloc.h:
src/core/banned.h:
src/core/dname.h:
src/smtp/smtp_addr.h:
src/core/limits.h:
