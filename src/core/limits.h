/*
 * limits.h - every protocol and resource limit facteur enforces, in one
 * place, each with its source. Limits that the config may change have their
 * default here and their key in config.h.
 */
#ifndef FACTEUR_LIMITS_H
#define FACTEUR_LIMITS_H

/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets with its CRLF. */
#define SMTP_CMD_LINE_MAX	512
/*
 * RFC 4954 4: an AUTH initial response may make the line longer than 512;
 * the RFC says servers must accept up to 12288 octets for AUTH lines.
 */
#define SMTP_AUTH_LINE_MAX	12288
/* RFC 5321 4.5.3.1.6: a text line is at most 1000 octets with its CRLF. */
#define SMTP_TEXT_LINE_MAX	1000
/* RFC 5321 4.5.3.1.1: local part at most 64 octets. */
#define SMTP_LOCAL_MAX		64
/* RFC 5321 4.5.3.1.2: domain at most 255 octets. */
#define SMTP_DOMAIN_MAX		255
/* RFC 5321 4.5.3.1.3: a path at most 256 octets with the angle brackets. */
#define SMTP_PATH_MAX		256
/* RFC 1035 2.3.4: a label at most 63 octets. */
#define DNS_LABEL_MAX		63
/* RFC 1035 2.3.4: 255 octets on the wire, so 253 characters of text. */
#define DNS_NAME_TEXT_MAX	253
/* RFC 5321 4.5.3.1.8: at least 100 recipients must be accepted. */
#define SMTP_RCPT_MAX_DEFAULT	100
/* RCPTs past the limit answered 452 before they count as errors. */
#define SMTP_RCPT_OVERSHOOT_MAX	1000
/* Our own: ESMTP parameters after MAIL/RCPT. */
#define SMTP_PARAMS_MAX		16

/* RFC 5321 4.5.3.2.7: server waits at least 5 minutes for a command. */
#define SMTP_CMD_TIMEOUT_DEFAULT	300
/* RFC 5321 4.5.3.2.5/6: 3 minutes per data block; we use the same 5 min. */
#define SMTP_DATA_TIMEOUT_DEFAULT	300

/*
 * RFC 2449 4: a POP3 command line is at most 255 octets with its CRLF
 * (RFC 1939 3 said 47). The first line of a response stays within 512.
 */
#define POP3_CMD_LINE_MAX	255
#define POP3_REPLY_LINE_MAX	512
/*
 * Our own, liberal like RFC 4954 4 for SMTP: AUTH lines, SASL responses
 * and PASS lines carry credentials that may not fit in 255 octets (RFC
 * 5034 4 asks clients to stay within it, not all do).
 */
#define POP3_AUTH_LINE_MAX	12288
/* RFC 1939 7: a unique-id is 1 to 70 octets in 0x21-0x7E. */
#define POP3_UID_MAX		70
/* RFC 1939 3: the autologout timer is at least 10 minutes. */
#define POP3_TIMEOUT_DEFAULT	600
/* Our own: octets of a message file read and converted at a time (RETR). */
#define POP3_CHUNK		(64 * 1024)

/* Our own: errors in one session before we hang up (421). */
#define SMTP_ERRORS_MAX_DEFAULT		10
/* Our own: default size limit on a message, like Postfix's 25M-ish. */
#define MESSAGE_SIZE_DEFAULT		(25u * 1024 * 1024)
/* Our own: connections, total and per client IP. */
#define CONN_MAX_DEFAULT		2000
#define CONN_PER_IP_MAX_DEFAULT		20
/* Our own: bytes a message keeps in memory before spilling to a file. */
#define SPOOL_MEM_MAX			(256u * 1024)
/* Our own: a bound on alias expansion depth and fan-out. */
#define ALIAS_DEPTH_MAX			8
#define ALIAS_TARGETS_MAX		1000
/* Our own: header lines we add or parse per message. */
#define HEADER_LINE_MAX			998
/* Our own: config file lines and size. */
#define CONFIG_LINE_MAX			4096
#define CONFIG_FILE_MAX			(1024 * 1024)
/* Our own: listen addresses per listener key. */
#define LISTEN_ADDRS_MAX		16

#endif
