/* SPDX-License-Identifier: ISC */
/*
 * chanops.c: the data channel's engine (see chanops.h).
 *
 * Three parts share one structure: the parser of the stream from the
 * owner (rx_*), the held-frame rule on the stream to it (out_*), and the
 * RDMA request scheduler (req_*, pump). Every output is an action in one
 * FIFO; nothing here calls back into the caller, so no input can re-enter
 * the engine.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "chanops.h"

#define CHANOPS_QUEUE_MAX	32
#define CHANOPS_HELD_MAX	512
#define CHANOPS_ACTS_MIN	8

/* One RDMA READ or WRITE frame, until all its work requests complete. */
struct co_req {
	TAILQ_ENTRY(co_req)	 entry;
	struct frame_rdma	 f;
	bool			 write;
	bool			 then_pdu;
	uint32_t		 total;		/* payload bytes */
	unsigned		 next_desc;	/* next descriptor to post */
	uint32_t		 next_off;	/* offset within it */
	uint32_t		 posted_bytes;
	unsigned		 outstanding;	/* posted, not completed */
	int32_t			 status;	/* first failure */
};

/* A frame waiting for the end of the PDU being delivered. */
struct co_held {
	struct co_held		*next;
	uint8_t			*body;
	uint32_t		 len;
	int			 fd;
	uint8_t			 type;
};

struct chanops {
	struct chanops_config	 cfg;
	struct sdp_mem		 mem;
	bool			 closed;	/* CLOSE queued */
	bool			 aborted;	/* chanops_abort() */
	uint32_t		 max_read_write;
	bool			 has_area;
	uint64_t		 area_size;

	/* The stream from the owner: the frame being read. */
	uint8_t			 hdr[FRAME_HDR_SIZE];
	unsigned		 hdr_got;
	uint8_t			 type;
	uint32_t		 len;
	uint32_t		 got;
	int32_t			 pid;		/* its writer, 0: several */
	bool			 buf_queued;	/* RESERVE_PDU not taken yet */
	void			*pdu;		/* the caller's handle */
	uint8_t			*pdubuf;
	uint8_t			 op[FRAME_OP_MAX];
	uint64_t		 op_bytes;
	void			*blocked;	/* the sender could not take */
	uint32_t		 blocked_inv;

	/* The stream to the owner. */
	bool			 in_pdu;
	struct co_held		*held;
	struct co_held		**held_tail;
	unsigned		 n_held;

	/* RDMA requests, in arrival order. */
	TAILQ_HEAD(, co_req)	 reqs;
	unsigned		 n_reqs;
	unsigned		 reads_out;
	unsigned		 writes_out;
	uint32_t		 next_invalidate;
	struct co_req		*gate;		/* a WRITE whose PDU follows */
	void			*gated;		/* that PDU, read already */
	uint32_t		 gated_inv;

	/* Actions: a ring that keeps one slot for CLOSE. */
	struct chanops_action	*acts;
	unsigned		 a_cap;
	unsigned		 a_head;
	unsigned		 a_n;
};

static const char *const chanops_error_names[] = {
	[CHANOPS_OK] = "ok",
#define X(e, token)	[CHANOPS_ERR_##e] = token,
	CHANOPS_ERRORS(X)
#undef X
};

const char *
chanops_error_name(int err)
{
	if (err < 0) {
		err = -err;
	}
	if (err >= CHANOPS_ERR_END) {
		return "unknown";
	}
	return chanops_error_names[err];
}

static void *
co_default_malloc(size_t size, void *ud)
{
	(void)ud;
	return malloc(size);
}

static void
co_default_free(void *p, void *ud)
{
	(void)ud;
	free(p);
}

static void *
co_alloc(struct chanops *co, size_t size)
{
	return co->mem.malloc(size, co->mem.ud);
}

static void
co_release(struct chanops *co, void *p)
{
	if (p != NULL) {
		co->mem.free(p, co->mem.ud);
	}
}

/* ---- actions ----------------------------------------------------------- */

static struct chanops_action *
act_at(struct chanops *co, unsigned i)
{
	return &co->acts[(co->a_head + i) % co->a_cap];
}

/* Room for one more action besides the slot CLOSE keeps. */
static int
act_room(struct chanops *co)
{
	struct chanops_action *n;
	unsigned cap = co->a_cap * 2, i;

	if (co->a_n + 2 <= co->a_cap) {
		return 0;
	}
	n = co_alloc(co, cap * sizeof(*n));
	if (n == NULL) {
		return -CHANOPS_ERR_NOMEM;
	}
	for (i = 0; i < co->a_n; i++) {
		/* copy: none (queued actions, on growth only) */
		memcpy(&n[i], act_at(co, i), sizeof(*n));
	}
	co_release(co, co->acts);
	co->acts = n;
	co->a_cap = cap;
	co->a_head = 0;
	return 0;
}

static struct chanops_action *
act_push_slot(struct chanops *co, enum chanops_act_type type)
{
	struct chanops_action *a = act_at(co, co->a_n);

	memset(a, 0, sizeof(*a));
	a->type = type;
	co->a_n++;
	return a;
}

/* Queue an action; NULL when there is no memory for it. */
static struct chanops_action *
act_push(struct chanops *co, enum chanops_act_type type)
{
	if (act_room(co) != 0) {
		return NULL;
	}
	return act_push_slot(co, type);
}

/*
 * Close with @err. CLOSE takes the slot act_room() always keeps free, so
 * it cannot fail. Returns @err.
 */
static int
co_fail(struct chanops *co, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
co_fail(struct chanops *co, int err, const char *fmt, ...)
{
	struct chanops_action *a;
	va_list ap;

	if (co->closed) {
		return err;
	}
	co->closed = true;
	a = act_push_slot(co, CHANOPS_ACT_CLOSE);
	a->u.close.error = err;
	va_start(ap, fmt);
	vsnprintf(a->u.close.msg, sizeof(a->u.close.msg), fmt, ap);
	va_end(ap);
	return err;
}

static int
co_nomem(struct chanops *co)
{
	return co_fail(co, -CHANOPS_ERR_NOMEM, "out of memory");
}

int
chanops_next_action(struct chanops *co, struct chanops_action *out)
{
	if (co->a_n == 0) {
		return 0;
	}
	/* copy: none (an action to the caller) */
	memcpy(out, act_at(co, 0), sizeof(*out));
	if (out->type == CHANOPS_ACT_RESERVE_PDU) {
		co->buf_queued = false;
	}
	co->a_head = (co->a_head + 1) % co->a_cap;
	co->a_n--;
	return 1;
}

/* ---- lifecycle --------------------------------------------------------- */

int
chanops_new(const struct chanops_config *cfg, const struct sdp_mem *mem,
    struct chanops **out)
{
	struct sdp_mem m = { co_default_malloc, co_default_free, NULL };
	struct chanops *co;

	if (cfg == NULL || out == NULL || cfg->ord > 65535 ||
	    (mem != NULL && (mem->malloc == NULL || mem->free == NULL))) {
		return -CHANOPS_ERR_INVAL;
	}
	if (mem != NULL) {
		m = *mem;
	}
	co = m.malloc(sizeof(*co), m.ud);
	if (co == NULL) {
		return -CHANOPS_ERR_NOMEM;
	}
	memset(co, 0, sizeof(*co));
	co->mem = m;
	co->cfg = *cfg;
	if (co->cfg.max_wr_bytes == 0) {
		co->cfg.max_wr_bytes = 1u << 30;
	}
	if (co->cfg.queue_max == 0) {
		co->cfg.queue_max = CHANOPS_QUEUE_MAX;
	}
	if (co->cfg.held_max == 0) {
		co->cfg.held_max = CHANOPS_HELD_MAX;
	}
	co->acts = m.malloc(CHANOPS_ACTS_MIN * sizeof(*co->acts), m.ud);
	if (co->acts == NULL) {
		m.free(co, m.ud);
		return -CHANOPS_ERR_NOMEM;
	}
	co->a_cap = CHANOPS_ACTS_MIN;
	co->held_tail = &co->held;
	TAILQ_INIT(&co->reqs);
	*out = co;
	return 0;
}

static void
held_free(struct chanops *co)
{
	struct co_held *h;

	while ((h = co->held) != NULL) {
		co->held = h->next;
		co_release(co, h->body);
		if (h->fd != -1) {
			close(h->fd);
		}
		co_release(co, h);
	}
	co->held_tail = &co->held;
	co->n_held = 0;
}

void
chanops_free(struct chanops *co)
{
	struct chanops_action a;
	struct co_req *r;

	if (co == NULL) {
		return;
	}
	while ((r = TAILQ_FIRST(&co->reqs)) != NULL) {
		TAILQ_REMOVE(&co->reqs, r, entry);
		co_release(co, r);
	}
	held_free(co);
	while (chanops_next_action(co, &a) == 1) {
		if (a.type == CHANOPS_ACT_SEND_FRAME) {
			co_release(co, a.u.frame.body);
			if (a.u.frame.fd != -1) {
				close(a.u.frame.fd);
			}
		}
	}
	co_release(co, co->acts);
	co_release(co, co);
}

void
chanops_set_max_read_write(struct chanops *co, uint32_t max)
{
	co->max_read_write = max;
}

void
chanops_set_area(struct chanops *co, uint64_t size)
{
	co->has_area = true;
	co->area_size = size;
}

/* ---- the stream to the owner ------------------------------------------- */

/*
 * Send a frame or hold it behind the PDU being delivered. Takes @body
 * (engine memory) and @fd in every case.
 */
static int
out_frame(struct chanops *co, uint8_t type, uint8_t *body, uint32_t len,
    int fd)
{
	struct chanops_action *a;
	struct co_held *h;

	if (co->in_pdu) {
		h = co->n_held < co->cfg.held_max ?
		    co_alloc(co, sizeof(*h)) : NULL;
		if (h == NULL) {
			co_release(co, body);
			if (fd != -1) {
				close(fd);
			}
			if (co->n_held >= co->cfg.held_max) {
				return co_fail(co, -CHANOPS_ERR_HELD_FULL,
				    "%u frames wait behind a PDU",
				    co->n_held);
			}
			return co_nomem(co);
		}
		h->next = NULL;
		h->body = body;
		h->len = len;
		h->fd = fd;
		h->type = type;
		*co->held_tail = h;
		co->held_tail = &h->next;
		co->n_held++;
		return 0;
	}
	a = act_push(co, CHANOPS_ACT_SEND_FRAME);
	if (a == NULL) {
		co_release(co, body);
		if (fd != -1) {
			close(fd);
		}
		return co_nomem(co);
	}
	a->u.frame.type = type;
	a->u.frame.body = body;
	a->u.frame.len = len;
	a->u.frame.fd = fd;
	return 0;
}

int
chanops_deliver(struct chanops *co, bool first, bool last)
{
	struct co_held *h;
	int rc = 0;

	(void)first;
	if (co->closed) {
		return -CHANOPS_ERR_STATE;
	}
	co->in_pdu = !last;
	if (!last) {
		return 0;
	}
	while ((h = co->held) != NULL) {
		co->held = h->next;
		co->n_held--;
		if (rc == 0) {
			rc = out_frame(co, h->type, h->body, h->len, h->fd);
		} else {
			co_release(co, h->body);
			if (h->fd != -1) {
				close(h->fd);
			}
		}
		co_release(co, h);
	}
	co->held_tail = &co->held;
	return rc;
}

int
chanops_send_frame(struct chanops *co, uint8_t type, const uint8_t *body,
    uint32_t len, int fd)
{
	uint8_t *b;

	if (co->closed || len > FRAME_OP_MAX || (len > 0 && body == NULL)) {
		if (fd != -1) {
			close(fd);
		}
		return co->closed ? -CHANOPS_ERR_STATE : -CHANOPS_ERR_INVAL;
	}
	b = co_alloc(co, len > 0 ? len : 1);
	if (b == NULL) {
		if (fd != -1) {
			close(fd);
		}
		return co_nomem(co);
	}
	if (len > 0) {
		/* copy: none (a frame body of FRAME_OP_MAX bytes at most) */
		memcpy(b, body, len);
	}
	return out_frame(co, type, b, len, fd);
}

/* The REFUSED action and the ERROR frame for a refused frame. */
static int
refuse(struct chanops *co, uint8_t type, int32_t status,
    enum frame_rdma_reject why, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
refuse(struct chanops *co, uint8_t type, int32_t status,
    enum frame_rdma_reject why, const char *fmt, ...)
{
	struct chanops_action *a;
	uint8_t *body;
	size_t n;
	va_list ap;

	a = act_push(co, CHANOPS_ACT_REFUSED);
	if (a == NULL) {
		return co_nomem(co);
	}
	a->u.refused.refused = type;
	a->u.refused.status = status;
	a->u.refused.why = why;
	va_start(ap, fmt);
	vsnprintf(a->u.refused.msg, sizeof(a->u.refused.msg), fmt, ap);
	va_end(ap);
	body = co_alloc(co, FRAME_ERROR_FIXED + FRAME_ERROR_MSG_MAX);
	if (body == NULL) {
		return co_nomem(co);
	}
	n = frame_error_encode(status, type, a->u.refused.msg, body,
	    FRAME_ERROR_FIXED + FRAME_ERROR_MSG_MAX);
	return out_frame(co, FRAME_ERROR, body, (uint32_t)n, -1);
}

int
chanops_refuse(struct chanops *co, uint8_t type, int32_t status,
    const char *msg)
{
	if (msg == NULL) {
		return -CHANOPS_ERR_INVAL;
	}
	if (co->closed) {
		return -CHANOPS_ERR_STATE;
	}
	return refuse(co, type, status, FRAME_RDMA_OK, "%s", msg);
}

/* A COMPLETION frame for request @req_id. */
static int
complete(struct chanops *co, uint64_t req_id, int32_t status,
    uint32_t bytes)
{
	struct frame_completion fc = { req_id, status, bytes };
	uint8_t *body = co_alloc(co, FRAME_COMPLETION_SIZE);

	if (body == NULL) {
		return co_nomem(co);
	}
	frame_completion_encode(&fc, body);
	return out_frame(co, FRAME_COMPLETION, body, FRAME_COMPLETION_SIZE,
	    -1);
}

/* ---- RDMA requests ----------------------------------------------------- */

static int
submit(struct chanops *co, void *pdu, uint32_t inv)
{
	struct chanops_action *a = act_push(co, CHANOPS_ACT_SUBMIT_PDU);

	if (a == NULL) {
		/* The PDU stays the caller's; it frees it at close. */
		return co_nomem(co);
	}
	a->u.submit.pdu = pdu;
	a->u.submit.invalidate = inv;
	return 0;
}

/* Post what the caps allow, oldest request first. */
static int
pump(struct chanops *co)
{
	unsigned cap_r = CHANOPS_MAX_READS(co->cfg.ord);
	unsigned cap_w = CHANOPS_MAX_WRITES(co->cfg.ord);
	struct chanops_action *a;
	struct co_req *r;

	if (co->closed || co->aborted) {
		return 0;
	}
	TAILQ_FOREACH(r, &co->reqs, entry) {
		while (r->next_desc < r->f.n_desc && r->status == 0) {
			const struct frame_desc *d = &r->f.desc[r->next_desc];
			uint32_t n = d->length - r->next_off;

			if (r->write ? co->writes_out >= cap_w :
			    co->reads_out >= cap_r) {
				return 0;	/* later ones keep order */
			}
			if (n > co->cfg.max_wr_bytes) {
				n = co->cfg.max_wr_bytes;
			}
			a = act_push(co, CHANOPS_ACT_POST_RDMA);
			if (a == NULL) {
				return co_nomem(co);
			}
			a->u.post.cookie = (uint64_t)(uintptr_t)r;
			a->u.post.write = r->write;
			a->u.post.area_off = r->f.area_off + r->posted_bytes;
			a->u.post.len = n;
			a->u.post.remote_addr = d->offset + r->next_off;
			a->u.post.rkey = d->token;
			r->outstanding++;
			r->posted_bytes += n;
			r->next_off += n;
			if (r->next_off == d->length) {
				r->next_desc++;
				r->next_off = 0;
			}
			if (r->write) {
				co->writes_out++;
			} else {
				co->reads_out++;
			}
		}
		/* A response PDU may go once its writes are all posted. */
		if (r == co->gate && r->next_desc == r->f.n_desc &&
		    co->gated != NULL) {
			void *p = co->gated;

			co->gate = NULL;
			co->gated = NULL;
			if (submit(co, p, co->gated_inv) != 0) {
				return -CHANOPS_ERR_NOMEM;
			}
		}
	}
	return 0;
}

/* A COMPLETION with the reason's status, and REJECTED for the log. */
static int
reject(struct chanops *co, const struct frame_rdma *f, bool write,
    enum frame_rdma_reject why)
{
	struct chanops_action *a = act_push(co, CHANOPS_ACT_RDMA_REJECTED);

	if (a == NULL) {
		return co_nomem(co);
	}
	a->u.rdma.write = write;
	a->u.rdma.req_id = f->req_id;
	a->u.rdma.area_off = f->area_off;
	a->u.rdma.n_desc = f->n_desc;
	a->u.rdma.status = frame_rdma_reject_status(why);
	a->u.rdma.why = why;
	return complete(co, f->req_id, frame_rdma_reject_status(why), 0);
}

static int
op_rdma(struct chanops *co, bool write)
{
	uint8_t type = write ? FRAME_RDMA_WRITE : FRAME_RDMA_READ;
	const char *what = write ? "WRITE" : "READ";
	struct frame_rdma_limits lim;
	struct frame_rdma f;
	struct chanops_action *a;
	enum frame_rdma_reject why;
	struct co_req *r;
	uint64_t total = 0;
	int rc;

	rc = frame_rdma_decode(co->op, co->len, &f);
	if (rc != 0) {
		/* No request id to trust: an ERROR frame, then close. */
		why = frame_rdma_decode_reject(co->op, co->len);
		if (why == FRAME_RDMA_OK) {
			why = FRAME_RDMA_MALFORMED;
		}
		rc = refuse(co, type, rc, why, "malformed RDMA %s frame (%u "
		    "bytes): %s", what, co->len, frame_rdma_reject_name(why));
		if (rc != 0) {
			return rc;
		}
		return co_fail(co, -CHANOPS_ERR_MALFORMED_RDMA,
		    "malformed RDMA frame");
	}
	memset(&lim, 0, sizeof(lim));
	lim.has_area = co->has_area;
	lim.area_size = co->area_size;
	lim.can_read = co->cfg.ord > 0;
	lim.write_pending = co->gate != NULL;
	lim.max_read_write = co->max_read_write;
	why = frame_rdma_check(&f, write, &lim, &total);
	if (why != FRAME_RDMA_OK) {
		return reject(co, &f, write, why);
	}
	r = co_alloc(co, sizeof(*r));
	if (r == NULL) {
		return reject(co, &f, write, FRAME_RDMA_NO_MEMORY);
	}
	a = act_push(co, CHANOPS_ACT_RDMA_START);
	if (a == NULL) {
		co_release(co, r);
		return co_nomem(co);
	}
	a->u.rdma.write = write;
	a->u.rdma.req_id = f.req_id;
	a->u.rdma.area_off = f.area_off;
	a->u.rdma.n_desc = f.n_desc;
	a->u.rdma.bytes = (uint32_t)total;
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->write = write;
	r->total = (uint32_t)total;
	r->then_pdu = write && (f.flags & FRAME_WRITE_THEN_PDU);
	TAILQ_INSERT_TAIL(&co->reqs, r, entry);
	co->n_reqs++;
	if (r->then_pdu) {
		co->gate = r;
		co->next_invalidate = f.invalidate;
	}
	return pump(co);
}

static int
op_frame(struct chanops *co)
{
	struct chanops_action *a;
	uint64_t id;
	uint32_t rkey;

	switch (co->type) {
	case FRAME_AREA_REQUEST:
		if (co->len != 0) {
			return refuse(co, co->type, -EINVAL, FRAME_RDMA_OK,
			    "AREA_REQUEST has a %u-byte body, want none",
			    co->len);
		}
		return act_push(co, CHANOPS_ACT_AREA_REQUEST) != NULL ? 0 :
		    co_nomem(co);
	case FRAME_RDMA_READ:
		return op_rdma(co, false);
	case FRAME_RDMA_WRITE:
		return op_rdma(co, true);
	case FRAME_SEND_INVALIDATE:
		if (frame_u32_decode(co->op, co->len, &rkey) != 0 ||
		    rkey == 0) {
			return refuse(co, co->type, -EINVAL, FRAME_RDMA_OK,
			    "SEND_INVALIDATE needs a non-zero 4-byte token");
		}
		a = act_push(co, CHANOPS_ACT_INVALIDATE_NEXT);
		if (a == NULL) {
			return co_nomem(co);
		}
		a->u.invalidate.rkey = rkey;
		co->next_invalidate = rkey;
		return 0;
	case FRAME_CLAIM:
		if (frame_u64_decode(co->op, co->len, &id) != 0 ||
		    id != co->cfg.conn_id) {
			return refuse(co, co->type, -EINVAL, FRAME_RDMA_OK,
			    "CLAIM does not name connection %llu",
			    (unsigned long long)co->cfg.conn_id);
		}
		if (co->pid <= 0) {
			return refuse(co, co->type, -EPERM, FRAME_RDMA_OK,
			    "CLAIM frame written by more than one process");
		}
		a = act_push(co, CHANOPS_ACT_CLAIM);
		if (a == NULL) {
			return co_nomem(co);
		}
		a->u.claim.pid = co->pid;
		return 0;
	default:
		break;
	}
	if (refuse(co, co->type, -EPROTO, FRAME_RDMA_OK, "unknown operation "
	    "frame type %#x", co->type) != 0) {
		return -CHANOPS_ERR_NOMEM;
	}
	return co_fail(co, -CHANOPS_ERR_UNKNOWN_TYPE, "unknown operation "
	    "frame type on the data channel");
}

/* A PDU from the owner is whole: send it, or hold it behind its writes. */
static int
pdu_ready(struct chanops *co, void *pdu)
{
	uint32_t inv = co->next_invalidate;

	co->next_invalidate = 0;
	if (co->gate != NULL) {
		if (co->gate->next_desc < co->gate->f.n_desc) {
			co->gated = pdu;
			co->gated_inv = inv;
			return 0;	/* pump() submits it */
		}
		co->gate = NULL;
	}
	return submit(co, pdu, inv);
}

/* ---- the stream from the owner ----------------------------------------- */

/* A PDU frame's header is read and its body has nowhere to go yet. */
static bool
rx_needs_buffer(const struct chanops *co)
{
	return co->hdr_got == FRAME_HDR_SIZE && co->type == FRAME_PDU &&
	    co->pdubuf == NULL;
}

size_t
chanops_rx_want(struct chanops *co, uint8_t **buf)
{
	if (co->closed || co->aborted) {
		return 0;
	}
	if (co->hdr_got < FRAME_HDR_SIZE) {
		/* Between frames: stop while something waits. */
		if (co->hdr_got == 0 && (co->n_reqs >= co->cfg.queue_max ||
		    co->gated != NULL || co->blocked != NULL)) {
			return 0;
		}
		*buf = co->hdr + co->hdr_got;
		return FRAME_HDR_SIZE - co->hdr_got;
	}
	if (co->type == FRAME_PDU) {
		if (co->pdubuf == NULL) {
			return 0;
		}
		*buf = co->pdubuf + co->got;
		return co->len - co->got;
	}
	*buf = co->op + co->got;
	return co->len - co->got;
}

static int
frame_done(struct chanops *co)
{
	co->hdr_got = 0;
	if (co->type == FRAME_PDU) {
		void *p = co->pdu;

		co->pdu = NULL;
		co->pdubuf = NULL;
		return pdu_ready(co, p);
	}
	return op_frame(co);
}

int
chanops_rx_got(struct chanops *co, size_t n, int32_t pid)
{
	struct chanops_action *a;
	uint8_t *buf;
	size_t want;

	if (co->closed) {
		return -CHANOPS_ERR_STATE;
	}
	want = chanops_rx_want(co, &buf);
	if (n == 0 || n > want) {
		return -CHANOPS_ERR_INVAL;
	}
	if (co->hdr_got == 0) {
		co->pid = pid;
	} else if (pid != co->pid) {
		co->pid = 0;	/* more than one writer */
	}
	if (co->hdr_got < FRAME_HDR_SIZE) {
		co->hdr_got += (unsigned)n;
		if (co->hdr_got < FRAME_HDR_SIZE) {
			return 0;
		}
		frame_hdr_decode(co->hdr, &co->type, &co->len);
		co->got = 0;
		if (co->type == FRAME_PDU) {
			a = act_push(co, CHANOPS_ACT_RESERVE_PDU);
			if (a == NULL) {
				return co_nomem(co);
			}
			a->u.reserve.len = co->len;
			co->buf_queued = true;
			return 0;
		}
		co->op_bytes += FRAME_HDR_SIZE;
		if (co->len > sizeof(co->op)) {
			return co_fail(co, -CHANOPS_ERR_OVERSIZED_OP,
			    "operation frame type %#x of %u bytes exceeds "
			    "%zu", co->type, co->len, sizeof(co->op));
		}
		return co->len == 0 ? frame_done(co) : 0;
	}
	co->got += (uint32_t)n;
	if (co->type != FRAME_PDU) {
		co->op_bytes += n;
	}
	return co->got < co->len ? 0 : frame_done(co);
}

bool
chanops_rx_mid_frame(const struct chanops *co)
{
	return co->hdr_got > 0;
}

bool
chanops_rx_in_pdu(const struct chanops *co)
{
	return co->hdr_got == FRAME_HDR_SIZE && co->type == FRAME_PDU &&
	    co->pdubuf != NULL;
}

uint64_t
chanops_rx_op_bytes(const struct chanops *co)
{
	return co->op_bytes;
}

int
chanops_pdu_buffer(struct chanops *co, void *pdu, uint8_t *buf)
{
	if (buf == NULL) {
		return -CHANOPS_ERR_INVAL;
	}
	if (co->closed || !rx_needs_buffer(co) || co->buf_queued) {
		return -CHANOPS_ERR_STATE;
	}
	co->pdu = pdu;
	co->pdubuf = buf;
	return co->len == 0 ? frame_done(co) : 0;
}

int
chanops_submit_blocked(struct chanops *co, void *pdu, uint32_t invalidate)
{
	if (pdu == NULL) {
		return -CHANOPS_ERR_INVAL;
	}
	if (co->closed || co->blocked != NULL) {
		return -CHANOPS_ERR_STATE;
	}
	co->blocked = pdu;
	co->blocked_inv = invalidate;
	return 0;
}

int
chanops_resume(struct chanops *co)
{
	struct chanops_action *a;
	void *p;

	if (co->closed) {
		return -CHANOPS_ERR_STATE;
	}
	if (co->blocked != NULL) {
		p = co->blocked;
		co->blocked = NULL;
		if (submit(co, p, co->blocked_inv) != 0) {
			return -CHANOPS_ERR_NOMEM;
		}
	}
	if (rx_needs_buffer(co) && !co->buf_queued) {
		a = act_push(co, CHANOPS_ACT_RESERVE_PDU);
		if (a == NULL) {
			return co_nomem(co);
		}
		a->u.reserve.len = co->len;
		co->buf_queued = true;
	}
	return 0;
}

/* ---- completions ------------------------------------------------------- */

int
chanops_rdma_done(struct chanops *co, uint64_t cookie, bool ok, bool *write)
{
	struct chanops_action *a;
	struct co_req *r;

	TAILQ_FOREACH(r, &co->reqs, entry) {
		if ((uint64_t)(uintptr_t)r == cookie) {
			break;
		}
	}
	if (r == NULL || r->outstanding == 0) {
		return -CHANOPS_ERR_INVAL;
	}
	if (write != NULL) {
		*write = r->write;
	}
	r->outstanding--;
	if (r->write) {
		co->writes_out--;
	} else {
		co->reads_out--;
	}
	if (!ok && r->status == 0) {
		r->status = -EIO;
	}
	if (r->outstanding == 0 &&
	    (r->next_desc == r->f.n_desc || r->status != 0)) {
		/* The caller counts this even while closing. */
		a = act_push(co, CHANOPS_ACT_RDMA_END);
		if (a != NULL) {
			a->u.rdma.write = r->write;
			a->u.rdma.req_id = r->f.req_id;
			a->u.rdma.area_off = r->f.area_off;
			a->u.rdma.n_desc = r->f.n_desc;
			a->u.rdma.status = r->status;
			a->u.rdma.bytes = r->status == 0 ? r->total : 0;
		}
		if (co->gate == r) {
			co->gate = NULL;
		}
		TAILQ_REMOVE(&co->reqs, r, entry);
		co->n_reqs--;
		if (a == NULL) {
			co_release(co, r);
			return co_nomem(co);
		}
		if (!co->closed && !co->aborted &&
		    complete(co, r->f.req_id, r->status,
		    r->status == 0 ? r->total : 0) != 0) {
			co_release(co, r);
			return -CHANOPS_ERR_NOMEM;
		}
		co_release(co, r);
	}
	if (!ok) {
		return 0;	/* the caller closes the connection */
	}
	return pump(co);
}

bool
chanops_rdma_in_flight(const struct chanops *co)
{
	return co->reads_out + co->writes_out > 0;
}

void
chanops_abort(struct chanops *co)
{
	co->aborted = true;
	co->gated = NULL;
	co->gate = NULL;
	co->blocked = NULL;
	co->pdu = NULL;
	co->pdubuf = NULL;
	held_free(co);
}
