/* SPDX-License-Identifier: ISC */
/*
 * rconn.c: one SMB Direct connection over verbs.
 *
 * This file is the thin shell around the protocol engine (proto/sdp.h):
 * every protocol decision is the engine's, and this code only performs the
 * actions it asks for (post receives, post sends, deliver, arm the timer,
 * disconnect) and feeds it completions. The order of actions matters: a
 * negotiate response that grants credits must follow the receives it
 * grants, so actions are performed strictly in the order they come.
 *
 * Lifetime. A connection is created on RDMA CM's CONNECT_REQUEST and lives
 * until rconn_reap(). rconn_close() starts the end from any path (engine,
 * CM event, completion error, data channel, timer, kill, shutdown): it
 * closes the data channel, tells the master, disconnects, and schedules the
 * reap. The reap runs from its own event, never inside a completion or CM
 * callback of the same connection, so no caller is left holding a freed
 * pointer. It destroys the QP first, so no buffer is freed while the device
 * can still write into it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "daemon/area.h"
#include "daemon/log.h"
#include "daemon/master.h"
#include "daemon/ops.h"
#include "daemon/rconn.h"

/* How long an orderly disconnect may take before resources go anyway. */
#define RCONN_DISCONNECT_WAIT_MS	2000
/* Headroom for operation frames' send WRs beside the engine's sends. */
#define RCONN_HDR_SLOT			32

static void	rconn_reap(evutil_socket_t, short, void *);
static void	rconn_announce(struct rconn *);

const char *
rconn_state_name(enum rconn_state s)
{
	switch (s) {
	case RCONN_ACCEPTING:
		return "accepting";
	case RCONN_NEGOTIATING:
		return "negotiating";
	case RCONN_WAIT_MASTER:
		return "wait_master";
	case RCONN_WAIT_CHANNEL:
		return "wait_channel";
	case RCONN_ACTIVE:
		return "active";
	case RCONN_DRAINING:
		return "draining";
	case RCONN_CLOSING:
		return "closing";
	}
	return "unknown";
}

struct rconn *
rconn_find(struct daemon *d, uint64_t id)
{
	struct rconn *c;

	TAILQ_FOREACH(c, &d->conns, entry) {
		if (c->id == id) {
			return c;
		}
	}
	return NULL;
}

/*
 * The peer went away: in the middle of a PDU, while RDMA READs or WRITEs
 * of its memory were on the queue pair, or between PDUs.
 */
static enum rconn_reason
rconn_peer_gone_reason(const struct rconn *c)
{
	if (c->sdp != NULL && sdp_rx_remaining(c->sdp) > 0) {
		return RCONN_R_DISCONNECT_MID_PDU;
	}
	if (c->co != NULL && chanops_rdma_in_flight(c->co)) {
		return RCONN_R_DISCONNECT_MID_RDMA;
	}
	return RCONN_R_PEER_DISCONNECT;
}

/*
 * Count @c in (@delta 1) or out of (-1) the connections open on its
 * transport, and keep the peak. Only accepted connections count.
 */
static void
rconn_open_count(struct rconn *c, int delta)
{
	struct daemon *d = c->d;
	unsigned t = (unsigned)c->transport;

	if (t == 0 || t >= TRANSPORT_END || (delta > 0) == c->counted_open) {
		return;
	}
	c->counted_open = delta > 0;
	if (delta > 0) {
		if (++d->conns_open[t] > d->conns_peak[t]) {
			d->conns_peak[t] = d->conns_open[t];
		}
	} else {
		d->conns_open[t]--;
	}
}

static void
sockaddr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		snprintf(buf, len, "family-%d", sa->sa_family);
	}
}

static bool
same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family) {
		return false;
	}
	if (b->sa_family == AF_INET) {
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	}
	if (b->sa_family == AF_INET6) {
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
		    sizeof(struct in6_addr)) == 0;
	}
	return false;
}

/* ---------------------------------------------------------------------
 * Registered memory accounting
 * ------------------------------------------------------------------- */

/*
 * MRs one connection may hold: its receive chunks (enough for every
 * receive credit), the send ring, and the shared-memory area.
 */
unsigned
rconn_mr_limit(const struct conf *cfg)
{
	return (cfg->receive_credits + RX_CHUNK_BUFS - 1) / RX_CHUNK_BUFS + 2;
}

/* ---------------------------------------------------------------------
 * Receive buffers
 * ------------------------------------------------------------------- */

static int
rx_grow(struct rconn *c)
{
	struct rxchunk *ch = NULL;
	size_t bsz = c->d->cfg.max_receive_size, i;
	int rc = -ENOMEM;

	ch = calloc(1, sizeof(*ch));
	if (ch == NULL) {
		goto out;
	}
	ch->mem = aligned_alloc(4096, ((bsz * RX_CHUNK_BUFS) + 4095) &
	    ~(size_t)4095);
	if (ch->mem == NULL) {
		goto out_free_chunk;
	}
	ch->mr = dev_reg_mr(c->dev, &c->mrs, ch->mem, bsz * RX_CHUNK_BUFS,
	    IBV_ACCESS_LOCAL_WRITE);
	if (ch->mr == NULL) {
		log_warn("conn=%llu: registering receive buffers",
		    (unsigned long long)c->id);
		rc = -errno;
		goto out_free_mem;
	}
	for (i = 0; i < RX_CHUNK_BUFS; i++) {
		ch->bufs[i].kind = WR_RECV;
		ch->bufs[i].chunk = ch;
		ch->bufs[i].data = ch->mem + i * bsz;
		SLIST_INSERT_HEAD(&c->rx_free, &ch->bufs[i], free_entry);
	}
	SLIST_INSERT_HEAD(&c->rx_chunks, ch, entry);
	c->rx_allocated += RX_CHUNK_BUFS;
	return 0;

out_free_mem:
	free(ch->mem);
out_free_chunk:
	free(ch);
out:
	return rc;
}

static int
rx_post(struct rconn *c, unsigned count)
{
	struct ibv_recv_wr wr, *bad = NULL;
	struct ibv_sge sge;
	struct rxbuf *rx;
	unsigned i;

	for (i = 0; i < count; i++) {
		if (SLIST_EMPTY(&c->rx_free) && rx_grow(c) != 0) {
			return -ENOMEM;
		}
		rx = SLIST_FIRST(&c->rx_free);
		sge.addr = (uintptr_t)rx->data;
		sge.length = c->d->cfg.max_receive_size;
		sge.lkey = rx->chunk->mr->lkey;
		memset(&wr, 0, sizeof(wr));
		wr.wr_id = (uintptr_t)rx;
		wr.sg_list = &sge;
		wr.num_sge = 1;
		if (ibv_post_recv(c->cm_id->qp, &wr, &bad) != 0) {
			log_warn("conn=%llu: ibv_post_recv",
			    (unsigned long long)c->id);
			return -EIO;
		}
		SLIST_REMOVE_HEAD(&c->rx_free, free_entry);
		c->rx_posted++;
		COUNT_DAEMON(c->d, recv_posted, 1);
	}
	return 0;
}

static void
rx_free_all(struct rconn *c)
{
	struct rxchunk *ch;

	while ((ch = SLIST_FIRST(&c->rx_chunks)) != NULL) {
		SLIST_REMOVE_HEAD(&c->rx_chunks, entry);
		dev_dereg_mr(c->dev, &c->mrs, ch->mr);
		free(ch->mem);
		free(ch);
	}
	SLIST_INIT(&c->rx_free);
}

void
rconn_rx_release(struct rconn *c, struct rxbuf *rx)
{
	SLIST_INSERT_HEAD(&c->rx_free, rx, free_entry);
	c->rx_held--;
	if (c->state == RCONN_CLOSING) {
		return;
	}
	sdp_rx_release(c->sdp, 1);
	rconn_run(c);
}

/* ---------------------------------------------------------------------
 * Send side: header slots and the PDU ring
 * ------------------------------------------------------------------- */

static int
tx_setup(struct rconn *c)
{
	size_t hdr_bytes = (size_t)c->n_slots * RCONN_HDR_SLOT;
	size_t total = hdr_bytes + c->ring_size;
	unsigned i;

	c->tx_mem = mmap(NULL, total, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c->tx_mem == MAP_FAILED) {
		c->tx_mem = NULL;
		return -ENOMEM;
	}
	c->tx_mr = dev_reg_mr(c->dev, &c->mrs, c->tx_mem, total,
	    IBV_ACCESS_LOCAL_WRITE);
	if (c->tx_mr == NULL) {
		log_warn("conn=%llu: registering the send ring",
		    (unsigned long long)c->id);
		munmap(c->tx_mem, total);
		c->tx_mem = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < c->n_slots; i++) {
		c->slots[i].hdr = c->tx_mem + (size_t)i * RCONN_HDR_SLOT;
	}
	return 0;
}

static uint8_t *
ring_base(struct rconn *c)
{
	return c->tx_mem + (size_t)c->n_slots * RCONN_HDR_SLOT;
}

/*
 * Reserve @len contiguous ring bytes for a PDU being read from the data
 * channel. -EAGAIN: not now, wait for completions. -EMSGSIZE: never.
 */
int
rconn_tx_reserve(struct rconn *c, uint32_t len, struct txpdu **out,
    uint8_t **buf)
{
	struct sdp_params p;
	struct txpdu *pdu, *first;
	uint32_t off, span, tail;

	if (c->state == RCONN_CLOSING) {
		return -EPIPE;
	}
	sdp_get_params(c->sdp, &p);
	if (len == 0 || len > c->ring_size ||
	    len > p.peer_max_fragmented_size) {
		log_warnx("conn=%llu: the smbd sent a PDU of %u bytes; the "
		    "limit is %u (the client's MaxFragmentedSize)",
		    (unsigned long long)c->id, len,
		    p.peer_max_fragmented_size < c->ring_size ?
		    p.peer_max_fragmented_size : c->ring_size);
		return -EMSGSIZE;
	}
	first = TAILQ_FIRST(&c->tx_pdus);
	if (first == NULL) {
		c->ring_head = 0;
		c->ring_used = 0;
		off = 0;
		span = len;
	} else {
		tail = first->off;
		if (c->ring_head > tail ||
		    (c->ring_head == tail && c->ring_used == 0)) {
			if (c->ring_size - c->ring_head >= len) {
				off = c->ring_head;
				span = len;
			} else if (tail >= len) {
				/* Skip the end of the ring and wrap. */
				off = 0;
				span = c->ring_size - c->ring_head + len;
			} else {
				return -EAGAIN;
			}
		} else if (tail - c->ring_head >= len) {
			off = c->ring_head;
			span = len;
		} else {
			return -EAGAIN;
		}
	}
	pdu = calloc(1, sizeof(*pdu));
	if (pdu == NULL) {
		return -ENOMEM;
	}
	pdu->off = off;
	pdu->len = len;
	pdu->span = span;
	c->ring_head = (off + len) % c->ring_size;
	c->ring_used += span;
	TAILQ_INSERT_TAIL(&c->tx_pdus, pdu, entry);
	*out = pdu;
	*buf = ring_base(c) + off;
	return 0;
}

static void
tx_pdu_free(struct rconn *c, struct txpdu *pdu)
{
	TAILQ_REMOVE(&c->tx_pdus, pdu, entry);
	c->ring_used -= pdu->span;
	if (TAILQ_EMPTY(&c->tx_pdus)) {
		c->ring_head = 0;
		c->ring_used = 0;
	}
	free(pdu);
}

int
rconn_tx_submit(struct rconn *c, struct txpdu *pdu)
{
	int rc;

	if (c->state == RCONN_CLOSING) {
		return -EPIPE;
	}
	rc = sdp_send_pdu(c->sdp, (uint64_t)(uintptr_t)pdu, pdu->len,
	    pdu->invalidate_rkey, now_ms());
	if (rc == SDP_ERR_WOULDBLOCK) {
		return -EAGAIN;
	}
	if (rc != 0) {
		/*
		 * A daemon bug: rconn_tx_reserve() checked the PDU. The
		 * engine's code is the close reason (rconn_reason.h).
		 */
		rconn_close(c, rconn_reason_from_sdp(rc), "the engine refused "
		    "a PDU of %u bytes: %s", pdu->len, sdp_strerror(rc));
		return -EPIPE;
	}
	c->t_last_io = now_ms();
	rconn_run(c);
	return c->state == RCONN_CLOSING ? -EPIPE : 0;
}

static int
tx_post(struct rconn *c, const struct sdp_action *a)
{
	struct ibv_send_wr wr, *bad = NULL;
	struct ibv_sge sge[2];
	struct txslot *slot;
	struct txpdu *pdu = NULL;
	unsigned idx;

	if (c->n_slot_free == 0) {
		/* The engine bounds sends by max_outstanding_sends. */
		log_warnx("conn=%llu: internal: no free send slot",
		    (unsigned long long)c->id);
		return -ENOBUFS;
	}
	if (a->u.send.hdr_len > RCONN_HDR_SLOT) {
		return -EINVAL;
	}
	idx = c->slot_free[--c->n_slot_free];
	slot = &c->slots[idx];
	/* copy: none (the SMB Direct header the engine built) */
	memcpy(slot->hdr, a->u.send.hdr, a->u.send.hdr_len);
	memset(&wr, 0, sizeof(wr));
	sge[0].addr = (uintptr_t)slot->hdr;
	sge[0].length = (uint32_t)a->u.send.hdr_len;
	sge[0].lkey = c->tx_mr->lkey;
	wr.num_sge = 1;
	if (a->u.send.has_payload) {
		pdu = (struct txpdu *)(uintptr_t)a->u.send.cookie;
		sge[1].addr = (uintptr_t)(ring_base(c) + pdu->off +
		    a->u.send.pdu_off);
		sge[1].length = (uint32_t)a->u.send.pdu_len;
		sge[1].lkey = c->tx_mr->lkey;
		wr.num_sge = 2;
	}
	slot->pdu = pdu;
	slot->last = a->u.send.has_payload && a->u.send.last_of_pdu;
	wr.wr_id = (uintptr_t)slot;
	wr.sg_list = sge;
	wr.send_flags = IBV_SEND_SIGNALED;
	if (a->u.send.invalidate_rkey != 0) {
		wr.opcode = IBV_WR_SEND_WITH_INV;
		wr.invalidate_rkey = a->u.send.invalidate_rkey;
		/*
		 * libsiw (rdma-core 44) takes the key to invalidate from
		 * wr.rdma.rkey, not from invalidate_rkey; a SEND uses neither
		 * otherwise, so setting both is right for every provider.
		 */
		wr.wr.rdma.rkey = a->u.send.invalidate_rkey;
		COUNT(c, sends_with_invalidate, 1);
		log_debug("conn=%llu: SEND with Invalidate of %#x",
		    (unsigned long long)c->id, a->u.send.invalidate_rkey);
	} else {
		wr.opcode = IBV_WR_SEND;
	}
	if (ibv_post_send(c->cm_id->qp, &wr, &bad) != 0) {
		log_warn("conn=%llu: ibv_post_send", (unsigned long long)c->id);
		c->slot_free[c->n_slot_free++] = idx;
		return -EIO;
	}
	c->sends_outstanding++;
	COUNT(c, messages_out, 1);
	COUNT(c, bytes_out, a->u.send.hdr_len + a->u.send.pdu_len);
	if (slot->last) {
		COUNT(c, pdus_out, 1);
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Engine actions
 * ------------------------------------------------------------------- */

static void
rconn_set_timer(struct event *ev, uint64_t deadline)
{
	uint64_t now = now_ms(), ms;
	struct timeval tv;

	if (deadline == 0) {
		evtimer_del(ev);
		return;
	}
	ms = deadline > now ? deadline - now : 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(ev, &tv);
}

static void
rconn_state_timer_ms(struct rconn *c, uint64_t ms)
{
	rconn_set_timer(c->state_timer, ms == 0 ? 0 : now_ms() + ms);
}

static void
rconn_first_pdu(struct rconn *c)
{
	struct daemon *d = c->d;

	if (master_present(d)) {
		rconn_announce(c);
	} else if (d->cfg.master_grace_ms > 0) {
		c->state = RCONN_WAIT_MASTER;
		log_info("conn=%llu: first PDU held; waiting up to %ums for a "
		    "master to register", (unsigned long long)c->id,
		    d->cfg.master_grace_ms);
		rconn_state_timer_ms(c, d->cfg.master_grace_ms);
	} else {
		rconn_close(c, RCONN_R_NO_MASTER,
		    "no master smbd is registered");
	}
}

/* Perform one action of the SMB Direct engine. */
static void
rconn_sdp_act(struct rconn *c, const struct sdp_action *ap)
{
	struct sdp_action a = *ap;
	enum rconn_reason reason;
	int rc;

	switch (a.type) {
	case SDP_ACT_POST_RECV:
		rc = rx_post(c, a.u.post_recv.count);
		if (rc != 0) {
			rconn_close(c, RCONN_R_NO_RESOURCES,
			    "cannot post %u receive buffers",
			    a.u.post_recv.count);
		}
		break;
	case SDP_ACT_SEND:
		if (tx_post(c, &a) != 0) {
			rconn_close(c, RCONN_R_RDMA_ERROR,
			    "cannot post a send");
		}
		break;
	case SDP_ACT_DELIVER:
		if (c->cur_rx == NULL) {
			rconn_close(c, RCONN_R_NO_RESOURCES,
			    "internal: delivery outside a receive");
			break;
		}
		if (chan_deliver(&c->chan, c->cur_rx, a.u.deliver.data,
		    (uint32_t)a.u.deliver.len,
		    (uint32_t)a.u.deliver.pdu_len,
		    a.u.deliver.first, a.u.deliver.last) != 0) {
			rconn_close(c, RCONN_R_NO_RESOURCES,
			    "data channel queue full");
			break;
		}
		c->rx_held++;
		if (a.u.deliver.last) {
			COUNT(c, pdus_in, 1);
		}
		/* ESTABLISHED may still be queued behind the data. */
		if ((c->state == RCONN_ACCEPTING ||
		    c->state == RCONN_NEGOTIATING) &&
		    a.u.deliver.last) {
			rconn_first_pdu(c);
		}
		break;
	case SDP_ACT_TIMER:
		rconn_set_timer(c->engine_timer,
		    a.u.timer.deadline_ms);
		break;
	case SDP_ACT_NEGOTIATED:
		{
			struct sdp_params p;

			sdp_get_params(c->sdp, &p);
			log_info("conn=%llu: negotiated SMB Direct "
			    "%#x: send %u, receive %u, fragmented "
			    "%u/%u, read/write %u, credits %u",
			    (unsigned long long)c->id, p.version,
			    p.max_send_size, p.max_receive_size,
			    p.max_fragmented_size,
			    p.peer_max_fragmented_size,
			    p.max_read_write_size,
			    p.peer_credits_requested);
			chanops_set_max_read_write(c->co,
			    p.max_read_write_size);
		}
		break;
	case SDP_ACT_WRITABLE:
		chanops_resume(c->co);
		break;
	case SDP_ACT_NONE:
		break;
	case SDP_ACT_DISCONNECT:
		/*
		 * The boundary: the engine's error becomes a close
		 * reason here (rconn_reason.h).
		 */
		reason = rconn_reason_from_sdp(a.u.disconnect.reason);
		if (!sdp_is_negotiated(c->sdp)) {
			metrics_count(&c->d->metrics,
			    MF_NEGOTIATE_FAIL,
			    sdp_error_name(a.u.disconnect.reason), 1);
		}
		if (reason == RCONN_R_SDP_KEEPALIVE_TIMEOUT) {
			COUNT_DAEMON(c->d, keepalive_timeouts, 1);
		}
		rconn_close(c, reason, "%s",
		    sdp_strerror(a.u.disconnect.reason));
		break;
	}
}

static void	rconn_teardown(struct rconn *);

/*
 * The connection's one run loop: take the actions of both engines, the
 * SMB Direct engine's and the data channel's, and perform them in order
 * until neither has any. Performing an action may feed an engine again;
 * what that queues is taken by this same loop, never by a nested one: a
 * call made while the loop runs only marks it to look again. A close asked
 * for meanwhile takes effect after the loop (and any hold) unwinds.
 */
void
rconn_run(struct rconn *c)
{
	struct chanops_action ca;
	struct sdp_action a;

	if (c->in_run) {
		c->run_again = true;
		return;
	}
	c->in_run = true;
	do {
		c->run_again = false;
		/*
		 * The data channel's actions first: a frame it released
		 * (SEND_FRAME) must reach the stream before the SMB Direct
		 * engine delivers the first fragment of another PDU, or it
		 * would land between that PDU's fragments.
		 */
		for (;;) {
			if (c->co != NULL &&
			    chanops_next_action(c->co, &ca) == 1) {
				ops_act(c, &ca);
			} else if (c->state != RCONN_CLOSING &&
			    sdp_next_action(c->sdp, &a) > 0) {
				rconn_sdp_act(c, &a);
			} else {
				break;
			}
		}
	} while (c->run_again);
	c->in_run = false;
	if (c->close_pending) {
		if (c->holds == 0) {
			rconn_teardown(c);
		}
		return;
	}
	chan_update_read(&c->chan);
}

/*
 * An event callback works on @c: a close it causes waits for
 * rconn_unhold(), so that nothing the callback still touches goes away
 * under it.
 */
void
rconn_hold(struct rconn *c)
{
	c->holds++;
}

void
rconn_unhold(struct rconn *c)
{
	if (--c->holds == 0 && !c->in_run && c->close_pending) {
		rconn_teardown(c);
	}
}

static void
rconn_on_engine_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rconn *c = arg;

	if (c->state == RCONN_CLOSING) {
		return;
	}
	sdp_on_timer(c->sdp, now_ms());
	rconn_run(c);
}

static void
rconn_on_state_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rconn *c = arg;

	switch (c->state) {
	case RCONN_WAIT_MASTER:
		rconn_close(c, RCONN_R_NO_MASTER, "no master registered within "
		    "%ums", c->d->cfg.master_grace_ms);
		break;
	case RCONN_WAIT_CHANNEL:
		rconn_close(c, RCONN_R_CHANNEL_TIMEOUT, "nobody connected to "
		    "the data channel within %ums",
		    c->d->cfg.channel_connect_timeout_ms);
		break;
	case RCONN_DRAINING:
		rconn_close(c, RCONN_R_DRAINED, "drain grace period over");
		break;
	case RCONN_CLOSING:
		/* The orderly disconnect took too long: free anyway. */
		event_active(c->reap_ev, EV_TIMEOUT, 0);
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------------
 * Completions
 * ------------------------------------------------------------------- */

static void
rconn_wc(struct rconn *c, const struct ibv_wc *wc)
{
	uint8_t kind;

	if (wc->wr_id & WR_ID_RDMA) {
		ops_rdma_complete(c, wc);
		rconn_run(c);
		return;
	}
	kind = *(uint8_t *)(uintptr_t)wc->wr_id;
	if (kind == WR_RECV) {
		struct rxbuf *rx = (struct rxbuf *)(uintptr_t)wc->wr_id;

		c->rx_posted--;
		if (wc->status != IBV_WC_SUCCESS || c->state == RCONN_CLOSING) {
			SLIST_INSERT_HEAD(&c->rx_free, rx, free_entry);
			goto status;
		}
		COUNT(c, messages_in, 1);
		COUNT(c, bytes_in, wc->byte_len);
		c->t_last_io = now_ms();
		c->cur_rx = rx;
		/*
		 * 1: a DELIVER points into it, so the data channel holds it.
		 * Otherwise the engine counts it free at once, and may ask for
		 * it back in the actions below: free it first.
		 */
		if (sdp_on_recv(c->sdp, rx->data, wc->byte_len, now_ms()) != 1) {
			SLIST_INSERT_HEAD(&c->rx_free, rx, free_entry);
		}
		rconn_run(c);
		c->cur_rx = NULL;
		return;
	}
	if (kind == WR_SEND) {
		struct txslot *slot = (struct txslot *)(uintptr_t)wc->wr_id;

		c->slot_free[c->n_slot_free++] = (unsigned)(slot - c->slots);
		c->sends_outstanding--;
		if (slot->last && slot->pdu != NULL) {
			tx_pdu_free(c, slot->pdu);
			if (c->state != RCONN_CLOSING) {
				/* Ring space: a PDU may wait for it. */
				chanops_resume(c->co);
			}
		}
		slot->pdu = NULL;
		if (wc->status != IBV_WC_SUCCESS || c->state == RCONN_CLOSING) {
			goto status;
		}
		sdp_on_send_complete(c->sdp, 1, now_ms());
		rconn_run(c);
		return;
	}

status:
	if (wc->status == IBV_WC_SUCCESS || c->state == RCONN_CLOSING) {
		return;
	}
	c->qp_dead = true;
	if (kind == WR_RECV && wc->status == IBV_WC_LOC_LEN_ERR) {
		/* The device saw a message longer than our receive buffers. */
		rconn_close(c, RCONN_R_SDP_RX_TOO_LONG, "received a message "
		    "longer than MaxReceiveSize (%u)",
		    c->d->cfg.max_receive_size);
		return;
	}
	rconn_close_wc(c, wc, false, kind == WR_RECV ? "a receive" :
	    "a send");
}

/*
 * Why a failed work request ends the connection. A flush means the queue
 * pair went to error without this request being at fault: the peer went
 * away, mid-PDU or not. A remote access error is the client's memory
 * refusing us: a bad token, or a range outside what it registered.
 */
static enum rconn_reason
rconn_wc_reason(const struct rconn *c, const struct ibv_wc *wc)
{
	switch (wc->status) {
	case IBV_WC_WR_FLUSH_ERR:
		return rconn_peer_gone_reason(c);
	case IBV_WC_REM_ACCESS_ERR:
		return RCONN_R_RDMA_REMOTE_ACCESS;
	default:
		return RCONN_R_RDMA_ERROR;
	}
}

/*
 * End @c for the failed completion @wc of @what ("an RDMA READ", ...);
 * @rdma_op: @wc was an RDMA READ or WRITE of the peer's memory (a flushed
 * one counts as in flight, although ops.c no longer holds it).
 */
void
rconn_close_wc(struct rconn *c, const struct ibv_wc *wc, bool rdma_op,
    const char *what)
{
	enum rconn_reason reason = rconn_wc_reason(c, wc);

	if (wc->status == IBV_WC_WR_FLUSH_ERR) {
		if (rdma_op && reason == RCONN_R_PEER_DISCONNECT) {
			reason = RCONN_R_DISCONNECT_MID_RDMA;
		}
		rconn_close(c, reason, "queue pair flushed%s",
		    reason == RCONN_R_DISCONNECT_MID_PDU ? " in the middle "
		    "of a PDU" : reason == RCONN_R_DISCONNECT_MID_RDMA ?
		    " during RDMA on the peer's memory" : "");
		return;
	}
	metrics_count(&c->d->metrics, MF_ERRORS, "completion_error", 1);
	rconn_close(c, reason, "%s failed: %s (vendor %#x)", what,
	    ibv_wc_status_str(wc->status), wc->vendor_err);
}

/* Called by dev.c after get_cq_event, ack and re-arm: poll until empty. */
void
rconn_cq_event(struct rconn *c)
{
	struct ibv_wc wc[16];
	int n, i;

	rconn_hold(c);
	do {
		n = ibv_poll_cq(c->cq, 16, wc);
		if (n < 0) {
			rconn_close(c, RCONN_R_RDMA_ERROR, "ibv_poll_cq failed");
			break;
		}
		for (i = 0; i < n; i++) {
			rconn_wc(c, &wc[i]);
		}
	} while (n > 0);
	rconn_unhold(c);
}

/* ---------------------------------------------------------------------
 * Master and data channel
 * ------------------------------------------------------------------- */

static void
rconn_announce(struct rconn *c)
{
	char dir[sizeof(c->d->cfg.runtime_dir) + 8];

	snprintf(dir, sizeof(dir), "%s/conn", c->d->cfg.runtime_dir);
	if (chan_listen(&c->chan, dir, c->id) != 0) {
		rconn_close(c, RCONN_R_NO_RESOURCES,
		    "cannot create the data channel socket");
		return;
	}
	c->state = RCONN_WAIT_CHANNEL;
	rconn_state_timer_ms(c, c->d->cfg.channel_connect_timeout_ms);
	master_new_connection(c->d, c);
}

/* A master registered: hand it the connections that were waiting. */
void
rconn_master_changed(struct daemon *d)
{
	struct rconn *c, *tmp;

	TAILQ_FOREACH_SAFE(c, &d->conns, entry, tmp) {
		if (c->state == RCONN_WAIT_MASTER) {
			evtimer_del(c->state_timer);
			rconn_announce(c);
		}
	}
}

void
rconn_channel_connected(struct rconn *c, pid_t pid)
{
	if (c->state != RCONN_WAIT_CHANNEL) {
		return;
	}
	evtimer_del(c->state_timer);
	c->state = RCONN_ACTIVE;
	c->owner_pid = (uint32_t)pid;
	log_info("conn=%llu: data channel opened by pid=%d",
	    (unsigned long long)c->id, (int)pid);
}

void
rconn_drain_timer(struct rconn *c, uint32_t grace_ms)
{
	rconn_state_timer_ms(c, grace_ms > 0 ? grace_ms : 1);
}

void
rconn_channel_gone(struct rconn *c, enum rconn_reason reason,
    const char *why)
{
	rconn_close(c, reason, "%s", why);
}

void
rconn_upper_blocked(struct rconn *c, bool blocked)
{
	if (c->state == RCONN_CLOSING) {
		return;
	}
	sdp_set_upper_blocked(c->sdp, blocked, now_ms());
	rconn_run(c);
}

/* ---------------------------------------------------------------------
 * Creation and teardown
 * ------------------------------------------------------------------- */

static void
reject(struct daemon *d, struct rdma_cm_id *id, const char *reason,
    const char *peer)
{
	metrics_count(&d->metrics, MF_REFUSED, reason, 1);
	log_info("refused a connection from %s: %s", peer, reason);
	rdma_reject(id, NULL, 0);
	rdma_destroy_id(id);
}

static int
rconn_setup(struct rconn *c, const struct rdma_conn_param *req)
{
	struct daemon *d = c->d;
	const struct conf *cfg = &d->cfg;
	struct ibv_qp_init_attr qpa;
	struct rdma_conn_param cp;
	struct sdp_config sc;
	unsigned send_wr, i, peer_ird, peer_ord;
	int rc;

	c->dev = dev_get(d, c->cm_id->verbs);
	if (c->dev == NULL) {
		return -ENODEV;
	}
	c->transport = c->dev->transport;
	if (c->transport != TRANSPORT_IWARP) {
		c->transport = dev_transport(c->cm_id->verbs,
		    c->cm_id->port_num);
	}

	sdp_config_init_defaults(&sc, SDP_ROLE_SERVER);
	sc.recv_credit_max = (uint16_t)cfg->receive_credits;
	/*
	 * One receive beyond every credit granted: a client that sends
	 * without a credit lands in it and is caught (rx_without_credit),
	 * instead of stalling in RNR retries or an iWARP terminate.
	 */
	sc.recv_spare = 1;
	if (sc.recv_credit_initial > sc.recv_credit_max - sc.recv_spare) {
		sc.recv_credit_initial = sc.recv_credit_max - sc.recv_spare;
	}
	sc.send_credit_target = (uint16_t)cfg->send_credit_target;
	sc.max_send_size = cfg->max_send_size;
	sc.max_receive_size = cfg->max_receive_size;
	sc.max_fragmented_size = cfg->max_fragmented_size;
	sc.max_read_write_size = cfg->max_read_write_size;
	sc.negotiate_timeout_ms = cfg->negotiate_timeout_ms;
	sc.keepalive_interval_ms = cfg->keepalive_interval_ms;
	sc.keepalive_timeout_ms = cfg->keepalive_timeout_ms;
	c->n_slots = sc.max_outstanding_sends;
	rc = sdp_config_validate(&sc);
	if (rc != 0) {
		log_warnx("conn=%llu: engine configuration: %s",
		    (unsigned long long)c->id, sdp_strerror(rc));
		return -EINVAL;
	}

	/*
	 * Sends: every engine message slot plus every RDMA operation
	 * ops_pump() may have posted at once (ORD reads, 2 x ORD writes; the
	 * connection's ORD is at most the configured one). A device that
	 * cannot queue that many is refused rather than overrun.
	 */
	send_wr = c->n_slots + CHANOPS_MAX_POSTED(cfg->ord);
	if (send_wr > (unsigned)c->dev->attr.max_qp_wr) {
		log_warnx("conn=%llu: the device queues at most %d work "
		    "requests, %u needed (%u sends + %u RDMA operations for "
		    "ord %u): lower global.ord",
		    (unsigned long long)c->id, c->dev->attr.max_qp_wr,
		    send_wr, c->n_slots, CHANOPS_MAX_POSTED(cfg->ord),
		    cfg->ord);
		return -EINVAL;
	}
	c->cq = ibv_create_cq(c->cm_id->verbs,
	    (int)(send_wr + cfg->receive_credits + 1), c, c->dev->cch, 0);
	if (c->cq == NULL) {
		log_warn("conn=%llu: ibv_create_cq", (unsigned long long)c->id);
		return -ENOMEM;
	}
	if (ibv_req_notify_cq(c->cq, 0) != 0) {
		return -EIO;
	}
	memset(&qpa, 0, sizeof(qpa));
	qpa.qp_context = c;
	qpa.send_cq = c->cq;
	qpa.recv_cq = c->cq;
	qpa.qp_type = IBV_QPT_RC;
	qpa.cap.max_send_wr = send_wr;
	qpa.cap.max_recv_wr = cfg->receive_credits;
	qpa.cap.max_send_sge = 2;
	qpa.cap.max_recv_sge = 1;
	if (rdma_create_qp(c->cm_id, c->dev->pd, &qpa) != 0) {
		log_warn("conn=%llu: rdma_create_qp", (unsigned long long)c->id);
		return -ENOMEM;
	}
	/* The provider may round up, never down (ibv_create_qp(3)). */
	if (qpa.cap.max_send_wr < send_wr ||
	    qpa.cap.max_recv_wr < cfg->receive_credits) {
		log_warnx("conn=%llu: the QP holds %u sends and %u receives, "
		    "%u and %u asked", (unsigned long long)c->id,
		    qpa.cap.max_send_wr, qpa.cap.max_recv_wr, send_wr,
		    cfg->receive_credits);
		return -ENOMEM;
	}

	c->slots = calloc(c->n_slots, sizeof(*c->slots));
	c->slot_free = calloc(c->n_slots, sizeof(*c->slot_free));
	if (c->slots == NULL || c->slot_free == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < c->n_slots; i++) {
		c->slots[i].kind = WR_SEND;
		c->slot_free[i] = c->n_slots - 1 - i;
	}
	c->n_slot_free = c->n_slots;
	c->ring_size = cfg->send_buffer_size;
	rc = tx_setup(c);
	if (rc != 0) {
		return rc;
	}

	rc = sdp_conn_new(&sc, NULL, &c->sdp);
	if (rc != 0) {
		return -ENOMEM;
	}
	rc = sdp_start(c->sdp, now_ms());
	if (rc != 0) {
		return -EIO;
	}
	/* Post the negotiate request's receive before accepting. */
	rconn_run(c);
	if (c->state == RCONN_CLOSING) {
		return -EIO;
	}

	/*
	 * RDMA READ depths. Our ORD (reads we issue, the server's job in SMB
	 * Direct) must not exceed the client's IRD, and our IRD the client's
	 * ORD. RDMA CM presents the request from our side on every
	 * transport: initiator_depth is the most we may initiate (the peer's
	 * IRD), responder_resources the most we must answer (its ORD).
	 */
	peer_ird = req->initiator_depth;
	peer_ord = req->responder_resources;
	c->ord = cfg->ord;
	if (c->ord > (unsigned)c->dev->attr.max_qp_init_rd_atom) {
		c->ord = (unsigned)c->dev->attr.max_qp_init_rd_atom;
	}
	if (c->ord > peer_ird) {
		c->ord = peer_ird;
	}
	c->ird = cfg->ird;
	if (c->ird > (unsigned)c->dev->attr.max_qp_rd_atom) {
		c->ird = (unsigned)c->dev->attr.max_qp_rd_atom;
	}
	if (c->ird > peer_ord) {
		c->ird = peer_ord;
	}
	if (c->ord == 0) {
		log_warnx("conn=%llu: the client accepts no RDMA READ (its IRD "
		    "is 0): client writes cannot be offloaded",
		    (unsigned long long)c->id);
	}
	if (ops_new(c) != 0) {
		log_warnx("conn=%llu: out of memory for the data channel "
		    "engine", (unsigned long long)c->id);
		return -ENOMEM;
	}
	memset(&cp, 0, sizeof(cp));
	cp.responder_resources = (uint8_t)c->ird;
	cp.initiator_depth = (uint8_t)c->ord;
	if (rdma_accept(c->cm_id, &cp) != 0) {
		log_warn("conn=%llu: rdma_accept", (unsigned long long)c->id);
		return -EIO;
	}
	return 0;
}

static unsigned
conns_from(struct daemon *d, const struct sockaddr *peer)
{
	struct rconn *c;
	unsigned n = 0;

	TAILQ_FOREACH(c, &d->conns, entry) {
		if (same_host(&c->peer_addr, peer)) {
			n++;
		}
	}
	return n;
}

void
rconn_connect_request(struct daemon *d, struct rdma_cm_id *id,
    const struct rdma_conn_param *req)
{
	struct sockaddr *peer = rdma_get_peer_addr(id);
	struct rconn *c = NULL;
	char text[64];
	int rc;

	sockaddr_text(peer, text, sizeof(text));
	/*
	 * First: a peer the administrator shut out learns nothing else (not
	 * even that the host drains) and costs no more than this check.
	 */
	if (!conf_peer_allowed(&d->cfg, peer)) {
		reject(d, id, "access_denied", text);
		return;
	}
	if (d->shutting_down) {
		reject(d, id, "shutting_down", text);
		return;
	}
	if (d->draining) {
		reject(d, id, "draining", text);
		return;
	}
	if (d->n_conns >= d->cfg.max_connections) {
		reject(d, id, "max_connections", text);
		return;
	}
	if (conns_from(d, peer) >= d->cfg.max_connections_per_peer) {
		reject(d, id, "max_connections_per_peer", text);
		return;
	}
	if (!master_present(d) && d->cfg.master_grace_ms == 0) {
		reject(d, id, "no_master", text);
		return;
	}

	c = calloc(1, sizeof(*c));
	if (c != NULL) {
		c->engine_timer = evtimer_new(d->base, rconn_on_engine_timer,
		    c);
		c->state_timer = evtimer_new(d->base, rconn_on_state_timer, c);
		c->reap_ev = event_new(d->base, -1, 0, rconn_reap, c);
	}
	if (c == NULL || c->engine_timer == NULL || c->state_timer == NULL ||
	    c->reap_ev == NULL) {
		if (c != NULL) {
			if (c->engine_timer != NULL) {
				event_free(c->engine_timer);
			}
			if (c->state_timer != NULL) {
				event_free(c->state_timer);
			}
			if (c->reap_ev != NULL) {
				event_free(c->reap_ev);
			}
			free(c);
		}
		reject(d, id, "no_resources", text);
		return;
	}
	c->d = d;
	c->id = ++d->next_conn_id;
	c->cm_id = id;
	c->state = RCONN_ACCEPTING;
	c->t_start = c->t_last_io = now_ms();
	snprintf(c->peer, sizeof(c->peer), "%s", text);
	sockaddr_text(rdma_get_local_addr(id), c->local, sizeof(c->local));
	/* copy: none (an address) */
	memcpy(&c->peer_addr, peer, peer->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	SLIST_INIT(&c->rx_chunks);
	SLIST_INIT(&c->rx_free);
	TAILQ_INIT(&c->tx_pdus);
	chan_init(&c->chan, c);
	id->context = c;
	TAILQ_INSERT_TAIL(&d->conns, c, entry);
	d->n_conns++;

	rc = rconn_setup(c, req);
	if (rc != 0) {
		metrics_count(&d->metrics, MF_REFUSED, "no_resources", 1);
		log_warnx("conn=%llu: refused %s: cannot set up (%s)",
		    (unsigned long long)c->id, text, strerror(-rc));
		rdma_reject(id, NULL, 0);
		c->state = RCONN_CLOSING;
		c->close_reason = RCONN_R_NO_RESOURCES;
		event_active(c->reap_ev, EV_TIMEOUT, 0);
		return;
	}
	COUNT_DAEMON(d, conn_total, 1);
	rconn_open_count(c, 1);
	log_info("conn=%llu: accepted %s on %s (%s, %s)",
	    (unsigned long long)c->id, c->peer, c->local, c->dev->name,
	    transport_name(c->transport));
}

void
rconn_cm_event(struct rconn *c, enum rdma_cm_event_type ev, int status)
{
	switch (ev) {
	case RDMA_CM_EVENT_ESTABLISHED:
		c->established = true;
		if (c->state == RCONN_ACCEPTING) {
			c->state = RCONN_NEGOTIATING;
		}
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
		c->disconnected = true;
		/*
		 * What the peer sent before it went is in the CQ, and may be
		 * why it went (a send without credit that found no receive):
		 * the CM event can beat the CQ event, so judge that first.
		 */
		if (c->state != RCONN_CLOSING && c->cq != NULL) {
			rconn_cq_event(c);
		}
		if (c->state == RCONN_CLOSING) {
			event_active(c->reap_ev, EV_TIMEOUT, 0);
		} else if (rconn_peer_gone_reason(c) ==
		    RCONN_R_DISCONNECT_MID_PDU) {
			rconn_close(c, RCONN_R_DISCONNECT_MID_PDU, "the peer "
			    "disconnected with %u bytes of a PDU still to come",
			    sdp_rx_remaining(c->sdp));
		} else if (rconn_peer_gone_reason(c) ==
		    RCONN_R_DISCONNECT_MID_RDMA) {
			rconn_close(c, RCONN_R_DISCONNECT_MID_RDMA, "the peer "
			    "disconnected during RDMA on its memory");
		} else {
			rconn_close(c, RCONN_R_PEER_DISCONNECT,
			    "the peer disconnected");
		}
		break;
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		break;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		c->disconnected = true;
		rconn_close(c, RCONN_R_RDMA_ERROR, "device removed");
		break;
	default:
		/* CONNECT_ERROR, UNREACHABLE, REJECTED and the like. */
		c->disconnected = true;
		rconn_close(c, RCONN_R_RDMA_ERROR, "RDMA CM %s (status %d)",
		    rdma_event_str(ev), status);
		break;
	}
}

void
rconn_close(struct rconn *c, enum rconn_reason reason, const char *fmt,
    ...)
{
	struct daemon *d = c->d;
	enum rconn_state prev = c->state;
	va_list ap;

	if (c->state == RCONN_CLOSING) {
		return;
	}
	c->state = RCONN_CLOSING;
	c->close_reason = reason;
	va_start(ap, fmt);
	vsnprintf(c->close_msg, sizeof(c->close_msg), fmt, ap);
	va_end(ap);
	log_info("conn=%llu: closing (%s): %s", (unsigned long long)c->id,
	    rconn_reason_name(reason), c->close_msg);
	metrics_count(&d->metrics, MF_CLOSED, rconn_reason_name(reason), 1);

	evtimer_del(c->engine_timer);
	evtimer_del(c->state_timer);
	if (c->co != NULL) {
		chanops_abort(c->co);
	}
	c->close_prev = prev;
	c->close_pending = true;
	if (!c->in_run && c->holds == 0) {
		rconn_teardown(c);
	}
}

/*
 * The second half of a close, once no run loop or callback is working on
 * @c: the data channel goes, the master hears of it, and the connection
 * disconnects (then is reaped).
 */
static void
rconn_teardown(struct rconn *c)
{
	c->close_pending = false;
	chan_close(&c->chan);
	master_conn_closed(c->d, c, c->close_prev);
	if (c->established && !c->disconnected) {
		rdma_disconnect(c->cm_id);
		rconn_state_timer_ms(c, RCONN_DISCONNECT_WAIT_MS);
	} else {
		event_active(c->reap_ev, EV_TIMEOUT, 0);
	}
}

static void
rconn_reap(evutil_socket_t fd, short what, void *arg)
{
	struct rconn *c = arg;
	struct daemon *d = c->d;
	struct txpdu *p;

	/* The QP goes first: after this, the device touches no buffer. */
	if (c->cm_id != NULL && c->cm_id->qp != NULL) {
		rdma_destroy_qp(c->cm_id);
	}
	ops_free(c);
	area_free(c);
	rx_free_all(c);
	while ((p = TAILQ_FIRST(&c->tx_pdus)) != NULL) {
		TAILQ_REMOVE(&c->tx_pdus, p, entry);
		free(p);
	}
	if (c->tx_mr != NULL) {
		dev_dereg_mr(c->dev, &c->mrs, c->tx_mr);
	}
	if (c->tx_mem != NULL) {
		munmap(c->tx_mem, (size_t)c->n_slots * RCONN_HDR_SLOT +
		    c->ring_size);
	}
	if (c->cq != NULL && ibv_destroy_cq(c->cq) != 0) {
		log_warn("conn=%llu: ibv_destroy_cq",
		    (unsigned long long)c->id);
	}
	if (c->sdp != NULL) {
		struct sdp_stats st;

		sdp_get_stats(c->sdp, &st);
		d->metrics.credit_stalls += st.credit_waits;
	}
	sdp_conn_free(c->sdp);
	if (c->cm_id != NULL) {
		rdma_destroy_id(c->cm_id);
	}
	if (c->dev != NULL) {
		dev_put(c->dev);
	}
	if (c->mrs.count != 0) {
		log_warnx("conn=%llu: internal: %u MRs left at reap",
		    (unsigned long long)c->id, c->mrs.count);
	}
	free(c->slots);
	free(c->slot_free);
	event_free(c->engine_timer);
	event_free(c->state_timer);
	event_free(c->reap_ev);
	rconn_open_count(c, -1);
	TAILQ_REMOVE(&d->conns, c, entry);
	d->n_conns--;
	log_debug("conn=%llu: freed", (unsigned long long)c->id);
	free(c);
	daemon_check_shutdown(d);
}

/* At exit: free whatever did not finish its orderly close in time. */
void
rconn_free_all(struct daemon *d)
{
	struct rconn *c;

	while ((c = TAILQ_FIRST(&d->conns)) != NULL) {
		if (c->state != RCONN_CLOSING) {
			rconn_close(c, RCONN_R_SHUTDOWN, "the daemon exits");
		}
		rconn_reap(-1, 0, c);
	}
}
