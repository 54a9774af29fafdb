/*
 * test_chan: the data channel's outbound queue (daemon/chan.c, included
 * whole so its static writer runs as the event loop runs it) over a real
 * socket pair, with the connection's side (rconn, ops) stubbed here.
 *
 * The case that matters: writing a PDU releases its receive buffer, the
 * release runs the engine, and the engine may fail and close the
 * connection, channel included, before the release returns. Each buffer
 * must then be released exactly once and nothing freed be touched (ASan
 * watches the second part).
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
static unsigned channel_gone;

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
		chan_close(g_ch);
	}
}

void
rconn_channel_gone(struct rconn *c, int reason, const char *why)
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
rconn_tx_unreserve(struct rconn *c, struct txpdu *p)
{
	(void)c;
	(void)p;
}

void
rconn_upper_blocked(struct rconn *c, bool blocked)
{
	(void)c;
	(void)blocked;
}

bool
ops_can_accept(const struct rconn *c)
{
	(void)c;
	return true;
}

static unsigned ops_frames;
static uint32_t ops_last_len;

int
ops_handle(struct rconn *c, uint8_t type, const uint8_t *body, uint32_t len,
    pid_t sender)
{
	(void)c;
	(void)body;
	(void)sender;
	assert_int_equal(type, FRAME_RDMA_READ);
	ops_frames++;
	ops_last_len = len;
	return 0;
}

int
ops_pdu_ready(struct rconn *c, struct txpdu *p)
{
	(void)c;
	(void)p;
	return 0;
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
	channel_gone = 0;
	ops_frames = 0;
	ops_last_len = 0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	chan_close(&f->c.chan);
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
 * The first release closes the channel: the rest are released by
 * chan_close(), once each, and the writer stops touching the queue.
 */
static void
close_inside_release(void **state)
{
	struct fixture *f = *state;
	unsigned i;

	queue_four();
	close_at = 1;
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
	frame_hdr_encode(b, FRAME_RDMA_READ, len);
	assert_int_equal(write(f->peer, b, 4 + len), (ssize_t)(4 + len));
	assert_int_equal(event_add(g_ch->read_ev, NULL), 0);
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
	assert_int_equal(ops_frames, 1);
	assert_int_equal(ops_last_len, 284);
}

/* One byte more is refused, and the channel fails. */
static void
oversized_op_frame(void **state)
{
	struct fixture *f = *state;

	op_frame(f, FRAME_OP_MAX + 1);
	assert_int_equal(channel_gone, 1);
	assert_int_equal(ops_frames, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(writes_and_releases, setup,
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
