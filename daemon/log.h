/* SPDX-License-Identifier: ISC */
/*
 * Logging for smbdirectd: to syslog, or to stderr with -f/-d (with a
 * "<N>" priority on each line when stderr is journald's, log.c).
 *
 * log_warn() appends strerror(errno); log_warnx() does not. fatal() and
 * fatalx() log and exit(1). Per-message logging belongs at debug level
 * only. Lines about a connection carry "conn=<id>", lines about a control
 * client "pid=<pid>".
 */
#ifndef SMBDIRECTD_LOG_H
#define SMBDIRECTD_LOG_H

#include <stdarg.h>

void	log_init(int to_stderr, int debug, const char *ident);
int	log_debug_enabled(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
