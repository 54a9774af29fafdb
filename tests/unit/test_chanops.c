/* SPDX-License-Identifier: ISC */
/*
 * test_chanops: the data channel's engine (proto/chanops.h) on its own:
 * the frame-stream parser, the held-frame rule and the RDMA scheduler,
 * each input followed by the actions it queued; then every allocation
 * made to fail once in a scenario that uses all three.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "chanops.h"

#define MAX_ACTS	256
#define CONN_ID		42
#define PID		1234

/* What a test saw: the actions of the last drain, and PDU memory. */
struct seen {
	struct chanops_action	a[MAX_ACTS];
	unsigned		n;
	uint8_t			pdumem[4][256];
	unsigned		npdu;
	bool			no_room;	/* refuse RESERVE_PDU */
	const struct sdp_mem	*mem;
};

static void
body_free(struct seen *s, void *p)
{
	if (s->mem != NULL) {
		s->mem->free(p, s->mem->ud);
	} else {
		free(p);
	}
}

/*
 * Take every action; answer RESERVE_PDU with the next of four buffers
 * unless told not to. Frame bodies are kept for the test to decode and
 * freed by forget().
 */
static void
drain(struct chanops *co, struct seen *s)
{
	struct chanops_action a;

	while (chanops_next_action(co, &a) == 1) {
		assert_true(s->n < MAX_ACTS);
		s->a[s->n++] = a;
		if (a.type == CHANOPS_ACT_RESERVE_PDU && !s->no_room) {
			uint8_t *b = s->pdumem[s->npdu % 4];

			assert_true(a.u.reserve.len <= sizeof(s->pdumem[0]));
			s->npdu++;
			assert_int_equal(chanops_pdu_buffer(co,
			    (void *)(uintptr_t)s->npdu, b), 0);
		}
	}
}

/* Free the bodies of what was seen and start over. */
static void
forget(struct seen *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (s->a[i].type == CHANOPS_ACT_SEND_FRAME) {
			body_free(s, s->a[i].u.frame.body);
			if (s->a[i].u.frame.fd != -1) {
				close(s->a[i].u.frame.fd);
			}
		}
	}
	s->n = 0;
}

static unsigned
count(const struct seen *s, enum chanops_act_type t)
{
	unsigned k = 0;

	for (unsigned i = 0; i < s->n; i++) {
		k += s->a[i].type == t;
	}
	return k;
}

/* The @k-th action of type @t (0-based); fails the test if absent. */
static const struct chanops_action *
nth(const struct seen *s, enum chanops_act_type t, unsigned k)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (s->a[i].type == t && k-- == 0) {
			return &s->a[i];
		}
	}
	fail_msg("no action %d", t);
	return NULL;
}

/*
 * Feed @len bytes in pieces of at most @step, as the socket would give
 * them, draining after each piece. Returns the first error.
 */
static int
feed(struct chanops *co, struct seen *s, const uint8_t *p, size_t len,
    size_t step, int32_t pid)
{
	while (len > 0) {
		uint8_t *buf;
		size_t want = chanops_rx_want(co, &buf), n;
		int rc;

		if (want == 0) {
			return -EAGAIN;
		}
		n = want < step ? want : step;
		if (n > len) {
			n = len;
		}
		memcpy(buf, p, n);
		rc = chanops_rx_got(co, n, pid);
		drain(co, s);
		if (rc != 0) {
			return rc;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static size_t
mkframe(uint8_t *out, uint8_t type, const uint8_t *body, uint32_t len)
{
	frame_hdr_encode(out, type, len);
	if (len > 0) {
		memcpy(out + FRAME_HDR_SIZE, body, len);
	}
	return FRAME_HDR_SIZE + len;
}

static size_t
mkrdma(uint8_t *out, bool write, uint64_t req_id, uint64_t area_off,
    uint32_t flags, uint32_t inv, unsigned n_desc, uint32_t desc_len)
{
	struct frame_rdma f;
	uint8_t body[FRAME_OP_MAX];
	size_t n;

	memset(&f, 0, sizeof(f));
	f.req_id = req_id;
	f.area_off = area_off;
	f.flags = flags;
	f.invalidate = inv;
	f.n_desc = (uint16_t)n_desc;
	for (unsigned i = 0; i < n_desc; i++) {
		f.desc[i].offset = 0x10000 * (i + 1);
		f.desc[i].token = 0x100 + i;
		f.desc[i].length = desc_len;
	}
	n = frame_rdma_encode(&f, body);
	return mkframe(out, write ? FRAME_RDMA_WRITE : FRAME_RDMA_READ, body,
	    (uint32_t)n);
}

static struct chanops *
mk(unsigned ord, uint32_t max_wr, unsigned queue_max, unsigned held_max,
    const struct sdp_mem *mem)
{
	struct chanops_config cfg = {
		.conn_id = CONN_ID, .ord = ord, .max_wr_bytes = max_wr,
		.queue_max = queue_max, .held_max = held_max,
	};
	struct chanops *co = NULL;

	assert_int_equal(chanops_new(&cfg, mem, &co), 0);
	chanops_set_max_read_write(co, 1u << 20);
	chanops_set_area(co, 1u << 20);
	return co;
}

static void
completion_of(const struct chanops_action *a, uint64_t req_id,
    int32_t status, uint32_t bytes)
{
	struct frame_completion fc;

	assert_int_equal(a->type, CHANOPS_ACT_SEND_FRAME);
	assert_int_equal(a->u.frame.type, FRAME_COMPLETION);
	assert_int_equal(frame_completion_decode(a->u.frame.body,
	    a->u.frame.len, &fc), 0);
	assert_true(fc.req_id == req_id);
	assert_int_equal(fc.status, status);
	assert_int_equal(fc.bytes, bytes);
}

static void
error_of(const struct chanops_action *a, uint8_t refused, int32_t status)
{
	char msg[FRAME_ERROR_MSG_MAX + 1];
	int32_t st;
	uint8_t ty;

	assert_int_equal(a->type, CHANOPS_ACT_SEND_FRAME);
	assert_int_equal(a->u.frame.type, FRAME_ERROR);
	assert_int_equal(frame_error_decode(a->u.frame.body, a->u.frame.len,
	    &st, &ty, msg, sizeof(msg)), 0);
	assert_int_equal(st, status);
	assert_int_equal(ty, refused);
}

/* ---- the parser ------------------------------------------------------- */

static void
test_pdu_byte_by_byte(void **state)
{
	struct seen s = { 0 };
	struct chanops *co = mk(2, 0, 0, 0, NULL);
	uint8_t body[100], f[200];
	size_t n;

	(void)state;
	for (unsigned i = 0; i < sizeof(body); i++) {
		body[i] = (uint8_t)(i * 7);
	}
	n = mkframe(f, FRAME_PDU, body, sizeof(body));
	assert_int_equal(feed(co, &s, f, n, 1, PID), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_RESERVE_PDU), 1);
	assert_int_equal(nth(&s, CHANOPS_ACT_RESERVE_PDU, 0)->u.reserve.len,
	    100);
	assert_int_equal(count(&s, CHANOPS_ACT_SUBMIT_PDU), 1);
	assert_ptr_equal(nth(&s, CHANOPS_ACT_SUBMIT_PDU, 0)->u.submit.pdu,
	    (void *)1);
	assert_int_equal(
	    nth(&s, CHANOPS_ACT_SUBMIT_PDU, 0)->u.submit.invalidate, 0);
	/* The body went straight to the caller's buffer. */
	assert_memory_equal(s.pdumem[0], body, sizeof(body));
	assert_int_equal(chanops_rx_op_bytes(co), 0);
	assert_false(chanops_rx_mid_frame(co));
	assert_false(chanops_rx_in_pdu(co));
	/* Half a body: the next bytes go to the PDU. */
	assert_int_equal(feed(co, &s, f, 10, 64, PID), 0);
	assert_true(chanops_rx_in_pdu(co));
	assert_true(chanops_rx_mid_frame(co));
	forget(&s);
	chanops_free(co);
}

/* No room in the ring: reading stops until resume asks again. */
static void
test_pdu_waits_for_room(void **state)
{
	struct seen s = { 0 };
	struct chanops *co = mk(2, 0, 0, 0, NULL);
	uint8_t body[10] = { 1, 2, 3 }, f[20], *buf;
	size_t n;

	(void)state;
	n = mkframe(f, FRAME_PDU, body, sizeof(body));
	s.no_room = true;
	assert_int_equal(feed(co, &s, f, n, 64, PID), -EAGAIN);
	assert_int_equal(count(&s, CHANOPS_ACT_RESERVE_PDU), 1);
	assert_int_equal(chanops_rx_want(co, &buf), 0);
	assert_true(chanops_rx_mid_frame(co));
	/* A buffer nobody asked for is refused after a resume answered. */
	s.no_room = false;
	s.n = 0;
	assert_int_equal(chanops_resume(co), 0);
	drain(co, &s);
	assert_int_equal(count(&s, CHANOPS_ACT_RESERVE_PDU), 1);
	assert_int_equal(chanops_pdu_buffer(co, (void *)9, s.pdumem[3]),
	    -CHANOPS_ERR_STATE);
	assert_int_equal(feed(co, &s, f + FRAME_HDR_SIZE, sizeof(body), 64,
	    PID), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_SUBMIT_PDU), 1);
	forget(&s);
	chanops_free(co);
}

/* The sender was full: the PDU is kept, then submitted again. */
static void
test_submit_blocked(void **state)
{
	struct seen s = { 0 };
	struct chanops *co = mk(2, 0, 0, 0, NULL);
	uint8_t f[64], inv[4] = { 0x78, 0x56, 0x34, 0x12 }, *buf;
	size_t n;
	void *p;

	(void)state;
	n = mkframe(f, FRAME_SEND_INVALIDATE, inv, 4);
	n += mkframe(f + n, FRAME_PDU, (const uint8_t *)"abcd", 4);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_INVALIDATE_NEXT), 1);
	p = nth(&s, CHANOPS_ACT_SUBMIT_PDU, 0)->u.submit.pdu;
	assert_int_equal(
	    nth(&s, CHANOPS_ACT_SUBMIT_PDU, 0)->u.submit.invalidate,
	    0x12345678);
	assert_int_equal(chanops_submit_blocked(co, p, 0x12345678), 0);
	assert_int_equal(chanops_submit_blocked(co, p, 1),
	    -CHANOPS_ERR_STATE);
	assert_int_equal(chanops_rx_want(co, &buf), 0);
	s.n = 0;
	assert_int_equal(chanops_resume(co), 0);
	drain(co, &s);
	assert_int_equal(count(&s, CHANOPS_ACT_SUBMIT_PDU), 1);
	assert_ptr_equal(nth(&s, CHANOPS_ACT_SUBMIT_PDU, 0)->u.submit.pdu, p);
	assert_int_equal(
	    nth(&s, CHANOPS_ACT_SUBMIT_PDU, 0)->u.submit.invalidate,
	    0x12345678);
	assert_int_not_equal(chanops_rx_want(co, &buf), 0);
	/* The key was for one PDU only. */
	s.n = 0;
	n = mkframe(f, FRAME_PDU, (const uint8_t *)"efgh", 4);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	assert_int_equal(
	    nth(&s, CHANOPS_ACT_SUBMIT_PDU, 0)->u.submit.invalidate, 0);
	forget(&s);
	chanops_free(co);
}

static void
test_op_frames_refused(void **state)
{
	struct seen s = { 0 };
	struct chanops *co = mk(2, 0, 0, 0, NULL);
	uint8_t f[64], b8[8];
	size_t n;

	(void)state;
	/* AREA_REQUEST: fine empty, refused with a body. */
	n = mkframe(f, FRAME_AREA_REQUEST, NULL, 0);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_AREA_REQUEST), 1);
	assert_int_equal(chanops_rx_op_bytes(co), 4);
	n = mkframe(f, FRAME_AREA_REQUEST, (const uint8_t *)"x", 1);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_REFUSED), 1);
	assert_int_equal(nth(&s, CHANOPS_ACT_REFUSED, 0)->u.refused.why,
	    FRAME_RDMA_OK);
	error_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 0), FRAME_AREA_REQUEST,
	    -EINVAL);
	/* SEND_INVALIDATE of key 0. */
	memset(b8, 0, sizeof(b8));
	n = mkframe(f, FRAME_SEND_INVALIDATE, b8, 4);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	error_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 1), FRAME_SEND_INVALIDATE,
	    -EINVAL);
	/* CLAIM: the wrong id, then several writers, then right. */
	frame_put_le64(b8, CONN_ID + 1);
	n = mkframe(f, FRAME_CLAIM, b8, 8);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	error_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 2), FRAME_CLAIM, -EINVAL);
	frame_put_le64(b8, CONN_ID);
	n = mkframe(f, FRAME_CLAIM, b8, 8);
	assert_int_equal(feed(co, &s, f, 6, 64, PID), 0);
	assert_int_equal(feed(co, &s, f + 6, n - 6, 64, PID + 1), 0);
	error_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 3), FRAME_CLAIM, -EPERM);
	assert_int_equal(count(&s, CHANOPS_ACT_CLAIM), 0);
	assert_int_equal(feed(co, &s, f, n, 3, PID), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_CLAIM), 1);
	assert_int_equal(nth(&s, CHANOPS_ACT_CLAIM, 0)->u.claim.pid, PID);
	/* The caller's own refusal. */
	assert_int_equal(chanops_refuse(co, FRAME_CLAIM, -EPERM, "no"), 0);
	drain(co, &s);
	error_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 4), FRAME_CLAIM, -EPERM);
	assert_int_equal(count(&s, CHANOPS_ACT_REFUSED), 5);
	assert_int_equal(count(&s, CHANOPS_ACT_CLOSE), 0);
	forget(&s);
	chanops_free(co);
}

static void
test_fatal_frames(void **state)
{
	struct seen s = { 0 };
	struct chanops *co;
	uint8_t f[FRAME_OP_MAX + 64], *buf;
	size_t n;

	(void)state;
	/* One byte over the longest operation frame. */
	co = mk(2, 0, 0, 0, NULL);
	frame_hdr_encode(f, FRAME_RDMA_READ, FRAME_OP_MAX + 1);
	assert_int_equal(feed(co, &s, f, 4, 64, PID),
	    -CHANOPS_ERR_OVERSIZED_OP);
	assert_int_equal(count(&s, CHANOPS_ACT_CLOSE), 1);
	assert_int_equal(nth(&s, CHANOPS_ACT_CLOSE, 0)->u.close.error,
	    -CHANOPS_ERR_OVERSIZED_OP);
	assert_int_equal(chanops_rx_want(co, &buf), 0);
	assert_int_equal(chanops_rx_got(co, 1, PID), -CHANOPS_ERR_STATE);
	assert_int_equal(chanops_send_frame(co, FRAME_DRAIN, f, 4, -1),
	    -CHANOPS_ERR_STATE);
	forget(&s);
	chanops_free(co);

	/* The longest one is fine. */
	co = mk(2, 0, 0, 0, NULL);
	n = mkrdma(f, false, 7, 0, 0, 0, FRAME_MAX_DESC, 16);
	assert_int_equal(n, FRAME_HDR_SIZE + FRAME_OP_MAX);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_RDMA_START), 1);
	forget(&s);
	chanops_free(co);

	/* An unknown type: refused, then closed. */
	co = mk(2, 0, 0, 0, NULL);
	n = mkframe(f, 0x99, (const uint8_t *)"zz", 2);
	assert_int_equal(feed(co, &s, f, n, 64, PID),
	    -CHANOPS_ERR_UNKNOWN_TYPE);
	error_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 0), 0x99, -EPROTO);
	assert_int_equal(s.a[s.n - 1].type, CHANOPS_ACT_CLOSE);
	forget(&s);
	chanops_free(co);

	/* An RDMA frame without descriptors does not decode. */
	co = mk(2, 0, 0, 0, NULL);
	n = mkrdma(f, true, 7, 0, 0, 0, 0, 16);
	assert_int_equal(feed(co, &s, f, n, 64, PID),
	    -CHANOPS_ERR_MALFORMED_RDMA);
	assert_int_equal(nth(&s, CHANOPS_ACT_REFUSED, 0)->u.refused.why,
	    FRAME_RDMA_NO_DESCRIPTORS);
	error_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 0), FRAME_RDMA_WRITE,
	    -EINVAL);
	assert_int_equal(s.a[s.n - 1].type, CHANOPS_ACT_CLOSE);
	forget(&s);
	chanops_free(co);
}

/* ---- the scheduler ---------------------------------------------------- */

/* Complete the @k-th POST_RDMA seen. */
static int
done(struct chanops *co, struct seen *s, unsigned k, bool ok)
{
	uint64_t cookie = nth(s, CHANOPS_ACT_POST_RDMA, k)->u.post.cookie;
	int rc;

	assert_int_equal(cookie & 7, 0);
	rc = chanops_rdma_done(co, cookie, ok, NULL);
	drain(co, s);
	return rc;
}

static void
test_read_caps_and_split(void **state)
{
	struct seen s = { 0 };
	/* ORD 2; work requests of at most 1000 bytes. */
	struct chanops *co = mk(2, 1000, 0, 0, NULL);
	const struct chanops_action *p;
	uint8_t f[FRAME_OP_MAX + 4];
	size_t n;

	(void)state;
	/* Two descriptors of 2500 bytes: 3 + 3 work requests. */
	n = mkrdma(f, false, 77, 4096, 0, 0, 2, 2500);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	assert_int_equal(nth(&s, CHANOPS_ACT_RDMA_START, 0)->u.rdma.bytes,
	    5000);
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 2);
	p = nth(&s, CHANOPS_ACT_POST_RDMA, 0);
	assert_false(p->u.post.write);
	assert_true(p->u.post.area_off == 4096);
	assert_int_equal(p->u.post.len, 1000);
	assert_true(p->u.post.remote_addr == 0x10000);
	assert_int_equal(p->u.post.rkey, 0x100);
	p = nth(&s, CHANOPS_ACT_POST_RDMA, 1);
	assert_true(p->u.post.area_off == 5096);
	assert_true(p->u.post.remote_addr == 0x10000 + 1000);
	assert_true(chanops_rdma_in_flight(co));
	/* Each completion lets one more go, in order. */
	for (unsigned k = 0; k < 4; k++) {
		assert_int_equal(done(co, &s, k, true), 0);
	}
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 6);
	p = nth(&s, CHANOPS_ACT_POST_RDMA, 2);
	assert_int_equal(p->u.post.len, 500);
	assert_true(p->u.post.area_off == 4096 + 2000);
	p = nth(&s, CHANOPS_ACT_POST_RDMA, 3);
	assert_true(p->u.post.remote_addr == 0x20000);
	assert_int_equal(p->u.post.rkey, 0x101);
	assert_int_equal(count(&s, CHANOPS_ACT_SEND_FRAME), 0);
	assert_int_equal(done(co, &s, 4, true), 0);
	assert_int_equal(done(co, &s, 5, true), 0);
	completion_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 0), 77, 0, 5000);
	assert_int_equal(nth(&s, CHANOPS_ACT_RDMA_END, 0)->u.rdma.bytes,
	    5000);
	assert_false(chanops_rdma_in_flight(co));
	/* The engine says which kind a (failed) completion was. */
	{
		bool w = true;

		assert_int_equal(chanops_rdma_done(co, 8, true, &w),
		    -CHANOPS_ERR_INVAL);
		assert_true(w);
	}
	/* A cookie that is not a request's. */
	assert_int_equal(chanops_rdma_done(co, 8, true, NULL),
	    -CHANOPS_ERR_INVAL);
	forget(&s);
	chanops_free(co);
}

static void
test_rejections(void **state)
{
	struct seen s = { 0 };
	struct chanops_config cfg = { .conn_id = CONN_ID, .ord = 0 };
	struct chanops *co = NULL;
	uint8_t f[FRAME_OP_MAX + 4];
	size_t n;

	(void)state;
	assert_int_equal(chanops_new(&cfg, NULL, &co), 0);
	/* No area yet. */
	n = mkrdma(f, true, 1, 0, 0, 0, 1, 100);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	assert_int_equal(nth(&s, CHANOPS_ACT_RDMA_REJECTED, 0)->u.rdma.why,
	    FRAME_RDMA_NO_AREA);
	completion_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 0), 1, -ENXIO, 0);
	chanops_set_area(co, 4096);
	/* Nothing negotiated: any size is too big. */
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	completion_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 1), 1, -E2BIG, 0);
	chanops_set_max_read_write(co, 8192);
	/* ORD 0: no READ. */
	n = mkrdma(f, false, 2, 0, 0, 0, 1, 100);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	completion_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 2), 2, -EOPNOTSUPP, 0);
	/* Outside the area. */
	n = mkrdma(f, true, 3, 4000, 0, 0, 1, 100);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	completion_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 3), 3, -ERANGE, 0);
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_RDMA_START), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_CLOSE), 0);
	/* A WRITE is fine with ORD 0: two in flight at most. */
	n = mkrdma(f, true, 4, 0, 0, 0, 3, 100);
	assert_int_equal(feed(co, &s, f, n, 64, PID), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 2);
	forget(&s);
	chanops_free(co);
}

/*
 * WRITE_THEN_PDU: the response PDU waits until its writes are posted,
 * and reading stops meanwhile; it carries the frame's invalidate key.
 */
static void
test_write_then_pdu_gate(void **state)
{
	struct seen s = { 0 };
	struct chanops *co = mk(1, 0, 0, 0, NULL);	/* 2 WRITEs */
	uint8_t f[FRAME_OP_MAX + 64], *buf;
	size_t n;

	(void)state;
	n = mkrdma(f, true, 9, 0, FRAME_WRITE_THEN_PDU, 0xabcd, 3, 100);
	n += mkframe(f + n, FRAME_PDU, (const uint8_t *)"resp", 4);
	assert_int_equal(feed(co, &s, f, n, 512, PID), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 2);
	assert_int_equal(count(&s, CHANOPS_ACT_SUBMIT_PDU), 0);
	assert_int_equal(chanops_rx_want(co, &buf), 0);
	/* A second WRITE_THEN_PDU meanwhile would be refused (BUSY). */
	assert_int_equal(done(co, &s, 0, true), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 3);
	assert_int_equal(count(&s, CHANOPS_ACT_SUBMIT_PDU), 1);
	assert_int_equal(
	    nth(&s, CHANOPS_ACT_SUBMIT_PDU, 0)->u.submit.invalidate, 0xabcd);
	assert_int_not_equal(chanops_rx_want(co, &buf), 0);
	assert_int_equal(done(co, &s, 1, true), 0);
	assert_int_equal(done(co, &s, 2, true), 0);
	completion_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 0), 9, 0, 300);
	forget(&s);
	chanops_free(co);
}

/* Requests accepted and unfinished stop the reading at queue_max. */
static void
test_queue_max(void **state)
{
	struct seen s = { 0 };
	struct chanops *co = mk(1, 0, 2, 0, NULL);
	uint8_t f[FRAME_OP_MAX + 4], *buf;
	size_t n;

	(void)state;
	n = mkrdma(f, false, 1, 0, 0, 0, 1, 100);
	assert_int_equal(feed(co, &s, f, n, 512, PID), 0);
	n = mkrdma(f, false, 2, 0, 0, 0, 1, 100);
	assert_int_equal(feed(co, &s, f, n, 512, PID), 0);
	/* The second waits for the ORD; both are queued. */
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 1);
	assert_int_equal(chanops_rx_want(co, &buf), 0);
	assert_int_equal(done(co, &s, 0, true), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 2);
	assert_int_equal(chanops_rx_want(co, &buf), FRAME_HDR_SIZE);
	forget(&s);
	chanops_free(co);
}

/* A failed work request ends its request with -EIO and posts no more. */
static void
test_rdma_failure_and_abort(void **state)
{
	struct seen s = { 0 };
	struct chanops *co = mk(1, 100, 0, 0, NULL);
	uint8_t f[FRAME_OP_MAX + 4];
	size_t n;

	(void)state;
	n = mkrdma(f, false, 5, 0, 0, 0, 1, 300);
	assert_int_equal(feed(co, &s, f, n, 512, PID), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 1);
	{
		bool w = true;

		assert_int_equal(chanops_rdma_done(co, nth(&s,
		    CHANOPS_ACT_POST_RDMA, 0)->u.post.cookie, false, &w), 0);
		assert_false(w);
		drain(co, &s);
	}
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 1);
	assert_int_equal(nth(&s, CHANOPS_ACT_RDMA_END, 0)->u.rdma.status,
	    -EIO);
	completion_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 0), 5, -EIO, 0);
	forget(&s);
	/* After abort: completions count, nothing is answered or posted. */
	n = mkrdma(f, true, 6, 0, 0, 0, 1, 300);
	assert_int_equal(feed(co, &s, f, n, 512, PID), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 2);
	chanops_abort(co);
	assert_int_equal(done(co, &s, 0, true), 0);
	assert_int_equal(done(co, &s, 1, false), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_POST_RDMA), 2);
	assert_int_equal(count(&s, CHANOPS_ACT_SEND_FRAME), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_RDMA_END), 1);
	assert_false(chanops_rdma_in_flight(co));
	forget(&s);
	chanops_free(co);
}

/* ---- the held-frame rule ---------------------------------------------- */

static void
test_held_behind_pdu(void **state)
{
	struct seen s = { 0 };
	struct chanops *co = mk(1, 0, 0, 3, NULL);
	uint8_t f[FRAME_OP_MAX + 4], drainb[4] = { 1, 0, 0, 0 };
	int fds[2];
	size_t n;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	close(fds[1]);
	/* A PDU to the owner is half queued: frames wait. */
	assert_int_equal(chanops_deliver(co, true, false), 0);
	assert_int_equal(chanops_send_frame(co, FRAME_AREA, drainb, 4,
	    fds[0]), 0);
	n = mkrdma(f, false, 1, 0, 0, 0, 1, 100);
	assert_int_equal(feed(co, &s, f, n, 512, PID), 0);
	assert_int_equal(done(co, &s, 0, true), 0);
	assert_int_equal(count(&s, CHANOPS_ACT_SEND_FRAME), 0);
	assert_int_equal(chanops_deliver(co, false, false), 0);
	drain(co, &s);
	assert_int_equal(count(&s, CHANOPS_ACT_SEND_FRAME), 0);
	assert_int_equal(chanops_deliver(co, false, true), 0);
	drain(co, &s);
	/* Released in the order they were made, the fd with its frame. */
	assert_int_equal(count(&s, CHANOPS_ACT_SEND_FRAME), 2);
	assert_int_equal(nth(&s, CHANOPS_ACT_SEND_FRAME, 0)->u.frame.type,
	    FRAME_AREA);
	assert_int_equal(nth(&s, CHANOPS_ACT_SEND_FRAME, 0)->u.frame.fd,
	    fds[0]);
	completion_of(nth(&s, CHANOPS_ACT_SEND_FRAME, 1), 1, 0, 100);
	forget(&s);
	/* More than held_max behind one PDU closes. */
	assert_int_equal(chanops_deliver(co, true, false), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(chanops_send_frame(co, FRAME_DRAIN, drainb,
		    4, -1), 0);
	}
	assert_int_equal(chanops_send_frame(co, FRAME_DRAIN, drainb, 4, -1),
	    -CHANOPS_ERR_HELD_FULL);
	drain(co, &s);
	assert_int_equal(count(&s, CHANOPS_ACT_CLOSE), 1);
	forget(&s);
	chanops_free(co);	/* frees the three still held */
}

static void
test_errors_named(void **state)
{
	(void)state;
	assert_string_equal(chanops_error_name(-CHANOPS_ERR_NOMEM),
	    "no_memory");
	assert_string_equal(chanops_error_name(CHANOPS_ERR_HELD_FULL),
	    "held_frames_full");
	assert_string_equal(chanops_error_name(-CHANOPS_ERR_END), "unknown");
	assert_string_equal(chanops_error_name(0), "ok");
}

/* ---- failmalloc ------------------------------------------------------- */

struct fm {
	long	n;		/* allocations so far */
	long	fail_at;	/* this one fails; 0: none */
	bool	failed;
	long	live;
};

static void *
fm_malloc(size_t size, void *ud)
{
	struct fm *m = ud;

	if (++m->n == m->fail_at) {
		m->failed = true;
		return NULL;
	}
	m->live++;
	return malloc(size);
}

static void
fm_free(void *p, void *ud)
{
	struct fm *m = ud;

	m->live--;
	free(p);
}

/*
 * Everything at once, never draining between inputs so the action ring
 * grows: a PDU with a key, refusals, a gated WRITE, reads, frames held
 * behind a delivery, completions. Whatever allocation fails, the engine
 * closes with NOMEM or refuses a request with NO_MEMORY, and frees all.
 */
static void
fm_scenario(struct fm *m)
{
	struct sdp_mem mem = { fm_malloc, fm_free, m };
	struct chanops_config cfg = { .conn_id = CONN_ID, .ord = 2,
	    .max_wr_bytes = 64 };
	struct seen *s = calloc(1, sizeof(*s));
	struct chanops *co = NULL;
	uint8_t f[4 * FRAME_OP_MAX], inv[4] = { 1, 0, 0, 0 };
	size_t n = 0;
	int rc;

	assert_non_null(s);
	s->mem = &mem;
	rc = chanops_new(&cfg, &mem, &co);
	if (rc != 0) {
		assert_int_equal(rc, -CHANOPS_ERR_NOMEM);
		assert_true(m->failed);
		free(s);
		return;
	}
	chanops_set_area(co, 1u << 20);
	chanops_set_max_read_write(co, 1u << 20);
	(void)chanops_deliver(co, true, false);
	n += mkframe(f + n, FRAME_SEND_INVALIDATE, inv, 4);
	n += mkframe(f + n, FRAME_AREA_REQUEST, (const uint8_t *)"x", 1);
	n += mkrdma(f + n, false, 1, 0, 0, 0, 4, 200);
	n += mkrdma(f + n, true, 2, 0, FRAME_WRITE_THEN_PDU, 7, 4, 200);
	n += mkframe(f + n, FRAME_PDU, (const uint8_t *)"pdu!", 4);
	rc = feed(co, s, f, n, 4096, PID);
	(void)chanops_send_frame(co, FRAME_DRAIN, inv, 4, -1);
	for (unsigned k = 0; k < 64 && rc == 0; k++) {
		if (k >= count(s, CHANOPS_ACT_POST_RDMA)) {
			break;
		}
		rc = chanops_rdma_done(co, nth(s, CHANOPS_ACT_POST_RDMA,
		    k)->u.post.cookie, true, NULL);
		if (k == 3) {
			(void)chanops_deliver(co, false, true);
		}
		drain(co, s);
	}
	drain(co, s);
	if (!m->failed) {
		assert_int_equal(rc, 0);
		assert_int_equal(count(s, CHANOPS_ACT_CLOSE), 0);
		assert_int_equal(count(s, CHANOPS_ACT_SUBMIT_PDU), 1);
		assert_int_equal(count(s, CHANOPS_ACT_RDMA_END), 2);
	} else {
		/* The failure closed, or refused a request for memory. */
		bool closed = count(s, CHANOPS_ACT_CLOSE) == 1;
		bool refused = count(s, CHANOPS_ACT_RDMA_REJECTED) == 1;

		assert_true(closed || refused);
		if (closed) {
			assert_int_equal(nth(s, CHANOPS_ACT_CLOSE,
			    0)->u.close.error, -CHANOPS_ERR_NOMEM);
		} else {
			assert_int_equal(nth(s, CHANOPS_ACT_RDMA_REJECTED,
			    0)->u.rdma.why, FRAME_RDMA_NO_MEMORY);
		}
		/* Work requests posted before the failure still complete. */
		for (unsigned k = 0; k < count(s, CHANOPS_ACT_POST_RDMA);
		    k++) {
			uint64_t ck = nth(s, CHANOPS_ACT_POST_RDMA,
			    k)->u.post.cookie;

			(void)chanops_rdma_done(co, ck, false, NULL);
		}
		drain(co, s);
	}
	forget(s);
	chanops_free(co);
	free(s);
}

static void
test_failmalloc(void **state)
{
	struct fm m = { 0 };
	long total;

	(void)state;
	fm_scenario(&m);
	assert_false(m.failed);
	assert_int_equal(m.live, 0);
	total = m.n;
	assert_true(total >= 8);
	for (long i = 1; i <= total; i++) {
		memset(&m, 0, sizeof(m));
		m.fail_at = i;
		fm_scenario(&m);
		assert_true(m.failed);
		assert_int_equal(m.live, 0);
	}
	print_message("failmalloc: %ld allocations, each failed once\n",
	    total);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pdu_byte_by_byte),
		cmocka_unit_test(test_pdu_waits_for_room),
		cmocka_unit_test(test_submit_blocked),
		cmocka_unit_test(test_op_frames_refused),
		cmocka_unit_test(test_fatal_frames),
		cmocka_unit_test(test_read_caps_and_split),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_write_then_pdu_gate),
		cmocka_unit_test(test_queue_max),
		cmocka_unit_test(test_rdma_failure_and_abort),
		cmocka_unit_test(test_held_behind_pdu),
		cmocka_unit_test(test_errors_named),
		cmocka_unit_test(test_failmalloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
