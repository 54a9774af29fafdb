/* SPDX-License-Identifier: ISC */
/*
 * fuzz_conf: smbdirectd.conf parsing (daemon/conf.c) on arbitrary bytes.
 *
 * The input, up to its first NUL, goes to conf_parse_size(),
 * conf_parse_time_ms() and conf_parse_listen(); what they accept must
 * parse again to the same value from its canonical spelling. The whole
 * input is then a configuration file: written to a memfd and loaded over
 * the defaults through /proc/self/fd/N (conf_load() takes a path). A load
 * that succeeds must leave every numeric option within the bounds of
 * conf.c's option table, every list within its capacity, every string
 * terminated, and the cross-field rules of conf_check() true. The bounds
 * are restated here, not read from conf.c: a change to one of them should
 * be a change to both.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longer files add nothing but time (each line can look up a user). */
#define FUZZ_CONF_MAX	(16 * 1024)

static void
check(int cond)
{
	if (!cond) {
		abort();
	}
}

static void
check_range(unsigned v, unsigned min, unsigned max)
{
	check(v >= min && v <= max);
}

static void
check_string(const char *s, size_t size)
{
	check(memchr(s, '\0', size) != NULL);
}

static void
fuzz_parsers(const char *s)
{
	struct conf_listen l, l2;
	char again[128];
	uint64_t v, v2;

	if (conf_parse_size(s, &v) == 0) {
		snprintf(again, sizeof(again), "%llu", (unsigned long long)v);
		check(conf_parse_size(again, &v2) == 0 && v2 == v);
	}
	if (conf_parse_time_ms(s, &v) == 0) {
		snprintf(again, sizeof(again), "%llums",
		    (unsigned long long)v);
		check(conf_parse_time_ms(again, &v2) == 0 && v2 == v);
	}
	memset(&l, 0, sizeof(l));
	if (conf_parse_listen(s, &l) == 0) {
		check_string(l.host, sizeof(l.host));
		check_string(l.port, sizeof(l.port));
		check(l.host[0] != '\0');
		check(atoi(l.port) >= 1 && atoi(l.port) <= 65535);
		/* The bracketed form takes either family. */
		snprintf(again, sizeof(again), "[%s]:%s", l.host, l.port);
		memset(&l2, 0, sizeof(l2));
		check(conf_parse_listen(again, &l2) == 0);
		check(strcmp(l.host, l2.host) == 0 &&
		    strcmp(l.port, l2.port) == 0);
	}
}

static void
check_ids(const struct conf_ids *ids)
{
	check(ids->n_uids <= CONF_MAX_IDS && ids->n_gids <= CONF_MAX_IDS);
}

/* conf.c's option table and conf_check(), restated. */
static void
check_conf(const struct conf *c)
{
	unsigned i;

	check_string(c->path, sizeof(c->path));
	check(c->n_listen <= CONF_MAX_LISTEN);
	for (i = 0; i < c->n_listen; i++) {
		check_string(c->listen[i].host, sizeof(c->listen[i].host));
		check_string(c->listen[i].port, sizeof(c->listen[i].port));
	}
	check_string(c->control_socket, sizeof(c->control_socket));
	check(c->control_socket[0] == '/');
	check_string(c->runtime_dir, sizeof(c->runtime_dir));
	check(c->runtime_dir[0] == '/' && strlen(c->runtime_dir) <= 60);
	check_string(c->metrics_textfile, sizeof(c->metrics_textfile));

	check_range(c->max_connections, 1, 65536);
	check_range(c->max_connections_per_peer, 1, c->max_connections);
	check_range(c->max_control_clients, 1, 4096);
	check_range(c->max_control_message, 4096, 1u << 20);
	check_range(c->ird, 1, 255);
	check_range(c->ord, 1, 255);

	check_range(c->receive_credits, 4, 255);
	check_range(c->send_credit_target, 1, 255);
	check_range(c->max_send_size, 128, 1u << 20);
	check_range(c->max_receive_size, 128, 1u << 20);
	check_range(c->max_fragmented_size, 131072, 16u << 20);
	check_range(c->max_read_write_size, 4096, 8u << 20);
	check_range(c->negotiate_timeout_ms, 100, 600000);
	check_range(c->keepalive_interval_ms, 100, 3600000);
	check_range(c->keepalive_timeout_ms, 100, 600000);
	check(c->keepalive_timeout_ms < c->keepalive_interval_ms);
	check_range(c->idle_timeout_ms, 0, 86400000);

	check_range(c->channel_connect_timeout_ms, 100, 600000);
	check_range(c->area_size, 65536, 1u << 30);
	check(c->area_size >= c->max_read_write_size);
	check_range(c->send_buffer_size, 131072, 64u << 20);
	check_range(c->master_grace_ms, 0, 600000);
	check_range(c->drain_grace_ms, 0, 3600000);

	check_ids(&c->master);
	check_ids(&c->owner);
	check_ids(&c->admin);
	check_ids(&c->readonly);

	check_range(c->metrics_interval_ms, 1000, 3600000);
	check_range(c->metrics_per_connection_max, 1, 100000);
}

static void
fuzz_load(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct conf *cfg = NULL;
	char err[512];
	ssize_t w;

	if (fd < 0) {
		fd = memfd_create("fuzz_conf", MFD_CLOEXEC);
		check(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	check(ftruncate(fd, 0) == 0);
	w = size > 0 ? pwrite(fd, data, size, 0) : 0;
	check(w == (ssize_t)size);

	cfg = malloc(sizeof(*cfg));
	check(cfg != NULL);
	conf_defaults(cfg);
	check_conf(cfg);
	memset(err, 'E', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	if (conf_load(cfg, path, err, sizeof(err)) == 0) {
		check_conf(cfg);
	} else {
		check_string(err, sizeof(err));
		check(err[0] != '\0' && err[0] != 'E');
	}
	free(cfg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = NULL;

	if (size > FUZZ_CONF_MAX) {
		return 0;
	}
	s = malloc(size + 1);
	check(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_parsers(s);
	free(s);
	fuzz_load(data, size);
	return 0;
}
