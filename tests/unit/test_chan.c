/* SPDX-License-Identifier: ISC */
/*
 * test_chan: the data channel's outbound queue (daemon/chan.c, included
 * whole so its static writer runs as the event loop runs it) over a real
 * socket pair, with the connection's side (rconn, ops) stubbed here.
 *
 * The case that matters: writing a PDU releases its receive buffer, the
 * release runs the engine, and the engine may fail and close the
 * connection. The writer holds the connection (rconn_hold()), so the
 * close takes effect when the callback returns; and chan_close() must
 * cope even if called from inside a release. Each buffer must be released
 * exactly once and nothing freed be touched (ASan watches the second
 * part).
 *
 * The data channel's engine (proto/chanops.c) is the real one; the stub
 * run loop below takes its actions as rconn_run() would.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/chan.c"

#define N_RX	4

static struct chan *g_ch;
static unsigned releases[N_RX + 1];
static unsigned n_releases;
static unsigned close_at;	/* close the channel in this release, or 0 */
static bool close_nested;	/* ...at once, not as rconn_close() does */
static unsigned channel_gone;
static unsigned holds;
static bool close_pending;
static unsigned holds_at_close;

/* Fake receive buffers: never dereferenced by chan.c. */
static struct rxbuf *
fake_rx(uintptr_t i)
{
	return (struct rxbuf *)i;
}

void
rconn_rx_release(struct rconn *c, struct rxbuf *rx)
{
	uintptr_t i = (uintptr_t)rx;

	(void)c;
	assert_true(i >= 1 && i <= N_RX);
	releases[i]++;
	n_releases++;
	/* The engine's run failed and closed the connection (rconn_close). */
	if (n_releases == close_at) {
		holds_at_close = holds;
		if (close_nested || holds == 0) {
			chan_close(g_ch);
		} else {
			close_pending = true;
		}
	}
}

void
rconn_hold(struct rconn *c)
{
	(void)c;
	holds++;
}

void
rconn_unhold(struct rconn *c)
{
	(void)c;
	assert_true(holds > 0);
	if (--holds == 0 && close_pending) {
		close_pending = false;
		chan_close(g_ch);
	}
}

static unsigned acts[CHANOPS_ACT_CLOSE + 1];

/* rconn_run(): take the engine's actions, as ops_act() would. */
void
rconn_run(struct rconn *c)
{
	struct chanops_action a;

	while (chanops_next_action(c->co, &a) == 1) {
		acts[a.type]++;
		if (a.type == CHANOPS_ACT_SEND_FRAME) {
			free(a.u.frame.body);
		} else if (a.type == CHANOPS_ACT_CLOSE) {
			channel_gone++;
		}
	}
}

void
rconn_channel_gone(struct rconn *c, enum rconn_reason reason,
    const char *why)
{
	(void)c;
	(void)reason;
	(void)why;
	channel_gone++;
}

void
rconn_channel_connected(struct rconn *c, pid_t pid)
{
	(void)c;
	(void)pid;
}

int
rconn_tx_reserve(struct rconn *c, uint32_t len, struct txpdu **out,
    uint8_t **buf)
{
	(void)c;
	(void)len;
	(void)out;
	(void)buf;
	return -ENOBUFS;
}

int
rconn_tx_submit(struct rconn *c, struct txpdu *p)
{
	(void)c;
	(void)p;
	return 0;
}

void
rconn_upper_blocked(struct rconn *c, bool blocked)
{
	(void)c;
	(void)blocked;
}

struct fixture {
	struct daemon	 d;
	struct rconn	 c;
	int		 peer;		/* the smbd's end */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	f->d.base = event_base_new();
	assert_non_null(f->d.base);
	f->d.cfg.receive_credits = 8;
	f->c.d = &f->d;
	f->c.id = 7;
	{
		struct chanops_config cc = { .conn_id = 7, .ord = 1 };

		assert_int_equal(chanops_new(&cc, NULL, &f->c.co), 0);
	}
	chan_init(&f->c.chan, &f->c);
	g_ch = &f->c.chan;
	g_ch->fd = sv[0];
	g_ch->read_ev = event_new(f->d.base, sv[0], EV_READ | EV_PERSIST,
	    chan_on_read, g_ch);
	g_ch->write_ev = event_new(f->d.base, sv[0], EV_WRITE | EV_PERSIST,
	    chan_on_write, g_ch);
	assert_non_null(g_ch->write_ev);
	f->peer = sv[1];
	memset(releases, 0, sizeof(releases));
	n_releases = 0;
	close_at = 0;
	close_nested = false;
	close_pending = false;
	holds = 0;
	holds_at_close = 0;
	channel_gone = 0;
	memset(acts, 0, sizeof(acts));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	chan_close(&f->c.chan);
	chanops_free(f->c.co);
	assert_int_equal(holds, 0);
	close(f->peer);
	event_base_free(f->d.base);
	free(f);
	return 0;
}

static const uint8_t payload[N_RX][8] = {
	"pdu-one", "pdu-two", "pdu-3-a", "pdu-3-b",
};

/* Queue PDU 1, PDU 2, and PDU 3 in two fragments (receive buffers 1-4). */
static void
queue_four(void)
{
	assert_int_equal(chan_deliver(g_ch, fake_rx(1), payload[0], 8, 8,
	    true, true), 0);
	assert_int_equal(chan_deliver(g_ch, fake_rx(2), payload[1], 8, 8,
	    true, true), 0);
	assert_int_equal(chan_deliver(g_ch, fake_rx(3), payload[2], 8, 16,
	    true, false), 0);
	assert_int_equal(chan_deliver(g_ch, fake_rx(4), payload[3], 8, 16,
	    false, true), 0);
	assert_int_equal(g_ch->out_n, 4);
}

/* Everything is written as frames, each buffer released once. */
static void
writes_and_releases(void **state)
{
	struct fixture *f = *state;
	uint8_t got[64];
	ssize_t n;
	unsigned i;

	queue_four();
	assert_int_equal(event_base_loop(f->d.base, EVLOOP_ONCE |
	    EVLOOP_NONBLOCK), 0);
	assert_int_equal(g_ch->out_n, 0);
	assert_int_equal(g_ch->out_bytes, 0);
	for (i = 1; i <= N_RX; i++) {
		assert_int_equal(releases[i], 1);
	}
	n = read(f->peer, got, sizeof(got));
	assert_int_equal(n, 3 * 4 + 4 * 8);
	assert_memory_equal(got, "\0\0\0\x08pdu-one", 12);
	assert_memory_equal(got + 12, "\0\0\0\x08pdu-two", 12);
	assert_memory_equal(got + 24, "\0\0\0\x10pdu-3-a\0pdu-3-b", 20);
}

/*
 * The first release closes the connection: the writer holds it, so the
 * close waits until the callback returns; then chan_close() releases the
 * rest, once each.
 */
static void
close_after_callback(void **state)
{
	struct fixture *f = *state;
	unsigned i;

	queue_four();
	close_at = 1;
	assert_int_equal(event_base_loop(f->d.base, EVLOOP_ONCE |
	    EVLOOP_NONBLOCK), 0);
	assert_int_equal(holds_at_close, 1);
	for (i = 1; i <= N_RX; i++) {
		assert_int_equal(releases[i], 1);
	}
	assert_int_equal(n_releases, N_RX);
	assert_int_equal(g_ch->out_n, 0);
	assert_null(g_ch->out);
	assert_int_equal(g_ch->fd, -1);
	assert_null(g_ch->write_ev);
}

/*
 * chan_close() from inside a release (what happened before the hold): the
 * rest are released by chan_close(), once each, and the writer stops
 * touching the queue.
 */
static void
close_inside_release(void **state)
{
	struct fixture *f = *state;
	unsigned i;

	queue_four();
	close_at = 1;
	close_nested = true;
	assert_int_equal(event_base_loop(f->d.base, EVLOOP_ONCE |
	    EVLOOP_NONBLOCK), 0);
	for (i = 1; i <= N_RX; i++) {
		assert_int_equal(releases[i], 1);
	}
	assert_int_equal(n_releases, N_RX);
	assert_int_equal(g_ch->out_n, 0);
	assert_null(g_ch->out);
	assert_int_equal(g_ch->out_cap, 0);
	assert_int_equal(g_ch->fd, -1);
	assert_null(g_ch->write_ev);
	assert_int_equal(channel_gone, 0);
}

/* A close in the middle of the queue: the same, from the third. */
static void
close_inside_later_release(void **state)
{
	struct fixture *f = *state;
	unsigned i;

	queue_four();
	close_at = 3;
	close_nested = true;
	assert_int_equal(event_base_loop(f->d.base, EVLOOP_ONCE |
	    EVLOOP_NONBLOCK), 0);
	for (i = 1; i <= N_RX; i++) {
		assert_int_equal(releases[i], 1);
	}
	assert_int_equal(g_ch->out_n, 0);
	assert_int_equal(g_ch->fd, -1);
}

/* An operation frame of @len body bytes from the smbd's end, then read. */
static void
op_frame(struct fixture *f, uint32_t len)
{
	uint8_t b[4 + FRAME_OP_MAX + 16];

	assert_true(len <= FRAME_OP_MAX + 16);
	memset(b, 0x5a, sizeof(b));
	if (len == FRAME_OP_MAX) {
		struct frame_rdma r;

		/* A well-formed READ with every descriptor. */
		memset(&r, 0, sizeof(r));
		r.req_id = 1;
		r.n_desc = FRAME_MAX_DESC;
		for (unsigned i = 0; i < FRAME_MAX_DESC; i++) {
			r.desc[i].offset = 4096 * i;
			r.desc[i].token = 1;
			r.desc[i].length = 4096;
		}
		assert_int_equal(frame_rdma_encode(&r, b + 4), len);
	}
	frame_hdr_encode(b, FRAME_RDMA_READ, len);
	assert_int_equal(write(f->peer, b, 4 + len), (ssize_t)(4 + len));
	chan_update_read(g_ch);
	assert_true(g_ch->reading);
	assert_int_equal(event_base_loop(f->d.base, EVLOOP_ONCE |
	    EVLOOP_NONBLOCK), 0);
}

/* An RDMA frame with all FRAME_MAX_DESC descriptors fits (284 bytes). */
static void
largest_op_frame(void **state)
{
	struct fixture *f = *state;

	op_frame(f, FRAME_RDMA_FIXED + FRAME_MAX_DESC * FRAME_DESC_SIZE);
	assert_int_equal(channel_gone, 0);
	/* The engine read it whole and judged it (no area yet). */
	assert_int_equal(acts[CHANOPS_ACT_RDMA_REJECTED], 1);
	assert_int_equal(chanops_rx_op_bytes(f->c.co), 4 + 284);
	assert_int_equal(f->c.copied[COPY_OP_FRAMES], 4 + 284);
}

/* One byte more is refused, and the channel fails. */
static void
oversized_op_frame(void **state)
{
	struct fixture *f = *state;

	op_frame(f, FRAME_OP_MAX + 1);
	assert_int_equal(channel_gone, 1);
	assert_int_equal(acts[CHANOPS_ACT_RDMA_REJECTED], 0);
	/* Closed: the channel is read no more. */
	chan_update_read(g_ch);
	assert_false(g_ch->reading);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(writes_and_releases, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(close_after_callback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(close_inside_release, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(close_inside_later_release,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(largest_op_frame, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(oversized_op_frame, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
