/* SPDX-License-Identifier: ISC */
/*
 * relay.c: one SMB Direct connection relayed to a TCP SMB server.
 *
 * Two threads, one per direction, each doing blocking I/O:
 *
 *   client -> backend ("up", the main thread) reads the data channel: the
 *   client's PDUs, and every operation frame the daemon sends (so it also
 *   sees the completions of the other thread's RDMA WRITEs, and hands
 *   them over). It writes TCP.
 *
 *   backend -> client ("down") reads TCP and writes the data channel.
 *
 * The data channel has one reader (up) and two writers; writes go under
 * wlock so frames never interleave. Blocking I/O keeps the code a straight
 * line per request; the two directions cannot wait on each other except
 * through the area's slots, and the up thread never blocks on a slot while
 * it is the one that frees them (it only ever waits for its own RDMA READ).
 *
 * Offload, for unsigned, unencrypted requests ([MS-SMB2] 3.3.5.12, .13):
 *
 *   WRITE with an RDMA channel: RDMA READ the client's buffers into an area
 *   slot, then send the backend a plain WRITE whose data is written to TCP
 *   straight from the area (one copy: area to socket).
 *
 *   READ with an RDMA channel: the request goes to the backend plain, and
 *   the MessageId is remembered. The response's data is received from TCP
 *   straight into an area slot (one copy: socket to area), RDMA WRITTEN to
 *   the client's buffers, and followed on the same queue pair by the READ
 *   response rewritten with DataLength 0 and DataRemaining = bytes, sent
 *   with invalidate when the client asked for RDMA_V1_INVALIDATE.
 *
 * Signed or encrypted messages are relayed untouched: rewriting would break
 * the signature, and we hold no key. A signed request that asks for an RDMA
 * channel is answered by the gateway with STATUS_NOT_SUPPORTED; to keep the
 * server's credit window whole, an ECHO with the same MessageId goes to the
 * backend in its place, and the credits it grants go back in the error.
 *
 * Compound requests are rebuilt command by command. In a compound
 * response, READ data is copied into the area (the one case with a second
 * copy, counted as payload_memcpy) and the rebuilt compound follows the
 * RDMA WRITEs. A response read whole that needs no rewriting goes out as
 * it came.
 *
 * Copies. Every memcpy() of SMB2 bytes and every socket transfer of
 * payload is counted where it happens, by kind (relay.h, GW_COPY_KINDS).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include "gateway/gwsmb2.h"
#include "gateway/relay.h"
#include "libclient/smbdirect-ctl.h"

#define PEND_SLOTS	4096		/* MessageIds remembered at once */
#define UPQ_MAX		1024		/* PDUs queued while waiting */

enum pend_kind {
	PEND_FREE = 0,
	PEND_READ,			/* RDMA READ offload: push data */
	PEND_WRITE_INV,			/* WRITE response: send with inv */
	PEND_SUBST,			/* ECHO standing in: answer error */
};

struct pend {
	enum pend_kind		kind;
	uint64_t		msg_id;
	uint32_t		invalidate;
	uint32_t		status;		/* PEND_SUBST */
	uint8_t			req_hdr[GW_HDR];	/* PEND_SUBST */
	struct sdctl_desc	desc[SDCTL_MAX_DESC];
	unsigned		n_desc;
};

enum slot_state {
	SLOT_FREE = 0,
	SLOT_UP,			/* an RDMA READ for the up thread */
	SLOT_DOWN,			/* an RDMA WRITE from the down thread */
};

struct slot {
	enum slot_state	state;
	bool		done;
	int		status;
};

struct upq {
	struct sdctl_frame	f;
	struct upq		*next;
};

struct relay {
	int			 chan;
	int			 tcp;
	uint64_t		 conn_id;
	uint32_t		 max_rw;
	uint32_t		 max_pdu_in;	/* largest PDU from the client */
	uint8_t			*area;
	uint64_t		 area_size;
	struct gw_stats		*st;

	pthread_mutex_t		 wlock;		/* data channel writes */
	pthread_mutex_t		 lock;		/* slots, pend, dead */
	pthread_cond_t		 cond;
	struct slot		*slots;
	unsigned		 n_slots;
	size_t			 slot_size;
	struct pend		*pend;
	bool			 dead;

	struct upq		*q_head;	/* PDUs read while waiting */
	struct upq		**q_tail;
	unsigned		 q_n;
};

static void
rlog(struct relay *r, const char *fmt, ...) __attribute__((format(printf, 2,
    3)));

static void
rlog(struct relay *r, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	syslog(LOG_INFO, "conn=%llu: %s", (unsigned long long)r->conn_id,
	    msg);
}

#define rdebug(r, ...)	syslog(LOG_DEBUG, __VA_ARGS__)

static void
add(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

/* Count @n bytes copied, of kind @k. */
static void
copied(struct relay *r, enum gw_copy k, uint64_t n)
{
	add(&r->st->copied[k], n);
}

static void
relay_kill(struct relay *r)
{
	pthread_mutex_lock(&r->lock);
	r->dead = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	shutdown(r->chan, SHUT_RDWR);
	shutdown(r->tcp, SHUT_RDWR);
}

/* ------------------------------------------------------------------ */
/* Pending requests, by MessageId                                     */
/* ------------------------------------------------------------------ */

static struct pend *
pend_find(struct relay *r, uint64_t id, bool create)
{
	unsigned i, h = (unsigned)(id * 0x9e3779b97f4a7c15ull >> 52) %
	    PEND_SLOTS;

	for (i = 0; i < PEND_SLOTS; i++) {
		struct pend *p = &r->pend[(h + i) % PEND_SLOTS];

		if (p->kind != PEND_FREE && p->msg_id == id) {
			return p;
		}
		if (p->kind == PEND_FREE && create) {
			p->msg_id = id;
			return p;
		}
	}
	return NULL;
}

/*
 * Open addressing with deletion: removing an entry could break a probe
 * chain, so entries after it in the chain are reinserted.
 */
static void
pend_remove(struct relay *r, struct pend *p)
{
	unsigned i = (unsigned)(p - r->pend), j;

	p->kind = PEND_FREE;
	for (j = (i + 1) % PEND_SLOTS; r->pend[j].kind != PEND_FREE;
	    j = (j + 1) % PEND_SLOTS) {
		struct pend tmp = r->pend[j], *n;

		r->pend[j].kind = PEND_FREE;
		n = pend_find(r, tmp.msg_id, true);
		*n = tmp;
	}
}

/* ------------------------------------------------------------------ */
/* Area slots                                                         */
/* ------------------------------------------------------------------ */

/* A free slot for @who, or -1 when none is free now. */
static int
slot_try(struct relay *r, enum slot_state who)
{
	unsigned i;
	int idx = -1;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->n_slots && !r->dead; i++) {
		if (r->slots[i].state == SLOT_FREE) {
			r->slots[i].state = who;
			r->slots[i].done = false;
			r->slots[i].status = 0;
			idx = (int)i;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return idx;
}

/* Block for a slot: for the down thread only (the up thread frees them). */
static int
slot_get(struct relay *r, enum slot_state who)
{
	unsigned i;
	int idx = -1;

	pthread_mutex_lock(&r->lock);
	while (!r->dead) {
		for (i = 0; i < r->n_slots; i++) {
			if (r->slots[i].state == SLOT_FREE) {
				r->slots[i].state = who;
				r->slots[i].done = false;
				r->slots[i].status = 0;
				idx = (int)i;
				goto out;
			}
		}
		pthread_cond_wait(&r->cond, &r->lock);
	}
out:
	pthread_mutex_unlock(&r->lock);
	return idx;
}

static void
slot_put(struct relay *r, unsigned i)
{
	pthread_mutex_lock(&r->lock);
	r->slots[i].state = SLOT_FREE;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static uint8_t *
slot_mem(struct relay *r, unsigned i)
{
	return r->area + (size_t)i * r->slot_size;
}

/* ------------------------------------------------------------------ */
/* I/O helpers                                                        */
/* ------------------------------------------------------------------ */

static int
read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = recv(fd, p, len, MSG_WAITALL);
		if (n == 0) {
			return -EPIPE;
		}
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
writev_full(int fd, struct iovec *iov, int n)
{
	ssize_t w;

	while (n > 0) {
		w = writev(fd, iov, n);
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static void
nbss(uint8_t h[4], size_t len)
{
	h[0] = 0;
	h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
}

/* ------------------------------------------------------------------ */
/* The up thread: client -> backend                                   */
/* ------------------------------------------------------------------ */

/* A completion: the down thread's (free its slot) or the up thread's. */
static void
up_completion(struct relay *r, const struct sdctl_frame *f)
{
	unsigned i = (unsigned)(f->req_id - 1);

	if (f->req_id == 0 || i >= r->n_slots) {
		rlog(r, "completion for unknown request %llu",
		    (unsigned long long)f->req_id);
		return;
	}
	pthread_mutex_lock(&r->lock);
	if (r->slots[i].state == SLOT_DOWN) {
		r->slots[i].state = SLOT_FREE;
		if (f->status != 0) {
			rlog(r, "RDMA WRITE to the client failed: %s",
			    strerror(-f->status));
		}
	} else {
		r->slots[i].done = true;
		r->slots[i].status = f->status;
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/*
 * Read the next frame for the up thread: queued PDUs first, then the
 * channel. Completions are handled here and never returned.
 */
static int
up_read(struct relay *r, struct sdctl_frame *f, bool queue_only_pdus)
{
	int rc;

	if (!queue_only_pdus && r->q_head != NULL) {
		struct upq *q = r->q_head;

		r->q_head = q->next;
		if (r->q_head == NULL) {
			r->q_tail = &r->q_head;
		}
		r->q_n--;
		*f = q->f;
		free(q);
		return 0;
	}
	for (;;) {
		rc = sdctl_chan_read(r->chan, r->max_pdu_in, f);
		if (rc != 0) {
			return rc;
		}
		switch (f->kind) {
		case SDCTL_FRAME_COMPLETION:
			up_completion(r, f);
			if (queue_only_pdus) {
				return 0;
			}
			continue;
		case SDCTL_FRAME_DRAIN:
			rlog(r, "the daemon asks to drain: closing in %ums",
			    f->grace_ms);
			continue;
		case SDCTL_FRAME_ERROR:
			rlog(r, "the daemon refused frame %#x: %s (%d)",
			    f->refused_type, f->message, f->status);
			continue;
		case SDCTL_FRAME_AREA:
			close(f->area_fd);
			continue;
		case SDCTL_FRAME_PDU:
			return 0;
		}
	}
}

static int
up_queue(struct relay *r, struct sdctl_frame *f)
{
	struct upq *q;

	if (f->kind != SDCTL_FRAME_PDU) {
		return 0;
	}
	q = malloc(sizeof(*q));
	if (q == NULL || r->q_n >= UPQ_MAX) {
		free(q);
		free(f->pdu);
		return -ENOBUFS;
	}
	q->f = *f;
	q->next = NULL;
	*r->q_tail = q;
	r->q_tail = &q->next;
	r->q_n++;
	return 0;
}

/*
 * A slot for the up thread. It must not simply block: the slots it waits
 * for are freed by completions that only it reads.
 */
static int
up_slot_get(struct relay *r)
{
	struct sdctl_frame f;
	int s, rc;

	while ((s = slot_try(r, SLOT_UP)) < 0) {
		if (r->dead) {
			return -EPIPE;
		}
		rc = up_read(r, &f, true);
		if (rc == 0) {
			rc = up_queue(r, &f);
		}
		if (rc != 0) {
			return rc;
		}
	}
	return s;
}

/* Wait for this thread's RDMA READ into slot @i, queueing PDUs. */
static int
up_wait_slot(struct relay *r, unsigned i)
{
	struct sdctl_frame f;
	bool done;
	int rc;

	for (;;) {
		pthread_mutex_lock(&r->lock);
		done = r->slots[i].done;
		rc = r->slots[i].status;
		pthread_mutex_unlock(&r->lock);
		if (done) {
			return rc;
		}
		rc = up_read(r, &f, true);
		if (rc == 0) {
			rc = up_queue(r, &f);
		}
		if (rc != 0) {
			return rc;
		}
	}
}

static int
up_forward(struct relay *r, struct iovec *iov, int n, size_t total)
{
	uint8_t h[4];
	int rc;

	nbss(h, total);
	iov[0].iov_base = h;
	iov[0].iov_len = 4;
	rc = writev_full(r->tcp, iov, n);
	if (rc == 0) {
		add(&r->st->pdus_to_backend, 1);
		add(&r->st->bytes_to_backend, total);
	}
	return rc;
}

static bool
is_rdma_rw(const uint8_t *pdu, size_t len, const struct gw_cmd *k,
    uint32_t max_rw, struct sdctl_smb2_rw *rw, int *perr)
{
	*perr = 0;
	if (k->command != GW_CMD_READ && k->command != GW_CMD_WRITE) {
		return false;
	}
	*perr = sdctl_smb2_rw_parse(pdu, len, k->off, max_rw, rw);
	if (*perr != 0) {
		return false;
	}
	return rw->channel == SMB2_CHANNEL_RDMA_V1 ||
	    rw->channel == SMB2_CHANNEL_RDMA_V1_INVALIDATE;
}

/*
 * A signed request asks for an RDMA channel: stand in ECHOs for the whole
 * chain and answer each command with STATUS_NOT_SUPPORTED when the ECHOs'
 * responses come back.
 */
static int
up_refuse_signed(struct relay *r, const uint8_t *pdu, size_t len,
    const struct gw_chain *c)
{
	struct sdctl_smb2_rw rw;
	uint8_t echo[GW_MAX_CHAIN][GW_ECHO_REQ_LEN + 4];
	struct iovec iov[GW_MAX_CHAIN + 1];
	size_t total = 0;
	unsigned i;

	rlog(r, "a signed request asks for an RDMA channel; rewriting it "
	    "would break its signature: answering STATUS_NOT_SUPPORTED");
	add(&r->st->refused_signed_rdma, 1);
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < c->n; i++) {
		struct pend *p = pend_find(r, c->cmd[i].msg_id, true);

		if (p == NULL) {
			pthread_mutex_unlock(&r->lock);
			return -ENOBUFS;
		}
		p->kind = PEND_SUBST;
		p->status = GW_STATUS_NOT_SUPPORTED;
		p->invalidate = 0;
		memcpy(p->req_hdr, pdu + c->cmd[i].off, GW_HDR);
		copied(r, GW_COPY_PDU_MEMCPY, GW_HDR);
		if ((c->cmd[i].command == GW_CMD_READ ||
		    c->cmd[i].command == GW_CMD_WRITE) &&
		    sdctl_smb2_rw_parse(pdu, len, c->cmd[i].off, UINT32_MAX,
		    &rw) == 0 &&
		    rw.channel == SMB2_CHANNEL_RDMA_V1_INVALIDATE) {
			p->invalidate = rw.desc[0].token;
		}
	}
	pthread_mutex_unlock(&r->lock);
	for (i = 0; i < c->n; i++) {
		size_t elen = i + 1 < c->n ? GW_ECHO_REQ_LEN + 4 :
		    GW_ECHO_REQ_LEN;

		memset(echo[i], 0, sizeof(echo[i]));
		copied(r, GW_COPY_PDU_MEMCPY, gw_echo_for(pdu + c->cmd[i].off,
		    echo[i]));
		gw_set_next(echo[i], i + 1 < c->n ? GW_ECHO_REQ_LEN + 4 : 0);
		iov[i + 1].iov_base = echo[i];
		iov[i + 1].iov_len = elen;
		total += elen;
	}
	return up_forward(r, iov, (int)c->n + 1, total);
}

/* One PDU from the client. */
static int
up_request(struct relay *r, uint8_t *pdu, size_t len)
{
	struct gw_chain c;
	struct sdctl_smb2_rw rw[GW_MAX_CHAIN];
	bool rdma[GW_MAX_CHAIN];
	uint8_t wr_hdr[GW_MAX_CHAIN][GW_WRITE_REQ_LEN];
	int wslot[GW_MAX_CHAIN];
	struct iovec iov[GW_MAX_CHAIN * 3 + 1];
	static const uint8_t zeros[8];
	unsigned i, any = 0, signed_rdma = 0;
	size_t total = 0, from_area = 0;
	int niov = 1, rc = 0, perr;

	/* Unparsable: the server judges it (@c is written only on success). */
	if (gw_chain_parse(pdu, len, &c) != 0) {
		goto plain;
	}
	if (c.encrypted) {
		add(&r->st->passthrough_encrypted, 1);
		goto plain;
	}
	for (i = 0; i < c.n; i++) {
		wslot[i] = -1;
		rdma[i] = is_rdma_rw(pdu, len, &c.cmd[i], r->max_rw, &rw[i],
		    &perr);
		if (perr != 0) {
			/*
			 * Broken channel info: the backend would never see it;
			 * the client broke the protocol. End the connection.
			 */
			rlog(r, "bad channel info in command %u: %s", i,
			    strerror(-perr));
			return -EPROTO;
		}
		if (rdma[i]) {
			any++;
			if (c.cmd[i].flags & GW_FLAG_SIGNED) {
				signed_rdma++;
			}
		}
	}
	if (any == 0) {
		goto plain;
	}
	if (signed_rdma > 0) {
		return up_refuse_signed(r, pdu, len, &c);
	}
	if (c.n > 1) {
		add(&r->st->compound_requests, 1);
	}

	/* Pull WRITE data first: the rebuilt request carries it. */
	for (i = 0; i < c.n; i++) {
		unsigned s;
		uint32_t n = rw[i].remaining_bytes;

		if (!rdma[i] || rw[i].command != GW_CMD_WRITE) {
			continue;
		}
		if (n != rw[i].desc_total || n > r->slot_size) {
			rlog(r, "WRITE RemainingBytes %u does not match its "
			    "descriptors (%llu)", n,
			    (unsigned long long)rw[i].desc_total);
			rc = -EPROTO;
			goto out;
		}
		rc = up_slot_get(r);
		if (rc < 0) {
			goto out;
		}
		s = (unsigned)rc;
		wslot[i] = rc;
		pthread_mutex_lock(&r->wlock);
		rc = sdctl_chan_rdma_read(r->chan, s + 1,
		    (uint64_t)s * r->slot_size, rw[i].desc, rw[i].n_desc);
		pthread_mutex_unlock(&r->wlock);
		if (rc == 0) {
			rc = up_wait_slot(r, s);
		}
		if (rc != 0) {
			rlog(r, "RDMA READ of %u bytes failed: %s", n,
			    strerror(-rc));
			goto out;
		}
		add(&r->st->rdma_read_ops, 1);
		add(&r->st->rdma_read_bytes, n);
		copied(r, GW_COPY_PDU_MEMCPY, gw_write_req_plain(pdu +
		    c.cmd[i].off, n, wr_hdr[i]));
		if (rw[i].channel == SMB2_CHANNEL_RDMA_V1_INVALIDATE) {
			struct pend *p;

			pthread_mutex_lock(&r->lock);
			p = pend_find(r, c.cmd[i].msg_id, true);
			if (p != NULL) {
				p->kind = PEND_WRITE_INV;
				p->invalidate = rw[i].desc[0].token;
			}
			pthread_mutex_unlock(&r->lock);
		}
	}
	/* Remember READs; strip their channels. */
	for (i = 0; i < c.n; i++) {
		struct pend *p;

		if (!rdma[i] || rw[i].command != GW_CMD_READ) {
			continue;
		}
		pthread_mutex_lock(&r->lock);
		p = pend_find(r, c.cmd[i].msg_id, true);
		if (p != NULL) {
			p->kind = PEND_READ;
			memcpy(p->desc, rw[i].desc, sizeof(p->desc));
			p->n_desc = rw[i].n_desc;
			p->invalidate = rw[i].channel ==
			    SMB2_CHANNEL_RDMA_V1_INVALIDATE ?
			    rw[i].desc[0].token : 0;
		}
		pthread_mutex_unlock(&r->lock);
		if (p == NULL) {
			rc = -ENOBUFS;
			goto out;
		}
		rdebug(r, "conn=%llu: READ %llu of %u at %llu: %u descriptors, "
		    "first %#llx+%u token %#x", (unsigned long long)r->conn_id,
		    (unsigned long long)c.cmd[i].msg_id, rw[i].length,
		    (unsigned long long)rw[i].offset, rw[i].n_desc,
		    (unsigned long long)rw[i].desc[0].offset,
		    rw[i].desc[0].length, rw[i].desc[0].token);
		gw_read_req_strip(pdu + c.cmd[i].off, c.cmd[i].len);
	}
	/* Rebuild the chain, command by command, 8-byte aligned. */
	for (i = 0; i < c.n; i++) {
		size_t clen, pad;
		bool last = i + 1 == c.n;

		if (wslot[i] >= 0) {
			uint32_t n = rw[i].remaining_bytes;

			clen = GW_WRITE_REQ_LEN + n;
			pad = last ? 0 : (8 - clen % 8) % 8;
			gw_set_next(wr_hdr[i], last ? 0 :
			    (uint32_t)(clen + pad));
			iov[niov].iov_base = wr_hdr[i];
			iov[niov++].iov_len = GW_WRITE_REQ_LEN;
			iov[niov].iov_base = slot_mem(r, (unsigned)wslot[i]);
			iov[niov++].iov_len = n;
			from_area += n;
		} else {
			clen = c.cmd[i].len;
			if (last && rdma[i]) {
				/* A stripped READ needs no channel bytes. */
				clen = GW_HDR + 49;
			}
			pad = last ? 0 : (8 - clen % 8) % 8;
			gw_set_next(pdu + c.cmd[i].off, last ? 0 :
			    (uint32_t)(clen + pad));
			iov[niov].iov_base = pdu + c.cmd[i].off;
			iov[niov++].iov_len = clen;
		}
		if (pad > 0) {
			iov[niov].iov_base = (void *)zeros;
			iov[niov++].iov_len = pad;
		}
		total += clen + pad;
	}
	rdebug(r, "conn=%llu: request of %u commands, %zu bytes, offloaded",
	    (unsigned long long)r->conn_id, c.n, total);
	rc = up_forward(r, iov, niov, total);
	if (rc == 0) {
		copied(r, GW_COPY_PAYLOAD_SEND_FROM_AREA, from_area);
	}
out:
	for (i = 0; i < c.n; i++) {
		if (wslot[i] >= 0) {
			slot_put(r, (unsigned)wslot[i]);
		}
	}
	return rc;

plain:
	iov[1].iov_base = pdu;
	iov[1].iov_len = len;
	return up_forward(r, iov, 2, len);
}

static void *
up_thread(struct relay *r)
{
	struct sdctl_frame f;
	int rc;

	for (;;) {
		rc = up_read(r, &f, false);
		if (rc != 0) {
			if (rc != -EPIPE) {
				rlog(r, "data channel: %s", strerror(-rc));
			}
			break;
		}
		rc = up_request(r, f.pdu, f.pdu_len);
		free(f.pdu);
		if (rc != 0) {
			if (rc != -EPIPE) {
				rlog(r, "relaying a request: %s",
				    strerror(-rc));
			}
			break;
		}
	}
	relay_kill(r);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The down thread: backend -> client                                 */
/* ------------------------------------------------------------------ */

static int
down_send(struct relay *r, const uint8_t *pdu, size_t len, uint32_t inv)
{
	int rc;

	pthread_mutex_lock(&r->wlock);
	if (inv != 0) {
		rc = sdctl_chan_write_pdu_invalidate(r->chan, pdu, len, inv);
	} else {
		rc = sdctl_chan_write_pdu(r->chan, pdu, len);
	}
	pthread_mutex_unlock(&r->wlock);
	if (rc == 0) {
		add(&r->st->pdus_to_client, 1);
		add(&r->st->bytes_to_client, len);
	}
	return rc;
}

/* Trim a descriptor list to @n bytes (a short read). */
static unsigned
desc_trim(struct sdctl_desc *d, unsigned count, uint32_t n)
{
	unsigned i;

	for (i = 0; i < count && n > 0; i++) {
		if (d[i].length > n) {
			d[i].length = n;
		}
		n -= d[i].length;
	}
	return i;
}

/*
 * The streaming case: a single READ response for an RDMA read. Its data
 * goes from the socket straight into an area slot.
 */
static int
down_read_rdma(struct relay *r, const uint8_t *head, size_t head_len,
    size_t len, struct pend *pcopy)
{
	uint8_t resp[GW_READ_RESP_RDMA_LEN], skip[256];
	uint32_t off = head[GW_HDR + 2];
	uint32_t n = frame_get_le32(head + GW_HDR + 4);
	size_t rest;
	unsigned nd;
	int s, rc;

	if (n == 0 || off < head_len || off > len || n > len - off ||
	    n > r->slot_size) {
		rlog(r, "READ response data %u+%u does not fit its %zu bytes",
		    off, n, len);
		return -EPROTO;
	}
	/* Padding between the fixed part and the data. */
	for (rest = off - head_len; rest > 0; ) {
		size_t k = rest < sizeof(skip) ? rest : sizeof(skip);

		rc = read_full(r->tcp, skip, k);
		if (rc != 0) {
			return rc;
		}
		rest -= k;
	}
	s = slot_get(r, SLOT_DOWN);
	if (s < 0) {
		return -EPIPE;
	}
	rc = read_full(r->tcp, slot_mem(r, (unsigned)s), n);
	if (rc != 0) {
		slot_put(r, (unsigned)s);
		return rc;
	}
	copied(r, GW_COPY_PAYLOAD_RECV_TO_AREA, n);
	for (rest = len - off - n; rest > 0; ) {
		size_t k = rest < sizeof(skip) ? rest : sizeof(skip);

		rc = read_full(r->tcp, skip, k);
		if (rc != 0) {
			return rc;
		}
		rest -= k;
	}
	nd = desc_trim(pcopy->desc, pcopy->n_desc, n);
	copied(r, GW_COPY_PDU_MEMCPY, gw_read_resp_rdma(head, n, resp));
	rdebug(r, "conn=%llu: READ response %llu: %u bytes by RDMA WRITE "
	    "(slot %d) to %u descriptors, first %#llx+%u token %#x, "
	    "invalidate %#x", (unsigned long long)r->conn_id,
	    (unsigned long long)frame_get_le64(head + 24), n, s, nd,
	    (unsigned long long)pcopy->desc[0].offset, pcopy->desc[0].length,
	    pcopy->desc[0].token, pcopy->invalidate);
	pthread_mutex_lock(&r->wlock);
	rc = sdctl_chan_rdma_write(r->chan, (uint64_t)s + 1,
	    (uint64_t)s * r->slot_size, pcopy->desc, nd, resp, sizeof(resp),
	    pcopy->invalidate);
	pthread_mutex_unlock(&r->wlock);
	if (rc != 0) {
		return rc;
	}
	/* The slot is freed by its completion (the up thread sees it). */
	add(&r->st->rdma_write_ops, 1);
	add(&r->st->rdma_write_bytes, n);
	add(&r->st->pdus_to_client, 1);
	add(&r->st->bytes_to_client, sizeof(resp));
	return 0;
}

/*
 * A compound (or otherwise unusual) response, read whole into @buf:
 * rebuild it, pushing RDMA READ data through the area and answering
 * substituted commands.
 */
static int
down_compound(struct relay *r, uint8_t *buf, size_t len)
{
	struct gw_chain c;
	struct pend pc[GW_MAX_CHAIN];
	bool have[GW_MAX_CHAIN];
	uint8_t *out = NULL, errbuf[GW_ERROR_RESP_LEN];
	uint8_t rresp[GW_READ_RESP_RDMA_LEN];
	size_t olen = 0, pad;
	uint32_t inv = 0;
	unsigned i, n_have = 0;
	int rc = 0;

	if (gw_chain_parse(buf, len, &c) != 0) {
		return down_send(r, buf, len, 0);
	}
	if (c.encrypted) {
		add(&r->st->passthrough_encrypted, 1);
		return down_send(r, buf, len, 0);
	}
	rdebug(r, "conn=%llu: response of %u commands, first %u id %llu "
	    "status %#x", (unsigned long long)r->conn_id, c.n,
	    c.cmd[0].command, (unsigned long long)c.cmd[0].msg_id,
	    c.cmd[0].status);
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < c.n; i++) {
		struct pend *p = pend_find(r, c.cmd[i].msg_id, false);

		have[i] = p != NULL && c.cmd[i].status != GW_STATUS_PENDING;
		if (have[i]) {
			pc[i] = *p;
			pend_remove(r, p);
			n_have++;
		}
	}
	pthread_mutex_unlock(&r->lock);
	if (n_have == 0) {
		/*
		 * Nothing to rewrite: the rebuilt chain would be this one
		 * (gw_chain_parse() wants NextCommand 8-aligned), so no copy.
		 */
		return down_send(r, buf, len, 0);
	}
	out = malloc(len + (size_t)c.n * (GW_ERROR_RESP_LEN + 8));
	if (out == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < c.n; i++) {
		const uint8_t *cmd = buf + c.cmd[i].off;
		const uint8_t *piece = cmd;
		size_t plen = c.cmd[i].len;
		uint32_t doff, n;

		if (have[i] && pc[i].kind == PEND_SUBST) {
			copied(r, GW_COPY_PDU_MEMCPY, gw_error_resp(
			    pc[i].req_hdr, pc[i].status, frame_get_le16(cmd + 14),
			    errbuf));
			piece = errbuf;
			plen = sizeof(errbuf);
		} else if (have[i] && pc[i].kind == PEND_READ &&
		    c.cmd[i].status == 0 && c.cmd[i].command == GW_CMD_READ &&
		    gw_read_resp_data(cmd, c.cmd[i].len, &doff, &n) == 0 &&
		    n > 0 && n <= r->slot_size) {
			int s = slot_get(r, SLOT_DOWN);
			unsigned nd;

			if (s < 0) {
				rc = -EPIPE;
				goto out;
			}
			memcpy(slot_mem(r, (unsigned)s), cmd + doff, n);
			copied(r, GW_COPY_PAYLOAD_MEMCPY, n);
			nd = desc_trim(pc[i].desc, pc[i].n_desc, n);
			pthread_mutex_lock(&r->wlock);
			rc = sdctl_chan_rdma_write(r->chan, (uint64_t)s + 1,
			    (uint64_t)s * r->slot_size, pc[i].desc, nd, NULL,
			    0, 0);
			pthread_mutex_unlock(&r->wlock);
			if (rc != 0) {
				goto out;
			}
			add(&r->st->rdma_write_ops, 1);
			add(&r->st->rdma_write_bytes, n);
			copied(r, GW_COPY_PDU_MEMCPY, gw_read_resp_rdma(cmd, n,
			    rresp));
			piece = rresp;
			plen = sizeof(rresp);
			if (pc[i].invalidate != 0) {
				inv = pc[i].invalidate;
			}
		}
		/*
		 * RDMA_V1_INVALIDATE: the client relies on the server to
		 * invalidate its token with the response, whatever its status
		 * (Linux cifs does not invalidate locally then; a READ at end
		 * of file must still invalidate).
		 */
		if (have[i] && pc[i].invalidate != 0) {
			inv = pc[i].invalidate;
		}
		memcpy(out + olen, piece, plen);
		copied(r, GW_COPY_PDU_MEMCPY, plen);
		pad = i + 1 < c.n ? (8 - plen % 8) % 8 : 0;
		memset(out + olen + plen, 0, pad);
		gw_set_next(out + olen, i + 1 < c.n ? (uint32_t)(plen + pad) :
		    0);
		olen += plen + pad;
	}
	/* RC ordering: the writes posted above land before this SEND. */
	rc = down_send(r, out, olen, inv);
out:
	free(out);
	return rc;
}

static void *
down_thread_main(void *arg)
{
	struct relay *r = arg;
	uint8_t h[4], head[GW_HDR + 16], *buf;
	struct pend pcopy;
	size_t len;
	bool have;
	int rc = 0;

	for (;;) {
		rc = read_full(r->tcp, h, 4);
		if (rc != 0) {
			break;
		}
		len = (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
		if (h[0] != 0 || len == 0) {
			rlog(r, "the backend sent a bad frame header");
			rc = -EPROTO;
			break;
		}
		if (len >= sizeof(head)) {
			rc = read_full(r->tcp, head, sizeof(head));
			if (rc != 0) {
				break;
			}
			/* Single, final READ response for an RDMA read? */
			have = false;
			if (head[0] == 0xfe && frame_get_le32(head + 20) == 0 &&
			    frame_get_le16(head + 12) == GW_CMD_READ &&
			    frame_get_le32(head + 8) == 0) {
				struct pend *p;

				pthread_mutex_lock(&r->lock);
				p = pend_find(r, frame_get_le64(head + 24), false);
				if (p != NULL && p->kind == PEND_READ) {
					pcopy = *p;
					pend_remove(r, p);
					have = true;
				}
				pthread_mutex_unlock(&r->lock);
			}
			if (have) {
				rc = down_read_rdma(r, head, sizeof(head), len,
				    &pcopy);
				if (rc != 0) {
					break;
				}
				continue;
			}
		}
		buf = malloc(len);
		if (buf == NULL) {
			rc = -ENOMEM;
			break;
		}
		if (len >= sizeof(head)) {
			memcpy(buf, head, sizeof(head));
			copied(r, GW_COPY_PDU_MEMCPY, sizeof(head));
			rc = read_full(r->tcp, buf + sizeof(head),
			    len - sizeof(head));
		} else {
			rc = read_full(r->tcp, buf, len);
		}
		if (rc == 0) {
			rc = down_compound(r, buf, len);
		}
		free(buf);
		if (rc != 0) {
			break;
		}
	}
	if (rc != -EPIPE) {
		rlog(r, "backend side ended: %s", strerror(-rc));
	}
	relay_kill(r);
	return NULL;
}

/* ------------------------------------------------------------------ */

/* connect() that gives up after @ms instead of the kernel's TCP timeout. */
static int
connect_timeout(int fd, const struct sockaddr *sa, socklen_t len, unsigned ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int fl = fcntl(fd, F_GETFL), err = 0;
	socklen_t el = sizeof(err);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		return -errno;
	}
	if (connect(fd, sa, len) != 0) {
		if (errno != EINPROGRESS) {
			return -errno;
		}
		if (poll(&pfd, 1, (int)ms) != 1) {
			return -ETIMEDOUT;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 ||
		    err != 0) {
			return -(err != 0 ? err : errno);
		}
	}
	return fcntl(fd, F_SETFL, fl) == 0 ? 0 : -errno;
}

static int
backend_connect(const struct relay_conf *cf)
{
	struct addrinfo hints, *ai = NULL, *a;
	int fd = -1, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(cf->backend_host, cf->backend_port, &hints, &ai) !=
	    0) {
		return -EHOSTUNREACH;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			continue;
		}
		if (connect_timeout(fd, a->ai_addr, a->ai_addrlen,
		    cf->connect_timeout_ms) == 0) {
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		return -ECONNREFUSED;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int
relay_run(const struct relay_conf *cf, const char *socket_path,
    uint64_t conn_id, uint32_t max_rw, uint32_t peer_max_frag,
    uint32_t max_frag, struct gw_stats *st)
{
	struct relay r;
	struct sdctl_frame f;
	pthread_t down;
	void *map = NULL;
	int rc = 1, e;

	memset(&r, 0, sizeof(r));
	r.conn_id = conn_id;
	r.max_rw = max_rw;
	r.max_pdu_in = max_frag + 64;
	r.st = st;
	r.chan = -1;
	r.tcp = -1;
	r.q_tail = &r.q_head;
	pthread_mutex_init(&r.wlock, NULL);
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	(void)peer_max_frag;

	e = sdctl_chan_connect(socket_path, &r.chan);
	if (e != 0) {
		rlog(&r, "cannot open the data channel %s: %s", socket_path,
		    strerror(-e));
		goto out;
	}
	e = backend_connect(cf);
	if (e < 0) {
		rlog(&r, "cannot reach the backend %s:%s: %s",
		    cf->backend_host, cf->backend_port, strerror(-e));
		goto out;
	}
	r.tcp = e;
	/* The area: slots of MaxReadWriteSize, one operation each. */
	e = sdctl_chan_request_area(r.chan);
	while (e == 0) {
		e = sdctl_chan_read(r.chan, r.max_pdu_in, &f);
		if (e != 0) {
			break;
		}
		if (f.kind == SDCTL_FRAME_AREA) {
			e = sdctl_area_map(f.area_fd, f.area_size, &map);
			close(f.area_fd);
			r.area_size = f.area_size;
			break;
		}
		/* Requests before the area: relay them later. */
		e = up_queue(&r, &f);
	}
	if (e != 0 || map == NULL) {
		rlog(&r, "cannot get the area: %s", strerror(-e));
		goto out;
	}
	r.area = map;
	r.slot_size = max_rw;
	r.n_slots = (unsigned)(r.area_size / r.slot_size);
	r.slots = calloc(r.n_slots > 0 ? r.n_slots : 1, sizeof(*r.slots));
	r.pend = calloc(PEND_SLOTS, sizeof(*r.pend));
	if (r.n_slots < 2 || r.slots == NULL || r.pend == NULL) {
		rlog(&r, "the area (%llu bytes) must hold two %u-byte slots",
		    (unsigned long long)r.area_size, max_rw);
		goto out;
	}
	rlog(&r, "relaying to %s:%s (area %llu bytes, %u slots)",
	    cf->backend_host, cf->backend_port,
	    (unsigned long long)r.area_size, r.n_slots);
	if (pthread_create(&down, NULL, down_thread_main, &r) != 0) {
		goto out;
	}
	up_thread(&r);
	pthread_join(down, NULL);
	rc = 0;
out:
	while (r.q_head != NULL) {
		struct upq *q = r.q_head;

		r.q_head = q->next;
		free(q->f.pdu);
		free(q);
	}
	free(r.slots);
	free(r.pend);
	if (map != NULL) {
		munmap(map, r.area_size);
	}
	if (r.chan >= 0) {
		close(r.chan);
	}
	if (r.tcp >= 0) {
		close(r.tcp);
	}
	return rc;
}
