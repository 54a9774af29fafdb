/*
 * daemon/metrics.c's exposition: the labelled families whose label values
 * are fixed lists (copies by kind, RDMA requests refused by reason, peak
 * connections by transport) have every series from the first scrape, 0
 * included, and then the counts the daemon made; the retired copy metrics
 * are gone. Compiles metrics.c alone: what it calls of other daemon
 * modules is stubbed here. Expected names are written out, not taken
 * from the lists, so that a renamed token fails.
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

#include "daemon/area.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/master.h"
#include "daemon/metrics.h"
#include "daemon/rconn.h"

/* Stubs: the test daemon has no connection, area or master. */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_series_from_start,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_show, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
