/*
 * banned.h - functions facteur must not call.
 *
 * Every one of these has an unbounded or error-prone interface. The macros
 * turn a call into a compile error naming the culprit. Use buf_*(), str_*(),
 * snprintf() with the truncation checked, strtol()/str_to_u64() and the _r
 * time functions instead. Included last by common.h so system headers are
 * parsed first (idea from git's banned.h).
 */
#ifndef FACTEUR_BANNED_H
#define FACTEUR_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_facteur

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef asctime
#define asctime(t) BANNED(asctime)

#endif
