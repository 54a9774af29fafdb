/* SPDX-License-Identifier: ISC */
/*
 * sdp_conn.c: the SMB Direct engine for one connection ([MS-SMBD] 3.1.5).
 *
 * The public verbs keep the short sdp_ prefix the whole project codes
 * against (sdp_on_recv, sdp_next_action, ...); this file holds all of them
 * that touch struct sdp_conn, and its private helpers are conn_*.
 *
 * Why it is shaped this way:
 *
 * - Pull, not push. Inputs only change state and append the few actions
 *   that must stay in causal order (DELIVER, negotiation messages,
 *   NEGOTIATED, DISCONNECT) to a small ring. Everything else (posting
 *   receives, arming the timer, data and credit messages, WRITABLE) is
 *   computed in sdp_next_action() when the ring is empty. So the ring's
 *   occupancy is bounded by the receives the caller holds plus a handful,
 *   sends never pile up inside the engine (they are bounded by credits and
 *   max_outstanding_sends when pulled), and a header always carries the
 *   freshest credit grant. The ring grows only when a caller lets DELIVERs
 *   accumulate; each input reserves room first, so an allocation failure
 *   is reported before anything changes.
 *
 * - Receive credits. posted receives = credits the peer holds + credits not
 *   yet granted + the spare. We aim to keep rx_window receives granted or
 *   ready to grant: it starts at recv_credit_initial (what negotiation
 *   grants) and doubles, up to min(peer's CreditsRequested,
 *   recv_credit_max - recv_spare), whenever a message arrives while the
 *   peer is really down to a quarter of the window.
 *   "Really": our count of its credits includes grants still on the wire,
 *   so grants whose send has not completed (RC: not yet delivered) are
 *   subtracted. A streaming peer grows the window in a few round trips, a
 *   request/response peer does not, and an idle one (idle timer fired) is
 *   cut back to the initial window as it uses its credits. Posted plus
 *   held never exceeds recv_credit_max, and while the upper layer is
 *   blocked nothing is posted, so the peer runs dry.
 *
 * - The spare receive. Without it, a peer that sends more messages than
 *   it holds credits usually finds no receive posted: the hardware
 *   retries (RNR) or the QP dies, and we never learn why. So from
 *   negotiation on, recv_spare receives are posted beyond every credit
 *   granted or to be granted (the server posts grant + spare before its
 *   negotiate response) and are never granted: conn_pending_grant()
 *   leaves them out. A message without a credit lands in the spare and
 *   fails the credit check, ending the connection. Nothing else can
 *   consume it: a message with a credit uses a granted receive (posted
 *   and peer credits fall together), so the spare needs no reposting,
 *   and sdp_conn_check() holds peer credits + spare <= posted. The window
 *   tops out at recv_credit_max - recv_spare, which configuration keeps
 *   at 3 or more.
 *
 * - Credit-only messages. Every message uses one of the receiver's
 *   receives, which the receiver then reposts and grants back; answering
 *   each credit message with another would ping-pong forever. So a
 *   message without payload is sent for credits alone only when at least
 *   two credits (or a quarter window) wait to be granted: one credit
 *   message never provokes another, and the exchange always settles.
 *
 * - The last-credit rule ([MS-SMBD] 3.1.5.1): our last send credit goes
 *   only with a message that grants credits. A peer stuck on its last
 *   credit with nothing to grant depends on us, so the window never falls
 *   below 3: with the peer at one credit, two or more wait to be granted
 *   here, and the rule above sends them. When we sit on our last credit
 *   with nothing to grant but must send, one extra receive is posted for
 *   the grant, within recv_credit_max ([MS-SMBD] 3.1.5.9 demands it).
 *
 * - Keepalive. The idle timer runs from the last received message. When
 *   it fires we send RESPONSE_REQUESTED on the next message we can send
 *   whose grant leaves the peer a credit to answer with, and expect some
 *   message within keepalive_timeout_ms of sending it. Sending it may be
 *   impossible: a peer that holds our credits at 0 and says nothing would
 *   leave us waiting for ever with no timer armed. So the request itself
 *   gets keepalive_timeout_ms from the idle timer firing; still unsent
 *   then, the connection ends just as if it had gone unanswered. Any
 *   received message, a grant included, proves the peer alive, cancels
 *   the request and restarts the idle timer. A peer's request is answered
 *   by the next message we send, promptly.
 *
 * - Timer. There is one; the engine arms it for the earliest deadline but
 *   does not re-arm it when a deadline merely moves later (every received
 *   message moves the idle deadline): an early firing is harmless, it just
 *   re-arms.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sdp.h"

/* Slots in the action ring at creation; it doubles on demand. */
#define CONN_ACT_INITIAL	8
/* Ring slots each input reserves: the most one input appends. */
#define CONN_ACT_RESERVE	4
/* The receive window never falls below this (see the last-credit rule). */
#define CONN_WINDOW_MIN		3
/* Fewest pending credits worth a message of their own. */
#define CONN_GRANT_MIN		2

enum conn_ka {
	CONN_KA_NONE = 0,	/* idle timer running */
	CONN_KA_PENDING,	/* idle: request to go out by ka_deadline */
	CONN_KA_SENT,		/* sent: any message due by ka_deadline */
};

/*
 * A PDU the caller handed us. The engine knows only its length: @off bytes
 * of it have gone out in SEND actions. Only the queue head has @off > 0.
 */
struct conn_pdu {
	uint64_t	cookie;
	uint32_t	len;
	uint32_t	off;
	uint32_t	rkey;
};

/*
 * One connection. Invariants (checked by sdp_conn_check()):
 * - rx_peer_credits <= rx_posted: every credit the peer holds is backed by
 *   a posted receive.
 * - rx_spare is 0 before negotiation and cfg.recv_spare from then on;
 *   until the connection ends, rx_peer_credits + rx_spare <= rx_posted:
 *   the spare is posted besides every credit, and the
 *   rx_posted - rx_peer_credits - rx_spare others are not yet granted.
 * - rx_posted + rx_held <= cfg.recv_credit_max.
 * - once established, CONN_WINDOW_MIN <= rx_window <= recv_credit_max -
 *   rx_spare, and so is rx_target.
 * - tx_credits <= SDP_CREDITS_MAX; tx_outstanding <= max_outstanding_sends
 *   (the one negotiate message a connection sends counts too).
 * - tx_grants holds the CreditsGranted of each outstanding send, oldest
 *   first (tx_outstanding entries from tx_grants_head); rx_in_flight is
 *   their sum.
 * - txq_count <= send_queue_max; act_count <= act_cap.
 * - rx_in_pdu implies 0 < rx_remaining < rx_pdu_len <= our
 *   max_fragmented_size.
 * - in SDP_STATE_DISCONNECTED the ring ends with the DISCONNECT action and
 *   nothing is appended or computed any more.
 */
struct sdp_conn {
	struct sdp_config	cfg;
	struct sdp_mem		mem;
	enum sdp_state		state;
	uint64_t		now;

	bool			negotiated;
	struct sdp_params	params;
	/* Client: the MaxReceiveSize our request announced. */
	uint32_t		wire_max_receive_size;

	/* Receive side. */
	unsigned		rx_posted;
	unsigned		rx_held;
	unsigned		rx_peer_credits;
	unsigned		rx_spare;
	unsigned		rx_window;
	unsigned		rx_target;
	unsigned		rx_in_flight;
	bool			upper_blocked;
	bool			rx_in_pdu;
	uint32_t		rx_pdu_len;
	uint32_t		rx_remaining;
	uint64_t		last_rx;

	/* Send side. */
	unsigned		tx_credits;
	unsigned		tx_outstanding;
	uint16_t		*tx_grants;
	unsigned		tx_grants_head;
	struct conn_pdu		*txq;
	unsigned		txq_head;
	unsigned		txq_count;
	bool			tx_reply_due;
	bool			tx_stalled;
	bool			want_writable;

	/* Timers. */
	enum conn_ka		ka;
	uint64_t		ka_deadline;
	uint64_t		neg_deadline;
	uint64_t		timer_armed;
	bool			timer_dirty;
	bool			timer_force;

	/* Actions that must keep their order. */
	struct sdp_action	*act;
	unsigned		act_head;
	unsigned		act_count;
	unsigned		act_cap;

	struct sdp_stats	st;
};

static void *
conn_libc_malloc(size_t size, void *ud)
{
	return malloc(size);
}

static void
conn_libc_free(void *ptr, void *ud)
{
	free(ptr);
}

static unsigned
conn_min(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

static unsigned
conn_max(unsigned a, unsigned b)
{
	return a > b ? a : b;
}

/* The most receives the peer may ever hold: the spare is never granted. */
static unsigned
conn_grant_max(const struct sdp_conn *c)
{
	return c->cfg.recv_credit_max - c->cfg.recv_spare;
}

/* ---------------------------------------------------------------------
 * The action ring
 * ------------------------------------------------------------------- */

static int
conn_act_reserve(struct sdp_conn *c, unsigned need)
{
	struct sdp_action *n = NULL;
	unsigned cap = c->act_cap, i;
	int rc = 0;

	if (c->act_cap - c->act_count >= need) {
		goto out;
	}
	while (cap - c->act_count < need) {
		cap *= 2;
	}
	n = c->mem.malloc((size_t)cap * sizeof(*n), c->mem.ud);
	if (n == NULL) {
		rc = SDP_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < c->act_count; i++) {
		n[i] = c->act[(c->act_head + i) % c->act_cap];
	}
	c->mem.free(c->act, c->mem.ud);
	c->act = n;
	c->act_head = 0;
	c->act_cap = cap;
out:
	return rc;
}

/* Callers reserved room first; a full ring here is an engine bug. */
static void
conn_act_push(struct sdp_conn *c, const struct sdp_action *a)
{
	if (c->act_count < c->act_cap) {
		c->act[(c->act_head + c->act_count) % c->act_cap] = *a;
		c->act_count++;
	}
}

static void
conn_push_simple(struct sdp_conn *c, enum sdp_action_type type)
{
	struct sdp_action a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	conn_act_push(c, &a);
}

static void
conn_push_post(struct sdp_conn *c, unsigned count, size_t size)
{
	struct sdp_action a;

	memset(&a, 0, sizeof(a));
	a.type = SDP_ACT_POST_RECV;
	a.u.post_recv.count = count;
	a.u.post_recv.size = size;
	c->rx_posted += count;
	conn_act_push(c, &a);
}

/* Every send: remember what it granted until it completes. */
static void
conn_sent(struct sdp_conn *c, unsigned grant, size_t bytes)
{
	unsigned max = c->cfg.max_outstanding_sends;

	c->tx_grants[(c->tx_grants_head + c->tx_outstanding) % max] =
	    (uint16_t)grant;
	c->tx_outstanding++;
	c->rx_in_flight += grant;
	c->st.msgs_sent++;
	c->st.bytes_sent += bytes;
}

/* A negotiate message: header only, counted like any other send. */
static void
conn_push_neg_send(struct sdp_conn *c, const uint8_t *hdr, int len,
    unsigned grant)
{
	struct sdp_action a;

	memset(&a, 0, sizeof(a));
	a.type = SDP_ACT_SEND;
	/* copy: none (a negotiate message) */
	memcpy(a.u.send.hdr, hdr, (size_t)len);
	a.u.send.hdr_len = (size_t)len;
	conn_sent(c, grant, (size_t)len);
	conn_act_push(c, &a);
}

/*
 * End the connection: nothing is computed or accepted after this. Returns
 * what the input that found the reason returns (0 when graceful).
 */
static int
conn_fail(struct sdp_conn *c, int reason, bool graceful)
{
	struct sdp_action a;

	memset(&a, 0, sizeof(a));
	a.type = SDP_ACT_DISCONNECT;
	a.u.disconnect.reason = reason;
	a.u.disconnect.graceful = graceful;
	c->state = SDP_STATE_DISCONNECTED;
	conn_act_push(c, &a);
	return graceful ? 0 : reason;
}

/* ---------------------------------------------------------------------
 * Creation
 * ------------------------------------------------------------------- */

int
sdp_conn_new(const struct sdp_config *cfg, const struct sdp_mem *mem,
    struct sdp_conn **out)
{
	struct sdp_mem m;
	struct sdp_conn *c = NULL;
	int rc;

	if (cfg == NULL || out == NULL ||
	    (mem != NULL && (mem->malloc == NULL || mem->free == NULL))) {
		rc = SDP_ERR_INVAL;
		goto out;
	}
	rc = sdp_config_validate(cfg);
	if (rc != 0) {
		goto out;
	}
	if (mem != NULL) {
		m = *mem;
	} else {
		m.malloc = conn_libc_malloc;
		m.free = conn_libc_free;
		m.ud = NULL;
	}
	c = m.malloc(sizeof(*c), m.ud);
	if (c == NULL) {
		rc = SDP_ERR_NOMEM;
		goto out;
	}
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->mem = m;
	c->state = SDP_STATE_INIT;
	c->txq = m.malloc((size_t)cfg->send_queue_max * sizeof(*c->txq),
	    m.ud);
	if (c->txq == NULL) {
		rc = SDP_ERR_NOMEM;
		goto out_free_conn;
	}
	c->tx_grants = m.malloc((size_t)cfg->max_outstanding_sends *
	    sizeof(*c->tx_grants), m.ud);
	if (c->tx_grants == NULL) {
		rc = SDP_ERR_NOMEM;
		goto out_free_txq;
	}
	c->act = m.malloc(CONN_ACT_INITIAL * sizeof(*c->act), m.ud);
	if (c->act == NULL) {
		rc = SDP_ERR_NOMEM;
		goto out_free_grants;
	}
	c->act_cap = CONN_ACT_INITIAL;
	*out = c;
	goto out;

out_free_grants:
	m.free(c->tx_grants, m.ud);
out_free_txq:
	m.free(c->txq, m.ud);
out_free_conn:
	m.free(c, m.ud);
out:
	return rc;
}

void
sdp_conn_free(struct sdp_conn *c)
{
	if (c == NULL) {
		return;
	}
	c->mem.free(c->act, c->mem.ud);
	c->mem.free(c->tx_grants, c->mem.ud);
	c->mem.free(c->txq, c->mem.ud);
	c->mem.free(c, c->mem.ud);
}

/* Inputs that take time: a clock that steps back is held where it was. */
static void
conn_set_now(struct sdp_conn *c, uint64_t now)
{
	if (now > c->now) {
		c->now = now;
	}
}

static bool
conn_is_live(const struct sdp_conn *c)
{
	return c->state == SDP_STATE_NEGOTIATING ||
	    c->state == SDP_STATE_ESTABLISHED || c->state == SDP_STATE_CLOSING;
}

/* ---------------------------------------------------------------------
 * Negotiation
 * ------------------------------------------------------------------- */

int
sdp_start(struct sdp_conn *c, uint64_t now)
{
	const struct sdp_config *cfg = &c->cfg;
	const struct sdp_neg_override *o = &cfg->override;
	struct sdp_neg_req req;
	uint8_t buf[SDP_NEG_REQ_SIZE];
	int rc, n;

	if (c->state != SDP_STATE_INIT) {
		rc = SDP_ERR_STATE;
		goto out;
	}
	rc = conn_act_reserve(c, CONN_ACT_RESERVE);
	if (rc != 0) {
		goto out;
	}
	conn_set_now(c, now);
	c->state = SDP_STATE_NEGOTIATING;
	c->neg_deadline = c->now + cfg->negotiate_timeout_ms;
	c->timer_dirty = true;
	/* The first message is at most 32 bytes; any buffer holds it. */
	conn_push_post(c, 1, cfg->max_receive_size);
	if (cfg->role == SDP_ROLE_CLIENT) {
		req.min_version = cfg->min_version;
		req.max_version = cfg->max_version;
		req.credits_requested = o->mask & SDP_OVR_CREDITS_REQUESTED ?
		    o->credits_requested : cfg->send_credit_target;
		req.preferred_send_size = o->mask &
		    SDP_OVR_PREFERRED_SEND_SIZE ? o->preferred_send_size :
		    cfg->max_send_size;
		req.max_receive_size = o->mask & SDP_OVR_MAX_RECEIVE_SIZE ?
		    o->max_receive_size : cfg->max_receive_size;
		req.max_fragmented_size = o->mask &
		    SDP_OVR_MAX_FRAGMENTED_SIZE ? o->max_fragmented_size :
		    cfg->max_fragmented_size;
		c->wire_max_receive_size = req.max_receive_size;
		n = sdp_neg_req_encode(&req, buf, sizeof(buf));
		conn_push_neg_send(c, buf, n, 0);
	}
out:
	return rc;
}

/*
 * Receives to grant at negotiation: [MS-SMBD] 3.1.5.9, at least one. The
 * caller posts them and the spare together, before it sends the grant.
 */
static unsigned
conn_initial_window(struct sdp_conn *c, uint16_t peer_requested)
{
	unsigned target = conn_min(peer_requested, conn_grant_max(c));
	unsigned w = conn_min(c->cfg.recv_credit_initial, target);

	c->rx_target = conn_max(target, CONN_WINDOW_MIN);
	c->rx_window = conn_max(w, CONN_WINDOW_MIN);
	c->rx_spare = c->cfg.recv_spare;
	return conn_max(w, 1);
}

static void
conn_established(struct sdp_conn *c)
{
	c->state = SDP_STATE_ESTABLISHED;
	c->negotiated = true;
	c->last_rx = c->now;
	c->ka = CONN_KA_NONE;
	/* The negotiate deadline is void: replace it, or cancel it. */
	c->timer_dirty = true;
	c->timer_force = true;
	conn_push_simple(c, SDP_ACT_NEGOTIATED);
}

/* The server's STATUS_NOT_SUPPORTED answer ([MS-SMBD] 3.1.5.3). */
static int
conn_neg_refuse(struct sdp_conn *c)
{
	struct sdp_neg_resp resp;
	uint8_t buf[SDP_NEG_RESP_SIZE];
	int n;

	memset(&resp, 0, sizeof(resp));
	resp.min_version = SDP_VERSION_1;
	resp.max_version = SDP_VERSION_1;
	resp.status = SDP_STATUS_NOT_SUPPORTED;
	n = sdp_neg_resp_encode(&resp, buf, sizeof(buf));
	conn_push_neg_send(c, buf, n, 0);
	/* The graceful disconnect follows the send's completion. */
	c->state = SDP_STATE_CLOSING;
	return 0;
}

/* [MS-SMBD] 3.1.5.6, then 3.1.5.3. */
static int
conn_recv_neg_req(struct sdp_conn *c, const uint8_t *msg, size_t len)
{
	const struct sdp_config *cfg = &c->cfg;
	struct sdp_params *p = &c->params;
	struct sdp_neg_req req;
	struct sdp_neg_resp resp;
	uint8_t buf[SDP_NEG_RESP_SIZE];
	unsigned grant;
	int rc, n;

	rc = sdp_neg_req_decode(msg, len, &req);
	if (rc != 0) {
		goto out;
	}
	if (req.min_version > SDP_VERSION_1 ||
	    req.max_version < SDP_VERSION_1) {
		rc = conn_neg_refuse(c);
		goto out;
	}
	if (req.credits_requested == 0) {
		rc = SDP_ERR_NEG_CREDITS_REQUESTED;
	} else if (req.max_receive_size < SDP_MIN_RECEIVE_SIZE) {
		rc = SDP_ERR_NEG_MAX_RECEIVE_SIZE;
	} else if (req.max_fragmented_size < SDP_MIN_FRAGMENTED_SIZE) {
		rc = SDP_ERR_NEG_MAX_FRAGMENTED_SIZE;
	}
	if (rc != 0) {
		goto out;
	}
	p->version = SDP_VERSION_1;
	p->max_receive_size = req.preferred_send_size < cfg->max_receive_size ?
	    req.preferred_send_size : cfg->max_receive_size;
	if (p->max_receive_size < SDP_MIN_RECEIVE_SIZE) {
		p->max_receive_size = SDP_MIN_RECEIVE_SIZE;
	}
	p->max_send_size = req.max_receive_size < cfg->max_send_size ?
	    req.max_receive_size : cfg->max_send_size;
	p->max_fragmented_size = cfg->max_fragmented_size;
	p->peer_max_fragmented_size = req.max_fragmented_size;
	p->max_read_write_size = cfg->max_read_write_size;
	p->send_credit_target = cfg->send_credit_target;
	p->peer_credits_requested = req.credits_requested;

	/* Receives first: the response grants them, all but the spare. */
	grant = conn_initial_window(c, req.credits_requested);
	conn_push_post(c, grant + c->rx_spare, p->max_receive_size);
	c->rx_peer_credits = grant;
	p->initial_recv_credits = (uint16_t)grant;
	c->st.credits_granted_total += grant;

	memset(&resp, 0, sizeof(resp));
	resp.min_version = SDP_VERSION_1;
	resp.max_version = SDP_VERSION_1;
	resp.negotiated_version = SDP_VERSION_1;
	resp.credits_requested = cfg->send_credit_target;
	resp.credits_granted = (uint16_t)grant;
	resp.status = SDP_STATUS_SUCCESS;
	resp.max_read_write_size = p->max_read_write_size;
	resp.preferred_send_size = p->max_send_size;
	resp.max_receive_size = p->max_receive_size;
	resp.max_fragmented_size = p->max_fragmented_size;
	n = sdp_neg_resp_encode(&resp, buf, sizeof(buf));
	conn_push_neg_send(c, buf, n, grant);
	conn_established(c);
out:
	return rc;
}

/* [MS-SMBD] 3.1.5.7. */
static int
conn_recv_neg_resp(struct sdp_conn *c, const uint8_t *msg, size_t len)
{
	const struct sdp_config *cfg = &c->cfg;
	struct sdp_params *p = &c->params;
	struct sdp_neg_resp r;
	unsigned grant;
	int rc;

	rc = sdp_neg_resp_decode(msg, len, &r);
	if (rc != 0) {
		goto out;
	}
	/* Status first: a refusal has every other field zero. */
	if (r.status == SDP_STATUS_NOT_SUPPORTED) {
		rc = SDP_ERR_NEG_VERSION;
	} else if (r.status != SDP_STATUS_SUCCESS) {
		rc = SDP_ERR_NEG_STATUS;
	} else if (r.negotiated_version != SDP_VERSION_1) {
		rc = SDP_ERR_NEG_VERSION;
	} else if (r.max_receive_size < SDP_MIN_RECEIVE_SIZE) {
		rc = SDP_ERR_NEG_MAX_RECEIVE_SIZE;
	} else if (r.max_fragmented_size < SDP_MIN_FRAGMENTED_SIZE) {
		rc = SDP_ERR_NEG_MAX_FRAGMENTED_SIZE;
	} else if (r.credits_granted == 0) {
		rc = SDP_ERR_NEG_CREDITS_GRANTED;
	} else if (r.credits_requested == 0) {
		rc = SDP_ERR_NEG_CREDITS_REQUESTED;
	} else if (r.preferred_send_size > c->wire_max_receive_size) {
		rc = SDP_ERR_NEG_PREFERRED_SEND_SIZE;
	} else if (r.credits_granted > SDP_CREDITS_MAX) {
		rc = SDP_ERR_RX_CREDITS_OVERFLOW;
	}
	if (rc != 0) {
		goto out;
	}
	p->version = SDP_VERSION_1;
	p->max_receive_size = r.preferred_send_size < cfg->max_receive_size ?
	    r.preferred_send_size : cfg->max_receive_size;
	if (p->max_receive_size < SDP_MIN_RECEIVE_SIZE) {
		p->max_receive_size = SDP_MIN_RECEIVE_SIZE;
	}
	p->max_send_size = r.max_receive_size < cfg->max_send_size ?
	    r.max_receive_size : cfg->max_send_size;
	p->max_read_write_size = r.max_read_write_size <
	    cfg->max_read_write_size ? r.max_read_write_size :
	    cfg->max_read_write_size;
	p->max_fragmented_size = cfg->max_fragmented_size;
	p->peer_max_fragmented_size = r.max_fragmented_size;
	p->send_credit_target = cfg->send_credit_target;
	p->peer_credits_requested = r.credits_requested;
	p->initial_send_credits = r.credits_granted;
	c->tx_credits = r.credits_granted;
	c->st.credits_received_total += r.credits_granted;

	/* Granted with our first message (not the spare): none held yet. */
	grant = conn_initial_window(c, r.credits_requested);
	conn_push_post(c, grant + c->rx_spare, p->max_receive_size);
	p->initial_recv_credits = (uint16_t)grant;
	conn_established(c);
out:
	return rc;
}

/* ---------------------------------------------------------------------
 * Data transfer receive ([MS-SMBD] 3.1.5.8)
 * ------------------------------------------------------------------- */

static int
conn_recv_data(struct sdp_conn *c, const uint8_t *msg, size_t len)
{
	struct sdp_data_hdr h;
	struct sdp_action a;
	unsigned target, have;
	uint32_t pdu_len, pdu_off;
	int rc;

	/* It used a receive and a credit, whatever it turns out to be. */
	if (c->rx_peer_credits == 0) {
		rc = SDP_ERR_RX_NO_CREDIT;
		goto out;
	}
	c->rx_peer_credits--;
	if (len > c->params.max_receive_size) {
		rc = SDP_ERR_RX_TOO_LONG;
		goto out;
	}
	rc = sdp_data_hdr_decode(msg, len, &h);
	if (rc != 0) {
		goto out;
	}
	rc = sdp_data_hdr_check(&h, len, c->params.max_fragmented_size);
	if (rc != 0) {
		goto out;
	}
	/* Reassembly: a fragment must continue exactly where we are. */
	if (h.data_length == 0) {
		if (h.remaining_data_length != 0 && !(c->rx_in_pdu &&
		    h.remaining_data_length == c->rx_remaining)) {
			rc = SDP_ERR_RX_EMPTY_FRAGMENT;
			goto out;
		}
	} else if (c->rx_in_pdu && (uint64_t)h.data_length +
	    h.remaining_data_length != c->rx_remaining) {
		rc = SDP_ERR_RX_REMAINING_MISMATCH;
		goto out;
	}
	if (c->tx_credits + h.credits_granted > SDP_CREDITS_MAX) {
		rc = SDP_ERR_RX_CREDITS_OVERFLOW;
		goto out;
	}

	/* Valid: account for it. */
	c->tx_credits += h.credits_granted;
	c->st.credits_received_total += h.credits_granted;
	target = conn_min(h.credits_requested, conn_grant_max(c));
	c->rx_target = conn_max(target, CONN_WINDOW_MIN);
	/* What the peer really holds: our grants on the wire do not count. */
	have = c->rx_peer_credits > c->rx_in_flight ?
	    c->rx_peer_credits - c->rx_in_flight : 0;
	if (c->rx_window > c->rx_target) {
		c->rx_window = c->rx_target;
	} else if (have <= c->rx_window / 4 && c->rx_window < c->rx_target) {
		/* The peer is running dry: give it more room. */
		c->rx_window = conn_min(c->rx_window * 2, c->rx_target);
	}
	if (h.flags & SDP_FLAG_RESPONSE_REQUESTED) {
		c->tx_reply_due = true;
		c->st.keepalives_received++;
	}
	c->last_rx = c->now;
	c->ka = CONN_KA_NONE;
	c->timer_dirty = true;

	if (h.data_length == 0) {
		rc = 0;
		goto out;
	}
	if (c->rx_in_pdu) {
		pdu_len = c->rx_pdu_len;
		pdu_off = c->rx_pdu_len - c->rx_remaining;
	} else {
		pdu_len = h.data_length + h.remaining_data_length;
		pdu_off = 0;
	}
	memset(&a, 0, sizeof(a));
	a.type = SDP_ACT_DELIVER;
	a.u.deliver.data = msg + h.data_offset;
	a.u.deliver.len = h.data_length;
	a.u.deliver.pdu_len = pdu_len;
	a.u.deliver.pdu_off = pdu_off;
	a.u.deliver.first = pdu_off == 0;
	a.u.deliver.last = h.remaining_data_length == 0;
	conn_act_push(c, &a);
	c->rx_held++;
	c->rx_pdu_len = pdu_len;
	c->rx_remaining = h.remaining_data_length;
	c->rx_in_pdu = h.remaining_data_length != 0;
	if (!c->rx_in_pdu) {
		c->st.pdus_received++;
	}
	rc = 1;
out:
	return rc;
}

int
sdp_on_recv(struct sdp_conn *c, const uint8_t *msg, size_t len,
    uint64_t now)
{
	int rc;

	if (msg == NULL && len > 0) {
		rc = SDP_ERR_INVAL;
		goto out;
	}
	if (!conn_is_live(c)) {
		rc = SDP_ERR_STATE;
		goto out;
	}
	rc = conn_act_reserve(c, CONN_ACT_RESERVE);
	if (rc != 0) {
		goto out;
	}
	conn_set_now(c, now);
	if (c->rx_posted == 0) {
		rc = SDP_ERR_RX_NOT_POSTED;
		goto out_fail;
	}
	c->rx_posted--;
	c->st.msgs_received++;
	c->st.bytes_received += len;
	if (c->state == SDP_STATE_NEGOTIATING) {
		/* Before negotiation our buffers are the configured size. */
		if (len > c->cfg.max_receive_size) {
			rc = SDP_ERR_RX_TOO_LONG;
		} else if (c->cfg.role == SDP_ROLE_SERVER) {
			rc = conn_recv_neg_req(c, msg, len);
		} else {
			rc = conn_recv_neg_resp(c, msg, len);
		}
	} else {
		rc = conn_recv_data(c, msg, len);
	}
	if (rc >= 0) {
		goto out;
	}
out_fail:
	rc = conn_fail(c, rc, false);
out:
	return rc;
}

/* ---------------------------------------------------------------------
 * Other inputs
 * ------------------------------------------------------------------- */

int
sdp_on_send_complete(struct sdp_conn *c, unsigned n, uint64_t now)
{
	int rc = 0;

	if (!conn_is_live(c)) {
		rc = SDP_ERR_STATE;
		goto out;
	}
	if (n > c->tx_outstanding) {
		rc = SDP_ERR_INVAL;
		goto out;
	}
	rc = conn_act_reserve(c, CONN_ACT_RESERVE);
	if (rc != 0) {
		goto out;
	}
	conn_set_now(c, now);
	while (n-- > 0) {
		c->rx_in_flight -= c->tx_grants[c->tx_grants_head];
		c->tx_grants_head = (c->tx_grants_head + 1) %
		    c->cfg.max_outstanding_sends;
		c->tx_outstanding--;
	}
	if (c->state == SDP_STATE_CLOSING && c->tx_outstanding == 0) {
		rc = conn_fail(c, SDP_ERR_NEG_VERSION, true);
	}
out:
	return rc;
}

int
sdp_send_pdu(struct sdp_conn *c, uint64_t cookie, size_t len,
    uint32_t invalidate_rkey, uint64_t now)
{
	struct conn_pdu *p;
	int rc = 0;

	if (c->state != SDP_STATE_ESTABLISHED) {
		rc = SDP_ERR_STATE;
		goto out;
	}
	if (len == 0) {
		rc = SDP_ERR_INVAL;
		goto out;
	}
	if (len > c->params.peer_max_fragmented_size) {
		rc = SDP_ERR_MSGSIZE;
		goto out;
	}
	if (c->txq_count >= c->cfg.send_queue_max) {
		c->want_writable = true;
		rc = SDP_ERR_WOULDBLOCK;
		goto out;
	}
	conn_set_now(c, now);
	p = &c->txq[(c->txq_head + c->txq_count) % c->cfg.send_queue_max];
	p->cookie = cookie;
	p->len = (uint32_t)len;
	p->off = 0;
	p->rkey = invalidate_rkey;
	c->txq_count++;
out:
	return rc;
}

int
sdp_rx_release(struct sdp_conn *c, unsigned n)
{
	int rc = 0;

	if (!conn_is_live(c)) {
		rc = SDP_ERR_STATE;
	} else if (n > c->rx_held) {
		rc = SDP_ERR_INVAL;
	} else {
		c->rx_held -= n;
	}
	return rc;
}

int
sdp_set_upper_blocked(struct sdp_conn *c, bool blocked, uint64_t now)
{
	int rc = 0;

	if (c->state == SDP_STATE_DISCONNECTED) {
		rc = SDP_ERR_STATE;
	} else {
		conn_set_now(c, now);
		c->upper_blocked = blocked;
	}
	return rc;
}

int
sdp_on_timer(struct sdp_conn *c, uint64_t now)
{
	const struct sdp_config *cfg = &c->cfg;
	int rc;

	if (!conn_is_live(c)) {
		rc = SDP_ERR_STATE;
		goto out;
	}
	rc = conn_act_reserve(c, CONN_ACT_RESERVE);
	if (rc != 0) {
		goto out;
	}
	conn_set_now(c, now);
	/* The timer is one-shot: whatever is due next must be re-armed. */
	c->timer_armed = 0;
	c->timer_dirty = true;
	if (c->state != SDP_STATE_ESTABLISHED) {
		if (c->now >= c->neg_deadline) {
			rc = conn_fail(c, SDP_ERR_NEG_TIMEOUT, false);
		}
	} else if (c->ka != CONN_KA_NONE) {
		/* Unanswered (SENT) or, short of a credit, unsent (PENDING). */
		if (c->now >= c->ka_deadline) {
			rc = conn_fail(c, SDP_ERR_KEEPALIVE_TIMEOUT, false);
		}
	} else if (cfg->keepalive_interval_ms > 0 &&
	    c->now - c->last_rx >= cfg->keepalive_interval_ms) {
		c->ka = CONN_KA_PENDING;
		c->ka_deadline = c->now + cfg->keepalive_timeout_ms;
		/* Idle: let the window fall back as the peer uses credits. */
		c->rx_window = conn_max(conn_min(c->rx_window,
		    cfg->recv_credit_initial), CONN_WINDOW_MIN);
	}
out:
	return rc;
}

int
sdp_shutdown(struct sdp_conn *c, uint64_t now)
{
	int rc;

	if (c->state == SDP_STATE_DISCONNECTED) {
		rc = SDP_ERR_STATE;
		goto out;
	}
	rc = conn_act_reserve(c, CONN_ACT_RESERVE);
	if (rc != 0) {
		goto out;
	}
	conn_set_now(c, now);
	rc = conn_fail(c, SDP_ERR_SHUTDOWN, true);
out:
	return rc;
}

/* ---------------------------------------------------------------------
 * Computed actions
 * ------------------------------------------------------------------- */

static uint64_t
conn_deadline(const struct sdp_conn *c)
{
	uint64_t d = 0;

	if (c->state == SDP_STATE_NEGOTIATING ||
	    c->state == SDP_STATE_CLOSING) {
		d = c->neg_deadline;
	} else if (c->state == SDP_STATE_ESTABLISHED) {
		if (c->ka != CONN_KA_NONE) {
			d = c->ka_deadline;
		} else if (c->cfg.keepalive_interval_ms > 0) {
			d = c->last_rx + c->cfg.keepalive_interval_ms;
		}
	}
	return d;
}

static int
conn_timer_action(struct sdp_conn *c, struct sdp_action *out)
{
	uint64_t d;
	int rc = 0;

	if (!c->timer_dirty) {
		goto out;
	}
	c->timer_dirty = false;
	d = conn_deadline(c);
	/* A later deadline waits for the armed one to fire first. */
	if ((c->timer_force && d != c->timer_armed) ||
	    (d == 0 && c->timer_armed != 0) ||
	    (d != 0 && (c->timer_armed == 0 || d < c->timer_armed))) {
		c->timer_armed = d;
		memset(out, 0, sizeof(*out));
		out->type = SDP_ACT_TIMER;
		out->u.timer.deadline_ms = d;
		rc = 1;
	}
	c->timer_force = false;
out:
	return rc;
}

/* Posted receives not granted yet; the spare is never among them. */
static unsigned
conn_pending_grant(const struct sdp_conn *c)
{
	return c->rx_posted - c->rx_peer_credits - c->rx_spare;
}

static bool
conn_has_send_work(const struct sdp_conn *c)
{
	return c->txq_count > 0 || c->tx_reply_due || c->ka == CONN_KA_PENDING;
}

/* How many receives to post now. */
static unsigned
conn_post_count(const struct sdp_conn *c)
{
	const struct sdp_config *cfg = &c->cfg;
	unsigned used = c->rx_posted + c->rx_held;
	unsigned room = cfg->recv_credit_max > used ?
	    cfg->recv_credit_max - used : 0;
	unsigned aim = c->rx_window + c->rx_spare;
	unsigned want = 0;
	bool ka_work = c->tx_reply_due || c->ka == CONN_KA_PENDING;
	bool need_grant;

	if (!c->upper_blocked && c->rx_posted < aim) {
		want = conn_min(aim - c->rx_posted, room);
	}
	if (want > 0 || room == 0 || conn_pending_grant(c) > 0 ||
	    c->tx_credits == 0 ||
	    c->tx_outstanding >= cfg->max_outstanding_sends) {
		goto out;
	}
	/*
	 * A grant is needed to send at all on the last credit, and for a
	 * keepalive request the peer could not otherwise answer.
	 */
	need_grant = (c->tx_credits == 1 && conn_has_send_work(c)) ||
	    (c->ka == CONN_KA_PENDING && c->rx_peer_credits == 0);
	if (need_grant && (!c->upper_blocked || ka_work)) {
		want = 1;
	}
out:
	return want;
}

/* One data, keepalive or credit message, if the rules allow it now. */
static int
conn_build_send(struct sdp_conn *c, struct sdp_action *out)
{
	const struct sdp_config *cfg = &c->cfg;
	unsigned pending = conn_pending_grant(c);
	unsigned batch = conn_max(c->rx_window / 4, CONN_GRANT_MIN);
	bool data = c->txq_count > 0;
	bool grant_due = pending >= batch;
	bool ka_ok;
	struct sdp_data_hdr h;
	struct conn_pdu *p;
	uint32_t room, chunk = 0;
	int rc = 0, n;

	if (!data && !c->tx_reply_due && c->ka != CONN_KA_PENDING &&
	    !grant_due) {
		goto out;
	}
	if (c->tx_outstanding >= cfg->max_outstanding_sends) {
		goto out;
	}
	if (c->tx_credits == 0 || (c->tx_credits == 1 && pending == 0)) {
		if (!c->tx_stalled) {
			c->tx_stalled = true;
			c->st.credit_waits++;
		}
		goto out;
	}
	/* Ask for a reply only if the peer has a credit to reply with. */
	ka_ok = c->ka == CONN_KA_PENDING && c->rx_peer_credits + pending >= 1;
	if (!data && !c->tx_reply_due && !grant_due && !ka_ok) {
		goto out;
	}

	memset(&h, 0, sizeof(h));
	memset(out, 0, sizeof(*out));
	out->type = SDP_ACT_SEND;
	h.credits_requested = cfg->send_credit_target;
	h.credits_granted = (uint16_t)pending;
	h.flags = ka_ok ? SDP_FLAG_RESPONSE_REQUESTED : 0;
	if (data) {
		p = &c->txq[c->txq_head];
		room = c->params.max_send_size - SDP_DATA_OFFSET;
		chunk = p->len - p->off < room ? p->len - p->off : room;
		h.remaining_data_length = p->len - p->off - chunk;
		h.data_offset = SDP_DATA_OFFSET;
		h.data_length = chunk;
		out->u.send.cookie = p->cookie;
		out->u.send.pdu_off = p->off;
		out->u.send.pdu_len = chunk;
		out->u.send.has_payload = true;
		p->off += chunk;
		if (p->off == p->len) {
			out->u.send.last_of_pdu = true;
			out->u.send.invalidate_rkey = p->rkey;
			c->txq_head = (c->txq_head + 1) % cfg->send_queue_max;
			c->txq_count--;
			c->st.pdus_sent++;
		}
	} else {
		c->st.credit_msgs_sent++;
	}
	n = sdp_data_hdr_encode(&h, out->u.send.hdr,
	    sizeof(out->u.send.hdr));
	out->u.send.hdr_len = (size_t)n;

	c->tx_credits--;
	conn_sent(c, pending, (size_t)n + chunk);
	c->rx_peer_credits += pending;
	c->st.credits_granted_total += pending;
	c->tx_reply_due = false;
	c->tx_stalled = false;
	if (ka_ok) {
		c->ka = CONN_KA_SENT;
		c->ka_deadline = c->now + cfg->keepalive_timeout_ms;
		c->timer_dirty = true;
		c->st.keepalives_sent++;
	}
	rc = 1;
out:
	return rc;
}

static int
conn_pump(struct sdp_conn *c, struct sdp_action *out)
{
	unsigned n;
	int rc = 1;

	n = conn_post_count(c);
	if (n > 0) {
		memset(out, 0, sizeof(*out));
		out->type = SDP_ACT_POST_RECV;
		out->u.post_recv.count = n;
		out->u.post_recv.size = c->params.max_receive_size;
		c->rx_posted += n;
		goto out;
	}
	if (conn_timer_action(c, out) == 1) {
		goto out;
	}
	if (conn_build_send(c, out) == 1) {
		goto out;
	}
	/* Hysteresis: wake the reader once half the queue is free. */
	if (c->want_writable &&
	    c->txq_count <= c->cfg.send_queue_max / 2) {
		c->want_writable = false;
		memset(out, 0, sizeof(*out));
		out->type = SDP_ACT_WRITABLE;
		goto out;
	}
	rc = 0;
out:
	return rc;
}

int
sdp_next_action(struct sdp_conn *c, struct sdp_action *out)
{
	int rc = 0;

	if (c->act_count > 0) {
		*out = c->act[c->act_head];
		c->act_head = (c->act_head + 1) % c->act_cap;
		c->act_count--;
		rc = 1;
	} else if (c->state == SDP_STATE_ESTABLISHED) {
		rc = conn_pump(c, out);
	} else if (c->state == SDP_STATE_NEGOTIATING ||
	    c->state == SDP_STATE_CLOSING) {
		rc = conn_timer_action(c, out);
	}
	return rc;
}

/* ---------------------------------------------------------------------
 * Inspection
 * ------------------------------------------------------------------- */

const char *
sdp_state_name(enum sdp_state state)
{
	switch (state) {
	case SDP_STATE_INIT:
		return "init";
	case SDP_STATE_NEGOTIATING:
		return "negotiating";
	case SDP_STATE_ESTABLISHED:
		return "established";
	case SDP_STATE_CLOSING:
		return "closing";
	case SDP_STATE_DISCONNECTED:
		return "disconnected";
	}
	return "unknown";
}

int
sdp_get_params(const struct sdp_conn *c, struct sdp_params *out)
{
	if (!c->negotiated) {
		return SDP_ERR_STATE;
	}
	*out = c->params;
	return 0;
}

bool
sdp_is_negotiated(const struct sdp_conn *c)
{
	return c->negotiated;
}

uint32_t
sdp_rx_remaining(const struct sdp_conn *c)
{
	return c->rx_in_pdu ? c->rx_remaining : 0;
}

enum sdp_state
sdp_get_state(const struct sdp_conn *c)
{
	return c->state;
}

void
sdp_get_stats(const struct sdp_conn *c, struct sdp_stats *out)
{
	*out = c->st;
	out->send_credits = c->tx_credits;
	out->send_credit_target = c->cfg.send_credit_target;
	out->recv_credits_posted = c->rx_posted;
	out->recv_credit_target = c->rx_target;
	out->recv_window = c->rx_window;
	out->recv_held = c->rx_held;
	out->peer_credits = c->rx_peer_credits;
	out->queued_pdus = c->txq_count;
	out->sends_outstanding = c->tx_outstanding;
}

int
sdp_conn_check(const struct sdp_conn *c)
{
	const struct sdp_config *cfg = &c->cfg;
	bool ok = true;
	unsigned i, sum;

	ok = ok && c->rx_peer_credits <= c->rx_posted;
	ok = ok && c->rx_spare == (c->negotiated ? cfg->recv_spare : 0);
	/* A message without a credit may have used the spare: then it ended. */
	if (c->state != SDP_STATE_DISCONNECTED) {
		ok = ok && c->rx_peer_credits + c->rx_spare <= c->rx_posted;
	}
	ok = ok && c->rx_posted + c->rx_held <= cfg->recv_credit_max;
	ok = ok && c->tx_credits <= SDP_CREDITS_MAX;
	ok = ok && c->tx_outstanding <= cfg->max_outstanding_sends;
	ok = ok && c->txq_count <= cfg->send_queue_max;
	ok = ok && c->act_count <= c->act_cap;
	for (i = 0, sum = 0; i < c->tx_outstanding; i++) {
		sum += c->tx_grants[(c->tx_grants_head + i) %
		    cfg->max_outstanding_sends];
	}
	ok = ok && sum == c->rx_in_flight;
	if (c->negotiated) {
		ok = ok && c->rx_window >= CONN_WINDOW_MIN &&
		    c->rx_window <= cfg->recv_credit_max - c->rx_spare;
		ok = ok && c->rx_target >= CONN_WINDOW_MIN &&
		    c->rx_target <= cfg->recv_credit_max - c->rx_spare;
	}
	if (c->rx_in_pdu) {
		ok = ok && c->rx_remaining > 0 &&
		    c->rx_remaining < c->rx_pdu_len &&
		    c->rx_pdu_len <= c->params.max_fragmented_size;
	}
	for (i = 0; ok && i < c->txq_count; i++) {
		const struct conn_pdu *p =
		    &c->txq[(c->txq_head + i) % cfg->send_queue_max];

		ok = p->len > 0 && p->off < p->len && (i == 0 || p->off == 0);
	}
	if (ok && c->state == SDP_STATE_DISCONNECTED && c->act_count > 0) {
		ok = c->act[(c->act_head + c->act_count - 1) %
		    c->act_cap].type == SDP_ACT_DISCONNECT;
	}
	return ok ? 0 : SDP_ERR_INTERNAL;
}
