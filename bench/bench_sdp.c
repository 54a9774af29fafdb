/* SPDX-License-Identifier: ISC */
/*
 * bench_sdp.c: the SMB Direct engine alone, fragmenting and reassembling
 * 1 MiB PDUs, against a plain memcpy() of the same bytes in the same run.
 *
 * A client engine sends, a server engine receives; the bench plays both
 * callers and the wire. Two passes per MaxSendSize:
 *
 * - "engine": the wire carries headers only; payload bytes are never
 *   touched (the engine never touches them either: it only points). This
 *   is the cost of the protocol logic per PDU.
 * - "engine+copy": the wire copies each fragment into its receive buffer,
 *   as the NIC's DMA would, so the figure includes one pass over the data.
 *
 * Each is printed in MiB/s (2^20 bytes per second), the median of REPS runs
 * with the slowest and fastest, and as a ratio of medians to memcpy() of
 * the same number of bytes (1 MiB at a time) measured in the same run:
 * ratio > 1 means faster than copying the PDU once.
 *
 * Usage: bench_sdp [PDUs per pass [REPS]]   (default 2048, i.e. 2 GiB; 3)
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sdp.h"

#define PDU_LEN		(1u << 20)

struct side {
	struct sdp_conn	*conn;
	unsigned	 posted, completions;
	uint8_t		*rxbuf;		/* one receive buffer */
};

struct wire {
	struct sdp_action	 q[4096];
	unsigned		 head, n;
};

static uint8_t *pdu;
static uint64_t sink;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, int rc)
{
	fprintf(stderr, "bench_sdp: %s: %s\n", what, sdp_strerror(rc));
	exit(1);
}

/*
 * Perform one side's actions. SENDs go on its wire, DELIVERs are consumed
 * on the spot (the buffer is released at once).
 */
static uint64_t
drain(struct side *s, struct wire *w)
{
	struct sdp_action a;
	uint64_t bytes = 0;
	int rc;

	while (sdp_next_action(s->conn, &a) == 1) {
		switch (a.type) {
		case SDP_ACT_POST_RECV:
			s->posted += a.u.post_recv.count;
			break;
		case SDP_ACT_SEND:
			if (w->n == sizeof(w->q) / sizeof(w->q[0])) {
				die("wire full", SDP_ERR_INTERNAL);
			}
			w->q[(w->head + w->n) % 4096] = a;
			w->n++;
			break;
		case SDP_ACT_DELIVER:
			bytes += a.u.deliver.len;
			sink += a.u.deliver.data[0];
			rc = sdp_rx_release(s->conn, 1);
			if (rc != 0) {
				die("release", rc);
			}
			break;
		case SDP_ACT_DISCONNECT:
			die("disconnected", a.u.disconnect.reason);
			break;
		default:
			break;
		}
	}
	return bytes;
}

/* Move one message from @from's wire into @to. */
static uint64_t
carry(struct side *from, struct wire *w, struct side *to, struct wire *tw,
    int copy)
{
	struct sdp_action *a = &w->q[w->head];
	size_t len = a->u.send.hdr_len + a->u.send.pdu_len;
	int rc;

	w->head = (w->head + 1) % 4096;
	w->n--;
	memcpy(to->rxbuf, a->u.send.hdr, a->u.send.hdr_len);
	if (copy && a->u.send.has_payload) {
		memcpy(to->rxbuf + a->u.send.hdr_len, pdu + a->u.send.pdu_off,
		    a->u.send.pdu_len);
	}
	to->posted--;
	rc = sdp_on_recv(to->conn, to->rxbuf, len, 0);
	if (rc < 0) {
		die("receive", rc);
	}
	from->completions++;
	return drain(to, tw);
}

static void
setup(struct side *c, struct side *s, struct wire *cw, struct wire *sw,
    uint32_t send_size)
{
	struct sdp_config cc, sc;
	int rc;

	sdp_config_init_defaults(&cc, SDP_ROLE_CLIENT);
	sdp_config_init_defaults(&sc, SDP_ROLE_SERVER);
	cc.max_send_size = sc.max_send_size = send_size;
	cc.max_receive_size = sc.max_receive_size = send_size;
	cc.keepalive_interval_ms = sc.keepalive_interval_ms = 0;
	cc.max_outstanding_sends = sc.max_outstanding_sends = 1024;
	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	if ((rc = sdp_conn_new(&cc, NULL, &c->conn)) != 0 ||
	    (rc = sdp_conn_new(&sc, NULL, &s->conn)) != 0) {
		die("new", rc);
	}
	c->rxbuf = malloc(send_size);
	s->rxbuf = malloc(send_size);
	if (c->rxbuf == NULL || s->rxbuf == NULL) {
		die("malloc", SDP_ERR_NOMEM);
	}
	if ((rc = sdp_start(s->conn, 0)) != 0 ||
	    (rc = sdp_start(c->conn, 0)) != 0) {
		die("start", rc);
	}
	drain(s, sw);
	drain(c, cw);
	carry(c, cw, s, sw, 1);
	carry(s, sw, c, cw, 1);
}

static void
teardown(struct side *c, struct side *s)
{
	sdp_conn_free(c->conn);
	sdp_conn_free(s->conn);
	free(c->rxbuf);
	free(s->rxbuf);
}

/* Send @n PDUs of 1 MiB client to server; returns seconds. */
static double
run(uint32_t send_size, unsigned n, int copy, uint64_t *msgs)
{
	static struct wire cw, sw;
	struct side c, s;
	struct sdp_stats st;
	uint64_t got = 0, want = (uint64_t)n * PDU_LEN;
	unsigned sent = 0;
	double t0;
	int rc;

	memset(&cw, 0, sizeof(cw));
	memset(&sw, 0, sizeof(sw));
	setup(&c, &s, &cw, &sw, send_size);
	t0 = now_s();
	while (got < want) {
		if (sent < n) {
			rc = sdp_send_pdu(c.conn, sent, PDU_LEN, 0, 0);
			if (rc == 0) {
				sent++;
			} else if (rc != SDP_ERR_WOULDBLOCK) {
				die("send", rc);
			}
			drain(&c, &cw);
		}
		while (cw.n > 0) {
			got += carry(&c, &cw, &s, &sw, copy);
		}
		while (sw.n > 0) {
			carry(&s, &sw, &c, &cw, copy);
		}
		/* RC: delivered means completed. */
		if (c.completions > 0) {
			sdp_on_send_complete(c.conn, c.completions, 0);
			c.completions = 0;
			drain(&c, &cw);
		}
		if (s.completions > 0) {
			sdp_on_send_complete(s.conn, s.completions, 0);
			s.completions = 0;
			drain(&s, &sw);
		}
	}
	t0 = now_s() - t0;
	sdp_get_stats(c.conn, &st);
	*msgs = st.msgs_sent;
	teardown(&c, &s);
	return t0;
}

static double
run_memcpy(unsigned n)
{
	uint8_t *dst = malloc(PDU_LEN);
	double t0;
	unsigned i;

	if (dst == NULL) {
		die("malloc", SDP_ERR_NOMEM);
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		memcpy(dst, pdu, PDU_LEN);
		sink += dst[i % PDU_LEN];
	}
	t0 = now_s() - t0;
	free(dst);
	return t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * One measurement, REPS times: the median time, and the slowest and
 * fastest rates. COPY < 0 times memcpy(); otherwise the engine.
 */
#define REPS_MAX	15
struct figure {
	double		 t;		/* median seconds */
	double		 mib_min, mib_med, mib_max;
	uint64_t	 msgs;
};

static void
measure(struct figure *f, unsigned reps, uint32_t size, unsigned n, int copy)
{
	double t[REPS_MAX], mib = (double)n * PDU_LEN / 1048576.0;
	unsigned r;

	for (r = 0; r < reps; r++) {
		t[r] = copy < 0 ? run_memcpy(n) : run(size, n, copy, &f->msgs);
	}
	qsort(t, reps, sizeof(t[0]), cmp_double);
	f->t = t[reps / 2];
	f->mib_med = mib / f->t;
	f->mib_min = mib / t[reps - 1];
	f->mib_max = mib / t[0];
}

static void
print_figure(const char *name, const struct figure *f, double t_ref)
{
	printf("%-28s %10.0f %10.0f %10.0f %8.2f", name, f->mib_med,
	    f->mib_min, f->mib_max, t_ref / f->t);
}

int
main(int argc, char **argv)
{
	static const uint32_t sizes[] = { 1364, 8192 };
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2048;
	unsigned reps = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 3;
	struct figure ref, f;
	unsigned i;

	if (n == 0) {
		n = 1;
	}
	if (reps < 3 || reps > REPS_MAX || reps % 2 == 0) {
		fprintf(stderr, "bench_sdp: REPS must be odd, 3 to %d\n",
		    REPS_MAX);
		return 2;
	}
	pdu = malloc(PDU_LEN);
	if (pdu == NULL) {
		die("malloc", SDP_ERR_NOMEM);
	}
	for (i = 0; i < PDU_LEN; i++) {
		pdu[i] = (uint8_t)(i * 31 + 7);
	}
	/* Warm up, then the reference. */
	run_memcpy(n / 8 + 1);
	measure(&ref, reps, 0, n, -1);
	printf("bench_sdp: %u PDUs of 1 MiB per pass (%u MiB), median of %u "
	    "runs\n", n, n, reps);
	printf("%-28s %10s %10s %10s %8s\n", "pass (MiB/s)", "median", "min",
	    "max", "ratio");
	print_figure("memcpy (reference)", &ref, ref.t);
	printf("\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char name[64];

		measure(&f, reps, sizes[i], n, 0);
		snprintf(name, sizeof(name), "engine MaxSendSize %u",
		    sizes[i]);
		print_figure(name, &f, ref.t);
		printf("  (%llu messages, %.0f ns each)\n",
		    (unsigned long long)f.msgs, f.t * 1e9 / (double)f.msgs);
		measure(&f, reps, sizes[i], n, 1);
		snprintf(name, sizeof(name), "engine+copy MaxSendSize %u",
		    sizes[i]);
		print_figure(name, &f, ref.t);
		printf("\n");
	}
	free(pdu);
	return sink == 42 ? 2 : 0;
}
