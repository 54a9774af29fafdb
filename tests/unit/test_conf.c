/* SPDX-License-Identifier: ISC */
/*
 * daemon/conf.c: the shipped example parses, every default holds, and every
 * kind of bad input is refused with "file:line: what is wrong".
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "daemon/conf.h"

static char path[64];

static int
setup(void **state)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_conf.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		return -1;
	}
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	unlink(path);
	return 0;
}

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Load @text; return the error message, or NULL on success. */
static const char *
load(const char *text, struct conf *cfg)
{
	static char err[512];

	write_file(text);
	conf_defaults(cfg);
	return conf_load(cfg, path, err, sizeof(err)) == 0 ? NULL : err;
}

static void
expect_error(const char *text, int line, const char *needle)
{
	struct conf cfg;
	const char *err = load(text, &cfg);
	char prefix[128];

	assert_non_null(err);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, needle) == NULL) {
		fail_msg("for %s: got \"%s\", want \"%s...%s\"", text, err,
		    prefix, needle);
	}
}

static void
test_defaults(void **state)
{
	struct conf cfg;
	char err[256];

	conf_defaults(&cfg);
	assert_int_equal(conf_check(&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.receive_credits, 255);
	assert_int_equal(cfg.send_credit_target, 255);
	assert_int_equal(cfg.max_send_size, 1364);
	assert_int_equal(cfg.max_receive_size, 8192);
	assert_int_equal(cfg.max_fragmented_size, 1u << 20);
	assert_int_equal(cfg.max_read_write_size, 1u << 20);
	assert_int_equal(cfg.keepalive_interval_ms, 120000);
	assert_int_equal(cfg.n_listen, 0);
	assert_string_equal(cfg.control_socket, "/run/smbdirectd/control");
}

static void
test_example_file_parses(void **state)
{
	struct conf cfg;
	char err[512];
	char example[512];

	snprintf(example, sizeof(example), "%s/etc/smbdirectd.conf",
	    getenv("srcdir") != NULL ? getenv("srcdir") : ".");
	conf_defaults(&cfg);
	if (conf_load(&cfg, example, err, sizeof(err)) != 0) {
		fail_msg("%s", err);
	}
	/* Everything in it is commented out: the defaults stand. */
	assert_int_equal(cfg.receive_credits, 255);
}

static void
test_values_and_units(void **state)
{
	struct conf cfg;
	const char *err = load(
	    "[global]\n"
	    "listen = 10.0.0.1:445\n"
	    "listen = [fe80::1%eth0]:5445\n"
	    "ird = 4\n"
	    "[smbdirect]\n"
	    "max_receive_size = 4K\n"
	    "max_fragmented_size = 2MiB\n"
	    "negotiate_timeout = 250ms\n"
	    "keepalive_interval = 2m\n"
	    "[channel]\n"
	    "area_size = 8M\n"
	    "[access]\n"
	    "admin_users = 0, 1000\n"
	    "readonly_groups = 0\n"
	    "[metrics]\n"
	    "per_connection = yes\n", &cfg);

	assert_null(err);
	assert_int_equal(cfg.n_listen, 2);
	assert_string_equal(cfg.listen[0].host, "10.0.0.1");
	assert_string_equal(cfg.listen[0].port, "445");
	assert_string_equal(cfg.listen[1].host, "fe80::1%eth0");
	assert_string_equal(cfg.listen[1].port, "5445");
	assert_int_equal(cfg.ird, 4);
	assert_int_equal(cfg.max_receive_size, 4096);
	assert_int_equal(cfg.max_fragmented_size, 2u << 20);
	assert_int_equal(cfg.negotiate_timeout_ms, 250);
	assert_int_equal(cfg.keepalive_interval_ms, 120000);
	assert_int_equal(cfg.area_size, 8u << 20);
	assert_int_equal(cfg.admin.n_uids, 2);
	assert_int_equal(cfg.admin.uids[1], 1000);
	assert_int_equal(cfg.readonly.n_gids, 1);
	assert_true(cfg.metrics_per_connection);
}

static void
test_errors_name_file_and_line(void **state)
{
	expect_error("[global]\nbogus = 1\n", 2, "unknown option 'bogus'");
	expect_error("[nowhere]\nx = 1\n", 2, "unknown section [nowhere]");
	expect_error("[global]\n\nlisten = 10.0.0.1\n", 3,
	    "is not ADDR:PORT");
	expect_error("[global]\nlisten = 10.0.0.1:0\n", 2, "is not ADDR:PORT");
	expect_error("[global]\nlisten = 10.0.0.1:65536\n", 2,
	    "is not ADDR:PORT");
	expect_error("[global]\nlisten = host.example:445\n", 2,
	    "is not ADDR:PORT");
	expect_error("[smbdirect]\nreceive_credits = 256\n", 2,
	    "out of range (4 to 255)");
	expect_error("[smbdirect]\nreceive_credits = -1\n", 2,
	    "is not a number");
	expect_error("[smbdirect]\nmax_fragmented_size = 64K\n", 2,
	    "out of range");
	/* 16 MiB would wrap the data channel's 24-bit frame length. */
	expect_error("[smbdirect]\nmax_fragmented_size = 16M\n", 2,
	    "out of range (131072 to 16777215)");
	expect_error("[smbdirect]\nmax_receive_size = 12Q\n", 2,
	    "is not a size");
	expect_error("[smbdirect]\nnegotiate_timeout = soon\n", 2,
	    "is not a time");
	expect_error("[smbdirect]\nnegotiate_timeout = 10ms\n", 2,
	    "out of range");
	expect_error("[global]\ncontrol_socket = relative/path\n", 2,
	    "not an absolute path");
	expect_error("[metrics]\nper_connection = maybe\n", 2,
	    "is not yes or no");
	expect_error("[access]\nadmin_users = no-such-user-here\n", 2,
	    "no such user");
	expect_error("[access]\nadmin_groups = no-such-group-here\n", 2,
	    "no such group");
	/* A quoted name is one name, spaces and all. */
	expect_error("[access]\nadmin_groups = root, \"Domain Admins\"\n", 2,
	    "no such group 'Domain Admins'");
	expect_error("[access]\nadmin_users = \"root\n", 2,
	    "unterminated quote");
	expect_error("[access]\nhosts_allow = 10.0.0.0/33\n", 2,
	    "is not an IPv4 or IPv6 address");
	expect_error("[access]\nhosts_deny = 10.0.0.0/x\n", 2,
	    "is not an IPv4 or IPv6 address");
	expect_error("[access]\nhosts_deny = example.com\n", 2,
	    "is not an IPv4 or IPv6 address");
	expect_error("[access]\nhosts_allow = 10.1.2.3/8\n", 2,
	    "bits set beyond its prefix");
	expect_error("[access]\nhosts_allow = fd00::1/8\n", 2,
	    "bits set beyond its prefix");
	/* inih would make the second line part of the textfile's path. */
	expect_error("[metrics]\n  textfile = /tmp/x.prom\n", 2,
	    "indented line");
	expect_error("[metrics]\ntextfile = /tmp/x.prom\n\tinterval = 30s\n",
	    3, "indented line: it would continue the option above");
	expect_error("not an ini line\n", 1, "syntax error");
	/* The first error is the one reported. */
	expect_error("[global]\nird = 0\nbogus = 1\n", 2, "ird");
}

/* Quoted and bare names, ids, commas and spaces all make one list. */
static void
test_id_lists(void **state)
{
	struct conf cfg;

	assert_null(load("[access]\nadmin_users = \"root\", 4242 ,\"0\"\n"
	    "admin_groups = \"root\"\n", &cfg));
	assert_int_equal(cfg.admin.n_uids, 3);
	assert_int_equal(cfg.admin.uids[0], 0);
	assert_int_equal(cfg.admin.uids[1], 4242);
	assert_int_equal(cfg.admin.uids[2], 0);
	assert_int_equal(cfg.admin.n_gids, 1);
	assert_int_equal(cfg.admin.gids[0], 0);
	assert_null(load("[access]\nhosts_deny = \"192.0.2.0/24\" ::1\n",
	    &cfg));
	assert_int_equal(cfg.hosts_deny.n, 2);
}

static bool
allowed(const struct conf *cfg, const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
	}
	return conf_peer_allowed(cfg, (struct sockaddr *)&ss);
}

/* [access] hosts_allow/hosts_deny decide as Samba's hosts allow/deny. */
static void
test_peer_networks(void **state)
{
	struct conf cfg;
	struct conf_net n;

	/* Indented comments and blank lines are fine. */
	assert_null(load("[access]\n   ; a comment\n\t# another\n  \n", &cfg));
	/* Neither list: everyone. */
	assert_null(load("[access]\n", &cfg));
	assert_true(allowed(&cfg, "192.0.2.1"));
	assert_true(allowed(&cfg, "2001:db8::1"));
	/* Only a deny list: all but those. */
	assert_null(load("[access]\nhosts_deny = 192.0.2.0/24, 2001:db8::/32"
	    "\n", &cfg));
	assert_int_equal(cfg.hosts_deny.n, 2);
	assert_false(allowed(&cfg, "192.0.2.77"));
	assert_true(allowed(&cfg, "192.0.3.1"));
	assert_false(allowed(&cfg, "2001:db8:1::5"));
	assert_true(allowed(&cfg, "2001:db9::5"));
	/* An IPv4 client over IPv6 sockets is still that IPv4 client. */
	assert_false(allowed(&cfg, "::ffff:192.0.2.9"));
	/* Only an allow list: those only. Prefixes need not be on bytes. */
	assert_null(load("[access]\nhosts_allow = 10.99.0.0/23 fe80::/10\n",
	    &cfg));
	assert_true(allowed(&cfg, "10.99.1.200"));
	assert_false(allowed(&cfg, "10.99.2.1"));
	assert_true(allowed(&cfg, "fe80::1234"));
	assert_false(allowed(&cfg, "fec0::1"));
	/* Both: allow wins where they overlap; the rest is allowed. */
	assert_null(load("[access]\nhosts_allow = 10.0.0.5\n"
	    "hosts_deny = 10.0.0.0/8\nhosts_deny = 0.0.0.0/0\n", &cfg));
	assert_int_equal(cfg.hosts_deny.n, 2);
	assert_true(allowed(&cfg, "10.0.0.5"));
	assert_false(allowed(&cfg, "10.0.0.6"));
	assert_false(allowed(&cfg, "172.16.0.1"));
	assert_true(allowed(&cfg, "2001:db8::1"));
	/* The parser on its own. */
	assert_int_equal(conf_parse_net("0.0.0.0/0", &n), 0);
	assert_int_equal(n.prefix, 0);
	assert_int_equal(conf_parse_net("::/0", &n), 0);
	assert_int_equal(conf_parse_net("192.0.2.1", &n), 0);
	assert_int_equal(n.prefix, 32);
	assert_int_equal(conf_parse_net("/8", &n), -EINVAL);
	assert_int_equal(conf_parse_net("10.0.0.0/", &n), -EINVAL);
	assert_int_equal(conf_parse_net("10.0.0.0/+8", &n), -EINVAL);
	assert_int_equal(conf_parse_net("10.128.0.0/9", &n), 0);
	assert_int_equal(conf_parse_net("10.192.0.0/9", &n), -EBADMSG);
}

static void
test_cross_field_checks(void **state)
{
	struct conf cfg;
	const char *err;

	err = load("[smbdirect]\nmax_read_write_size = 8M\n"
	    "[channel]\narea_size = 4M\n", &cfg);
	assert_non_null(err);
	assert_non_null(strstr(err, "area_size"));
	err = load("[smbdirect]\nkeepalive_interval = 5s\n"
	    "keepalive_timeout = 5s\n", &cfg);
	assert_non_null(err);
	assert_non_null(strstr(err, "keepalive_timeout"));
	err = load("[global]\nmax_connections = 10\n"
	    "max_connections_per_peer = 11\n", &cfg);
	assert_non_null(err);
	err = load("[global]\nruntime_dir = /run/"
	    "a-directory-name-that-is-much-too-long-for-socket-paths-xyz\n",
	    &cfg);
	assert_non_null(err);
	assert_non_null(strstr(err, "runtime_dir"));
}

/* conf_print() writes what conf_load() reads back to the same. */
static void
test_print_round_trip(void **state)
{
	struct conf a, b;
	char *one = NULL, *two = NULL;
	size_t n1 = 0, n2 = 0;
	FILE *f;

	assert_null(load("[global]\nlisten = 10.0.0.1:445\n"
	    "listen = [fe80::1]:5445\nmax_connections = 77\n"
	    "[smbdirect]\nmax_read_write_size = 4M\nkeepalive_interval = 2m\n"
	    "[access]\nadmin_users = root, 4242\nhosts_deny = 192.0.2.0/24\n"
	    "[metrics]\nper_connection = yes\ntextfile = /tmp/x y.prom\n", &a));
	f = open_memstream(&one, &n1);
	assert_non_null(f);
	conf_print(&a, f);
	fclose(f);
	/* The first line names the file: drop it before reading back. */
	write_file(strchr(one, '\n') + 1);
	conf_defaults(&b);
	{
		char err[256];

		if (conf_load(&b, path, err, sizeof(err)) != 0) {
			fail_msg("the printed file does not load: %s\n%s", err,
			    one);
		}
	}
	f = open_memstream(&two, &n2);
	assert_non_null(f);
	conf_print(&b, f);
	fclose(f);
	assert_string_equal(strchr(one, '\n'), strchr(two, '\n'));
	assert_non_null(strstr(one, "listen = [fe80::1]:5445\n"));
	assert_non_null(strstr(one, "max_read_write_size = 4194304\n"));
	assert_non_null(strstr(one, "keepalive_interval = 120000ms\n"));
	assert_non_null(strstr(one, "admin_users = root, 4242\n"));
	assert_non_null(strstr(one, "hosts_deny = 192.0.2.0/24\n"));
	assert_non_null(strstr(one, "per_connection = yes\n"));
	assert_int_equal(b.max_connections, 77);
	assert_int_equal(b.hosts_deny.n, 1);
	free(one);
	free(two);
}

static void
test_missing_file(void **state)
{
	struct conf cfg;
	char err[256];

	conf_defaults(&cfg);
	assert_int_not_equal(conf_load(&cfg, "/nonexistent/smbdirectd.conf",
	    err, sizeof(err)), 0);
	assert_non_null(strstr(err, "No such file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_example_file_parses),
		cmocka_unit_test(test_values_and_units),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_cross_field_checks),
		cmocka_unit_test(test_peer_networks),
		cmocka_unit_test(test_id_lists),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
