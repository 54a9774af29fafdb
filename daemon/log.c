/* SPDX-License-Identifier: ISC */
/*
 * log.c: syslog or stderr logging, in the manner of OpenBSD daemons.
 *
 * Under systemd (Type=notify, -f) stderr is a stream to journald. Then
 * each line starts with its syslog priority as "<N>", the prefix
 * sd-daemon(3) defines and journald strips, so that `journalctl -p
 * warning` finds the warnings; the journal stamps the time itself.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "daemon/log.h"

static int log_to_stderr = 1;
static int log_verbose;
static int log_journal;	/* stderr is journald's stream */

/*
 * Whether stderr is the stream systemd connected to journald: it sets
 * JOURNAL_STREAM to "device:inode" of that stream (systemd.exec(5)).
 */
static int
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (e == NULL || sscanf(e, "%llu:%llu%c", &dev, &ino, &tail) != 2 ||
	    fstat(2, &st) != 0) {
		return 0;
	}
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(int to_stderr, int debug, const char *ident)
{
	log_to_stderr = to_stderr;
	log_verbose = debug;
	log_journal = to_stderr && stderr_is_journal();
	if (!to_stderr) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	tzset();
}

int
log_debug_enabled(void)
{
	return log_verbose;
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal) {
		if (suffix != NULL) {
			fprintf(stderr, "<%d>%s: %s\n", pri, msg, suffix);
		} else {
			fprintf(stderr, "<%d>%s\n", pri, msg);
		}
		fflush(stderr);
	} else if (log_to_stderr) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		if (suffix != NULL) {
			fprintf(stderr, "smbdirectd[%ld.%03ld]: %s: %s\n",
			    (long)ts.tv_sec, ts.tv_nsec / 1000000L, msg,
			    suffix);
		} else {
			fprintf(stderr, "smbdirectd[%ld.%03ld]: %s\n",
			    (long)ts.tv_sec, ts.tv_nsec / 1000000L, msg);
		}
		fflush(stderr);
	} else if (suffix != NULL) {
		syslog(pri, "%s: %s", msg, suffix);
	} else {
		syslog(pri, "%s", msg);
	}
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	/* Single-threaded daemon: strerror()'s static buffer is fine. */
	vlog(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose) {
		return;
	}
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
