/* SPDX-License-Identifier: ISC */
/*
 * test_log: daemon/log.c on stderr. Under journald (JOURNAL_STREAM names
 * stderr) every line carries its syslog priority as "<N>", so that
 * `journalctl -p warning` finds warnings; elsewhere lines keep the
 * "smbdirectd[time]: " form and no priority.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/log.h"

/* Point stderr at a fresh file; return its path's fd for reading. */
static int
capture(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/test_log.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	return fd;
}

static char *
captured(int fd)
{
	static char buf[4096];
	ssize_t n;

	fflush(stderr);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static void
journal_lines_carry_priority(void **state)
{
	char path[256], env[64];
	struct stat st;
	int saved = dup(2), fd;
	char *out;

	(void)state;
	fd = capture(path, sizeof(path));
	assert_int_equal(fstat(2, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init(1, 1, "test_log");
	log_warnx("conn=%d: a warning", 7);
	errno = ENOENT;
	log_warn("a failure");
	log_info("news");
	log_debug("detail");
	out = captured(fd);
	assert_non_null(strstr(out, "<4>conn=7: a warning\n"));
	assert_non_null(strstr(out, "<4>a failure: No such file or "
	    "directory\n"));
	assert_non_null(strstr(out, "<6>news\n"));
	assert_non_null(strstr(out, "<7>detail\n"));
	assert_null(strstr(out, "smbdirectd["));
	dup2(saved, 2);
	close(saved);
	close(fd);
	unlink(path);
	unsetenv("JOURNAL_STREAM");
}

static void
plain_stderr_has_no_priority(void **state)
{
	char path[256];
	int saved = dup(2), fd;
	char *out;

	(void)state;
	fd = capture(path, sizeof(path));
	/* A stream, but not this one: another file's numbers. */
	setenv("JOURNAL_STREAM", "1:1", 1);
	log_init(1, 0, "test_log");
	log_warnx("a warning");
	log_debug("not shown");
	out = captured(fd);
	assert_non_null(strstr(out, "]: a warning\n"));
	assert_null(strstr(out, "<4>"));
	assert_null(strstr(out, "not shown"));
	dup2(saved, 2);
	close(saved);
	close(fd);
	unlink(path);
	unsetenv("JOURNAL_STREAM");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(journal_lines_carry_priority),
		cmocka_unit_test(plain_stderr_has_no_priority),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
