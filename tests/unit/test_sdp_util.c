/* SPDX-License-Identifier: ISC */
/*
 * test_sdp_util.c: the failing allocator and the two-engine link.
 *
 * The link checks the rules at the wire, from headers alone, so a bug in
 * the engine's own bookkeeping cannot hide a broken rule:
 * - a side sends only with a credit, and its last credit only with a grant;
 * - every credit it grants is backed by a receive its caller posted, and
 *   once negotiated its recv_spare receives are posted besides;
 * - credits and CreditsRequested on the wire are 1..255 (0..255 granted);
 * - a message fits the peer's posted buffer and the negotiated sizes;
 * - headers are canonical: DataOffset 24 with payload, 0 without, zero
 *   padding and reserved fields, RemainingDataLength exact;
 * - posted plus held receives stay within recv_credit_max, queues within
 *   their bounds;
 * - every delivered byte is the byte that was sent, in order.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_sdp_util.h"

/* ---------------------------------------------------------------------
 * Allocator
 * ------------------------------------------------------------------- */

static void *
tmem_malloc(size_t size, void *ud)
{
	struct tmem *m = ud;
	void *p = NULL;

	m->count++;
	if (m->fail_at != 0 && m->count == m->fail_at) {
		m->failed = true;
		goto out;
	}
	p = malloc(size);
	if (p != NULL) {
		m->live++;
	}
out:
	return p;
}

static void
tmem_free(void *p, void *ud)
{
	struct tmem *m = ud;

	assert_non_null(p);
	m->live--;
	free(p);
}

void
tmem_init(struct tmem *m, struct sdp_mem *out)
{
	memset(m, 0, sizeof(*m));
	out->malloc = tmem_malloc;
	out->free = tmem_free;
	out->ud = m;
}

/* ---------------------------------------------------------------------
 * PDU contents: a fixed random pattern, each PDU a window into it
 * ------------------------------------------------------------------- */

#define PATTERN_SKEW	65536u

static uint8_t *pattern;

const uint8_t *
tlink_pattern(int side, uint64_t idx)
{
	if (pattern == NULL) {
		uint64_t x = 0x9E3779B97F4A7C15ull;
		size_t i;

		pattern = malloc(TLINK_PATTERN_MAX + PATTERN_SKEW);
		assert_non_null(pattern);
		for (i = 0; i < TLINK_PATTERN_MAX + PATTERN_SKEW; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			pattern[i] = (uint8_t)(x >> 24);
		}
	}
	return pattern + ((idx * 4099u + (uint64_t)side * 1237u) %
	    PATTERN_SKEW);
}

/* ---------------------------------------------------------------------
 * Link
 * ------------------------------------------------------------------- */

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int
tlink_init(struct tlink *l, const struct sdp_config *client,
    const struct sdp_config *server, const struct sdp_mem *mem)
{
	int rc, i;

	memset(l, 0, sizeof(*l));
	l->now = 1000;
	l->s[T_CLIENT].cfg = *client;
	l->s[T_SERVER].cfg = *server;
	for (i = 0; i < 2; i++) {
		struct tside *s = &l->s[i];

		s->id = i;
		s->post_cap = SDP_CREDITS_MAX + 1;
		s->post_size = calloc(s->post_cap, sizeof(*s->post_size));
		assert_non_null(s->post_size);
		rc = sdp_conn_new(&s->cfg, mem, &s->conn);
		if (rc != 0) {
			tlink_clear(l);
			return rc;
		}
	}
	return 0;
}

static void
tmsg_free_list(struct tmsg *m)
{
	while (m != NULL) {
		struct tmsg *n = m->next;

		free(m->data);
		free(m);
		m = n;
	}
}

void
tlink_clear(struct tlink *l)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct tside *s = &l->s[i];

		sdp_conn_free(s->conn);
		s->conn = NULL;
		tmsg_free_list(s->out_head);
		tmsg_free_list(s->held_head);
		free(s->post_size);
		free(s->pdu_len);
		s->out_head = s->held_head = NULL;
		s->post_size = NULL;
		s->pdu_len = NULL;
	}
}

static void
check_neg_send(struct tside *s, const struct sdp_action *a)
{
	const uint8_t *h = a->u.send.hdr;

	assert_false(a->u.send.has_payload);
	if (s->id == T_CLIENT) {
		assert_int_equal(a->u.send.hdr_len, SDP_NEG_REQ_SIZE);
		assert_int_equal(rd16(h + 4), 0);	/* Reserved */
	} else {
		struct sdp_neg_resp r;

		assert_int_equal(a->u.send.hdr_len, SDP_NEG_RESP_SIZE);
		assert_int_equal(rd16(h + 6), 0);	/* Reserved */
		assert_int_equal(sdp_neg_resp_decode(h, SDP_NEG_RESP_SIZE,
		    &r), 0);
		assert_true(r.credits_granted <= SDP_CREDITS_MAX);
		if (r.status == SDP_STATUS_SUCCESS) {
			s->granted_total += r.credits_granted;
			assert_true(s->granted_total - s->data_in <=
			    s->post_count);
		}
	}
}

static void
check_data_send(struct tlink *l, struct tside *s, const struct sdp_action *a)
{
	const struct tside *peer = &l->s[1 - s->id];
	const uint8_t *b = a->u.send.hdr;
	struct sdp_data_hdr h;
	size_t msg_len = a->u.send.hdr_len + a->u.send.pdu_len;

	assert_int_equal(sdp_data_hdr_decode(b, a->u.send.hdr_len, &h), 0);
	assert_int_equal(rd16(b + 6), 0);		/* Reserved */
	assert_true(h.credits_requested >= 1);
	assert_true(h.credits_requested <= SDP_CREDITS_MAX);
	assert_int_equal(h.credits_requested, s->cfg.send_credit_target);
	assert_true(h.credits_granted <= SDP_CREDITS_MAX);
	assert_int_equal(h.flags & ~SDP_FLAG_RESPONSE_REQUESTED, 0);
	if (h.flags != 0) {
		s->keepalive_flags++;
	}
	if (a->u.send.has_payload) {
		uint64_t idx = a->u.send.cookie;

		assert_true(idx < s->pdus_submitted);
		assert_int_equal(a->u.send.hdr_len, SDP_DATA_OFFSET);
		assert_int_equal(h.data_offset, SDP_DATA_OFFSET);
		assert_int_equal(b[20] | b[21] | b[22] | b[23], 0);
		assert_true(a->u.send.pdu_len >= 1);
		assert_int_equal(h.data_length, a->u.send.pdu_len);
		assert_int_equal(h.remaining_data_length, s->pdu_len[idx] -
		    a->u.send.pdu_off - a->u.send.pdu_len);
		assert_int_equal(a->u.send.last_of_pdu,
		    h.remaining_data_length == 0);
		if (!a->u.send.last_of_pdu) {
			assert_int_equal(a->u.send.invalidate_rkey, 0);
		}
	} else {
		assert_int_equal(a->u.send.hdr_len, SDP_DATA_HDR_SIZE);
		assert_int_equal(h.data_offset, 0);
		assert_int_equal(h.data_length, 0);
		assert_int_equal(h.remaining_data_length, 0);
		assert_int_equal(a->u.send.invalidate_rkey, 0);
		assert_int_equal(a->u.send.pdu_len, 0);
	}
	assert_true(msg_len <= s->params.max_send_size);
	if (peer->negotiated) {
		assert_true(msg_len <= peer->params.max_receive_size);
	}
	/* The credit rules, from the wire. */
	assert_true(s->wire_credits >= 1);
	if (s->wire_credits == 1) {
		assert_true(h.credits_granted >= 1);
	}
	s->wire_credits--;
	s->granted_total += h.credits_granted;
	/* Every credit the peer holds is a receive we posted. */
	assert_true(s->granted_total - s->data_in <= s->post_count);
}

static void
check_deliver(struct tlink *l, struct tside *s, const struct sdp_action *a)
{
	const struct tside *from = &l->s[1 - s->id];
	const uint8_t *want;
	size_t len;

	assert_non_null(l->cur);
	assert_true(a->u.deliver.data >= l->cur);
	assert_true(a->u.deliver.data + a->u.deliver.len <=
	    l->cur + l->cur_len);
	assert_true(a->u.deliver.len >= 1);
	assert_true(s->rx_pdu < from->pdus_submitted);
	len = from->pdu_len[s->rx_pdu];
	assert_int_equal(a->u.deliver.pdu_len, len);
	assert_int_equal(a->u.deliver.pdu_off, s->rx_off);
	assert_int_equal(a->u.deliver.first, s->rx_off == 0);
	assert_true(s->rx_off + a->u.deliver.len <= len);
	want = tlink_pattern(from->id, s->rx_pdu) + s->rx_off;
	assert_memory_equal(a->u.deliver.data, want, a->u.deliver.len);
	s->rx_off += a->u.deliver.len;
	s->bytes_delivered += a->u.deliver.len;
	assert_int_equal(a->u.deliver.last, s->rx_off == len);
	if (a->u.deliver.last) {
		s->rx_pdu++;
		s->rx_off = 0;
		s->pdus_delivered++;
	}
}

static void
perform_send(struct tlink *l, struct tside *s, const struct sdp_action *a)
{
	bool neg = !s->neg_sent;
	struct tmsg *m;

	assert_true(a->u.send.hdr_len <= SDP_ACT_HDR_MAX);
	if (neg) {
		check_neg_send(s, a);
		s->neg_sent = true;
	} else {
		check_data_send(l, s, a);
	}
	m = calloc(1, sizeof(*m));
	assert_non_null(m);
	m->len = a->u.send.hdr_len + a->u.send.pdu_len;
	m->data = malloc(m->len);
	assert_non_null(m->data);
	/* Each side's first message is its negotiate message. */
	m->neg = neg;
	memcpy(m->data, a->u.send.hdr, a->u.send.hdr_len);
	if (a->u.send.has_payload) {
		memcpy(m->data + a->u.send.hdr_len,
		    tlink_pattern(s->id, a->u.send.cookie) +
		    a->u.send.pdu_off, a->u.send.pdu_len);
	}
	if (s->out_tail != NULL) {
		s->out_tail->next = m;
	} else {
		s->out_head = m;
	}
	s->out_tail = m;
	s->out_count++;
	s->msgs_sent++;
	s->sends_posted++;
	assert_true(s->sends_posted <= s->cfg.max_outstanding_sends);
}

void
tlink_drain(struct tlink *l, int side)
{
	struct tside *s = &l->s[side];
	struct sdp_stats st;
	struct sdp_action a;
	unsigned i;

	while (sdp_next_action(s->conn, &a) == 1) {
		assert_false(s->disconnected);
		switch (a.type) {
		case SDP_ACT_POST_RECV:
			assert_true(a.u.post_recv.count >= 1);
			for (i = 0; i < a.u.post_recv.count; i++) {
				assert_true(s->post_count < s->post_cap);
				s->post_size[(s->post_head + s->post_count) %
				    s->post_cap] = a.u.post_recv.size;
				s->post_count++;
			}
			assert_true(s->post_count + s->held <=
			    s->cfg.recv_credit_max);
			break;
		case SDP_ACT_SEND:
			perform_send(l, s, &a);
			break;
		case SDP_ACT_DELIVER:
			check_deliver(l, s, &a);
			break;
		case SDP_ACT_TIMER:
			s->timer = a.u.timer.deadline_ms;
			break;
		case SDP_ACT_NEGOTIATED:
			assert_false(s->negotiated);
			assert_int_equal(sdp_get_params(s->conn, &s->params),
			    0);
			s->negotiated = true;
			break;
		case SDP_ACT_WRITABLE:
			assert_true(s->wouldblock);
			s->wouldblock = false;
			s->writable_seen++;
			break;
		case SDP_ACT_DISCONNECT:
			s->disconnected = true;
			s->disc_reason = a.u.disconnect.reason;
			s->graceful = a.u.disconnect.graceful;
			break;
		default:
			fail_msg("unknown action %d", a.type);
		}
	}
	sdp_get_stats(s->conn, &st);
	assert_true(st.queued_pdus <= s->cfg.send_queue_max);
	assert_true(st.sends_outstanding <= s->cfg.max_outstanding_sends);
	assert_true(st.recv_credits_posted + st.recv_held <=
	    s->cfg.recv_credit_max);
	assert_int_equal(st.recv_held, s->held);
	/* The spare: posted beyond every credit granted, never granted. */
	if (s->negotiated && !s->disconnected) {
		assert_true(s->granted_total - s->data_in + s->cfg.recv_spare <=
		    s->post_count);
	}
	if (st.queued_pdus > s->max_queue_seen) {
		s->max_queue_seen = st.queued_pdus;
	}
	assert_int_equal(sdp_conn_check(s->conn), 0);
}

int
tlink_start(struct tlink *l)
{
	int rc;

	rc = sdp_start(l->s[T_SERVER].conn, l->now);
	if (rc == 0) {
		tlink_drain(l, T_SERVER);
		rc = sdp_start(l->s[T_CLIENT].conn, l->now);
	}
	if (rc == 0) {
		tlink_drain(l, T_CLIENT);
	}
	return rc;
}

int
tlink_deliver(struct tlink *l, int from)
{
	struct tside *x = &l->s[from], *y = &l->s[1 - from];
	struct tmsg *m = x->out_head;
	size_t size;
	int rc;

	assert_non_null(m);
	x->out_head = m->next;
	if (x->out_head == NULL) {
		x->out_tail = NULL;
	}
	x->out_count--;
	m->next = NULL;

	/* RDMA: the message lands in the oldest posted receive. */
	assert_true(y->post_count > 0);
	size = y->post_size[y->post_head];
	y->post_head = (y->post_head + 1) % y->post_cap;
	y->post_count--;
	assert_true(m->len <= size);
	if (m->neg) {
		struct sdp_neg_resp r;

		if (from == T_SERVER && sdp_neg_resp_decode(m->data, m->len,
		    &r) == 0 && r.status == SDP_STATUS_SUCCESS) {
			y->wire_credits = r.credits_granted;
		}
	} else {
		y->wire_credits += rd16(m->data + 2);
		assert_true(y->wire_credits <= SDP_CREDITS_MAX);
		y->data_in++;
	}
	x->completions_due++;

	l->cur = m->data;
	l->cur_len = m->len;
	rc = sdp_on_recv(y->conn, m->data, m->len, l->now);
	if (rc == 1) {
		if (y->held_tail != NULL) {
			y->held_tail->next = m;
		} else {
			y->held_head = m;
		}
		y->held_tail = m;
		y->held++;
	}
	if (!y->disconnected) {
		tlink_drain(l, y->id);
	}
	l->cur = NULL;
	if (rc != 1) {
		free(m->data);
		free(m);
	}
	return rc;
}

int
tlink_complete(struct tlink *l, int side, unsigned n)
{
	struct tside *s = &l->s[side];
	int rc;

	assert_true(n <= s->completions_due);
	rc = sdp_on_send_complete(s->conn, n, l->now);
	if (rc >= 0) {
		s->completions_due -= n;
		s->sends_posted -= n;
	}
	tlink_drain(l, side);
	return rc;
}

int
tlink_release(struct tlink *l, int side, unsigned n)
{
	struct tside *s = &l->s[side];
	unsigned i;
	int rc;

	assert_true(n <= s->held);
	rc = sdp_rx_release(s->conn, n);
	if (rc == 0) {
		for (i = 0; i < n; i++) {
			struct tmsg *m = s->held_head;

			s->held_head = m->next;
			if (s->held_head == NULL) {
				s->held_tail = NULL;
			}
			free(m->data);
			free(m);
		}
		s->held -= n;
	}
	tlink_drain(l, side);
	return rc;
}

int
tlink_submit(struct tlink *l, int side, size_t len, uint32_t rkey)
{
	struct tside *s = &l->s[side];
	int rc;

	rc = sdp_send_pdu(s->conn, s->pdus_submitted, len, rkey, l->now);
	if (rc == 0) {
		if (s->pdus_submitted == s->pdu_cap) {
			s->pdu_cap = s->pdu_cap != 0 ? s->pdu_cap * 2 : 64;
			s->pdu_len = realloc(s->pdu_len,
			    s->pdu_cap * sizeof(*s->pdu_len));
			assert_non_null(s->pdu_len);
		}
		s->pdu_len[s->pdus_submitted++] = len;
	} else if (rc == SDP_ERR_WOULDBLOCK) {
		s->wouldblock = true;
	}
	tlink_drain(l, side);
	return rc;
}

void
tlink_advance(struct tlink *l, uint64_t ms)
{
	int i;

	l->now += ms;
	for (i = 0; i < 2; i++) {
		struct tside *s = &l->s[i];

		if (!s->disconnected && s->timer != 0 && l->now >= s->timer) {
			s->timer = 0;
			(void)sdp_on_timer(s->conn, l->now);
			tlink_drain(l, i);
		}
	}
}

uint64_t
tlink_settle(struct tlink *l)
{
	uint64_t rounds = 0;
	bool moved = true;
	int i;

	while (moved) {
		/* Credit messages must settle, not ping-pong for ever. */
		assert_true(rounds < 1000000);
		moved = false;
		for (i = 0; i < 2; i++) {
			struct tside *s = &l->s[i];

			if (s->disconnected || l->s[1 - i].disconnected) {
				continue;
			}
			while (s->out_count > 0 && !l->s[1 - i].disconnected) {
				(void)tlink_deliver(l, i);
				moved = true;
			}
			if (s->completions_due > 0 && !s->disconnected) {
				(void)tlink_complete(l, i, s->completions_due);
				moved = true;
			}
			if (s->held > 0 && !s->blocked && !s->disconnected) {
				(void)tlink_release(l, i, s->held);
				moved = true;
			}
		}
		rounds += moved;
	}
	return rounds;
}
