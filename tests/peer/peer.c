/* SPDX-License-Identifier: ISC */
/*
 * peer.c: an SMB Direct client connection (see peer.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "peer.h"

#define PEER_SCRATCH	(2u << 20)	/* raw misbehaviour messages */
#define PEER_RING	(8u << 20)

uint64_t
peer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
peer_init(struct peer *p)
{
	memset(p, 0, sizeof(*p));
	sdp_config_init_defaults(&p->cfg, SDP_ROLE_CLIENT);
	p->cfg.max_fragmented_size = 2u << 20;
	/* Accept whatever MaxReadWriteSize the server offers. */
	p->cfg.max_read_write_size = 8u << 20;
	p->ird = 16;
	p->ord = 16;
	p->timeout_ms = 30000;
}

static void
peer_ended(struct peer *p, const char *why)
{
	if (!p->disconnected) {
		p->disconnected = true;
		snprintf(p->why, sizeof(p->why), "%s", why);
	}
}

/* Post one receive from the free stack. */
static int
post_recv(struct peer *p)
{
	struct ibv_recv_wr wr, *bad = NULL;
	struct ibv_sge sge;
	unsigned idx;

	if (p->n_rx_free == 0) {
		return -ENOBUFS;
	}
	idx = p->rx_free[--p->n_rx_free];
	sge.addr = (uintptr_t)(p->rx_mem + (size_t)idx * p->rx_size);
	sge.length = (uint32_t)p->rx_size;
	sge.lkey = p->rx_mr->lkey;
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = idx;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	if (ibv_post_recv(p->id->qp, &wr, &bad) != 0) {
		p->rx_free[p->n_rx_free++] = idx;
		return -errno;
	}
	return 0;
}

static int
post_send(struct peer *p, const uint8_t *hdr, size_t hdr_len,
    const uint8_t *payload, size_t len, uint64_t cookie, bool last, bool raw,
    uint32_t inv)
{
	struct ibv_send_wr wr, *bad = NULL;
	struct ibv_sge sge[2];
	unsigned slot;
	uint8_t *h;

	if (p->n_slot_free == 0 || hdr_len > PEER_HDR_SLOT) {
		return -ENOBUFS;
	}
	slot = p->slot_free[--p->n_slot_free];
	h = p->tx_mem + (size_t)slot * PEER_HDR_SLOT;
	if (hdr_len > 0) {
		memcpy(h, hdr, hdr_len);
	}
	sge[0].addr = (uintptr_t)h;
	sge[0].length = (uint32_t)hdr_len;
	sge[0].lkey = p->tx_mr->lkey;
	memset(&wr, 0, sizeof(wr));
	wr.num_sge = hdr_len > 0 ? 1 : 0;
	if (len > 0) {
		sge[wr.num_sge].addr = (uintptr_t)payload;
		sge[wr.num_sge].length = (uint32_t)len;
		sge[wr.num_sge].lkey = p->tx_mr->lkey;
		wr.num_sge++;
	}
	wr.sg_list = wr.num_sge > 0 ? sge : NULL;
	wr.wr_id = slot;
	wr.opcode = inv != 0 ? IBV_WR_SEND_WITH_INV : IBV_WR_SEND;
	wr.invalidate_rkey = inv;
	wr.send_flags = IBV_SEND_SIGNALED;
	p->slot_cookie[slot] = cookie;
	p->slot_last[slot] = last;
	p->slot_raw[slot] = raw;
	if (ibv_post_send(p->id->qp, &wr, &bad) != 0) {
		p->slot_free[p->n_slot_free++] = slot;
		return -errno;
	}
	return 0;
}

static uint8_t *
ring_base(struct peer *p)
{
	return p->tx_mem + (size_t)PEER_MAX_SLOTS * PEER_HDR_SLOT;
}

static void
run_actions(struct peer *p)
{
	struct sdp_action a;
	unsigned i;

	while (sdp_next_action(p->sdp, &a) == 1) {
		switch (a.type) {
		case SDP_ACT_POST_RECV:
			for (i = 0; i < a.u.post_recv.count; i++) {
				if (post_recv(p) != 0) {
					fprintf(stderr, "peer: cannot post a "
					    "receive\n");
					peer_ended(p, "local receive failure");
					return;
				}
			}
			break;
		case SDP_ACT_SEND:
			if (post_send(p, a.u.send.hdr, a.u.send.hdr_len,
			    a.u.send.has_payload ? ring_base(p) +
			    a.u.send.cookie + a.u.send.pdu_off : NULL,
			    a.u.send.has_payload ? a.u.send.pdu_len : 0,
			    a.u.send.cookie, a.u.send.has_payload &&
			    a.u.send.last_of_pdu, false,
			    a.u.send.invalidate_rkey) != 0) {
				peer_ended(p, "local send failure");
				return;
			}
			break;
		case SDP_ACT_DELIVER:
			if (a.u.deliver.first) {
				free(p->in);
				p->in = malloc(a.u.deliver.pdu_len);
				p->in_len = a.u.deliver.pdu_len;
				p->in_got = 0;
				if (p->in == NULL) {
					peer_ended(p, "out of memory");
					return;
				}
			}
			if (p->in == NULL ||
			    p->in_got + a.u.deliver.len > p->in_len) {
				peer_ended(p, "engine delivered beyond a PDU");
				return;
			}
			memcpy(p->in + p->in_got, a.u.deliver.data,
			    a.u.deliver.len);
			p->in_got += a.u.deliver.len;
			if (a.u.deliver.last) {
				struct peer_pdu *q = malloc(sizeof(*q) +
				    p->in_len);

				if (q == NULL) {
					peer_ended(p, "out of memory");
					return;
				}
				q->next = NULL;
				q->len = p->in_len;
				memcpy(q->data, p->in, p->in_len);
				*p->rq_tail = q;
				p->rq_tail = &q->next;
				p->rq_n++;
				p->pdus_received++;
				p->bytes_received += p->in_len;
				free(p->in);
				p->in = NULL;
			}
			break;
		case SDP_ACT_TIMER:
			p->deadline = a.u.timer.deadline_ms;
			break;
		case SDP_ACT_NEGOTIATED:
			p->negotiated = true;
			break;
		case SDP_ACT_WRITABLE:
		case SDP_ACT_NONE:
			break;
		case SDP_ACT_DISCONNECT:
			p->disconnect_reason = a.u.disconnect.reason;
			if (p->why[0] == '\0') {
				snprintf(p->why, sizeof(p->why), "engine: %s",
				    sdp_strerror(a.u.disconnect.reason));
			}
			rdma_disconnect(p->id);
			break;
		}
	}
}

static void
handle_wc(struct peer *p, const struct ibv_wc *wc)
{
	int rc;

	if (wc->status != IBV_WC_SUCCESS) {
		char why[120];

		snprintf(why, sizeof(why), "completion error: %s",
		    ibv_wc_status_str(wc->status));
		if (wc->opcode & IBV_WC_RECV || wc->status ==
		    IBV_WC_WR_FLUSH_ERR) {
			/* Flushes after a disconnect are expected. */
		}
		peer_ended(p, why);
		return;
	}
	if (wc->opcode & IBV_WC_RECV) {
		unsigned idx = (unsigned)wc->wr_id;

		if (p->frozen) {
			p->held++;
			return;
		}

		if (wc->wc_flags & IBV_WC_WITH_INV) {
			p->last_invalidated = wc->invalidated_rkey;
			p->n_invalidated++;
		}

		rc = sdp_on_recv(p->sdp, p->rx_mem + (size_t)idx * p->rx_size,
		    wc->byte_len, peer_now());
		if (rc == 1) {
			/* Held: DELIVER copies out of it before it is freed. */
			run_actions(p);
			if (p->no_release) {
				p->held++;
				return;
			}
			sdp_rx_release(p->sdp, 1);
		}
		/* The engine counts it free now: so must we, before it asks. */
		p->rx_free[p->n_rx_free++] = idx;
		run_actions(p);
		return;
	}
	if (wc->wr_id == PEER_WRID_BIND) {
		return;
	}
	/* A send. */
	{
		unsigned slot = (unsigned)wc->wr_id;
		bool raw = p->slot_raw[slot], last = p->slot_last[slot];

		p->slot_free[p->n_slot_free++] = slot;
		if (raw) {
			return;
		}
		if (last) {
			p->pdus_in_flight--;
			if (p->pdus_in_flight == 0) {
				p->tx_head = 0;
				p->tx_used = 0;
			}
		}
		sdp_on_send_complete(p->sdp, 1, peer_now());
		run_actions(p);
	}
}

static void
handle_cm(struct peer *p)
{
	struct rdma_cm_event *ev = NULL;
	enum rdma_cm_event_type t;
	int status;

	while (rdma_get_cm_event(p->ech, &ev) == 0) {
		t = ev->event;
		status = ev->status;
		rdma_ack_cm_event(ev);
		switch (t) {
		case RDMA_CM_EVENT_ESTABLISHED:
			p->connected = true;
			break;
		case RDMA_CM_EVENT_DISCONNECTED:
			peer_ended(p, "the server disconnected");
			break;
		case RDMA_CM_EVENT_REJECTED:
			p->rejected = true;
			peer_ended(p, "rejected by the server");
			break;
		case RDMA_CM_EVENT_TIMEWAIT_EXIT:
			break;
		default:
			{
				char why[100];

				snprintf(why, sizeof(why), "RDMA CM %s "
				    "(status %d)", rdma_event_str(t), status);
				if (t == RDMA_CM_EVENT_CONNECT_ERROR ||
				    t == RDMA_CM_EVENT_UNREACHABLE) {
					p->rejected = status == -ECONNREFUSED ||
					    status == 28 /* IB reject */;
				}
				peer_ended(p, why);
			}
			break;
		}
	}
}

int
peer_run_once(struct peer *p, int timeout_ms)
{
	struct pollfd pfd[2];
	struct ibv_cq *cq;
	struct ibv_wc wc[16];
	void *ctx;
	uint64_t now = peer_now();
	int n, i, wait = timeout_ms;

	if (p->deadline != 0) {
		int until = p->deadline > now ? (int)(p->deadline - now) : 0;

		if (wait < 0 || until < wait) {
			wait = until;
		}
	}
	pfd[0].fd = p->ech->fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = p->cch != NULL ? p->cch->fd : -1;
	pfd[1].events = POLLIN;
	n = poll(pfd, 2, wait);
	if (n < 0 && errno != EINTR) {
		return -errno;
	}
	if (pfd[1].revents & POLLIN) {
		while (ibv_get_cq_event(p->cch, &cq, &ctx) == 0) {
			ibv_ack_cq_events(cq, 1);
			ibv_req_notify_cq(cq, 0);
		}
	}
	if (p->cq != NULL) {
		while ((n = ibv_poll_cq(p->cq, 16, wc)) > 0) {
			for (i = 0; i < n; i++) {
				handle_wc(p, &wc[i]);
			}
		}
	}
	if (pfd[0].revents & POLLIN) {
		handle_cm(p);
	}
	if (p->sdp != NULL && p->deadline != 0 &&
	    peer_now() >= p->deadline) {
		p->deadline = 0;
		sdp_on_timer(p->sdp, peer_now());
		run_actions(p);
	}
	return 0;
}

static int
wait_cm(struct peer *p, enum rdma_cm_event_type want)
{
	struct rdma_cm_event *ev = NULL;
	struct pollfd pfd = { .fd = p->ech->fd, .events = POLLIN };
	enum rdma_cm_event_type t;
	int status;

	for (;;) {
		if (poll(&pfd, 1, (int)p->timeout_ms) <= 0) {
			snprintf(p->why, sizeof(p->why), "timed out waiting "
			    "for %s", rdma_event_str(want));
			return -ETIMEDOUT;
		}
		if (rdma_get_cm_event(p->ech, &ev) != 0) {
			if (errno == EAGAIN) {
				continue;
			}
			return -errno;
		}
		t = ev->event;
		status = ev->status;
		rdma_ack_cm_event(ev);
		if (t == want) {
			return 0;
		}
		p->rejected = t == RDMA_CM_EVENT_REJECTED ||
		    (t == RDMA_CM_EVENT_CONNECT_ERROR &&
		    status == -ECONNREFUSED);
		snprintf(p->why, sizeof(p->why), "%s (status %d) while "
		    "waiting for %s", rdma_event_str(t), status,
		    rdma_event_str(want));
		return -ECONNREFUSED;
	}
}

static int
setup(struct peer *p)
{
	struct ibv_qp_init_attr qpa;
	size_t txlen;
	unsigned i;

	p->pd = ibv_alloc_pd(p->id->verbs);
	p->cch = ibv_create_comp_channel(p->id->verbs);
	if (p->pd == NULL || p->cch == NULL) {
		return -ENOMEM;
	}
	fcntl(p->cch->fd, F_SETFL, fcntl(p->cch->fd, F_GETFL) | O_NONBLOCK);
	p->n_rx = p->cfg.recv_credit_max;
	p->rx_size = p->cfg.max_receive_size;
	p->cq = ibv_create_cq(p->id->verbs, (int)(PEER_MAX_SLOTS + p->n_rx +
	    8), NULL, p->cch, 0);
	if (p->cq == NULL || ibv_req_notify_cq(p->cq, 0) != 0) {
		return -ENOMEM;
	}
	memset(&qpa, 0, sizeof(qpa));
	qpa.send_cq = p->cq;
	qpa.recv_cq = p->cq;
	qpa.qp_type = IBV_QPT_RC;
	qpa.cap.max_send_wr = PEER_MAX_SLOTS;
	qpa.cap.max_recv_wr = p->n_rx;
	qpa.cap.max_send_sge = 2;
	qpa.cap.max_recv_sge = 1;
	if (rdma_create_qp(p->id, p->pd, &qpa) != 0) {
		return -errno;
	}
	p->rx_mem = calloc(p->n_rx, p->rx_size);
	p->rx_free = calloc(p->n_rx, sizeof(*p->rx_free));
	if (p->rx_mem == NULL || p->rx_free == NULL) {
		return -ENOMEM;
	}
	p->rx_mr = ibv_reg_mr(p->pd, p->rx_mem, (size_t)p->n_rx * p->rx_size,
	    IBV_ACCESS_LOCAL_WRITE);
	for (i = 0; i < p->n_rx; i++) {
		p->rx_free[i] = p->n_rx - 1 - i;
	}
	p->n_rx_free = p->n_rx;
	p->tx_ring = PEER_RING;
	txlen = (size_t)PEER_MAX_SLOTS * PEER_HDR_SLOT + p->tx_ring +
	    PEER_SCRATCH;
	p->tx_mem = mmap(NULL, txlen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->tx_mem == MAP_FAILED) {
		p->tx_mem = NULL;
		return -ENOMEM;
	}
	p->tx_mr = ibv_reg_mr(p->pd, p->tx_mem, txlen, IBV_ACCESS_LOCAL_WRITE);
	if (p->rx_mr == NULL || p->tx_mr == NULL) {
		return -errno;
	}
	for (i = 0; i < PEER_MAX_SLOTS; i++) {
		p->slot_free[i] = PEER_MAX_SLOTS - 1 - i;
	}
	p->n_slot_free = PEER_MAX_SLOTS;
	p->rq_tail = &p->rq_head;
	if (p->cfg.max_outstanding_sends > PEER_MAX_SLOTS) {
		p->cfg.max_outstanding_sends = PEER_MAX_SLOTS;
	}
	return sdp_conn_new(&p->cfg, NULL, &p->sdp) == 0 ? 0 : -EINVAL;
}

const char *
peer_transport(const struct peer *p)
{
	struct ibv_port_attr pa;

	if (p->id == NULL || p->id->verbs == NULL) {
		return "none";
	}
	if (p->id->verbs->device->transport_type == IBV_TRANSPORT_IWARP) {
		return "iwarp";
	}
	if (ibv_query_port(p->id->verbs, p->id->port_num ? p->id->port_num : 1,
	    &pa) == 0 && pa.link_layer == IBV_LINK_LAYER_INFINIBAND) {
		return "ib";
	}
	return "roce";
}

/*
 * Resolve, set up, connect. With @start_engine false the connection is
 * made but the engine never starts: no negotiate request is sent.
 */
int
peer_connect(struct peer *p, const char *addr, const char *port,
    bool start_engine)
{
	struct rdma_addrinfo hints, *ai = NULL;
	struct rdma_conn_param cp;
	int rc;

	p->ech = rdma_create_event_channel();
	if (p->ech == NULL) {
		return -errno;
	}
	fcntl(p->ech->fd, F_SETFL, fcntl(p->ech->fd, F_GETFL) | O_NONBLOCK);
	if (rdma_create_id(p->ech, &p->id, NULL, RDMA_PS_TCP) != 0) {
		return -errno;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_port_space = RDMA_PS_TCP;
	if (rdma_getaddrinfo(addr, port, &hints, &ai) != 0) {
		snprintf(p->why, sizeof(p->why), "cannot resolve %s:%s", addr,
		    port);
		return -EINVAL;
	}
	rc = rdma_resolve_addr(p->id, NULL, ai->ai_dst_addr, 5000);
	rdma_freeaddrinfo(ai);
	if (rc != 0 || (rc = wait_cm(p, RDMA_CM_EVENT_ADDR_RESOLVED)) != 0) {
		return rc != 0 ? rc : -errno;
	}
	if (rdma_resolve_route(p->id, 5000) != 0 ||
	    (rc = wait_cm(p, RDMA_CM_EVENT_ROUTE_RESOLVED)) != 0) {
		return rc != 0 ? rc : -errno;
	}
	rc = setup(p);
	if (rc != 0) {
		snprintf(p->why, sizeof(p->why), "setup failed: %s",
		    strerror(-rc));
		return rc;
	}
	memset(&cp, 0, sizeof(cp));
	cp.initiator_depth = (uint8_t)p->ord;
	cp.responder_resources = (uint8_t)p->ird;
	cp.retry_count = 7;
	cp.rnr_retry_count = 7;
	if (rdma_connect(p->id, &cp) != 0) {
		return -errno;
	}
	rc = wait_cm(p, RDMA_CM_EVENT_ESTABLISHED);
	if (rc != 0) {
		return rc;
	}
	p->connected = true;
	if (start_engine) {
		rc = sdp_start(p->sdp, peer_now());
		if (rc != 0) {
			return -EINVAL;
		}
		run_actions(p);
	}
	return 0;
}

int
peer_wait_negotiated(struct peer *p)
{
	uint64_t end = peer_now() + p->timeout_ms;

	while (!p->negotiated && !p->disconnected && peer_now() < end) {
		peer_run_once(p, 100);
	}
	return p->negotiated ? 0 : p->disconnected ? -ECONNRESET : -ETIMEDOUT;
}

/* Queue a PDU: copy it into the send ring and hand it to the engine. */
int
peer_send(struct peer *p, const void *data, size_t len)
{
	uint64_t end = peer_now() + p->timeout_ms;
	size_t off;
	int rc;

	if (len > p->tx_ring) {
		return -EMSGSIZE;
	}
	for (;;) {
		if (p->disconnected) {
			return -ECONNRESET;
		}
		/* A simple ring: append while it fits, else wait to empty. */
		if (p->tx_head + len <= p->tx_ring && p->pdus_in_flight <
		    p->cfg.send_queue_max) {
			off = p->tx_head;
			memcpy(ring_base(p) + off, data, len);
			rc = sdp_send_pdu(p->sdp, off, len, 0, peer_now());
			if (rc == 0) {
				p->tx_head += len;
				p->pdus_in_flight++;
				p->pdus_sent++;
				p->bytes_sent += len;
				run_actions(p);
				return 0;
			}
			if (rc != SDP_ERR_WOULDBLOCK) {
				return rc;
			}
		}
		if (peer_now() >= end) {
			return -ETIMEDOUT;
		}
		peer_run_once(p, 100);
	}
}

/* Send bytes as one message, behind the engine's back. */
int
peer_send_raw(struct peer *p, const void *msg, size_t len)
{
	uint8_t *scratch = ring_base(p) + p->tx_ring;

	if (len > PEER_SCRATCH) {
		return -EMSGSIZE;
	}
	memcpy(scratch, msg, len);
	return post_send(p, NULL, 0, scratch, len, 0, false, true, 0);
}

int
peer_recv(struct peer *p, struct peer_pdu **out)
{
	uint64_t end = peer_now() + p->timeout_ms;
	struct peer_pdu *q;

	while (p->rq_head == NULL) {
		if (p->disconnected) {
			return -ECONNRESET;
		}
		if (peer_now() >= end) {
			return -ETIMEDOUT;
		}
		peer_run_once(p, 100);
	}
	q = p->rq_head;
	p->rq_head = q->next;
	if (p->rq_head == NULL) {
		p->rq_tail = &p->rq_head;
	}
	p->rq_n--;
	*out = q;
	return 0;
}

int
peer_wait_disconnect(struct peer *p, unsigned timeout_ms)
{
	uint64_t end = peer_now() + timeout_ms;

	while (!p->disconnected && peer_now() < end) {
		peer_run_once(p, 100);
	}
	return p->disconnected ? 0 : -ETIMEDOUT;
}

void
peer_disconnect(struct peer *p)
{
	if (p->id != NULL && p->connected) {
		rdma_disconnect(p->id);
	}
}

void
peer_destroy(struct peer *p)
{
	struct peer_pdu *q;

	if (p->id != NULL && p->id->qp != NULL) {
		rdma_destroy_qp(p->id);
	}
	if (p->rx_mr != NULL) {
		ibv_dereg_mr(p->rx_mr);
	}
	if (p->tx_mr != NULL) {
		ibv_dereg_mr(p->tx_mr);
	}
	if (p->cq != NULL) {
		ibv_destroy_cq(p->cq);
	}
	if (p->cch != NULL) {
		ibv_destroy_comp_channel(p->cch);
	}
	if (p->pd != NULL) {
		ibv_dealloc_pd(p->pd);
	}
	if (p->id != NULL) {
		rdma_destroy_id(p->id);
	}
	if (p->ech != NULL) {
		rdma_destroy_event_channel(p->ech);
	}
	if (p->tx_mem != NULL) {
		munmap(p->tx_mem, (size_t)PEER_MAX_SLOTS * PEER_HDR_SLOT +
		    p->tx_ring + PEER_SCRATCH);
	}
	while ((q = p->rq_head) != NULL) {
		p->rq_head = q->next;
		free(q);
	}
	sdp_conn_free(p->sdp);
	free(p->rx_mem);
	free(p->rx_free);
	free(p->in);
}
