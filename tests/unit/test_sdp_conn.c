/* SPDX-License-Identifier: ISC */
/*
 * The engine, one rule at a time. Most tests drive one engine with
 * scripted bytes (a raw peer built from the wire encoders) and assert on
 * the exact actions it asks for; the fragmentation and growth tests join
 * a client and a server engine with the checking link of test_sdp_util.c.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdp.h"
#include "test_sdp_util.h"

/* ---------------------------------------------------------------------
 * Helpers: capture actions, build raw messages
 * ------------------------------------------------------------------- */

#define ACTS_MAX	512

struct acts {
	struct sdp_action	a[ACTS_MAX];
	unsigned		n;
};

static struct acts A;

static unsigned
drain(struct sdp_conn *c)
{
	A.n = 0;
	while (A.n < ACTS_MAX && sdp_next_action(c, &A.a[A.n]) == 1) {
		A.n++;
	}
	assert_true(A.n < ACTS_MAX);
	assert_int_equal(sdp_conn_check(c), 0);
	return A.n;
}

static unsigned
count(enum sdp_action_type t)
{
	unsigned i, n = 0;

	for (i = 0; i < A.n; i++) {
		n += A.a[i].type == t;
	}
	return n;
}

static const struct sdp_action *
nth(enum sdp_action_type t, unsigned k)
{
	unsigned i;

	for (i = 0; i < A.n; i++) {
		if (A.a[i].type == t && k-- == 0) {
			return &A.a[i];
		}
	}
	fail_msg("no action %d #%u among %u", t, k, A.n);
	return NULL;
}

static void
expect_types(const enum sdp_action_type *t, unsigned n)
{
	unsigned i;

	assert_int_equal(A.n, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(A.a[i].type, t[i]);
	}
}

static void
expect_disconnect(int reason, bool graceful)
{
	assert_true(A.n >= 1);
	assert_int_equal(A.a[A.n - 1].type, SDP_ACT_DISCONNECT);
	assert_int_equal(A.a[A.n - 1].u.disconnect.reason, reason);
	assert_int_equal(A.a[A.n - 1].u.disconnect.graceful, graceful);
}

/* The sends went out and were acknowledged (RC). */
static void
complete_all(struct sdp_conn *c, uint64_t now)
{
	struct sdp_stats st;

	sdp_get_stats(c, &st);
	assert_int_equal(sdp_on_send_complete(c, st.sends_outstanding, now),
	    0);
}

static struct sdp_data_hdr
sent_hdr(const struct sdp_action *a)
{
	struct sdp_data_hdr h;

	assert_int_equal(a->type, SDP_ACT_SEND);
	assert_int_equal(sdp_data_hdr_decode(a->u.send.hdr, a->u.send.hdr_len,
	    &h), 0);
	return h;
}

/* Message buffers that outlive a call (held ones must). */
#define BUFS		64
#define BUF_SIZE	9000
static uint8_t bufs[BUFS][BUF_SIZE];
static unsigned buf_next;

static uint8_t *
newbuf(void)
{
	uint8_t *b = bufs[buf_next++ % BUFS];

	memset(b, 0, BUF_SIZE);
	return b;
}

/* A canonical data message; payload bytes are i * 7 + dl. */
static size_t
mkdata(uint8_t *b, uint16_t cr, uint16_t cg, uint16_t flags, uint32_t rdl,
    uint32_t dl)
{
	struct sdp_data_hdr h = {
		.credits_requested = cr, .credits_granted = cg, .flags = flags,
		.remaining_data_length = rdl,
		.data_offset = dl > 0 ? SDP_DATA_OFFSET : 0, .data_length = dl,
	};
	uint32_t i;
	int n;

	n = sdp_data_hdr_encode(&h, b, BUF_SIZE);
	assert_true(n > 0);
	for (i = 0; i < dl; i++) {
		b[n + i] = (uint8_t)(i * 7 + dl);
	}
	return (size_t)n + dl;
}

static size_t
mkreq(uint8_t *b, uint16_t minv, uint16_t maxv, uint16_t cr, uint32_t pss,
    uint32_t mrs, uint32_t mfs)
{
	struct sdp_neg_req r = {
		.min_version = minv, .max_version = maxv,
		.credits_requested = cr, .preferred_send_size = pss,
		.max_receive_size = mrs, .max_fragmented_size = mfs,
	};

	return (size_t)sdp_neg_req_encode(&r, b, BUF_SIZE);
}

static struct sdp_neg_resp
good_resp(void)
{
	struct sdp_neg_resp r = {
		.min_version = 0x0100, .max_version = 0x0100,
		.negotiated_version = 0x0100, .credits_requested = 255,
		.credits_granted = 255, .status = 0,
		.max_read_write_size = 1u << 20, .preferred_send_size = 1364,
		.max_receive_size = 8192, .max_fragmented_size = 1u << 20,
	};

	return r;
}

static struct sdp_config
srv_cfg(void)
{
	struct sdp_config c;

	sdp_config_init_defaults(&c, SDP_ROLE_SERVER);
	return c;
}

static struct sdp_config
cli_cfg(void)
{
	struct sdp_config c;

	sdp_config_init_defaults(&c, SDP_ROLE_CLIENT);
	return c;
}

/* A server past negotiation with a client asking for @cr credits. */
static struct sdp_conn *
srv_up(const struct sdp_config *cfg, uint16_t cr, uint32_t pss)
{
	struct sdp_conn *c = NULL;
	uint8_t *b = newbuf();
	size_t n;

	assert_int_equal(sdp_conn_new(cfg, NULL, &c), 0);
	assert_int_equal(sdp_start(c, 1000), 0);
	drain(c);
	n = mkreq(b, 0x0100, 0x0100, cr, pss, 8192, 1u << 20);
	assert_int_equal(sdp_on_recv(c, b, n, 1000), 0);
	drain(c);
	assert_int_equal(sdp_get_state(c), SDP_STATE_ESTABLISHED);
	complete_all(c, 1000);
	return c;
}

/* A client past negotiation with the given response. */
static struct sdp_conn *
cli_up(const struct sdp_config *cfg, const struct sdp_neg_resp *r)
{
	struct sdp_conn *c = NULL;
	uint8_t *b = newbuf();

	assert_int_equal(sdp_conn_new(cfg, NULL, &c), 0);
	assert_int_equal(sdp_start(c, 1000), 0);
	drain(c);
	assert_int_equal(sdp_on_send_complete(c, 1, 1000), 0);
	sdp_neg_resp_encode(r, b, BUF_SIZE);
	assert_int_equal(sdp_on_recv(c, b, SDP_NEG_RESP_SIZE, 1000), 0);
	drain(c);
	assert_int_equal(sdp_get_state(c), SDP_STATE_ESTABLISHED);
	return c;
}

static struct sdp_stats
stats(const struct sdp_conn *c)
{
	struct sdp_stats s;

	sdp_get_stats(c, &s);
	return s;
}

/* ---------------------------------------------------------------------
 * [MS-SMBD] 4.1, byte for byte, through the engines
 * ------------------------------------------------------------------- */

static const uint8_t ex_neg_req[SDP_NEG_REQ_SIZE] = {
	0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x04, 0x00,
	0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
};
static const uint8_t ex_neg_resp[SDP_NEG_RESP_SIZE] = {
	0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x0a,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x04,
	0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
};
static const uint8_t ex_data[SDP_DATA_OFFSET] = {
	0x0a, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x18, 0x00, 0x00, 0x00, 0x68, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00,
};

static struct sdp_config
example_cfg(enum sdp_role role)
{
	struct sdp_config c;

	sdp_config_init_defaults(&c, role);
	c.send_credit_target = 10;
	c.recv_credit_initial = 10;
	c.max_send_size = 1024;
	c.max_receive_size = 1024;
	c.max_fragmented_size = 131072;
	return c;
}

static void
test_example_server(void **state)
{
	static const enum sdp_action_type t_start[] = {
		SDP_ACT_POST_RECV, SDP_ACT_TIMER,
	};
	static const enum sdp_action_type t_neg[] = {
		SDP_ACT_POST_RECV, SDP_ACT_SEND, SDP_ACT_NEGOTIATED,
		SDP_ACT_TIMER,
	};
	struct sdp_config cfg = example_cfg(SDP_ROLE_SERVER);
	struct sdp_conn *c = NULL;
	struct sdp_params p;
	uint8_t *b = newbuf();

	assert_int_equal(sdp_conn_new(&cfg, NULL, &c), 0);
	assert_int_equal(sdp_get_state(c), SDP_STATE_INIT);
	assert_int_equal(sdp_get_params(c, &p), SDP_ERR_STATE);
	assert_int_equal(sdp_start(c, 1000), 0);
	drain(c);
	expect_types(t_start, 2);
	assert_int_equal(A.a[0].u.post_recv.count, 1);
	assert_int_equal(A.a[0].u.post_recv.size, 1024);
	assert_int_equal(A.a[1].u.timer.deadline_ms, 6000);

	memcpy(b, ex_neg_req, sizeof(ex_neg_req));
	assert_int_equal(sdp_on_recv(c, b, sizeof(ex_neg_req), 2000), 0);
	drain(c);
	expect_types(t_neg, 4);
	assert_int_equal(A.a[0].u.post_recv.count, 10);
	assert_int_equal(A.a[0].u.post_recv.size, 1024);
	assert_int_equal(A.a[1].u.send.hdr_len, SDP_NEG_RESP_SIZE);
	assert_memory_equal(A.a[1].u.send.hdr, ex_neg_resp,
	    SDP_NEG_RESP_SIZE);
	assert_false(A.a[1].u.send.has_payload);
	assert_int_equal(A.a[3].u.timer.deadline_ms, 2000 + 120000);

	assert_int_equal(sdp_get_params(c, &p), 0);
	assert_int_equal(p.version, 0x0100);
	assert_int_equal(p.max_send_size, 1024);
	assert_int_equal(p.max_receive_size, 1024);
	assert_int_equal(p.max_fragmented_size, 131072);
	assert_int_equal(p.peer_max_fragmented_size, 131072);
	assert_int_equal(p.max_read_write_size, 1u << 20);
	assert_int_equal(p.peer_credits_requested, 10);
	assert_int_equal(p.initial_recv_credits, 10);
	assert_true(sdp_is_negotiated(c));
	assert_int_equal(stats(c).peer_credits, 10);
	assert_int_equal(stats(c).send_credits, 0);

	/* Step 3: the first data transfer, delivered in place. */
	b = newbuf();
	memcpy(b, ex_data, sizeof(ex_data));
	memset(b + SDP_DATA_OFFSET, 0xfe, 0x68);
	assert_int_equal(sdp_on_recv(c, b, SDP_DATA_OFFSET + 0x68, 2001), 1);
	drain(c);
	assert_int_equal(count(SDP_ACT_DELIVER), 1);
	assert_ptr_equal(nth(SDP_ACT_DELIVER, 0)->u.deliver.data,
	    b + SDP_DATA_OFFSET);
	assert_int_equal(nth(SDP_ACT_DELIVER, 0)->u.deliver.len, 0x68);
	assert_int_equal(nth(SDP_ACT_DELIVER, 0)->u.deliver.pdu_len, 0x68);
	assert_true(nth(SDP_ACT_DELIVER, 0)->u.deliver.first);
	assert_true(nth(SDP_ACT_DELIVER, 0)->u.deliver.last);
	assert_int_equal(stats(c).send_credits, 10);
	assert_int_equal(stats(c).recv_held, 1);
	assert_int_equal(stats(c).pdus_received, 1);
	sdp_conn_free(c);
}

static void
test_example_client(void **state)
{
	static const enum sdp_action_type t_start[] = {
		SDP_ACT_POST_RECV, SDP_ACT_SEND, SDP_ACT_TIMER,
	};
	struct sdp_config cfg = example_cfg(SDP_ROLE_CLIENT);
	struct sdp_conn *c = NULL;
	struct sdp_action a;
	struct sdp_params p;
	uint8_t *b = newbuf();
	bool negotiated = false;

	assert_int_equal(sdp_conn_new(&cfg, NULL, &c), 0);
	assert_int_equal(sdp_start(c, 1000), 0);
	drain(c);
	expect_types(t_start, 3);
	assert_int_equal(A.a[0].u.post_recv.count, 1);
	assert_int_equal(A.a[1].u.send.hdr_len, SDP_NEG_REQ_SIZE);
	assert_memory_equal(A.a[1].u.send.hdr, ex_neg_req, SDP_NEG_REQ_SIZE);
	assert_int_equal(A.a[2].u.timer.deadline_ms, 1000 + 120000);
	assert_int_equal(sdp_on_send_complete(c, 1, 1001), 0);

	memcpy(b, ex_neg_resp, sizeof(ex_neg_resp));
	assert_int_equal(sdp_on_recv(c, b, sizeof(ex_neg_resp), 2000), 0);
	/* The upper layer sends its first PDU as soon as it hears. */
	A.n = 0;
	while (sdp_next_action(c, &a) == 1) {
		A.a[A.n++] = a;
		if (a.type == SDP_ACT_NEGOTIATED) {
			negotiated = true;
			assert_int_equal(sdp_send_pdu(c, 42, 0x68, 0, 2000), 0);
		}
	}
	assert_true(negotiated);
	assert_int_equal(nth(SDP_ACT_POST_RECV, 0)->u.post_recv.count, 10);
	assert_int_equal(count(SDP_ACT_SEND), 1);
	assert_int_equal(nth(SDP_ACT_SEND, 0)->u.send.hdr_len,
	    SDP_DATA_OFFSET);
	assert_memory_equal(nth(SDP_ACT_SEND, 0)->u.send.hdr, ex_data,
	    SDP_DATA_OFFSET);
	assert_int_equal(nth(SDP_ACT_SEND, 0)->u.send.cookie, 42);
	assert_int_equal(nth(SDP_ACT_SEND, 0)->u.send.pdu_len, 0x68);
	assert_true(nth(SDP_ACT_SEND, 0)->u.send.last_of_pdu);
	assert_int_equal(sdp_get_params(c, &p), 0);
	assert_int_equal(p.initial_send_credits, 10);
	assert_int_equal(p.max_send_size, 1024);
	assert_int_equal(stats(c).send_credits, 9);
	assert_int_equal(stats(c).peer_credits, 10);
	sdp_conn_free(c);
}

/* Without a PDU to carry it, the client grants in a credit message. */
static void
test_client_grants_promptly(void **state)
{
	struct sdp_config cfg = cli_cfg();
	struct sdp_neg_resp r = good_resp();
	struct sdp_conn *c = cli_up(&cfg, &r);
	struct sdp_data_hdr h;

	assert_int_equal(count(SDP_ACT_SEND), 1);
	h = sent_hdr(nth(SDP_ACT_SEND, 0));
	assert_int_equal(h.credits_granted, cfg.recv_credit_initial);
	assert_int_equal(h.credits_requested, 255);
	assert_int_equal(h.data_length, 0);
	assert_int_equal(stats(c).credit_msgs_sent, 1);
	sdp_conn_free(c);
}

/* ---------------------------------------------------------------------
 * Negotiation matrix
 * ------------------------------------------------------------------- */

enum outcome { OK, REFUSED, FATAL };

struct srv_row {
	const char	*what;
	size_t		 len;
	uint16_t	 minv, maxv, cr;
	uint32_t	 pss, mrs, mfs;
	enum outcome	 outcome;
	int		 reason;
	uint32_t	 want_recv, want_send;
};

static const struct srv_row srv_rows[] = {
	{ "short", 19, 0x100, 0x100, 10, 1364, 1364, 1u << 20, FATAL,
	    SDP_ERR_NEG_SHORT, 0, 0 },
	{ "exact", 20, 0x100, 0x100, 10, 1364, 1364, 1u << 20, OK, 0,
	    1364, 1364 },
	{ "trailing bytes", 32, 0x100, 0x100, 10, 1364, 1364, 1u << 20, OK,
	    0, 1364, 1364 },
	{ "longer than our buffer", 8193, 0x100, 0x100, 10, 1364, 1364,
	    1u << 20, FATAL, SDP_ERR_RX_TOO_LONG, 0, 0 },
	{ "range below", 20, 0x0000, 0x0100, 10, 1364, 1364, 1u << 20, OK,
	    0, 1364, 1364 },
	{ "range above", 20, 0x0100, 0xffff, 10, 1364, 1364, 1u << 20, OK,
	    0, 1364, 1364 },
	{ "range around", 20, 0x00ff, 0x0101, 10, 1364, 1364, 1u << 20, OK,
	    0, 1364, 1364 },
	{ "range all above", 20, 0x0101, 0x0200, 10, 1364, 1364, 1u << 20,
	    REFUSED, SDP_ERR_NEG_VERSION, 0, 0 },
	{ "range all below", 20, 0x0000, 0x00ff, 10, 1364, 1364, 1u << 20,
	    REFUSED, SDP_ERR_NEG_VERSION, 0, 0 },
	{ "range inverted", 20, 0x0200, 0x0100, 10, 1364, 1364, 1u << 20,
	    REFUSED, SDP_ERR_NEG_VERSION, 0, 0 },
	{ "version before credits", 20, 0x0200, 0x0300, 0, 0, 0, 0,
	    REFUSED, SDP_ERR_NEG_VERSION, 0, 0 },
	{ "credits 0", 20, 0x100, 0x100, 0, 1364, 1364, 1u << 20, FATAL,
	    SDP_ERR_NEG_CREDITS_REQUESTED, 0, 0 },
	{ "credits 1", 20, 0x100, 0x100, 1, 1364, 1364, 1u << 20, OK, 0,
	    1364, 1364 },
	{ "credits 65535", 20, 0x100, 0x100, 0xffff, 1364, 1364, 1u << 20,
	    OK, 0, 1364, 1364 },
	{ "max receive 127", 20, 0x100, 0x100, 10, 1364, 127, 1u << 20,
	    FATAL, SDP_ERR_NEG_MAX_RECEIVE_SIZE, 0, 0 },
	{ "max receive 128", 20, 0x100, 0x100, 10, 1364, 128, 1u << 20, OK,
	    0, 1364, 128 },
	{ "max receive large", 20, 0x100, 0x100, 10, 1364, 0xffffffffu,
	    1u << 20, OK, 0, 1364, 1364 },
	{ "fragmented 131071", 20, 0x100, 0x100, 10, 1364, 1364, 131071,
	    FATAL, SDP_ERR_NEG_MAX_FRAGMENTED_SIZE, 0, 0 },
	{ "fragmented 131072", 20, 0x100, 0x100, 10, 1364, 1364, 131072, OK,
	    0, 1364, 1364 },
	{ "preferred 0", 20, 0x100, 0x100, 10, 0, 1364, 1u << 20, OK, 0,
	    128, 1364 },
	{ "preferred 127", 20, 0x100, 0x100, 10, 127, 1364, 1u << 20, OK, 0,
	    128, 1364 },
	{ "preferred 129", 20, 0x100, 0x100, 10, 129, 1364, 1u << 20, OK, 0,
	    129, 1364 },
	{ "preferred large", 20, 0x100, 0x100, 10, 100000, 1364, 1u << 20,
	    OK, 0, 8192, 1364 },
};

static void
run_srv_row(const struct srv_row *row)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c = NULL;
	struct sdp_params p;
	uint8_t *b = newbuf();
	int rc;

	assert_int_equal(sdp_conn_new(&cfg, NULL, &c), 0);
	assert_int_equal(sdp_start(c, 1000), 0);
	drain(c);
	mkreq(b, row->minv, row->maxv, row->cr, row->pss, row->mrs,
	    row->mfs);
	rc = sdp_on_recv(c, b, row->len, 1100);
	drain(c);
	switch (row->outcome) {
	case OK:
		assert_int_equal(rc, 0);
		assert_int_equal(sdp_get_state(c), SDP_STATE_ESTABLISHED);
		assert_int_equal(sdp_get_params(c, &p), 0);
		assert_int_equal(p.max_receive_size, row->want_recv);
		assert_int_equal(p.max_send_size, row->want_send);
		assert_int_equal(p.peer_max_fragmented_size, row->mfs);
		/* Never more than asked for, never above 255, at least 1. */
		assert_int_equal(p.initial_recv_credits, row->cr < 8 ?
		    row->cr : 8);
		assert_int_equal(nth(SDP_ACT_POST_RECV, 0)->u.post_recv.size,
		    row->want_recv);
		break;
	case REFUSED: {
		static const uint8_t refuse[SDP_NEG_RESP_SIZE] = {
			0x00, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
			0xbb, 0x00, 0x00, 0xc0,
		};

		assert_int_equal(rc, 0);
		assert_int_equal(count(SDP_ACT_SEND), 1);
		assert_int_equal(count(SDP_ACT_POST_RECV), 0);
		assert_int_equal(count(SDP_ACT_DISCONNECT), 0);
		assert_memory_equal(nth(SDP_ACT_SEND, 0)->u.send.hdr, refuse,
		    SDP_NEG_RESP_SIZE);
		assert_int_equal(sdp_get_state(c), SDP_STATE_CLOSING);
		assert_int_equal(sdp_send_pdu(c, 1, 10, 0, 1100),
		    SDP_ERR_STATE);
		/* The graceful end waits for the response to be sent. */
		assert_int_equal(sdp_on_send_complete(c, 1, 1200), 0);
		drain(c);
		expect_disconnect(row->reason, true);
		break;
	}
	case FATAL:
		assert_int_equal(rc, row->reason);
		expect_disconnect(row->reason, false);
		assert_int_equal(count(SDP_ACT_SEND), 0);
		assert_int_equal(sdp_get_params(c, &p), SDP_ERR_STATE);
		assert_false(sdp_is_negotiated(c));
		break;
	}
	if (row->outcome != OK) {
		assert_int_equal(sdp_get_state(c), SDP_STATE_DISCONNECTED);
		assert_int_equal(sdp_on_recv(c, b, 20, 1300), SDP_ERR_STATE);
		assert_int_equal(sdp_on_timer(c, 9999), SDP_ERR_STATE);
		assert_int_equal(drain(c), 0);
	}
	sdp_conn_free(c);
}

static void
test_negotiate_server_matrix(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(srv_rows) / sizeof(srv_rows[0]); i++) {
		print_message("server negotiate: %s\n", srv_rows[i].what);
		run_srv_row(&srv_rows[i]);
	}
}

struct cli_row {
	const char	*what;
	size_t		 len;
	void		 (*edit)(struct sdp_neg_resp *);
	enum outcome	 outcome;
	int		 reason;
};

static void e_none(struct sdp_neg_resp *r) { (void)r; }
static void e_refuse(struct sdp_neg_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->min_version = r->max_version = 0x0100;
	r->status = SDP_STATUS_NOT_SUPPORTED;
}
static void e_status(struct sdp_neg_resp *r) { r->status = 0xC0000001u; }
static void e_ver0(struct sdp_neg_resp *r) { r->negotiated_version = 0; }
static void e_ver101(struct sdp_neg_resp *r)
{
	r->negotiated_version = 0x0101;
}
static void e_mrs127(struct sdp_neg_resp *r) { r->max_receive_size = 127; }
static void e_mrs128(struct sdp_neg_resp *r) { r->max_receive_size = 128; }
static void e_mfs_lo(struct sdp_neg_resp *r)
{
	r->max_fragmented_size = 131071;
}
static void e_mfs_ok(struct sdp_neg_resp *r)
{
	r->max_fragmented_size = 131072;
}
static void e_cg0(struct sdp_neg_resp *r) { r->credits_granted = 0; }
static void e_cg1(struct sdp_neg_resp *r) { r->credits_granted = 1; }
static void e_cg256(struct sdp_neg_resp *r) { r->credits_granted = 256; }
static void e_cr0(struct sdp_neg_resp *r) { r->credits_requested = 0; }
static void e_cr1(struct sdp_neg_resp *r) { r->credits_requested = 1; }
static void e_pss_hi(struct sdp_neg_resp *r)
{
	r->preferred_send_size = 1365;
}
static void e_pss_lo(struct sdp_neg_resp *r)
{
	r->preferred_send_size = 100;
}
static void e_rw_small(struct sdp_neg_resp *r)
{
	r->max_read_write_size = 4096;
}
static void e_rw_big(struct sdp_neg_resp *r)
{
	r->max_read_write_size = 64u << 20;
}

static const struct cli_row cli_rows[] = {
	{ "good", 32, e_none, OK, 0 },
	{ "short", 31, e_none, FATAL, SDP_ERR_NEG_SHORT },
	{ "longer than our buffer", 1365, e_none, FATAL, SDP_ERR_RX_TOO_LONG },
	{ "refused", 32, e_refuse, FATAL, SDP_ERR_NEG_VERSION },
	{ "failure status", 32, e_status, FATAL, SDP_ERR_NEG_STATUS },
	{ "version 0", 32, e_ver0, FATAL, SDP_ERR_NEG_VERSION },
	{ "version 0x0101", 32, e_ver101, FATAL, SDP_ERR_NEG_VERSION },
	{ "max receive 127", 32, e_mrs127, FATAL,
	    SDP_ERR_NEG_MAX_RECEIVE_SIZE },
	{ "max receive 128", 32, e_mrs128, OK, 0 },
	{ "fragmented 131071", 32, e_mfs_lo, FATAL,
	    SDP_ERR_NEG_MAX_FRAGMENTED_SIZE },
	{ "fragmented 131072", 32, e_mfs_ok, OK, 0 },
	{ "granted 0", 32, e_cg0, FATAL, SDP_ERR_NEG_CREDITS_GRANTED },
	{ "granted 1", 32, e_cg1, OK, 0 },
	{ "granted 256", 32, e_cg256, FATAL, SDP_ERR_RX_CREDITS_OVERFLOW },
	{ "requested 0", 32, e_cr0, FATAL, SDP_ERR_NEG_CREDITS_REQUESTED },
	{ "requested 1", 32, e_cr1, OK, 0 },
	{ "preferred above our receive size", 32, e_pss_hi, FATAL,
	    SDP_ERR_NEG_PREFERRED_SEND_SIZE },
	{ "preferred 100", 32, e_pss_lo, OK, 0 },
	{ "read/write small", 32, e_rw_small, OK, 0 },
	{ "read/write above ours", 32, e_rw_big, OK, 0 },
};

static void
run_cli_row(const struct cli_row *row)
{
	struct sdp_config cfg = cli_cfg();
	struct sdp_neg_resp r = good_resp();
	struct sdp_conn *c = NULL;
	struct sdp_params p;
	uint8_t *b = newbuf();
	int rc;

	row->edit(&r);
	assert_int_equal(sdp_conn_new(&cfg, NULL, &c), 0);
	assert_int_equal(sdp_start(c, 1000), 0);
	drain(c);
	sdp_neg_resp_encode(&r, b, BUF_SIZE);
	rc = sdp_on_recv(c, b, row->len, 1100);
	drain(c);
	if (row->outcome == OK) {
		assert_int_equal(rc, 0);
		assert_int_equal(sdp_get_params(c, &p), 0);
		assert_int_equal(p.initial_send_credits, r.credits_granted);
		assert_int_equal(stats(c).send_credits + 1, r.credits_granted);
		assert_int_equal(p.max_send_size, r.max_receive_size < 1364 ?
		    r.max_receive_size : 1364);
		assert_int_equal(p.max_receive_size,
		    r.preferred_send_size < 128 ? 128 : r.preferred_send_size);
		assert_int_equal(p.max_read_write_size,
		    r.max_read_write_size < (1u << 20) ?
		    r.max_read_write_size : (1u << 20));
		assert_int_equal(p.peer_max_fragmented_size,
		    r.max_fragmented_size);
		assert_int_equal(p.initial_recv_credits, r.credits_requested <
		    8 ? r.credits_requested : 8);
	} else {
		assert_int_equal(rc, row->reason);
		expect_disconnect(row->reason, false);
		assert_false(sdp_is_negotiated(c));
	}
	sdp_conn_free(c);
}

static void
test_negotiate_client_matrix(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(cli_rows) / sizeof(cli_rows[0]); i++) {
		print_message("client negotiate: %s\n", cli_rows[i].what);
		run_cli_row(&cli_rows[i]);
	}
}

/* Hand the client's request to a server engine and back. */
static int
neg_through(struct sdp_config *ccfg, struct sdp_conn **cp,
    struct sdp_conn **sp, int *srv_rc)
{
	struct sdp_config scfg = srv_cfg();
	struct sdp_action req, resp;
	unsigned i;
	int rc = 1;

	assert_int_equal(sdp_conn_new(ccfg, NULL, cp), 0);
	assert_int_equal(sdp_conn_new(&scfg, NULL, sp), 0);
	assert_int_equal(sdp_start(*sp, 0), 0);
	drain(*sp);
	assert_int_equal(sdp_start(*cp, 0), 0);
	drain(*cp);
	req = *nth(SDP_ACT_SEND, 0);
	*srv_rc = sdp_on_recv(*sp, req.u.send.hdr, req.u.send.hdr_len, 1);
	drain(*sp);
	for (i = 0; i < A.n; i++) {
		if (A.a[i].type == SDP_ACT_SEND) {
			resp = A.a[i];
			rc = sdp_on_recv(*cp, resp.u.send.hdr,
			    resp.u.send.hdr_len, 2);
			break;
		}
	}
	return rc;
}

static void
test_client_overrides_on_wire(void **state)
{
	struct sdp_config c;
	struct sdp_conn *cc, *sc;
	struct sdp_params p;
	int srv_rc, rc;

	/* A version range without 0x0100: refused, and the client knows. */
	c = cli_cfg();
	c.min_version = 0x0200;
	c.max_version = 0x0300;
	rc = neg_through(&c, &cc, &sc, &srv_rc);
	assert_int_equal(srv_rc, 0);
	assert_int_equal(sdp_get_state(sc), SDP_STATE_CLOSING);
	assert_int_equal(rc, SDP_ERR_NEG_VERSION);
	sdp_conn_free(cc);
	sdp_conn_free(sc);

	c = cli_cfg();
	c.override.mask = SDP_OVR_CREDITS_REQUESTED;
	c.override.credits_requested = 0;
	neg_through(&c, &cc, &sc, &srv_rc);
	assert_int_equal(srv_rc, SDP_ERR_NEG_CREDITS_REQUESTED);
	sdp_conn_free(cc);
	sdp_conn_free(sc);

	c = cli_cfg();
	c.override.mask = SDP_OVR_MAX_FRAGMENTED_SIZE;
	c.override.max_fragmented_size = 131071;
	neg_through(&c, &cc, &sc, &srv_rc);
	assert_int_equal(srv_rc, SDP_ERR_NEG_MAX_FRAGMENTED_SIZE);
	sdp_conn_free(cc);
	sdp_conn_free(sc);

	c = cli_cfg();
	c.override.mask = SDP_OVR_MAX_RECEIVE_SIZE;
	c.override.max_receive_size = 127;
	neg_through(&c, &cc, &sc, &srv_rc);
	assert_int_equal(srv_rc, SDP_ERR_NEG_MAX_RECEIVE_SIZE);
	sdp_conn_free(cc);
	sdp_conn_free(sc);

	/* A small PreferredSendSize: the server receives 128-byte sends. */
	c = cli_cfg();
	c.override.mask = SDP_OVR_PREFERRED_SEND_SIZE;
	c.override.preferred_send_size = 100;
	rc = neg_through(&c, &cc, &sc, &srv_rc);
	assert_int_equal(srv_rc, 0);
	assert_int_equal(rc, 0);
	assert_int_equal(sdp_get_params(sc, &p), 0);
	assert_int_equal(p.max_receive_size, 128);
	sdp_conn_free(cc);
	sdp_conn_free(sc);
}

static void
test_negotiate_timeout(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c = NULL;

	assert_int_equal(sdp_conn_new(&cfg, NULL, &c), 0);
	assert_int_equal(sdp_on_timer(c, 0), SDP_ERR_STATE);
	assert_int_equal(sdp_start(c, 1000), 0);
	assert_int_equal(sdp_start(c, 1000), SDP_ERR_STATE);
	drain(c);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 6000);
	/* Early: nothing happens but the timer is armed again. */
	assert_int_equal(sdp_on_timer(c, 5999), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_TIMER), 1);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 6000);
	assert_int_equal(sdp_on_timer(c, 6000), SDP_ERR_NEG_TIMEOUT);
	drain(c);
	expect_disconnect(SDP_ERR_NEG_TIMEOUT, false);
	sdp_conn_free(c);

	/* The client's default follows [MS-SMBD] 3.1.4.1: 120 s. */
	cfg = cli_cfg();
	assert_int_equal(sdp_conn_new(&cfg, NULL, &c), 0);
	assert_int_equal(sdp_start(c, 0), 0);
	drain(c);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 120000);
	assert_int_equal(sdp_on_timer(c, 120000), SDP_ERR_NEG_TIMEOUT);
	sdp_conn_free(c);

	/* After negotiation the negotiate deadline no longer applies. */
	cfg = srv_cfg();
	cfg.keepalive_interval_ms = 0;
	c = srv_up(&cfg, 10, 1364);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 0);
	assert_int_equal(sdp_on_timer(c, 6000), 0);
	assert_int_equal(sdp_on_timer(c, 600000), 0);
	assert_int_equal(sdp_get_state(c), SDP_STATE_ESTABLISHED);
	sdp_conn_free(c);
}

/* ---------------------------------------------------------------------
 * Credits
 * ------------------------------------------------------------------- */

static void
test_credits_zero_then_one(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c = srv_up(&cfg, 255, 1364);
	struct sdp_data_hdr h;
	uint8_t *b;

	/* A server starts with no send credits: nothing may go out. */
	assert_int_equal(stats(c).send_credits, 0);
	assert_int_equal(sdp_send_pdu(c, 1, 100, 0, 1000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 0);
	assert_int_equal(stats(c).credit_waits, 1);
	drain(c);
	assert_int_equal(stats(c).credit_waits, 1);

	/* One credit arrives; the reply may use it because it grants. */
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 1, 0, 0, 0), 1001),
	    0);
	drain(c);
	assert_int_equal(count(SDP_ACT_POST_RECV), 1);
	assert_int_equal(count(SDP_ACT_SEND), 1);
	h = sent_hdr(nth(SDP_ACT_SEND, 0));
	assert_int_equal(h.credits_granted, 1);
	assert_int_equal(h.data_length, 100);
	assert_int_equal(stats(c).send_credits, 0);
	assert_int_equal(stats(c).pdus_sent, 1);
	sdp_conn_free(c);
}

static void
test_credit_one_without_grant(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c;
	struct sdp_data_hdr h;
	uint8_t *b;

	/* Three receives in all, all granted: nothing left to grant. */
	cfg.recv_credit_max = 3;
	cfg.recv_credit_initial = 3;
	c = srv_up(&cfg, 255, 1364);
	assert_int_equal(sdp_send_pdu(c, 7, 50, 0, 1000), 0);
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 1, 0, 0, 10), 1001),
	    1);
	drain(c);
	/* One credit, one buffer held, two posted and granted: wait. */
	assert_int_equal(count(SDP_ACT_SEND), 0);
	assert_int_equal(count(SDP_ACT_POST_RECV), 0);
	assert_int_equal(stats(c).send_credits, 1);
	assert_int_equal(stats(c).recv_credits_posted, 2);
	assert_int_equal(stats(c).recv_held, 1);
	assert_int_equal(stats(c).credit_waits, 1);

	/* The buffer comes back: repost it, grant it, send. */
	assert_int_equal(sdp_rx_release(c, 1), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_POST_RECV), 1);
	h = sent_hdr(nth(SDP_ACT_SEND, 0));
	assert_int_equal(h.credits_granted, 1);
	assert_int_equal(stats(c).send_credits, 0);
	sdp_conn_free(c);
}

static void
test_credit_last_needs_grant_extra_receive(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c;
	struct sdp_data_hdr h;
	uint8_t *b;

	/*
	 * The peer asked for 2 credits and got them; the window (3, the
	 * least) adds one more, granted with the first message we can send.
	 */
	cfg.recv_credit_initial = 2;
	c = srv_up(&cfg, 2, 1364);
	assert_int_equal(stats(c).recv_credits_posted, 3);
	assert_int_equal(stats(c).peer_credits, 2);
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 2, 2, 0, 0, 0), 1001),
	    0);
	drain(c);
	/* Two to grant (one pending, one reposted): worth a message. */
	assert_int_equal(count(SDP_ACT_SEND), 1);
	assert_int_equal(sent_hdr(nth(SDP_ACT_SEND, 0)).credits_granted, 2);
	assert_int_equal(stats(c).send_credits, 1);
	assert_int_equal(stats(c).recv_credits_posted, 3);
	assert_int_equal(stats(c).peer_credits, 3);
	/*
	 * Window full and all granted, but room below recv_credit_max:
	 * the last credit gets an extra receive to grant ([MS-SMBD] 3.1.5.9).
	 */
	assert_int_equal(sdp_send_pdu(c, 9, 10, 0, 1002), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_POST_RECV), 1);
	assert_int_equal(nth(SDP_ACT_POST_RECV, 0)->u.post_recv.count, 1);
	h = sent_hdr(nth(SDP_ACT_SEND, 0));
	assert_int_equal(h.credits_granted, 1);
	assert_int_equal(h.data_length, 10);
	assert_int_equal(stats(c).recv_credits_posted, 4);
	sdp_conn_free(c);
}

static void
test_credits_255_and_beyond(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c = srv_up(&cfg, 255, 1364);
	uint8_t *b = newbuf();

	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 255, 0, 0, 0),
	    1001), 0);
	drain(c);
	assert_int_equal(stats(c).send_credits, 255);
	/* One more would make 256: more than any peer can have posted. */
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 1, 0, 0, 0), 1002),
	    SDP_ERR_RX_CREDITS_OVERFLOW);
	drain(c);
	expect_disconnect(SDP_ERR_RX_CREDITS_OVERFLOW, false);
	sdp_conn_free(c);

	/* A single header granting more than 255 at once. */
	c = srv_up(&cfg, 255, 1364);
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 300, 0, 0, 0),
	    1001), SDP_ERR_RX_CREDITS_OVERFLOW);
	sdp_conn_free(c);
}

static void
test_peer_without_credit(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c;
	uint8_t *b;
	int i;

	cfg.recv_credit_initial = 2;
	c = srv_up(&cfg, 2, 1364);
	/* The peer has two credits and grants us none: we cannot refill. */
	for (i = 0; i < 2; i++) {
		b = newbuf();
		assert_int_equal(sdp_on_recv(c, b, mkdata(b, 2, 0, 0, 0, 0),
		    1001), 0);
		drain(c);
	}
	assert_int_equal(stats(c).peer_credits, 0);
	assert_int_equal(stats(c).recv_credits_posted, 3);
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 2, 0, 0, 0, 0), 1002),
	    SDP_ERR_RX_NO_CREDIT);
	drain(c);
	expect_disconnect(SDP_ERR_RX_NO_CREDIT, false);
	sdp_conn_free(c);

	/* With nothing posted at all the message cannot have landed. */
	cfg.recv_credit_initial = 3;
	c = srv_up(&cfg, 3, 1364);
	assert_int_equal(sdp_set_upper_blocked(c, true, 1000), 0);
	for (i = 0; i < 3; i++) {
		b = newbuf();
		assert_int_equal(sdp_on_recv(c, b, mkdata(b, 2, 0, 0, 0, 0),
		    1001), 0);
		drain(c);
	}
	assert_int_equal(stats(c).recv_credits_posted, 0);
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 2, 0, 0, 0, 0), 1002),
	    SDP_ERR_RX_NOT_POSTED);
	sdp_conn_free(c);

	/* A spare stays posted while blocked: the message lands, caught. */
	cfg.recv_spare = 1;
	c = srv_up(&cfg, 3, 1364);
	assert_int_equal(sdp_set_upper_blocked(c, true, 1000), 0);
	for (i = 0; i < 3; i++) {
		b = newbuf();
		assert_int_equal(sdp_on_recv(c, b, mkdata(b, 2, 0, 0, 0, 0),
		    1001), 0);
		drain(c);
		assert_int_equal(count(SDP_ACT_POST_RECV), 0);
	}
	assert_int_equal(stats(c).recv_credits_posted, 1);
	assert_int_equal(stats(c).peer_credits, 0);
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 2, 0, 0, 0, 0), 1002),
	    SDP_ERR_RX_NO_CREDIT);
	drain(c);
	expect_disconnect(SDP_ERR_RX_NO_CREDIT, false);
	sdp_conn_free(c);
}

/* ---------------------------------------------------------------------
 * The spare receive: a send without a credit is seen, not lost
 * ------------------------------------------------------------------- */

/*
 * What a raw peer can know of the engine it talks to, from the actions
 * alone: the receives the engine asked its caller to post and has not had
 * used yet, and the credits it granted that the peer has not spent.
 */
struct rxbook {
	unsigned	posted;
	unsigned	credits;
};

static void
book(struct rxbook *k)
{
	struct sdp_neg_resp r;
	unsigned i;

	for (i = 0; i < A.n; i++) {
		const struct sdp_action *a = &A.a[i];

		if (a->type == SDP_ACT_POST_RECV) {
			k->posted += a->u.post_recv.count;
		} else if (a->type == SDP_ACT_SEND &&
		    a->u.send.hdr_len == SDP_NEG_RESP_SIZE) {
			assert_int_equal(sdp_neg_resp_decode(a->u.send.hdr,
			    a->u.send.hdr_len, &r), 0);
			k->credits += r.credits_granted;
		} else if (a->type == SDP_ACT_SEND) {
			k->credits += sent_hdr(a).credits_granted;
		}
	}
}

/* The peer's message uses one posted receive, and a credit if it has one. */
static int
book_recv(struct sdp_conn *c, struct rxbook *k, uint8_t *b, size_t n,
    uint64_t now)
{
	int rc;

	assert_true(k->posted > 0);
	k->posted--;
	if (k->credits > 0) {
		k->credits--;
	}
	rc = sdp_on_recv(c, b, n, now);
	drain(c);
	book(k);
	return rc;
}

static void
test_spare_negotiate(void **state)
{
	static const enum sdp_action_type t_neg[] = {
		SDP_ACT_POST_RECV, SDP_ACT_SEND, SDP_ACT_NEGOTIATED,
		SDP_ACT_TIMER,
	};
	struct sdp_config cfg = example_cfg(SDP_ROLE_SERVER);
	struct sdp_neg_resp r = good_resp();
	struct sdp_conn *c = NULL;
	struct sdp_params p;
	uint8_t *b = newbuf();

	/*
	 * Server: the grant and the spare are posted before the response,
	 * which grants exactly the grant: the wire is the example's, byte
	 * for byte.
	 */
	cfg.recv_spare = 1;
	assert_int_equal(sdp_conn_new(&cfg, NULL, &c), 0);
	assert_int_equal(sdp_start(c, 1000), 0);
	drain(c);
	assert_int_equal(nth(SDP_ACT_POST_RECV, 0)->u.post_recv.count, 1);
	memcpy(b, ex_neg_req, sizeof(ex_neg_req));
	assert_int_equal(sdp_on_recv(c, b, sizeof(ex_neg_req), 2000), 0);
	drain(c);
	expect_types(t_neg, 4);
	assert_int_equal(A.a[0].u.post_recv.count, 10 + 1);
	assert_memory_equal(A.a[1].u.send.hdr, ex_neg_resp,
	    SDP_NEG_RESP_SIZE);
	assert_int_equal(sdp_get_params(c, &p), 0);
	assert_int_equal(p.initial_recv_credits, 10);
	assert_int_equal(stats(c).peer_credits, 10);
	assert_int_equal(stats(c).recv_credits_posted, 11);
	assert_int_equal(stats(c).recv_window, 10);
	sdp_conn_free(c);

	/* Client: its first message grants all it posted but the spare. */
	cfg = cli_cfg();
	cfg.recv_spare = 1;
	c = cli_up(&cfg, &r);
	assert_int_equal(nth(SDP_ACT_POST_RECV, 0)->u.post_recv.count, 8 + 1);
	assert_int_equal(count(SDP_ACT_SEND), 1);
	assert_int_equal(sent_hdr(nth(SDP_ACT_SEND, 0)).credits_granted, 8);
	assert_int_equal(stats(c).peer_credits, 8);
	assert_int_equal(stats(c).recv_credits_posted, 9);
	sdp_conn_free(c);

	/* The grant leaves room for the spare even at recv_credit_max. */
	cfg = srv_cfg();
	cfg.recv_credit_max = 4;
	cfg.recv_credit_initial = 4;
	cfg.recv_spare = 1;
	c = srv_up(&cfg, 255, 1364);
	assert_int_equal(nth(SDP_ACT_POST_RECV, 0)->u.post_recv.count, 4);
	assert_int_equal(stats(c).peer_credits, 3);
	assert_int_equal(stats(c).recv_credits_posted, 4);
	sdp_conn_free(c);
}

/*
 * A client spends every credit on PDUs the upper layer keeps, then sends
 * one more back to back. Without a spare no receive is left for it: on a
 * real QP it never arrives (RNR retries on RoCE, a terminated QP on
 * iWARP). With one, it lands in a receive the engine asked for and the
 * credit check catches it.
 */
static void
test_spare_catches_send_without_credit(void **state)
{
	unsigned spare;

	for (spare = 0; spare <= 1; spare++) {
		struct sdp_config cfg = srv_cfg();
		struct rxbook k = { 0, 0 };
		struct sdp_conn *c = NULL;
		uint8_t *b;
		size_t n;
		int i, rc;

		print_message("recv_spare %u\n", spare);
		cfg.recv_credit_max = (uint16_t)(3 + spare);
		cfg.recv_credit_initial = 3;
		cfg.recv_spare = spare;
		assert_int_equal(sdp_conn_new(&cfg, NULL, &c), 0);
		assert_int_equal(sdp_start(c, 1000), 0);
		drain(c);
		book(&k);
		b = newbuf();
		n = mkreq(b, 0x0100, 0x0100, 3, 1364, 8192, 1u << 20);
		assert_int_equal(book_recv(c, &k, b, n, 1000), 0);
		assert_int_equal(k.credits, 3);
		assert_int_equal(k.posted, 3 + spare);
		complete_all(c, 1000);

		for (i = 0; i < 3; i++) {
			b = newbuf();
			n = mkdata(b, 3, i == 0 ? 10 : 0, 0, 0, 100);
			assert_int_equal(book_recv(c, &k, b, n, 1001), 1);
			/* The spare is never granted. */
			assert_true(k.posted >= k.credits + spare);
			assert_int_equal(stats(c).peer_credits, k.credits);
		}
		assert_int_equal(k.credits, 0);
		assert_int_equal(stats(c).recv_held, 3);
		assert_int_equal(count(SDP_ACT_SEND), 0);
		assert_int_equal(k.posted, spare);
		/* A reply goes out: it has nothing to grant, not the spare. */
		assert_int_equal(sdp_send_pdu(c, 1, 100, 0, 1001), 0);
		drain(c);
		book(&k);
		assert_int_equal(count(SDP_ACT_SEND), 1);
		assert_int_equal(count(SDP_ACT_POST_RECV), 0);
		assert_int_equal(k.credits, 0);
		assert_int_equal(k.posted, spare);

		b = newbuf();
		n = mkdata(b, 3, 0, 0, 0, 100);
		if (spare == 0) {
			/* Only a harness can deliver it: nothing was posted. */
			assert_int_equal(sdp_on_recv(c, b, n, 1002),
			    SDP_ERR_RX_NOT_POSTED);
		} else {
			rc = book_recv(c, &k, b, n, 1002);
			assert_int_equal(rc, SDP_ERR_RX_NO_CREDIT);
			expect_disconnect(SDP_ERR_RX_NO_CREDIT, false);
			assert_string_equal(sdp_error_name(rc),
			    "rx_without_credit");
			assert_int_equal(k.posted, 0);
		}
		sdp_conn_free(c);
	}
}

/* ---------------------------------------------------------------------
 * Receive checks and reassembly
 * ------------------------------------------------------------------- */

struct rx_row {
	const char	*what;
	uint16_t	 cr;
	uint32_t	 rdl, doff, dl;
	size_t		 len;
	int		 want;
};

static const struct rx_row rx_rows[] = {
	{ "empty", 255, 0, 0, 0, 20, 0 },
	{ "short", 255, 0, 0, 0, 19, SDP_ERR_RX_SHORT },
	{ "full buffer", 255, 0, 24, 8192 - 24, 8192, 1 },
	{ "longer than MaxReceiveSize", 255, 0, 24, 100, 8193,
	    SDP_ERR_RX_TOO_LONG },
	{ "credits requested 0", 0, 0, 0, 0, 20,
	    SDP_ERR_RX_CREDITS_REQUESTED },
	{ "offset unaligned", 255, 0, 28, 10, 100,
	    SDP_ERR_RX_DATA_OFFSET_ALIGN },
	{ "offset 32", 255, 0, 32, 10, 42, 1 },
	{ "offset in header", 255, 0, 16, 10, 100,
	    SDP_ERR_RX_DATA_OFFSET_HEADER },
	{ "data to the end", 255, 0, 24, 76, 100, 1 },
	{ "data beyond", 255, 0, 24, 77, 100, SDP_ERR_RX_DATA_BEYOND },
	{ "fragmented at max", 255, (1u << 20) - 100, 24, 100, 124, 1 },
	{ "fragmented above max", 255, (1u << 20) - 99, 24, 100, 124,
	    SDP_ERR_RX_FRAGMENTED_SIZE },
	{ "empty with remaining", 255, 5, 0, 0, 20,
	    SDP_ERR_RX_EMPTY_FRAGMENT },
};

static void
test_receive_checks(void **state)
{
	struct sdp_config cfg = srv_cfg();
	size_t i;

	for (i = 0; i < sizeof(rx_rows) / sizeof(rx_rows[0]); i++) {
		const struct rx_row *r = &rx_rows[i];
		struct sdp_data_hdr h = {
			.credits_requested = r->cr,
			.remaining_data_length = r->rdl,
			.data_offset = r->doff, .data_length = r->dl,
		};
		struct sdp_conn *c;
		uint8_t *b;
		int rc;

		print_message("receive: %s\n", r->what);
		c = srv_up(&cfg, 255, 8192);
		b = newbuf();
		sdp_data_hdr_encode(&h, b, BUF_SIZE);
		rc = sdp_on_recv(c, b, r->len, 2000);
		drain(c);
		assert_int_equal(rc, r->want);
		if (r->want < 0) {
			expect_disconnect(r->want, false);
			assert_int_equal(sdp_get_state(c),
			    SDP_STATE_DISCONNECTED);
		}
		sdp_conn_free(c);
	}
}

static void
test_reassembly(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c = srv_up(&cfg, 255, 8192);
	const struct sdp_action *d;
	uint8_t *b;
	int i;

	assert_int_equal(sdp_rx_remaining(c), 0);
	for (i = 0; i < 3; i++) {
		b = newbuf();
		assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 0, 0,
		    (uint32_t)(2 - i) * 1000, 1000), 1000), 1);
		drain(c);
		/* Mid-PDU until the last fragment: what the peer still owes. */
		assert_int_equal(sdp_rx_remaining(c), (uint32_t)(2 - i) * 1000);
		d = nth(SDP_ACT_DELIVER, 0);
		assert_int_equal(d->u.deliver.pdu_len, 3000);
		assert_int_equal(d->u.deliver.pdu_off, (size_t)i * 1000);
		assert_int_equal(d->u.deliver.first, i == 0);
		assert_int_equal(d->u.deliver.last, i == 2);
		/* An empty message between fragments changes nothing. */
		b = newbuf();
		assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 0, 0, 0, 0),
		    1000), 0);
		drain(c);
		assert_int_equal(count(SDP_ACT_DELIVER), 0);
		assert_int_equal(sdp_rx_remaining(c), (uint32_t)(2 - i) * 1000);
		assert_int_equal(sdp_rx_release(c, 1), 0);
		drain(c);
	}
	assert_int_equal(stats(c).pdus_received, 1);
	sdp_conn_free(c);
}

struct frag_seq {
	const char	*what;
	uint32_t	 dl1, rdl1, dl2, rdl2;
	int		 want;
};

static const struct frag_seq frag_seqs[] = {
	{ "continues", 1000, 2000, 1000, 1000, 1 },
	{ "empty, remaining repeated", 1000, 2000, 0, 2000, 0 },
	{ "remaining inconsistent", 1000, 2000, 1000, 500,
	    SDP_ERR_RX_REMAINING_MISMATCH },
	{ "new PDU mid-PDU", 1000, 2000, 500, 0,
	    SDP_ERR_RX_REMAINING_MISMATCH },
	{ "more than remains", 1000, 1000, 1500, 0,
	    SDP_ERR_RX_REMAINING_MISMATCH },
	{ "empty with other remaining", 1000, 2000, 0, 1999,
	    SDP_ERR_RX_EMPTY_FRAGMENT },
	{ "continuation beyond max", 1000, 2000, 1000,
	    (1u << 20), SDP_ERR_RX_FRAGMENTED_SIZE },
};

static void
test_reassembly_rejections(void **state)
{
	struct sdp_config cfg = srv_cfg();
	size_t i;

	for (i = 0; i < sizeof(frag_seqs) / sizeof(frag_seqs[0]); i++) {
		const struct frag_seq *f = &frag_seqs[i];
		struct sdp_conn *c = srv_up(&cfg, 255, 8192);
		uint8_t *b = newbuf();
		int rc;

		print_message("reassembly: %s\n", f->what);
		assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 0, 0,
		    f->rdl1, f->dl1), 1000), 1);
		drain(c);
		assert_int_equal(sdp_rx_remaining(c), f->rdl1);
		b = newbuf();
		rc = sdp_on_recv(c, b, mkdata(b, 255, 0, 0, f->rdl2, f->dl2),
		    1000);
		drain(c);
		assert_int_equal(rc, f->want);
		if (f->want < 0) {
			expect_disconnect(f->want, false);
			/* A refused fragment leaves the PDU unfinished. */
			assert_int_equal(sdp_rx_remaining(c), f->rdl1);
		} else {
			assert_int_equal(sdp_rx_remaining(c), f->rdl2);
		}
		sdp_conn_free(c);
	}
}

/* ---------------------------------------------------------------------
 * Fragmentation round trips through two engines
 * ------------------------------------------------------------------- */

static void
link_up(struct tlink *l, uint32_t send_size, uint32_t frag)
{
	struct sdp_config cc = cli_cfg(), sc = srv_cfg();

	cc.max_send_size = sc.max_send_size = send_size;
	cc.max_receive_size = sc.max_receive_size = send_size;
	cc.max_fragmented_size = sc.max_fragmented_size = frag;
	assert_int_equal(tlink_init(l, &cc, &sc, NULL), 0);
	assert_int_equal(tlink_start(l), 0);
	tlink_settle(l);
	assert_true(l->s[T_CLIENT].negotiated);
	assert_true(l->s[T_SERVER].negotiated);
}

static size_t *sizes;
static size_t n_sizes, cap_sizes;

static void
add_size(size_t s, size_t max)
{
	if (s < 1 || s > max) {
		return;
	}
	if (n_sizes == cap_sizes) {
		cap_sizes = cap_sizes ? cap_sizes * 2 : 1024;
		sizes = realloc(sizes, cap_sizes * sizeof(*sizes));
		assert_non_null(sizes);
	}
	sizes[n_sizes++] = s;
}

/*
 * Sizes 1..3 payloads and up to 4 KiB densely, then every multiple of the
 * payload per message and of MaxSendSize, each -1, +0 and +1, up to and
 * including MaxFragmentedSize.
 */
static void
frag_sizes(uint32_t send_size, uint32_t frag)
{
	size_t payload = send_size - SDP_DATA_OFFSET, m, s;

	n_sizes = 0;
	for (s = 1; s <= 3 * payload + 1 || s <= 4096; s++) {
		add_size(s, frag);
	}
	for (m = payload; m <= (size_t)frag + 1; m += payload) {
		add_size(m - 1, frag);
		add_size(m, frag);
		add_size(m + 1, frag);
	}
	for (m = send_size; m <= (size_t)frag + 1; m += send_size) {
		add_size(m - 1, frag);
		add_size(m, frag);
		add_size(m + 1, frag);
	}
	add_size(frag - 1, frag);
	add_size(frag, frag);
}

static void
frag_round_trip(uint32_t send_size, uint32_t frag, int from)
{
	struct tlink l;
	struct tside *tx, *rx;
	size_t i = 0;
	uint64_t bytes = 0, msgs0;
	int rc;

	link_up(&l, send_size, frag);
	tx = &l.s[from];
	rx = &l.s[1 - from];
	frag_sizes(send_size, frag);
	msgs0 = stats(tx->conn).msgs_sent;
	while (i < n_sizes) {
		rc = tlink_submit(&l, from, sizes[i], 0);
		if (rc == SDP_ERR_WOULDBLOCK) {
			tlink_settle(&l);
			continue;
		}
		assert_int_equal(rc, 0);
		bytes += sizes[i];
		i++;
	}
	tlink_settle(&l);
	assert_int_equal(rx->pdus_delivered, n_sizes);
	assert_int_equal(rx->bytes_delivered, bytes);
	assert_int_equal(stats(rx->conn).pdus_received, n_sizes);
	assert_false(tx->disconnected || rx->disconnected);
	print_message("MaxSendSize %u, MaxFragmentedSize %u: %zu PDUs, "
	    "%llu bytes, %llu messages\n", send_size, frag, n_sizes,
	    (unsigned long long)bytes,
	    (unsigned long long)(stats(tx->conn).msgs_sent - msgs0));
	tlink_clear(&l);
}

static void
test_fragmentation_1364(void **state)
{
	frag_round_trip(1364, 1u << 20, T_CLIENT);
}

static void
test_fragmentation_8192(void **state)
{
	frag_round_trip(8192, 1u << 20, T_SERVER);
}

static void
test_fragmentation_small(void **state)
{
	/* The smallest legal messages: 104 bytes of payload each. */
	frag_round_trip(128, 131072, T_SERVER);
}

static void
test_fragment_headers(void **state)
{
	struct sdp_config cfg = cli_cfg();
	struct sdp_neg_resp r = good_resp();
	struct sdp_conn *c;
	struct sdp_data_hdr h;
	unsigned i;

	/* 1340 payload bytes a message: 3000 = 1340 + 1340 + 320. */
	r.max_receive_size = 1364;
	c = cli_up(&cfg, &r);
	assert_int_equal(sdp_send_pdu(c, 5, 3000, 0xabcd, 1000), 0);
	assert_int_equal(sdp_send_pdu(c, 6, 1340, 0, 1000), 0);
	assert_int_equal(sdp_send_pdu(c, 7, 1341, 0x77, 1000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 6);
	{
		static const struct {
			uint64_t cookie;
			uint32_t off, len, rdl, rkey;
		} want[] = {
			{ 5, 0, 1340, 1660, 0 }, { 5, 1340, 1340, 320, 0 },
			{ 5, 2680, 320, 0, 0xabcd }, { 6, 0, 1340, 0, 0 },
			{ 7, 0, 1340, 1, 0 }, { 7, 1340, 1, 0, 0x77 },
		};

		for (i = 0; i < 6; i++) {
			const struct sdp_action *a = nth(SDP_ACT_SEND, i);

			h = sent_hdr(a);
			assert_int_equal(a->u.send.cookie, want[i].cookie);
			assert_int_equal(a->u.send.pdu_off, want[i].off);
			assert_int_equal(a->u.send.pdu_len, want[i].len);
			assert_int_equal(h.data_length, want[i].len);
			assert_int_equal(h.remaining_data_length, want[i].rdl);
			assert_int_equal(h.data_offset, 24);
			assert_int_equal(a->u.send.invalidate_rkey,
			    want[i].rkey);
			assert_int_equal(a->u.send.last_of_pdu,
			    want[i].rdl == 0);
			/* The grant went out with the credit message. */
			assert_int_equal(h.credits_granted, 0);
		}
	}
	assert_int_equal(stats(c).pdus_sent, 3);
	sdp_conn_free(c);
}

/* ---------------------------------------------------------------------
 * Send queue, outstanding sends, backpressure
 * ------------------------------------------------------------------- */

static void
test_send_queue_bounds(void **state)
{
	struct sdp_config cfg = cli_cfg();
	struct sdp_neg_resp r = good_resp();
	struct sdp_conn *c;
	uint8_t *b;
	int i;

	assert_int_equal(sdp_conn_new(&cfg, NULL, &c), 0);
	assert_int_equal(sdp_send_pdu(c, 1, 10, 0, 0), SDP_ERR_STATE);
	sdp_conn_free(c);

	cfg.send_queue_max = 4;
	cfg.max_outstanding_sends = 1000;
	r.credits_granted = 1;
	r.max_fragmented_size = 131072;
	c = cli_up(&cfg, &r);
	/* The one credit went to the initial grant. */
	assert_int_equal(stats(c).send_credits, 0);
	assert_int_equal(sdp_send_pdu(c, 1, 0, 0, 1000), SDP_ERR_INVAL);
	assert_int_equal(sdp_send_pdu(c, 1, 131073, 0, 1000),
	    SDP_ERR_MSGSIZE);
	for (i = 0; i < 4; i++) {
		assert_int_equal(sdp_send_pdu(c, (uint64_t)i,
		    i == 0 ? 131072 : 10, 0, 1000), 0);
	}
	assert_int_equal(sdp_send_pdu(c, 9, 10, 0, 1000), SDP_ERR_WOULDBLOCK);
	assert_int_equal(sdp_send_pdu(c, 9, 10, 0, 1000), SDP_ERR_WOULDBLOCK);
	drain(c);
	assert_int_equal(count(SDP_ACT_WRITABLE), 0);
	assert_int_equal(stats(c).queued_pdus, 4);

	/*
	 * 100 credits: the big PDU's 98 messages and two small PDUs, the
	 * last one on the last credit with a grant of one extra receive.
	 */
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 100, 0, 0, 0),
	    1001), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 100);
	assert_int_equal(sent_hdr(nth(SDP_ACT_SEND, 99)).credits_granted, 1);
	assert_int_equal(count(SDP_ACT_WRITABLE), 1);
	assert_int_equal(stats(c).queued_pdus, 1);
	assert_int_equal(stats(c).send_credits, 0);
	/* WRITABLE comes after the sends that freed the queue. */
	assert_int_equal(A.a[A.n - 1].type, SDP_ACT_WRITABLE);
	drain(c);
	assert_int_equal(count(SDP_ACT_WRITABLE), 0);
	sdp_conn_free(c);
}

static void
test_outstanding_bound(void **state)
{
	struct sdp_config cfg = cli_cfg();
	struct sdp_neg_resp r = good_resp();
	struct sdp_conn *c;
	int i;

	cfg.max_outstanding_sends = 2;
	c = cli_up(&cfg, &r);
	/* The initial grant is one outstanding send already. */
	assert_int_equal(stats(c).sends_outstanding, 1);
	for (i = 0; i < 10; i++) {
		assert_int_equal(sdp_send_pdu(c, (uint64_t)i, 100, 0, 1000),
		    0);
	}
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 1);
	assert_int_equal(sdp_on_send_complete(c, 3, 1000), SDP_ERR_INVAL);
	assert_int_equal(sdp_on_send_complete(c, 2, 1000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 2);
	assert_int_equal(sdp_on_send_complete(c, 1, 1000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 1);
	assert_int_equal(stats(c).sends_outstanding, 2);
	sdp_conn_free(c);
}

static void
test_upper_blocked(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c = srv_up(&cfg, 255, 8192);
	uint8_t *b;
	int i;

	/* Blocked; the peer grants us plenty and sends three PDUs. */
	assert_int_equal(sdp_set_upper_blocked(c, true, 1000), 0);
	for (i = 0; i < 3; i++) {
		b = newbuf();
		assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255,
		    i == 0 ? 50 : 0, 0, 0, 100), 1000), 1);
		drain(c);
		assert_int_equal(count(SDP_ACT_POST_RECV), 0);
	}
	assert_int_equal(sdp_rx_release(c, 4), SDP_ERR_INVAL);
	assert_int_equal(sdp_rx_release(c, 3), 0);
	drain(c);
	/* Blocked: the buffers are not posted again, no credit granted. */
	assert_int_equal(count(SDP_ACT_POST_RECV), 0);
	assert_int_equal(count(SDP_ACT_SEND), 0);
	assert_int_equal(stats(c).recv_credits_posted, 5);
	assert_int_equal(sdp_set_upper_blocked(c, false, 1000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_POST_RECV), 1);
	assert_int_equal(nth(SDP_ACT_POST_RECV, 0)->u.post_recv.count, 3);
	assert_int_equal(sent_hdr(nth(SDP_ACT_SEND, 0)).credits_granted, 3);
	sdp_conn_free(c);
}

/* An idle connection holds few receives; a busy one earns more. */
static void
test_receive_window(void **state)
{
	struct tlink l;
	struct sdp_stats st;
	int i;

	link_up(&l, 1364, 1u << 20);
	st = stats(l.s[T_SERVER].conn);
	assert_int_equal(st.recv_credits_posted, 8);
	assert_int_equal(st.recv_window, 8);
	assert_int_equal(stats(l.s[T_CLIENT].conn).recv_credits_posted, 8);
	for (i = 0; i < 20; i++) {
		assert_int_equal(tlink_submit(&l, T_CLIENT, 65536, 0), 0);
		tlink_settle(&l);
	}
	st = stats(l.s[T_SERVER].conn);
	assert_true(st.recv_window > 8);
	assert_true(st.recv_credits_posted > 8);
	print_message("window after streaming: %u\n", st.recv_window);
	/* Idle for the keepalive interval: back to the initial window. */
	tlink_advance(&l, 120000);
	tlink_settle(&l);
	st = stats(l.s[T_SERVER].conn);
	assert_int_equal(st.recv_window, 8);
	assert_false(l.s[T_SERVER].disconnected);
	assert_false(l.s[T_CLIENT].disconnected);
	tlink_clear(&l);
}

/* ---------------------------------------------------------------------
 * Keepalive
 * ------------------------------------------------------------------- */

static struct sdp_conn *
ka_server(uint32_t interval, uint32_t timeout)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c;
	uint8_t *b = newbuf();

	cfg.keepalive_interval_ms = interval;
	cfg.keepalive_timeout_ms = timeout;
	c = srv_up(&cfg, 255, 1364);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms,
	    1000 + interval);
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 5, 0, 0, 0), 1000),
	    0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 0);
	return c;
}

static void
test_keepalive_unanswered(void **state)
{
	struct sdp_conn *c = ka_server(1000, 500);
	struct sdp_data_hdr h;

	assert_int_equal(sdp_on_timer(c, 1999), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 0);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 2000);
	assert_int_equal(sdp_on_timer(c, 2000), 0);
	drain(c);
	h = sent_hdr(nth(SDP_ACT_SEND, 0));
	assert_int_equal(h.flags, SDP_FLAG_RESPONSE_REQUESTED);
	assert_int_equal(h.data_length, 0);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 2500);
	assert_int_equal(stats(c).keepalives_sent, 1);
	assert_int_equal(sdp_on_timer(c, 2499), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 0);
	assert_int_equal(sdp_on_timer(c, 2500), SDP_ERR_KEEPALIVE_TIMEOUT);
	drain(c);
	expect_disconnect(SDP_ERR_KEEPALIVE_TIMEOUT, false);
	sdp_conn_free(c);
}

static void
test_keepalive_answered(void **state)
{
	struct sdp_conn *c = ka_server(1000, 500);
	uint8_t *b = newbuf();
	unsigned i;

	assert_int_equal(sdp_on_timer(c, 2000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 1);
	/* Any message is an answer. */
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 0, 0, 0, 0), 2400),
	    0);
	drain(c);
	/* The armed deadline (2500) fires early and is moved on. */
	assert_int_equal(sdp_on_timer(c, 2500), 0);
	drain(c);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 3400);
	assert_int_equal(sdp_get_state(c), SDP_STATE_ESTABLISHED);
	/* Only our keepalive ever carried the flag. */
	for (i = 0; i < A.n; i++) {
		if (A.a[i].type == SDP_ACT_SEND) {
			assert_int_equal(sent_hdr(&A.a[i]).flags, 0);
		}
	}
	sdp_conn_free(c);
}

static void
test_keepalive_peer_request(void **state)
{
	struct sdp_conn *c = ka_server(1000, 500);
	struct sdp_data_hdr h;
	uint8_t *b = newbuf();

	/* The peer asks; we answer at once though we have nothing to say. */
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 0,
	    SDP_FLAG_RESPONSE_REQUESTED, 0, 0), 1500), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 1);
	h = sent_hdr(nth(SDP_ACT_SEND, 0));
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.data_length, 0);
	assert_int_equal(stats(c).keepalives_received, 1);
	assert_int_equal(stats(c).keepalives_sent, 0);
	sdp_conn_free(c);
}

static void
test_keepalive_while_blocked(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c;
	struct sdp_data_hdr h;
	uint8_t *b;
	int i;

	/*
	 * Blocked, one credit, every receive granted: a peer's keepalive
	 * still gets its answer, granting one extra receive.
	 */
	cfg.recv_credit_initial = 3;
	c = srv_up(&cfg, 255, 1364);
	assert_int_equal(sdp_set_upper_blocked(c, true, 1000), 0);
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 1,
	    SDP_FLAG_RESPONSE_REQUESTED, 0, 0), 1500), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_POST_RECV), 1);
	h = sent_hdr(nth(SDP_ACT_SEND, 0));
	assert_int_equal(h.credits_granted, 1);
	assert_int_equal(h.flags, 0);

	/*
	 * Our own keepalive when the peer holds no credit: it grants one so
	 * the peer can answer.
	 */
	for (i = 0; i < 3; i++) {
		b = newbuf();
		assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255,
		    i == 0 ? 3 : 0, 0, 0, 0), 1600), 0);
	}
	drain(c);
	assert_int_equal(stats(c).peer_credits, 0);
	assert_int_equal(sdp_on_timer(c, 1600 + 120000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_POST_RECV), 1);
	h = sent_hdr(nth(SDP_ACT_SEND, 0));
	assert_int_equal(h.flags, SDP_FLAG_RESPONSE_REQUESTED);
	assert_int_equal(h.credits_granted, 1);
	sdp_conn_free(c);
}

/*
 * A peer that never grants us a credit: the keepalive request cannot go
 * out, and after keepalive_timeout_ms more the connection ends as if it
 * had gone unanswered.
 */
static void
test_keepalive_no_credit(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c;

	cfg.keepalive_interval_ms = 1000;
	cfg.keepalive_timeout_ms = 500;
	c = srv_up(&cfg, 255, 1364);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 2000);
	assert_int_equal(stats(c).send_credits, 0);
	assert_int_equal(sdp_on_timer(c, 2000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 0);
	assert_int_equal(count(SDP_ACT_TIMER), 1);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 2500);
	assert_int_equal(stats(c).keepalives_sent, 0);
	/* Early: re-armed, nothing else. */
	assert_int_equal(sdp_on_timer(c, 2499), 0);
	drain(c);
	assert_int_equal(A.n, 1);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 2500);
	assert_int_equal(sdp_on_timer(c, 2500), SDP_ERR_KEEPALIVE_TIMEOUT);
	drain(c);
	expect_disconnect(SDP_ERR_KEEPALIVE_TIMEOUT, false);
	assert_string_equal(sdp_error_name(A.a[A.n - 1].u.disconnect.reason),
	    "keepalive_timeout");
	assert_int_equal(stats(c).keepalives_sent, 0);
	sdp_conn_free(c);
}

/*
 * The same peer grants a credit in time. A credit comes in a message,
 * and any message proves the peer alive: the request is dropped and the
 * idle time starts again. At the next idle firing we hold the credit and
 * the keepalive goes out.
 */
static void
test_keepalive_credit_in_time(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c;
	struct sdp_data_hdr h;
	uint8_t *b;

	cfg.keepalive_interval_ms = 1000;
	cfg.keepalive_timeout_ms = 500;
	c = srv_up(&cfg, 255, 1364);
	assert_int_equal(sdp_on_timer(c, 2000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 0);
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 1, 0, 0, 0), 2200),
	    0);
	drain(c);
	assert_int_equal(stats(c).send_credits, 1);
	/* The pending deadline fires early: no failure, the idle time next. */
	assert_int_equal(sdp_on_timer(c, 2500), 0);
	drain(c);
	assert_int_equal(sdp_get_state(c), SDP_STATE_ESTABLISHED);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 3200);
	assert_int_equal(sdp_on_timer(c, 3200), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 1);
	h = sent_hdr(nth(SDP_ACT_SEND, 0));
	assert_int_equal(h.flags, SDP_FLAG_RESPONSE_REQUESTED);
	/* Our last credit: it goes with a grant. */
	assert_true(h.credits_granted >= 1);
	assert_int_equal(stats(c).keepalives_sent, 1);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 3700);
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 1, 0, 0, 0), 3300),
	    0);
	drain(c);
	assert_int_equal(sdp_on_timer(c, 3700), 0);
	drain(c);
	assert_int_equal(sdp_get_state(c), SDP_STATE_ESTABLISHED);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 4300);
	sdp_conn_free(c);
}

/*
 * Credits but no send slot (max_outstanding_sends): the request waits for
 * a completion, goes out in time, and then has its own reply deadline.
 */
static void
test_keepalive_waits_for_send_slot(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c;
	uint8_t *b = newbuf();

	cfg.keepalive_interval_ms = 1000;
	cfg.keepalive_timeout_ms = 500;
	cfg.max_outstanding_sends = 1;
	c = srv_up(&cfg, 255, 1364);
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 5, 0, 0, 0), 1000),
	    0);
	drain(c);
	assert_int_equal(sdp_send_pdu(c, 1, 100, 0, 1000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 1);
	assert_int_equal(sdp_on_timer(c, 2000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 0);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 2500);
	assert_int_equal(sdp_on_send_complete(c, 1, 2300), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 1);
	assert_int_equal(sent_hdr(nth(SDP_ACT_SEND, 0)).flags,
	    SDP_FLAG_RESPONSE_REQUESTED);
	/* The armed 2500 fires early; the reply is due at 2800. */
	assert_int_equal(sdp_on_timer(c, 2500), 0);
	drain(c);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 2800);
	b = newbuf();
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 0, 0, 0, 0), 2600),
	    0);
	drain(c);
	assert_int_equal(sdp_on_timer(c, 2800), 0);
	drain(c);
	assert_int_equal(sdp_get_state(c), SDP_STATE_ESTABLISHED);
	assert_int_equal(nth(SDP_ACT_TIMER, 0)->u.timer.deadline_ms, 3600);
	sdp_conn_free(c);
}

/*
 * Two engines: the client's upper layer stalls, holding every buffer, so
 * the server runs out of credits mid-stream. Both idle timers fire; the
 * stalled client still sends its keepalive with a grant, which proves it
 * alive to the server before the server's unsent request times out. The
 * connection outlives several keepalive periods and then drains.
 */
static void
test_keepalive_stalled_peer_pair(void **state)
{
	struct sdp_config cc = cli_cfg(), sc = srv_cfg();
	struct tlink l;
	int i;

	sc.recv_spare = 1;
	assert_int_equal(tlink_init(&l, &cc, &sc, NULL), 0);
	assert_int_equal(tlink_start(&l), 0);
	tlink_settle(&l);
	l.s[T_CLIENT].blocked = true;
	assert_int_equal(sdp_set_upper_blocked(l.s[T_CLIENT].conn, true,
	    l.now), 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(tlink_submit(&l, T_SERVER, 65536, 0), 0);
	}
	tlink_settle(&l);
	assert_int_equal(stats(l.s[T_SERVER].conn).send_credits, 0);
	assert_true(stats(l.s[T_SERVER].conn).queued_pdus > 0);
	for (i = 0; i < 4 * 125; i++) {
		tlink_advance(&l, 1000);
		tlink_settle(&l);
		assert_false(l.s[T_SERVER].disconnected);
		assert_false(l.s[T_CLIENT].disconnected);
	}
	assert_true(stats(l.s[T_SERVER].conn).keepalives_received > 0);
	assert_true(stats(l.s[T_CLIENT].conn).keepalives_sent > 0);
	l.s[T_CLIENT].blocked = false;
	assert_int_equal(sdp_set_upper_blocked(l.s[T_CLIENT].conn, false,
	    l.now), 0);
	assert_int_equal(tlink_release(&l, T_CLIENT, l.s[T_CLIENT].held), 0);
	tlink_settle(&l);
	assert_int_equal(l.s[T_CLIENT].pdus_delivered, 8);
	tlink_clear(&l);
}

/* ---------------------------------------------------------------------
 * Lifecycle and misuse
 * ------------------------------------------------------------------- */

static void
test_shutdown(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c = srv_up(&cfg, 255, 1364);
	uint8_t *b = newbuf();

	assert_int_equal(sdp_send_pdu(c, 1, 10, 0, 1000), 0);
	assert_int_equal(sdp_shutdown(c, 1000), 0);
	drain(c);
	assert_int_equal(A.n, 1);
	expect_disconnect(SDP_ERR_SHUTDOWN, true);
	assert_int_equal(sdp_get_state(c), SDP_STATE_DISCONNECTED);
	assert_int_equal(sdp_shutdown(c, 1000), SDP_ERR_STATE);
	assert_int_equal(sdp_on_recv(c, b, 20, 1000), SDP_ERR_STATE);
	assert_int_equal(sdp_send_pdu(c, 1, 10, 0, 1000), SDP_ERR_STATE);
	assert_int_equal(sdp_on_send_complete(c, 0, 1000), SDP_ERR_STATE);
	assert_int_equal(sdp_rx_release(c, 0), SDP_ERR_STATE);
	assert_int_equal(sdp_set_upper_blocked(c, true, 1000), SDP_ERR_STATE);
	assert_int_equal(sdp_on_timer(c, 1000), SDP_ERR_STATE);
	assert_int_equal(sdp_start(c, 1000), SDP_ERR_STATE);
	assert_int_equal(drain(c), 0);
	sdp_conn_free(c);

	/* Before anything started, too. */
	assert_int_equal(sdp_conn_new(&cfg, NULL, &c), 0);
	assert_int_equal(sdp_shutdown(c, 0), 0);
	drain(c);
	expect_disconnect(SDP_ERR_SHUTDOWN, true);
	sdp_conn_free(c);
}

static void
test_misuse(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_mem bad = { NULL, NULL, NULL };
	struct sdp_conn *c = NULL;
	uint8_t b[32] = { 0 };

	assert_int_equal(sdp_conn_new(NULL, NULL, &c), SDP_ERR_INVAL);
	assert_int_equal(sdp_conn_new(&cfg, NULL, NULL), SDP_ERR_INVAL);
	assert_int_equal(sdp_conn_new(&cfg, &bad, &c), SDP_ERR_INVAL);
	assert_null(c);
	cfg.recv_credit_max = 2;
	assert_int_equal(sdp_conn_new(&cfg, NULL, &c),
	    SDP_ERR_CFG_RECV_CREDIT_MAX);
	assert_null(c);
	sdp_conn_free(NULL);

	cfg = srv_cfg();
	assert_int_equal(sdp_conn_new(&cfg, NULL, &c), 0);
	assert_int_equal(sdp_on_recv(c, b, 20, 0), SDP_ERR_STATE);
	assert_int_equal(sdp_on_send_complete(c, 1, 0), SDP_ERR_STATE);
	assert_int_equal(sdp_rx_release(c, 1), SDP_ERR_STATE);
	assert_int_equal(sdp_set_upper_blocked(c, true, 0), 0);
	assert_int_equal(sdp_set_upper_blocked(c, false, 0), 0);
	assert_int_equal(drain(c), 0);
	assert_int_equal(sdp_start(c, 0), 0);
	assert_int_equal(sdp_on_recv(c, NULL, 5, 0), SDP_ERR_INVAL);
	assert_int_equal(sdp_on_send_complete(c, 1, 0), SDP_ERR_INVAL);
	assert_int_equal(sdp_rx_release(c, 1), SDP_ERR_INVAL);
	/* A zero-length completion is no message at all: too short. */
	assert_int_equal(sdp_on_recv(c, NULL, 0, 0), SDP_ERR_NEG_SHORT);
	sdp_conn_free(c);
}

static void
test_clock_backwards(void **state)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c;
	uint8_t *b = newbuf();

	cfg.keepalive_interval_ms = 1000;
	c = srv_up(&cfg, 255, 1364);
	assert_int_equal(sdp_on_recv(c, b, mkdata(b, 255, 5, 0, 0, 0), 500),
	    0);
	drain(c);
	/* The engine kept its clock at 1000: nothing is due at 1999. */
	assert_int_equal(sdp_on_timer(c, 1999), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 0);
	assert_int_equal(sdp_on_timer(c, 2000), 0);
	drain(c);
	assert_int_equal(count(SDP_ACT_SEND), 1);
	sdp_conn_free(c);
}

/* ---------------------------------------------------------------------
 * failmalloc: every allocation fails once, in every scenario
 * ------------------------------------------------------------------- */

struct fm_result {
	uint64_t	delivered;
	uint64_t	sent;
	int		end_state;
};

/*
 * Server with a raw client that never lets it drain between inputs, so
 * the action ring has to grow. Each input that reports SDP_ERR_NOMEM is
 * retried once: the engine must have been left as it was.
 */
static int
fm_retry_recv(struct sdp_conn *c, struct tmem *m, const uint8_t *b,
    size_t n, uint64_t now)
{
	int rc = sdp_on_recv(c, b, n, now);

	if (rc == SDP_ERR_NOMEM) {
		assert_true(m->failed);
		rc = sdp_on_recv(c, b, n, now);
	}
	return rc;
}

static void
fm_scenario_server(struct tmem *m, const struct sdp_mem *mem,
    struct fm_result *res)
{
	struct sdp_config cfg = srv_cfg();
	struct sdp_conn *c = NULL;
	struct sdp_action a;
	uint8_t *b;
	int rc, i;

	/* Room for all twenty messages without reposting. */
	cfg.recv_credit_initial = 32;
	memset(res, 0, sizeof(*res));
	rc = sdp_conn_new(&cfg, mem, &c);
	if (rc == SDP_ERR_NOMEM) {
		assert_true(m->failed);
		rc = sdp_conn_new(&cfg, mem, &c);
	}
	assert_int_equal(rc, 0);
	rc = sdp_start(c, 0);
	if (rc == SDP_ERR_NOMEM) {
		rc = sdp_start(c, 0);
	}
	assert_int_equal(rc, 0);
	b = newbuf();
	assert_int_equal(fm_retry_recv(c, m, b, mkreq(b, 0x100, 0x100, 255,
	    8192, 8192, 1u << 20), 1), 0);
	/* Twenty PDUs pile up undrained: DELIVERs fill the ring. */
	for (i = 0; i < 20; i++) {
		b = newbuf();
		assert_int_equal(fm_retry_recv(c, m, b, mkdata(b, 255,
		    i == 0 ? 20 : 0, 0, 0, 100), 2), 1);
	}
	rc = sdp_send_pdu(c, 1, 5000, 0, 3);
	assert_int_equal(rc, 0);
	while (sdp_next_action(c, &a) == 1) {
		res->delivered += a.type == SDP_ACT_DELIVER;
		res->sent += a.type == SDP_ACT_SEND;
	}
	assert_int_equal(sdp_rx_release(c, 20), 0);
	while (sdp_next_action(c, &a) == 1) {
		res->sent += a.type == SDP_ACT_SEND;
	}
	rc = sdp_on_timer(c, 200000);
	if (rc == SDP_ERR_NOMEM) {
		rc = sdp_on_timer(c, 200000);
	}
	rc = sdp_shutdown(c, 200001);
	if (rc == SDP_ERR_NOMEM) {
		rc = sdp_shutdown(c, 200001);
	}
	assert_int_equal(rc, 0);
	res->end_state = sdp_get_state(c);
	assert_int_equal(sdp_conn_check(c), 0);
	sdp_conn_free(c);
}

/* Client: negotiate, receive a burst undrained, then lose the peer. */
static void
fm_scenario_client(struct tmem *m, const struct sdp_mem *mem,
    struct fm_result *res)
{
	struct sdp_config cfg = cli_cfg();
	struct sdp_neg_resp r = good_resp();
	struct sdp_conn *c = NULL;
	struct sdp_action a;
	uint8_t *b;
	int rc, i;

	cfg.recv_credit_initial = 32;
	cfg.keepalive_interval_ms = 1000;
	cfg.keepalive_timeout_ms = 100;
	memset(res, 0, sizeof(*res));
	rc = sdp_conn_new(&cfg, mem, &c);
	if (rc == SDP_ERR_NOMEM) {
		assert_true(m->failed);
		rc = sdp_conn_new(&cfg, mem, &c);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(sdp_start(c, 0), 0);
	b = newbuf();
	sdp_neg_resp_encode(&r, b, BUF_SIZE);
	assert_int_equal(fm_retry_recv(c, m, b, SDP_NEG_RESP_SIZE, 1), 0);
	assert_int_equal(sdp_send_pdu(c, 1, 100000, 0x99, 1), 0);
	/* The first data message grants the server its credits. */
	while (sdp_next_action(c, &a) == 1) {
		res->sent += a.type == SDP_ACT_SEND;
	}
	for (i = 0; i < 12; i++) {
		b = newbuf();
		assert_int_equal(fm_retry_recv(c, m, b, mkdata(b, 255, 0, 0,
		    (uint32_t)(11 - i) * 500, 500), 2), 1);
	}
	while (sdp_next_action(c, &a) == 1) {
		res->delivered += a.type == SDP_ACT_DELIVER;
		res->sent += a.type == SDP_ACT_SEND;
	}
	assert_int_equal(sdp_rx_release(c, 12), 0);
	rc = sdp_on_send_complete(c, stats(c).sends_outstanding, 3);
	if (rc == SDP_ERR_NOMEM) {
		rc = sdp_on_send_complete(c, stats(c).sends_outstanding, 3);
	}
	assert_int_equal(rc, 0);
	while (sdp_next_action(c, &a) == 1) {
		res->sent += a.type == SDP_ACT_SEND;
	}
	for (i = 0; i < 2; i++) {
		rc = sdp_on_timer(c, i == 0 ? 1002 : 2000);
		if (rc == SDP_ERR_NOMEM) {
			rc = sdp_on_timer(c, i == 0 ? 1002 : 2000);
		}
		while (sdp_next_action(c, &a) == 1) {
			res->sent += a.type == SDP_ACT_SEND;
		}
	}
	assert_int_equal(rc, SDP_ERR_KEEPALIVE_TIMEOUT);
	res->end_state = sdp_get_state(c);
	assert_int_equal(sdp_conn_check(c), 0);
	sdp_conn_free(c);
}

static void
fm_scenario_pair(struct tmem *m, const struct sdp_mem *mem,
    struct fm_result *res)
{
	struct sdp_config cc = cli_cfg(), sc = srv_cfg();
	struct tlink l;
	int rc, i;

	/* The server as the daemon runs it, with its spare receive. */
	sc.recv_spare = 1;
	memset(res, 0, sizeof(*res));
	rc = tlink_init(&l, &cc, &sc, mem);
	if (rc == SDP_ERR_NOMEM) {
		assert_true(m->failed);
		rc = tlink_init(&l, &cc, &sc, mem);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(tlink_start(&l), 0);
	tlink_settle(&l);
	for (i = 0; i < 5; i++) {
		assert_int_equal(tlink_submit(&l, i % 2, 3000 * (i + 1), 0), 0);
		tlink_settle(&l);
	}
	res->delivered = l.s[0].pdus_delivered + l.s[1].pdus_delivered;
	res->sent = l.s[0].msgs_sent + l.s[1].msgs_sent;
	res->end_state = sdp_get_state(l.s[0].conn);
	tlink_clear(&l);
}

static void
fm_run(void (*scenario)(struct tmem *, const struct sdp_mem *,
    struct fm_result *), const char *name)
{
	struct fm_result ref, res;
	struct sdp_mem mem;
	struct tmem m;
	long n, total;

	tmem_init(&m, &mem);
	scenario(&m, &mem, &ref);
	assert_int_equal(m.live, 0);
	total = m.count;
	assert_true(total >= 3);
	for (n = 1; n <= total; n++) {
		tmem_init(&m, &mem);
		m.fail_at = n;
		scenario(&m, &mem, &res);
		assert_true(m.failed);
		assert_int_equal(m.live, 0);
		assert_int_equal(res.delivered, ref.delivered);
		assert_int_equal(res.sent, ref.sent);
		assert_int_equal(res.end_state, ref.end_state);
	}
	print_message("failmalloc %s: %ld allocations, each failed once\n",
	    name, total);
}

static void
test_failmalloc(void **state)
{
	fm_run(fm_scenario_server, "server");
	fm_run(fm_scenario_client, "client");
	fm_run(fm_scenario_pair, "pair");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_server),
		cmocka_unit_test(test_example_client),
		cmocka_unit_test(test_client_grants_promptly),
		cmocka_unit_test(test_negotiate_server_matrix),
		cmocka_unit_test(test_negotiate_client_matrix),
		cmocka_unit_test(test_client_overrides_on_wire),
		cmocka_unit_test(test_negotiate_timeout),
		cmocka_unit_test(test_credits_zero_then_one),
		cmocka_unit_test(test_credit_one_without_grant),
		cmocka_unit_test(test_credit_last_needs_grant_extra_receive),
		cmocka_unit_test(test_credits_255_and_beyond),
		cmocka_unit_test(test_peer_without_credit),
		cmocka_unit_test(test_spare_negotiate),
		cmocka_unit_test(test_spare_catches_send_without_credit),
		cmocka_unit_test(test_receive_checks),
		cmocka_unit_test(test_reassembly),
		cmocka_unit_test(test_reassembly_rejections),
		cmocka_unit_test(test_fragment_headers),
		cmocka_unit_test(test_fragmentation_small),
		cmocka_unit_test(test_fragmentation_1364),
		cmocka_unit_test(test_fragmentation_8192),
		cmocka_unit_test(test_send_queue_bounds),
		cmocka_unit_test(test_outstanding_bound),
		cmocka_unit_test(test_upper_blocked),
		cmocka_unit_test(test_receive_window),
		cmocka_unit_test(test_keepalive_unanswered),
		cmocka_unit_test(test_keepalive_answered),
		cmocka_unit_test(test_keepalive_peer_request),
		cmocka_unit_test(test_keepalive_while_blocked),
		cmocka_unit_test(test_keepalive_no_credit),
		cmocka_unit_test(test_keepalive_credit_in_time),
		cmocka_unit_test(test_keepalive_waits_for_send_slot),
		cmocka_unit_test(test_keepalive_stalled_peer_pair),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_failmalloc),
	};
	int rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(sizes);
	return rc;
}
