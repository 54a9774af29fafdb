/* SPDX-License-Identifier: ISC */
/*
 * fuzz_sdp_conn.c: a whole engine, either role, fed a random sequence of
 * inputs: raw or well-formed messages, PDUs to send, completions, buffer
 * releases, time, stalls and shutdown.
 *
 * The harness plays the caller: it performs every action, keeps every
 * buffer a DELIVER points into until it is released, and aborts when the
 * engine breaks a promise: an internal invariant, a bound (posted plus
 * held receives, sends outstanding, queued PDUs), a DELIVER outside its
 * message, a header that breaks the wire rules, an action after
 * DISCONNECT, or a fatal code without a DISCONNECT.
 *
 * Input: one configuration byte, then operations (see op_*).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSG_MAX		9000

static void
check(int cond)
{
	if (!cond) {
		abort();
	}
}

struct in {
	const uint8_t	*p;
	size_t		 n;
};

static uint32_t
take(struct in *in, int bytes)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < bytes && in->n > 0; i++) {
		v |= (uint32_t)*in->p << (8 * i);
		in->p++;
		in->n--;
	}
	return v;
}

struct held {
	uint8_t		*buf;
	struct held	*next;
};

struct harness {
	struct sdp_conn		*conn;
	struct sdp_config	 cfg;
	uint64_t		 now;
	unsigned		 posted, outstanding, held;
	struct held		*head, *tail;
	const uint8_t		*cur;
	size_t			 cur_len;
	int			 disconnected;
	int			 negotiated;
};

static void
check_send(struct harness *h, const struct sdp_action *a)
{
	struct sdp_data_hdr d;

	check(a->u.send.hdr_len <= SDP_ACT_HDR_MAX);
	/* Negotiate messages come before NEGOTIATED; data ones after. */
	if (!h->negotiated) {
		check(!a->u.send.has_payload);
		check(a->u.send.hdr_len == (h->cfg.role == SDP_ROLE_CLIENT ?
		    SDP_NEG_REQ_SIZE : SDP_NEG_RESP_SIZE));
		return;
	}
	check(sdp_data_hdr_decode(a->u.send.hdr, a->u.send.hdr_len, &d) == 0);
	check(d.credits_requested >= 1 && d.credits_requested <= 255);
	check(d.credits_granted <= 255);
	check((d.flags & ~SDP_FLAG_RESPONSE_REQUESTED) == 0);
	check(a->u.send.hdr[6] == 0 && a->u.send.hdr[7] == 0);
	if (a->u.send.has_payload) {
		check(a->u.send.hdr_len == SDP_DATA_OFFSET);
		check(d.data_offset == SDP_DATA_OFFSET);
		check(d.data_length == a->u.send.pdu_len && d.data_length > 0);
		check(a->u.send.last_of_pdu == (d.remaining_data_length == 0));
	} else {
		check(a->u.send.hdr_len == SDP_DATA_HDR_SIZE);
		check(d.data_offset == 0 && d.data_length == 0 &&
		    d.remaining_data_length == 0);
	}
	check(!a->u.send.last_of_pdu || a->u.send.has_payload);
	check(a->u.send.invalidate_rkey == 0 || a->u.send.last_of_pdu);
}

static void
drain(struct harness *h)
{
	struct sdp_action a;
	struct sdp_stats st;

	while (sdp_next_action(h->conn, &a) == 1) {
		check(!h->disconnected);
		switch (a.type) {
		case SDP_ACT_POST_RECV:
			check(a.u.post_recv.count > 0);
			h->posted += a.u.post_recv.count;
			check(h->posted + h->held <= h->cfg.recv_credit_max);
			break;
		case SDP_ACT_SEND:
			check_send(h, &a);
			h->outstanding++;
			check(h->outstanding <= h->cfg.max_outstanding_sends);
			break;
		case SDP_ACT_DELIVER:
			check(h->cur != NULL);
			check(a.u.deliver.data >= h->cur && a.u.deliver.data +
			    a.u.deliver.len <= h->cur + h->cur_len);
			check(a.u.deliver.len > 0);
			check(a.u.deliver.pdu_off + a.u.deliver.len <=
			    a.u.deliver.pdu_len);
			check(a.u.deliver.pdu_len <=
			    h->cfg.max_fragmented_size);
			break;
		case SDP_ACT_TIMER:
			break;
		case SDP_ACT_NEGOTIATED:
			check(!h->negotiated);
			h->negotiated = 1;
			break;
		case SDP_ACT_WRITABLE:
			break;
		case SDP_ACT_DISCONNECT:
			check(sdp_error_is_fatal(a.u.disconnect.reason));
			h->disconnected = 1;
			break;
		default:
			check(0);
		}
	}
	check(sdp_conn_check(h->conn) == 0);
	sdp_get_stats(h->conn, &st);
	check(st.queued_pdus <= h->cfg.send_queue_max);
	check(st.send_credits <= 255);
	check(st.recv_credits_posted + st.recv_held <= h->cfg.recv_credit_max);
	if (!h->disconnected) {
		check(st.recv_held == h->held);
		check(st.sends_outstanding == h->outstanding);
	}
}

static void
deliver(struct harness *h, uint8_t *buf, size_t len)
{
	int rc;

	if (h->posted > 0) {
		h->posted--;
	}
	h->cur = buf;
	h->cur_len = len;
	rc = sdp_on_recv(h->conn, buf, len, h->now);
	if (rc == 1) {
		struct held *e = malloc(sizeof(*e));

		check(e != NULL);
		e->buf = buf;
		e->next = NULL;
		if (h->tail != NULL) {
			h->tail->next = e;
		} else {
			h->head = e;
		}
		h->tail = e;
		h->held++;
		buf = NULL;
	} else {
		check(rc == 0 || rc == SDP_ERR_STATE || rc == SDP_ERR_INVAL ||
		    sdp_error_is_fatal(rc));
	}
	drain(h);
	if (sdp_error_is_fatal(rc)) {
		check(h->disconnected);
	}
	h->cur = NULL;
	free(buf);
}

/* A well-formed negotiate message for whichever side we are. */
static void
op_negotiate(struct harness *h, struct in *in)
{
	uint8_t *b = calloc(1, MSG_MAX);
	size_t len;

	check(b != NULL);
	if (h->cfg.role == SDP_ROLE_SERVER) {
		struct sdp_neg_req r = {
			.min_version = 0x0100, .max_version = 0x0100,
			.credits_requested = (uint16_t)(take(in, 1) + 1),
			.preferred_send_size = 128 + take(in, 2),
			.max_receive_size = 128 + take(in, 2),
			.max_fragmented_size = 131072 + take(in, 2),
		};

		len = (size_t)sdp_neg_req_encode(&r, b, MSG_MAX);
	} else {
		struct sdp_neg_resp r = {
			.min_version = 0x0100, .max_version = 0x0100,
			.negotiated_version = 0x0100,
			.credits_requested = (uint16_t)(take(in, 1) + 1),
			.credits_granted = (uint16_t)(take(in, 1) + 1),
			.max_read_write_size = take(in, 4),
			.preferred_send_size = 128,
			.max_receive_size = 128 + take(in, 2),
			.max_fragmented_size = 131072 + take(in, 2),
		};

		len = (size_t)sdp_neg_resp_encode(&r, b, MSG_MAX);
	}
	deliver(h, b, len);
}

/* A data message with a canonical layout and fields from the input. */
static void
op_data(struct harness *h, struct in *in)
{
	struct sdp_data_hdr d;
	uint8_t *b = malloc(MSG_MAX);
	uint32_t dl;
	int n;

	check(b != NULL);
	d.credits_requested = (uint16_t)take(in, 1);
	d.credits_granted = (uint16_t)(take(in, 1) % 8);
	d.flags = (uint16_t)(take(in, 1) & 1);
	dl = take(in, 2) % (MSG_MAX - SDP_DATA_OFFSET);
	d.remaining_data_length = take(in, 3);
	d.data_length = dl;
	d.data_offset = dl > 0 ? SDP_DATA_OFFSET : 0;
	n = sdp_data_hdr_encode(&d, b, MSG_MAX);
	check(n > 0);
	memset(b + n, 0x5a, dl);
	deliver(h, b, (size_t)n + dl);
}

static void
op_raw(struct harness *h, struct in *in)
{
	size_t len = take(in, 2) % MSG_MAX, i;
	uint8_t *b = malloc(len > 0 ? len : 1);

	check(b != NULL);
	for (i = 0; i < len; i++) {
		b[i] = (uint8_t)take(in, 1);
	}
	deliver(h, b, len);
}

static void
op_release(struct harness *h, unsigned n)
{
	int rc = sdp_rx_release(h->conn, n);
	unsigned i;

	if (rc != 0) {
		check(rc == SDP_ERR_INVAL || rc == SDP_ERR_STATE);
		return;
	}
	for (i = 0; i < n; i++) {
		struct held *e = h->head;

		h->head = e->next;
		if (h->head == NULL) {
			h->tail = NULL;
		}
		free(e->buf);
		free(e);
		h->held--;
	}
}

static void
config_from(struct sdp_config *c, uint8_t m)
{
	static const uint16_t cmax[] = { 255, 3, 8, 64 };
	static const uint16_t cinit[] = { 8, 1, 8, 2 };
	static const uint32_t ssend[] = { 1364, 128, 8192, 200 };
	static const uint32_t srecv[] = { 8192, 128, 8192, 1364 };

	sdp_config_init_defaults(c, m & 1 ? SDP_ROLE_CLIENT : SDP_ROLE_SERVER);
	c->recv_credit_max = cmax[(m >> 2) & 3];
	c->recv_credit_initial = cinit[(m >> 2) & 3];
	/* A spare receive with 255 and 8 credits, none with 3 and 64. */
	c->recv_spare = (m >> 2) & 1 ? 0 : 1;
	c->max_send_size = ssend[(m >> 4) & 3];
	c->max_receive_size = srecv[(m >> 4) & 3];
	c->max_fragmented_size = 131072;
	if (m & 0x40) {
		c->keepalive_interval_ms = 100;
		c->keepalive_timeout_ms = 50;
	}
	if (m & 0x80) {
		c->send_queue_max = 2;
		c->max_outstanding_sends = 2;
	}
	check(sdp_config_validate(c) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct harness h;
	uint8_t mode;
	int rc;

	if (size < 1) {
		return 0;
	}
	memset(&h, 0, sizeof(h));
	mode = (uint8_t)take(&in, 1);
	config_from(&h.cfg, mode);
	h.now = 1000;
	check(sdp_conn_new(&h.cfg, NULL, &h.conn) == 0);
	check(sdp_start(h.conn, h.now) == 0);
	drain(&h);
	if (mode & 2) {
		op_negotiate(&h, &in);
	}
	while (in.n > 0 && !h.disconnected) {
		switch (take(&in, 1) % 9) {
		case 0:
			op_raw(&h, &in);
			break;
		case 1:
			op_data(&h, &in);
			break;
		case 2:
			rc = sdp_send_pdu(h.conn, h.now, take(&in, 3),
			    take(&in, 1), h.now);
			check(rc == 0 || rc == SDP_ERR_WOULDBLOCK ||
			    rc == SDP_ERR_INVAL || rc == SDP_ERR_MSGSIZE ||
			    rc == SDP_ERR_STATE);
			drain(&h);
			break;
		case 3: {
			unsigned n = take(&in, 1) % (h.outstanding + 2);

			rc = sdp_on_send_complete(h.conn, n, h.now);
			if (rc == 0) {
				h.outstanding -= n;
			}
			check(rc == 0 || rc == SDP_ERR_INVAL ||
			    rc == SDP_ERR_STATE);
			drain(&h);
			break;
		}
		case 4:
			op_release(&h, take(&in, 1) % (h.held + 2));
			drain(&h);
			break;
		case 5:
			h.now += take(&in, 2);
			rc = sdp_on_timer(h.conn, h.now);
			check(rc == 0 || rc == SDP_ERR_STATE ||
			    rc == SDP_ERR_NEG_TIMEOUT ||
			    rc == SDP_ERR_KEEPALIVE_TIMEOUT);
			drain(&h);
			break;
		case 6:
			check(sdp_set_upper_blocked(h.conn, take(&in, 1) & 1,
			    h.now) == 0);
			drain(&h);
			break;
		case 7:
			op_negotiate(&h, &in);
			break;
		case 8:
			if (take(&in, 1) == 0xff) {
				check(sdp_shutdown(h.conn, h.now) == 0);
				drain(&h);
			}
			break;
		}
	}
	while (h.head != NULL) {
		struct held *e = h.head;

		h.head = e->next;
		free(e->buf);
		free(e);
	}
	sdp_conn_free(h.conn);
	return 0;
}
