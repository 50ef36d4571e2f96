/*
 * log.h - one line per event, key=value, to stderr.
 *
 * Format:  <UTC timestamp> facteur[<pid>] <level> [sid=<id>] event=<name> k=v ...
 * Values that came from the network must go through log_q(), which quotes
 * and escapes them, so a hostile HELO name cannot forge a second log line or
 * a fake key for fail2ban. Low layers never log: they return an error and
 * the session layer logs it once. docs/logging.md lists every event.
 */
#ifndef FACTEUR_LOG_H
#define FACTEUR_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERR,
};

void log_init(enum log_level min);
void log_set_level(enum log_level min);
enum log_level log_get_level(void);

__attribute__((format(printf, 2, 3)))
void log_msg(enum log_level level, const char *fmt, ...);
/* fmt is the rest of the line after "sid=<sid> ". */
__attribute__((format(printf, 3, 4)))
void log_sess(enum log_level level, const char *sid, const char *fmt, ...);

#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Logs "event=fatal" with the message and exits(1). */
__attribute__((format(printf, 1, 2), noreturn))
void fatal(const char *fmt, ...);

/*
 * Returns a printable token for an untrusted value: unchanged when it is
 * plain, otherwise in double quotes with \", \\ and \xNN escapes, cut at
 * LOG_Q_MAX input bytes with "..." appended. The result lives in one of a
 * few rotating thread-local buffers: use it in the same log call.
 */
#define LOG_Q_MAX 200
const char *log_q(const char *p, size_t len);
const char *log_qs(const char *s);

#endif
