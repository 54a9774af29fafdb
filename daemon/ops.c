/*
 * ops.c: operation frames from the owner (see ops.h, proto/frame.h).
 *
 * RDMA READ and WRITE move payload between the client's memory (named by
 * the Buffer Descriptor V1 list the client put in its SMB2 request) and the
 * connection's area. The daemon never copies that payload: the area is the
 * registered memory the work requests point at, so no code here counts a
 * copy (smbdirect_copied_bytes_total{kind="memcpy"} stays 0).
 *
 * Checking. Everything in a frame is checked before anything is posted,
 * by frame_rdma_decode_reject() and frame_rdma_check() (proto/frame.h):
 * descriptor count, zero lengths, 64-bit wrap, the total against the
 * negotiated MaxReadWriteSize, and the area range. A bad frame gets a
 * COMPLETION with a negative status (and a log line), never a post, and
 * is counted by reason in smbdirect_rdma_requests_rejected_total.
 *
 * Ordering. [MS-SMB2] READ over RDMA: the RDMA WRITEs of the data and the
 * SEND of the response go on the same RC queue pair back to back; RC
 * ordering makes the client see the data before the response, so the
 * response does not wait for the writes' completions. A WRITE frame with
 * FRAME_WRITE_THEN_PDU marks the next PDU as that response: it is handed to
 * the engine only once all of its writes are posted.
 *
 * Limits. RDMA READs in flight are capped by the ORD accepted for the
 * connection; RDMA WRITEs by twice that. Requests beyond the cap wait in a
 * FIFO, bounded by OPS_QUEUE_MAX; when it is full the data channel stops
 * being read, which pushes back on the owner.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/area.h"
#include "daemon/log.h"
#include "daemon/ops.h"
#include "daemon/rconn.h"
#include "frame.h"

#define OPS_QUEUE_MAX	32	/* RDMA requests accepted, not finished */

/* One RDMA READ or WRITE frame, until all its work requests complete. */
struct rdmareq {
	uint8_t			 kind;		/* WR_RDMA: first, see rconn.h */
	TAILQ_ENTRY(rdmareq)	 entry;
	struct frame_rdma	 f;
	bool			 write;
	uint32_t		 total;		/* payload bytes */
	unsigned		 next_desc;	/* next descriptor to post */
	uint32_t		 next_off;	/* offset within it */
	uint32_t		 posted_bytes;
	unsigned		 outstanding;	/* WRs posted, not completed */
	int			 status;	/* first error */
	bool			 then_pdu;	/* a PDU follows (writes) */
};

struct ops {
	TAILQ_HEAD(, rdmareq)	 reqs;		/* in arrival order */
	unsigned		 n_reqs;
	unsigned		 reads_out;	/* RDMA READ WRs in flight */
	unsigned		 writes_out;
	uint32_t		 max_wr_bytes;	/* the port's max_msg_sz */
	uint32_t		 next_invalidate;	/* for the next PDU */
	struct rdmareq		*gate;		/* write whose PDU waits */
	struct txpdu		*gated_pdu;	/* that PDU, read already */
};

static struct ops *
ops_get(struct rconn *c)
{
	struct ibv_port_attr pa;
	struct ops *o = c->ops;

	if (o != NULL) {
		return o;
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		return NULL;
	}
	TAILQ_INIT(&o->reqs);
	o->max_wr_bytes = 1u << 30;
	if (ibv_query_port(c->cm_id->verbs, c->cm_id->port_num ?
	    c->cm_id->port_num : 1, &pa) == 0 && pa.max_msg_sz > 0 &&
	    pa.max_msg_sz < o->max_wr_bytes) {
		o->max_wr_bytes = pa.max_msg_sz;
	}
	c->ops = o;
	return o;
}

/* An ERROR frame saying @msg; logs it. Counts nothing. */
static int
ops_error_frame(struct rconn *c, uint8_t refused, int status,
    const char *msg)
{
	uint8_t *body;
	size_t n;

	log_warnx("conn=%llu: refused frame %#x: %s", (unsigned long long)c->id,
	    refused, msg);
	body = malloc(FRAME_ERROR_FIXED + FRAME_ERROR_MSG_MAX);
	if (body == NULL) {
		return -ENOMEM;
	}
	n = frame_error_encode(status, refused, msg, body,
	    FRAME_ERROR_FIXED + FRAME_ERROR_MSG_MAX);
	return chan_send_op(&c->chan, FRAME_ERROR, body, (uint32_t)n, -1);
}

int
ops_error(struct rconn *c, uint8_t refused, int status, const char *fmt, ...)
{
	char msg[FRAME_ERROR_MSG_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	metrics_count(&c->d->metrics, MF_ERRORS, "bad_frame", 1);
	return ops_error_frame(c, refused, status, msg);
}

static void
ops_complete_frame(struct rconn *c, uint64_t req_id, int status,
    uint32_t bytes)
{
	struct frame_completion fc = { req_id, status, bytes };
	uint8_t *body = malloc(FRAME_COMPLETION_SIZE);

	if (body == NULL) {
		rconn_close(c, RCONN_R_NO_RESOURCES, "out of memory");
		return;
	}
	frame_completion_encode(&fc, body);
	if (chan_send_op(&c->chan, FRAME_COMPLETION, body,
	    FRAME_COMPLETION_SIZE, -1) != 0) {
		rconn_close(c, RCONN_R_NO_RESOURCES,
		    "data channel queue full");
	}
}

/*
 * Refuse an RDMA frame for @why: a COMPLETION with the reason's status, so
 * the owner's request ends, a log line, and the count.
 */
static int
ops_refuse(struct rconn *c, const struct frame_rdma *f, bool write,
    enum frame_rdma_reject why)
{
	log_warnx("conn=%llu: refused RDMA %s request %llu: %s (%u "
	    "descriptors, area offset %llu)", (unsigned long long)c->id,
	    write ? "WRITE" : "READ", (unsigned long long)f->req_id,
	    frame_rdma_reject_name(why), f->n_desc,
	    (unsigned long long)f->area_off);
	c->d->metrics.rdma_rejected[why]++;
	ops_complete_frame(c, f->req_id, frame_rdma_reject_status(why), 0);
	return 0;
}

/* Post what the caps allow, oldest request first. */
static void
ops_pump(struct rconn *c)
{
	struct ops *o = c->ops;
	struct rdmareq *r;
	struct ibv_send_wr wr, *bad = NULL;
	struct ibv_sge sge;
	unsigned cap_r = OPS_MAX_READS(c->ord), cap_w = OPS_MAX_WRITES(c->ord);

	if (o == NULL || c->state == RCONN_CLOSING || c->area == NULL) {
		return;
	}
	TAILQ_FOREACH(r, &o->reqs, entry) {
		while (r->next_desc < r->f.n_desc && r->status == 0) {
			const struct frame_desc *d = &r->f.desc[r->next_desc];
			uint32_t n = d->length - r->next_off;

			if (r->write ? o->writes_out >= cap_w :
			    o->reads_out >= cap_r) {
				return;	/* keep order: later ones wait too */
			}
			if (n > o->max_wr_bytes) {
				n = o->max_wr_bytes;
			}
			sge.addr = (uintptr_t)(area_base(c->area) +
			    r->f.area_off + r->posted_bytes);
			sge.length = n;
			sge.lkey = area_lkey(c->area);
			memset(&wr, 0, sizeof(wr));
			wr.wr_id = (uintptr_t)r;
			wr.sg_list = &sge;
			wr.num_sge = 1;
			wr.opcode = r->write ? IBV_WR_RDMA_WRITE :
			    IBV_WR_RDMA_READ;
			wr.send_flags = IBV_SEND_SIGNALED;
			wr.wr.rdma.remote_addr = d->offset + r->next_off;
			wr.wr.rdma.rkey = d->token;
			if (ibv_post_send(c->cm_id->qp, &wr, &bad) != 0) {
				log_warn("conn=%llu: posting an RDMA %s",
				    (unsigned long long)c->id,
				    r->write ? "WRITE" : "READ");
				rconn_close(c, RCONN_R_RDMA_ERROR,
				    "cannot post an RDMA operation");
				return;
			}
			r->outstanding++;
			r->posted_bytes += n;
			r->next_off += n;
			if (r->next_off == d->length) {
				r->next_desc++;
				r->next_off = 0;
			}
			if (r->write) {
				o->writes_out++;
			} else {
				o->reads_out++;
			}
		}
		/* A response PDU may go once its writes are all posted. */
		if (r == o->gate && r->next_desc == r->f.n_desc &&
		    o->gated_pdu != NULL) {
			struct txpdu *p = o->gated_pdu;

			o->gate = NULL;
			o->gated_pdu = NULL;
			if (rconn_tx_submit(c, p) == -EAGAIN) {
				c->chan.pending = p;
			}
			chan_resume_read(&c->chan);
			if (c->state == RCONN_CLOSING) {
				return;
			}
		}
	}
}

static int
ops_rdma(struct rconn *c, const uint8_t *body, uint32_t len, bool write)
{
	struct frame_rdma f;
	struct frame_rdma_limits lim;
	struct sdp_params sp;
	struct rdmareq *r;
	struct ops *o;
	enum frame_rdma_reject why;
	uint64_t total = 0;
	char msg[FRAME_ERROR_MSG_MAX + 1];
	int rc;

	rc = frame_rdma_decode(body, len, &f);
	if (rc != 0) {
		/* No request id we can trust: an error frame, then close. */
		why = frame_rdma_decode_reject(body, len);
		if (why == FRAME_RDMA_OK) {
			why = FRAME_RDMA_MALFORMED;
		}
		c->d->metrics.rdma_rejected[why]++;
		snprintf(msg, sizeof(msg), "malformed RDMA %s frame (%u "
		    "bytes): %s", write ? "WRITE" : "READ", len,
		    frame_rdma_reject_name(why));
		ops_error_frame(c, write ? FRAME_RDMA_WRITE : FRAME_RDMA_READ,
		    rc, msg);
		rconn_channel_gone(c, RCONN_R_CHANNEL_ERROR,
		    "malformed RDMA frame");
		return -EPROTO;
	}
	memset(&lim, 0, sizeof(lim));
	lim.has_area = c->area != NULL;
	lim.area_size = c->area != NULL ? area_size(c->area) : 0;
	lim.can_read = c->ord > 0;
	lim.write_pending = c->ops != NULL && c->ops->gate != NULL;
	if (sdp_get_params(c->sdp, &sp) == 0) {
		lim.max_read_write = sp.max_read_write_size;
	}
	why = frame_rdma_check(&f, write, &lim, &total);
	if (why != FRAME_RDMA_OK) {
		return ops_refuse(c, &f, write, why);
	}
	o = ops_get(c);
	if (o == NULL) {
		return ops_refuse(c, &f, write, FRAME_RDMA_NO_MEMORY);
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return ops_refuse(c, &f, write, FRAME_RDMA_NO_MEMORY);
	}
	r->kind = WR_RDMA;
	r->f = f;
	r->write = write;
	r->total = (uint32_t)total;
	r->then_pdu = write && (f.flags & FRAME_WRITE_THEN_PDU);
	TAILQ_INSERT_TAIL(&o->reqs, r, entry);
	o->n_reqs++;
	if (r->then_pdu) {
		o->gate = r;
		o->next_invalidate = f.invalidate;
	}
	if (write) {
		c->rdma_write_ops++;
		c->d->metrics.rdma_write_ops++;
	} else {
		c->rdma_read_ops++;
		c->d->metrics.rdma_read_ops++;
	}
	ops_pump(c);
	return 0;
}

/*
 * A PDU from the owner is complete in the send ring. It may carry a
 * pending invalidate token, and may have to wait for its writes.
 * Return: 0 submitted; 1 held here until its writes are posted (the
 * channel pauses); -EAGAIN the engine is full (the channel keeps the PDU
 * and pauses); -EPIPE the connection is closing.
 */
int
ops_pdu_ready(struct rconn *c, struct txpdu *p)
{
	struct ops *o = c->ops;

	if (o != NULL) {
		p->invalidate_rkey = o->next_invalidate;
		o->next_invalidate = 0;
		if (o->gate != NULL) {
			if (o->gate->next_desc < o->gate->f.n_desc) {
				o->gated_pdu = p;
				return 1;	/* ops_pump() submits it */
			}
			o->gate = NULL;
		}
	}
	return rconn_tx_submit(c, p);
}

void
ops_rdma_complete(struct rconn *c, const struct ibv_wc *wc)
{
	struct rdmareq *r = (struct rdmareq *)(uintptr_t)wc->wr_id;
	struct ops *o = c->ops;
	bool write = r->write;	/* r may be freed below */

	r->outstanding--;
	if (r->write) {
		o->writes_out--;
	} else {
		o->reads_out--;
	}
	if (wc->status != IBV_WC_SUCCESS && r->status == 0) {
		r->status = -EIO;
		if (c->state != RCONN_CLOSING) {
			log_warnx("conn=%llu: RDMA %s request %llu failed: %s",
			    (unsigned long long)c->id,
			    r->write ? "WRITE" : "READ",
			    (unsigned long long)r->f.req_id,
			    ibv_wc_status_str(wc->status));
		}
	}
	if (r->outstanding == 0 &&
	    (r->next_desc == r->f.n_desc || r->status != 0)) {
		if (r->status == 0) {
			if (r->write) {
				c->rdma_write_bytes += r->total;
				c->d->metrics.rdma_write_bytes += r->total;
			} else {
				c->rdma_read_bytes += r->total;
				c->d->metrics.rdma_read_bytes += r->total;
			}
		}
		if (c->state != RCONN_CLOSING) {
			ops_complete_frame(c, r->f.req_id, r->status,
			    r->status == 0 ? r->total : 0);
		}
		if (o->gate == r) {
			o->gate = NULL;
		}
		TAILQ_REMOVE(&o->reqs, r, entry);
		o->n_reqs--;
		free(r);
	}
	if (wc->status != IBV_WC_SUCCESS) {
		if (c->state != RCONN_CLOSING) {
			rconn_close_wc(c, wc, true, write ? "an RDMA WRITE" :
			    "an RDMA READ");
		}
		return;
	}
	ops_pump(c);
	if (o->n_reqs < OPS_QUEUE_MAX) {
		chan_resume_read(&c->chan);
	}
}

/* Whether the data channel may read another frame. */
/* Whether an RDMA READ or WRITE of @c's peer is on the queue pair. */
bool
ops_in_flight(const struct rconn *c)
{
	const struct rdmareq *r;

	if (c->ops == NULL) {
		return false;
	}
	TAILQ_FOREACH(r, &c->ops->reqs, entry) {
		if (r->outstanding > 0) {
			return true;
		}
	}
	return false;
}

bool
ops_can_accept(const struct rconn *c)
{
	return c->ops == NULL || (c->ops->n_reqs < OPS_QUEUE_MAX &&
	    c->ops->gated_pdu == NULL);
}

static int
ops_area(struct rconn *c, uint32_t len)
{
	struct area *a = NULL;
	uint8_t *body;
	int rc, fd;

	if (len != 0) {
		return ops_error(c, FRAME_AREA_REQUEST, -EINVAL,
		    "AREA_REQUEST has a %u-byte body, want none", len);
	}
	rc = area_get(c, &a);
	if (rc != 0) {
		return ops_error(c, FRAME_AREA_REQUEST, rc, "cannot create the "
		    "area: %s", strerror(-rc));
	}
	fd = area_dup_fd(a);
	body = malloc(FRAME_AREA_SIZE);
	if (fd < 0 || body == NULL) {
		free(body);
		if (fd >= 0) {
			close(fd);
		}
		return ops_error(c, FRAME_AREA_REQUEST, -ENOMEM, "out of "
		    "memory or descriptors");
	}
	frame_area_encode(c->id, area_size(a), body);
	return chan_send_op(&c->chan, FRAME_AREA, body, FRAME_AREA_SIZE, fd);
}

static int
ops_send_invalidate(struct rconn *c, const uint8_t *body, uint32_t len)
{
	uint32_t rkey;

	if (frame_u32_decode(body, len, &rkey) != 0 || rkey == 0) {
		return ops_error(c, FRAME_SEND_INVALIDATE, -EINVAL,
		    "SEND_INVALIDATE needs a non-zero 4-byte token");
	}
	ops_get(c);
	if (c->ops == NULL) {
		return ops_error(c, FRAME_SEND_INVALIDATE, -ENOMEM,
		    "out of memory");
	}
	c->ops->next_invalidate = rkey;
	log_debug("conn=%llu: next PDU invalidates %#x",
	    (unsigned long long)c->id, rkey);
	return 0;
}

/*
 * CLAIM: the sender proves by its kernel-attached pid that it holds the
 * data channel. The Claim control request then completes the hand-off.
 */
static int
ops_claim(struct rconn *c, const uint8_t *body, uint32_t len, pid_t sender)
{
	uint64_t id;

	if (frame_u64_decode(body, len, &id) != 0 || id != c->id) {
		return ops_error(c, FRAME_CLAIM, -EINVAL, "CLAIM does not name "
		    "connection %llu", (unsigned long long)c->id);
	}
	if (sender <= 0) {
		return ops_error(c, FRAME_CLAIM, -EPERM, "CLAIM frame written "
		    "by more than one process");
	}
	if (c->handoff_pid != (uint32_t)sender) {
		return ops_error(c, FRAME_CLAIM, -EPERM, "connection %llu was "
		    "not handed off to pid %d", (unsigned long long)c->id,
		    (int)sender);
	}
	c->claim_pid = (uint32_t)sender;
	log_debug("conn=%llu: CLAIM frame from pid=%d",
	    (unsigned long long)c->id, (int)sender);
	return 0;
}

int
ops_handle(struct rconn *c, uint8_t type, const uint8_t *body, uint32_t len,
    pid_t sender)
{
	switch (type) {
	case FRAME_AREA_REQUEST:
		return ops_area(c, len);
	case FRAME_RDMA_READ:
		return ops_rdma(c, body, len, false);
	case FRAME_RDMA_WRITE:
		return ops_rdma(c, body, len, true);
	case FRAME_SEND_INVALIDATE:
		return ops_send_invalidate(c, body, len);
	case FRAME_CLAIM:
		return ops_claim(c, body, len, sender);
	default:
		break;
	}
	ops_error(c, type, -EPROTO, "unknown operation frame type %#x", type);
	rconn_channel_gone(c, RCONN_R_CHANNEL_ERROR,
	    "unknown operation frame type on the data channel");
	return -EPROTO;
}

/* At close: nothing more is posted; completions still arrive as flushes. */
void
ops_abort(struct rconn *c)
{
	if (c->ops != NULL) {
		c->ops->gated_pdu = NULL;	/* the ring frees it */
		c->ops->gate = NULL;
	}
}

/* At reap, after the QP is gone: no completion can refer to these now. */
void
ops_free(struct rconn *c)
{
	struct rdmareq *r;

	if (c->ops == NULL) {
		return;
	}
	while ((r = TAILQ_FIRST(&c->ops->reqs)) != NULL) {
		TAILQ_REMOVE(&c->ops->reqs, r, entry);
		free(r);
	}
	free(c->ops);
	c->ops = NULL;
}
