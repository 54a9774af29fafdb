/* SPDX-License-Identifier: ISC */
/*
 * daemon/metrics.c's exposition: the labelled families whose label values
 * are fixed lists (copies by kind, RDMA requests refused by reason, peak
 * connections by transport) have every series from the first scrape, 0
 * included, and then the counts the daemon made; the retired copy metrics
 * are gone. Every counter of daemon/counters.h counted with COUNT() or
 * COUNT_DAEMON() shows in its series, per connection where it has one,
 * and in the control channel's Counters (daemon/info.c); every close
 * reason has its token (daemon/rconn_reason.c). Compiles those files
 * alone: what they call of other daemon modules is stubbed here. Expected
 * names are written out, not taken from the lists, so that a renamed or
 * dropped one fails.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/arena.h"
#include "daemon/area.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/info.h"
#include "daemon/master.h"
#include "daemon/metrics.h"
#include "daemon/rconn.h"
#include "daemon/rconn_reason.h"

/* Stubs: the test daemon has no engine, area, master or clock. */
uint64_t
now_ms(void)
{
	return 1000;
}

unsigned
rconn_mr_limit(const struct conf *cfg)
{
	(void)cfg;
	return 4;
}

size_t
area_size(const struct area *a)
{
	(void)a;
	return 0;
}

bool
master_present(const struct daemon *d)
{
	(void)d;
	return false;
}

struct bed {
	struct daemon	d;
	struct control	ctl;
	struct arena	a;		/* info.c's replies */
	char		*text;
};

static int
setup(void **state)
{
	struct bed *b = calloc(1, sizeof(*b));

	if (b == NULL) {
		return -1;
	}
	TAILQ_INIT(&b->d.conns);
	TAILQ_INIT(&b->d.devs);
	TAILQ_INIT(&b->d.listeners);
	b->d.control = &b->ctl;
	*state = b;
	return 0;
}

static int
teardown(void **state)
{
	struct bed *b = *state;

	arena_clear(&b->a);
	free(b->text);
	free(b);
	return 0;
}

static const char *
render(struct bed *b)
{
	free(b->text);
	b->text = metrics_render(&b->d);
	assert_non_null(b->text);
	return b->text;
}

/* @line is a whole line of @text. */
static void
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n') {
			return;
		}
	}
	fail_msg("no line '%s' in the exposition", line);
}

static const char *const kinds[] = {
	"pdu_to_owner", "pdu_from_owner", "memcpy", "op_frames",
};
static const char *const rejects[] = {
	"malformed", "no_descriptors", "too_many_descriptors",
	"read_then_pdu", "no_area", "no_rdma_read", "zero_length", "wrap",
	"exceeds_max_read_write", "outside_area", "write_pending",
	"no_memory",
};
static const char *const transports[] = { "iwarp", "roce", "ib" };

static void
test_every_series_from_start(void **state)
{
	struct bed *b = *state;
	const char *t = render(b);
	char line[160];
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(line, sizeof(line),
		    "smbdirect_copied_bytes_total{kind=\"%s\"} 0", kinds[i]);
		has_line(t, line);
	}
	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		snprintf(line, sizeof(line),
		    "smbdirect_rdma_requests_rejected_total{reason=\"%s\"} 0",
		    rejects[i]);
		has_line(t, line);
	}
	for (i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
		snprintf(line, sizeof(line),
		    "smbdirect_connections_peak{transport=\"%s\"} 0",
		    transports[i]);
		has_line(t, line);
	}
	has_line(t, "# TYPE smbdirect_copied_bytes_total counter");
	has_line(t, "# TYPE smbdirect_rdma_requests_rejected_total counter");
	has_line(t, "# TYPE smbdirect_connections_peak gauge");
	/* Exactly those series: no "other", no stray label. */
	assert_null(strstr(t, "smbdirect_copied_bytes_total{kind=\"other"));
	has_line(t, "smbdirect_up 1");
	snprintf(line, sizeof(line), "smbdirect_build_info{version=\"%s\"} 1",
	    PACKAGE_VERSION);
	has_line(t, line);
	has_line(t, "# TYPE smbdirect_config_limit gauge");
	snprintf(line, sizeof(line),
	    "smbdirect_config_limit{limit=\"max_connections\"} %u",
	    b->d.cfg.max_connections);
	has_line(t, line);
	snprintf(line, sizeof(line),
	    "smbdirect_config_limit{limit=\"area_size\"} %u",
	    b->d.cfg.area_size);
	has_line(t, line);
	/* The last textfile of a clean stop says the daemon is down. */
	b->d.stopped = true;
	t = render(b);
	has_line(t, "smbdirect_up 0");
	b->d.stopped = false;
	t = render(b);
	/* The retired metrics are gone. */
	assert_null(strstr(t, "smbdirect_payload_copied_bytes_total"));
	assert_null(strstr(t, "smbdirect_inline_copied_bytes_total"));
}

static void
test_counts_show(void **state)
{
	struct bed *b = *state;
	struct rconn c;
	const char *t;

	/* The per-connection helper counts on the connection and daemon. */
	memset(&c, 0, sizeof(c));
	c.d = &b->d;
	rconn_copied(&c, COPY_PDU_TO_OWNER, 1000);
	rconn_copied(&c, COPY_PDU_TO_OWNER, 234);
	rconn_copied(&c, COPY_OP_FRAMES, 20);
	assert_true(c.copied[COPY_PDU_TO_OWNER] == 1234);
	assert_true(c.copied[COPY_OP_FRAMES] == 20);
	assert_true(c.copied[COPY_PDU_FROM_OWNER] == 0);
	b->d.metrics.copied[COPY_PDU_FROM_OWNER] += 99;
	b->d.metrics.rdma_rejected[FRAME_RDMA_OUTSIDE_AREA] = 2;
	b->d.metrics.rdma_rejected[FRAME_RDMA_TOO_MANY_DESCRIPTORS] = 1;
	b->d.conns_peak[TRANSPORT_ROCE] = 5;
	t = render(b);
	has_line(t, "smbdirect_copied_bytes_total{kind=\"pdu_to_owner\"} 1234");
	has_line(t, "smbdirect_copied_bytes_total{kind=\"pdu_from_owner\"} 99");
	has_line(t, "smbdirect_copied_bytes_total{kind=\"memcpy\"} 0");
	has_line(t, "smbdirect_copied_bytes_total{kind=\"op_frames\"} 20");
	has_line(t, "smbdirect_rdma_requests_rejected_total"
	    "{reason=\"outside_area\"} 2");
	has_line(t, "smbdirect_rdma_requests_rejected_total"
	    "{reason=\"too_many_descriptors\"} 1");
	has_line(t, "smbdirect_rdma_requests_rejected_total"
	    "{reason=\"wrap\"} 0");
	has_line(t, "smbdirect_connections_peak{transport=\"roce\"} 5");
	has_line(t, "smbdirect_connections_peak{transport=\"iwarp\"} 0");
	assert_string_equal(metrics_copy_name(COPY_MEMCPY), "memcpy");
	assert_string_equal(metrics_copy_name(COPY_END), "unknown");
}

/*
 * Count every counter of counters.h once on connection @c (CONN ones) or
 * its daemon (DAEMON ones), each with its own amount: 11, 12, ...
 */
static void
count_all(struct rconn *c)
{
	COUNT_DAEMON(c->d, conn_total, 10);
	COUNT(c, bytes_in, 11);
	COUNT(c, bytes_out, 12);
	COUNT(c, messages_in, 13);
	COUNT(c, messages_out, 14);
	COUNT(c, pdus_in, 15);
	COUNT(c, pdus_out, 16);
	COUNT(c, rdma_read_bytes, 17);
	COUNT(c, rdma_read_ops, 18);
	COUNT(c, rdma_write_bytes, 19);
	COUNT(c, rdma_write_ops, 20);
	COUNT(c, sends_with_invalidate, 21);
	COUNT_DAEMON(c->d, recv_posted, 22);
	COUNT_DAEMON(c->d, handoffs, 23);
	COUNT_DAEMON(c->d, keepalive_timeouts, 24);
}

static void
test_counters_show(void **state)
{
	struct bed *b = *state;
	struct rconn c;
	const char *t;

	memset(&c, 0, sizeof(c));
	c.d = &b->d;
	c.id = 7;
	snprintf(c.peer, sizeof(c.peer), "10.0.0.2:40123");
	TAILQ_INSERT_TAIL(&b->d.conns, &c, entry);
	count_all(&c);
	count_all(&c);
	/* Per connection and in the daemon's total alike. */
	assert_true(c.bytes_in == 22);
	assert_true(b->d.metrics.bytes_in == 22);
	assert_true(c.sends_with_invalidate == 42);
	assert_true(b->d.metrics.sends_with_invalidate == 42);
	b->d.cfg.metrics_per_connection = true;
	b->d.cfg.metrics_per_connection_max = 10;
	t = render(b);
	has_line(t, "smbdirect_connections_total 20");
	has_line(t, "smbdirect_received_bytes_total 22");
	has_line(t, "smbdirect_sent_bytes_total 24");
	has_line(t, "smbdirect_received_messages_total 26");
	has_line(t, "smbdirect_sent_messages_total 28");
	has_line(t, "smbdirect_received_pdus_total 30");
	has_line(t, "smbdirect_sent_pdus_total 32");
	has_line(t, "smbdirect_rdma_read_bytes_total 34");
	has_line(t, "smbdirect_rdma_read_operations_total 36");
	has_line(t, "smbdirect_rdma_write_bytes_total 38");
	has_line(t, "smbdirect_rdma_write_operations_total 40");
	has_line(t, "smbdirect_sends_with_invalidate_total 42");
	has_line(t, "smbdirect_receive_buffers_posted_total 44");
	has_line(t, "smbdirect_handoffs_total 46");
	has_line(t, "smbdirect_keepalive_timeouts_total 48");
	has_line(t, "# TYPE smbdirect_keepalive_timeouts_total counter");
	has_line(t, "# HELP smbdirect_received_bytes_total SMB Direct message "
	    "bytes received (Windows: Bytes Received).");
	has_line(t, "smbdirect_connection_received_bytes_total"
	    "{conn=\"7\",peer=\"10.0.0.2:40123\"} 22");
	has_line(t, "smbdirect_connection_sent_bytes_total"
	    "{conn=\"7\",peer=\"10.0.0.2:40123\"} 24");
	has_line(t, "smbdirect_connection_rdma_read_bytes_total"
	    "{conn=\"7\",peer=\"10.0.0.2:40123\"} 34");
	has_line(t, "smbdirect_connection_rdma_write_bytes_total"
	    "{conn=\"7\",peer=\"10.0.0.2:40123\"} 38");
	has_line(t, "# HELP smbdirect_connection_rdma_write_bytes_total Bytes "
	    "moved by RDMA WRITE on one connection.");
	/* Only those four are per connection. */
	assert_null(strstr(t, "smbdirect_connection_received_messages"));
	TAILQ_REMOVE(&b->d.conns, &c, entry);
}

/* Counters as the control channel sends them, for a connection. */
static void
expect_counters(const Smbdirect__Ctl__Counters *k, uint64_t times)
{
	assert_non_null(k);
	assert_true(k->bytes_in == 11 * times);
	assert_true(k->bytes_out == 12 * times);
	assert_true(k->messages_in == 13 * times);
	assert_true(k->messages_out == 14 * times);
	assert_true(k->pdus_in == 15 * times);
	assert_true(k->pdus_out == 16 * times);
	assert_true(k->rdma_read_bytes == 17 * times);
	assert_true(k->rdma_read_ops == 18 * times);
	assert_true(k->rdma_write_bytes == 19 * times);
	assert_true(k->rdma_write_ops == 20 * times);
	assert_true(k->keepalives_sent == 0);	/* the engine's; none here */
	assert_int_equal(k->n_copied_bytes, 4);
}

static void
test_counters_copied(void **state)
{
	struct bed *b = *state;
	struct rconn c1, c2;
	Smbdirect__Ctl__Connection *ci;

	memset(&c1, 0, sizeof(c1));
	memset(&c2, 0, sizeof(c2));
	c1.d = c2.d = &b->d;
	count_all(&c1);
	count_all(&c2);
	count_all(&c2);
	rconn_copied(&c2, COPY_OP_FRAMES, 5);
	ci = info_connection(&b->a, &c2);
	assert_non_null(ci);
	expect_counters(ci->counters, 2);
	assert_string_equal(ci->counters->copied_bytes[COPY_OP_FRAMES]->label,
	    "op_frames");
	assert_true(ci->counters->copied_bytes[COPY_OP_FRAMES]->value == 5);
	expect_counters(info_totals(&b->a, &b->d), 3);
}

/*
 * Close reasons: the daemon's tokens, and every fatal engine error mapped
 * to a reason whose token is the engine's own. A fatal code added to the
 * engine without a line in RCONN_SDP_REASONS fails here.
 */
static void
test_close_reasons(void **state)
{
	static const char *const own[] = {
		"peer_disconnect", "channel_closed", "channel_timeout",
		"channel_error", "no_master", "killed", "drained", "shutdown",
		"rdma_error", "no_resources", "idle_timeout",
		"disconnect_mid_pdu", "rdma_remote_access",
		"disconnect_mid_rdma",
	};
	const struct metrics_table *t;
	struct metrics m;
	enum rconn_reason r;
	size_t i, n_fatal = 0;
	int err;

	(void)state;
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		r = (enum rconn_reason)(RCONN_R_NONE + 1 + i);
		assert_int_equal(rconn_reason_sdp(r), 0);
		assert_string_equal(rconn_reason_name(r), own[i]);
	}
	assert_string_equal(rconn_reason_name(RCONN_R_NONE), "unknown");
	assert_string_equal(rconn_reason_name(RCONN_R_END), "unknown");
	for (err = SDP_ERR_FATAL - 1; err > SDP_ERR_FATAL - 100; err--) {
		if (strcmp(sdp_error_name(err), "unknown") == 0) {
			continue;
		}
		r = rconn_reason_from_sdp(err);
		assert_int_equal(rconn_reason_sdp(r), err);
		assert_string_equal(rconn_reason_name(r), sdp_error_name(err));
		n_fatal++;
	}
	assert_string_equal(rconn_reason_name(rconn_reason_from_sdp(
	    SDP_ERR_RX_TOO_LONG)), "rx_too_long");
	assert_string_equal(rconn_reason_name(rconn_reason_from_sdp(
	    SDP_ERR_STATE)), "bad_state");
	assert_string_equal(rconn_reason_name(rconn_reason_from_sdp(
	    SDP_ERR_MSGSIZE)), "pdu_too_large");
	assert_string_equal(rconn_reason_name(rconn_reason_from_sdp(
	    SDP_ERR_INVAL)), "invalid_argument");
	assert_int_equal(rconn_reason_from_sdp(-99999), RCONN_R_SDP_INTERNAL);

	/* Seeded: the daemon's own, then the engine's fatal ones, at 0. */
	memset(&m, 0, sizeof(m));
	rconn_metrics_init(&m);
	t = &m.families[MF_CLOSED];
	assert_int_equal(t->n, sizeof(own) / sizeof(own[0]) + n_fatal);
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		assert_string_equal(t->labels[i].name, own[i]);
	}
	assert_string_equal(t->labels[i].name, "neg_short");
	assert_string_equal(t->labels[t->n - 1].name, "local_shutdown");
	for (i = 0; i < t->n; i++) {
		assert_true(t->labels[i].value == 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_series_from_start,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_show, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_counters_show, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_counters_copied, setup,
		    teardown),
		cmocka_unit_test(test_close_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
