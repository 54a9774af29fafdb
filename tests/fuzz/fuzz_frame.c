/* SPDX-License-Identifier: ISC */
/*
 * fuzz_frame: the data channel's frame decoders (proto/frame.c) on
 * arbitrary bytes.
 *
 * Every decoder sees the whole input as a body. What must hold:
 *  - a decoder accepts exactly the lengths frame.h documents, and on
 *    failure leaves its outputs untouched ("written only on success");
 *  - what decodes encodes back to the same bytes (the layouts have no
 *    slack: reserved fields must be zero to decode);
 *  - for a valid value x built from the input, decode(encode(x)) == x.
 * frame_hdr_decode() reads the first four bytes; frame_error_decode() runs
 * with several message buffer sizes, the last input byte picking one.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond) {
		abort();
	}
}

/* Byte @i of the input, cycling; 0 for an empty input. */
static uint8_t
byte_at(const uint8_t *data, size_t size, size_t i)
{
	return size > 0 ? data[i % size] : 0;
}

static uint64_t
u64_at(const uint8_t *data, size_t size, size_t i)
{
	uint64_t v = 0;
	unsigned k;

	for (k = 0; k < 8; k++) {
		v |= (uint64_t)byte_at(data, size, i + k) << (8 * k);
	}
	return v;
}

static void
fuzz_hdr(const uint8_t *data, size_t size)
{
	uint8_t hdr[FRAME_HDR_SIZE];
	uint8_t type;
	uint32_t len;

	if (size < FRAME_HDR_SIZE) {
		return;
	}
	frame_hdr_decode(data, &type, &len);
	check(len <= FRAME_MAX_BODY);
	frame_hdr_encode(hdr, type, len);
	check(memcmp(hdr, data, FRAME_HDR_SIZE) == 0);
}

/* Field by field: struct padding is not part of the value. */
static int
rdma_equal(const struct frame_rdma *a, const struct frame_rdma *b)
{
	unsigned i;

	if (a->req_id != b->req_id || a->area_off != b->area_off ||
	    a->flags != b->flags || a->invalidate != b->invalidate ||
	    a->n_desc != b->n_desc) {
		return 0;
	}
	for (i = 0; i < a->n_desc && i < FRAME_MAX_DESC; i++) {
		if (a->desc[i].offset != b->desc[i].offset ||
		    a->desc[i].token != b->desc[i].token ||
		    a->desc[i].length != b->desc[i].length) {
			return 0;
		}
	}
	return 1;
}

static void
fuzz_rdma(const uint8_t *data, size_t size)
{
	struct frame_rdma r, x, y;
	uint8_t buf[FRAME_RDMA_FIXED + FRAME_MAX_DESC * 16];
	size_t n;
	unsigned i;
	int rc;

	memset(&r, 0xa5, sizeof(r));
	memcpy(&y, &r, sizeof(r));
	rc = frame_rdma_decode(data, size, &r);
	if (rc != 0) {
		check(rc == -EBADMSG || rc == -EINVAL);
		check(memcmp(&r, &y, sizeof(r)) == 0);
	} else {
		check(r.n_desc >= 1 && r.n_desc <= FRAME_MAX_DESC);
		check((r.flags & ~FRAME_WRITE_THEN_PDU) == 0);
		check(size == FRAME_RDMA_FIXED + (size_t)r.n_desc * 16);
		n = frame_rdma_encode(&r, buf);
		check(n == size && memcmp(buf, data, size) == 0);
	}

	/* A valid frame built from the input survives a round trip. */
	memset(&x, 0, sizeof(x));
	x.req_id = u64_at(data, size, 0);
	x.area_off = u64_at(data, size, 8);
	x.flags = byte_at(data, size, 16) & FRAME_WRITE_THEN_PDU;
	x.invalidate = (uint32_t)u64_at(data, size, 20);
	x.n_desc = (uint16_t)(byte_at(data, size, 24) % FRAME_MAX_DESC + 1);
	for (i = 0; i < x.n_desc; i++) {
		x.desc[i].offset = u64_at(data, size, 28 + i * 16);
		x.desc[i].token = (uint32_t)u64_at(data, size, 36 + i * 16);
		x.desc[i].length = (uint32_t)u64_at(data, size, 40 + i * 16);
	}
	n = frame_rdma_encode(&x, buf);
	check(n == FRAME_RDMA_FIXED + (size_t)x.n_desc * 16);
	memset(&y, 0x5a, sizeof(y));
	check(frame_rdma_decode(buf, n, &y) == 0);
	check(rdma_equal(&x, &y));
	/* One byte short, or one descriptor's worth long, is refused. */
	check(frame_rdma_decode(buf, n - 1, &y) == -EBADMSG);
	if (x.n_desc < FRAME_MAX_DESC) {
		uint8_t big[sizeof(buf)];

		memset(big, 0, sizeof(big));
		memcpy(big, buf, n);
		check(frame_rdma_decode(big, n + 16, &y) == -EBADMSG);
	}
}

static void
fuzz_completion(const uint8_t *data, size_t size)
{
	struct frame_completion c, x, y;
	uint8_t buf[FRAME_COMPLETION_SIZE];
	int rc;

	memset(&c, 0xa5, sizeof(c));
	memcpy(&y, &c, sizeof(c));
	rc = frame_completion_decode(data, size, &c);
	check((rc == 0) == (size == FRAME_COMPLETION_SIZE));
	if (rc != 0) {
		check(rc == -EBADMSG);
		check(memcmp(&c, &y, sizeof(c)) == 0);
	} else {
		check(frame_completion_encode(&c, buf) == size);
		check(memcmp(buf, data, size) == 0);
	}

	memset(&x, 0, sizeof(x));
	x.req_id = u64_at(data, size, 0);
	x.status = (int32_t)(uint32_t)u64_at(data, size, 8);
	x.bytes = (uint32_t)u64_at(data, size, 12);
	check(frame_completion_encode(&x, buf) == FRAME_COMPLETION_SIZE);
	memset(&y, 0, sizeof(y));
	check(frame_completion_decode(buf, sizeof(buf), &y) == 0);
	check(y.req_id == x.req_id && y.status == x.status &&
	    y.bytes == x.bytes);
}

static void
fuzz_ints(const uint8_t *data, size_t size)
{
	uint64_t v64 = 0x1234, x64;
	uint32_t v32 = 0x1234, x32;
	uint8_t buf[8];
	int rc;

	rc = frame_u64_decode(data, size, &v64);
	check((rc == 0) == (size == 8));
	if (rc == 0) {
		frame_put_le64(buf, v64);
		check(memcmp(buf, data, 8) == 0);
	} else {
		check(rc == -EBADMSG && v64 == 0x1234);
	}
	rc = frame_u32_decode(data, size, &v32);
	check((rc == 0) == (size == 4));
	if (rc == 0) {
		frame_put_le32(buf, v32);
		check(memcmp(buf, data, 4) == 0);
	} else {
		check(rc == -EBADMSG && v32 == 0x1234);
	}

	x64 = u64_at(data, size, 0);
	frame_put_le64(buf, x64);
	check(frame_u64_decode(buf, 8, &v64) == 0 && v64 == x64);
	check(frame_get_le64(buf) == x64);
	x32 = (uint32_t)x64;
	frame_put_le32(buf, x32);
	check(frame_u32_decode(buf, 4, &v32) == 0 && v32 == x32);
	frame_put_le16(buf, (uint16_t)x32);
	check(frame_get_le16(buf) == (uint16_t)x32);
}

static void
fuzz_area(const uint8_t *data, size_t size)
{
	uint64_t conn_id = 7, sz = 9, x_id, x_sz;
	uint8_t buf[FRAME_AREA_SIZE];
	int rc;

	rc = frame_area_decode(data, size, &conn_id, &sz);
	check((rc == 0) == (size == FRAME_AREA_SIZE));
	if (rc == 0) {
		check(frame_area_encode(conn_id, sz, buf) == size);
		check(memcmp(buf, data, size) == 0);
	} else {
		check(rc == -EBADMSG && conn_id == 7 && sz == 9);
	}

	x_id = u64_at(data, size, 0);
	x_sz = u64_at(data, size, 8);
	check(frame_area_encode(x_id, x_sz, buf) == FRAME_AREA_SIZE);
	check(frame_area_decode(buf, sizeof(buf), &conn_id, &sz) == 0);
	check(conn_id == x_id && sz == x_sz);
}

static void
fuzz_error(const uint8_t *data, size_t size)
{
	static const size_t msglens[] = { 0, 1, 2, 16, FRAME_ERROR_MSG_MAX,
	    FRAME_ERROR_MSG_MAX + 1, 512 };
	char *msg = NULL, text[FRAME_ERROR_MSG_MAX + 2];
	uint8_t *buf = NULL;
	size_t msglen, n, buflen, tlen;
	int32_t status = 3, x_status;
	uint8_t refused = 4, x_refused;
	int rc;

	/* Exactly msglen bytes on the heap, so ASan sees any overrun. */
	msglen = msglens[byte_at(data, size, size - 1) %
	    (sizeof(msglens) / sizeof(msglens[0]))];
	msg = malloc(msglen > 0 ? msglen : 1);
	check(msg != NULL);
	memset(msg, 'Z', msglen > 0 ? msglen : 1);
	rc = frame_error_decode(data, size, &status, &refused, msg, msglen);
	if (size < FRAME_ERROR_FIXED ||
	    size > FRAME_ERROR_FIXED + FRAME_ERROR_MSG_MAX || msglen == 0) {
		check(rc == -EBADMSG);
		check(status == 3 && refused == 4);
		check(msglen == 0 || msg[0] == 'Z');
	} else {
		check(rc == 0);
		n = size - FRAME_ERROR_FIXED;
		if (n > msglen - 1) {
			n = msglen - 1;
		}
		check(status == (int32_t)frame_get_le32(data));
		check(refused == data[4]);
		check(memcmp(msg, data + FRAME_ERROR_FIXED, n) == 0);
		check(msg[n] == '\0');
	}
	free(msg);

	/*
	 * Round trip: the message is the input's bytes from offset 5 up to
	 * the first NUL (at most FRAME_ERROR_MSG_MAX + 1 of them, to see the
	 * cap), into a buffer whose size the input's second byte picks.
	 */
	x_status = (int32_t)(uint32_t)u64_at(data, size, 0);
	x_refused = byte_at(data, size, 4);
	tlen = 0;
	while (5 + tlen < size && tlen < FRAME_ERROR_MSG_MAX + 1 &&
	    data[5 + tlen] != '\0') {
		text[tlen] = (char)data[5 + tlen];
		tlen++;
	}
	text[tlen] = '\0';
	buflen = byte_at(data, size, 1) % 2 == 0 ?
	    FRAME_ERROR_FIXED + FRAME_ERROR_MSG_MAX :
	    byte_at(data, size, 2) % (FRAME_ERROR_FIXED + 24);
	buf = malloc(buflen > 0 ? buflen : 1);
	check(buf != NULL);
	n = frame_error_encode(x_status, x_refused, text, buf, buflen);
	if (buflen < FRAME_ERROR_FIXED) {
		check(n == 0);
	} else {
		/* The message is cut to the cap and to the buffer. */
		if (tlen > FRAME_ERROR_MSG_MAX) {
			tlen = FRAME_ERROR_MSG_MAX;
		}
		if (tlen > buflen - FRAME_ERROR_FIXED) {
			tlen = buflen - FRAME_ERROR_FIXED;
		}
		check(n == FRAME_ERROR_FIXED + tlen);
		msg = malloc(FRAME_ERROR_MSG_MAX + 1);
		check(msg != NULL);
		check(frame_error_decode(buf, n, &status, &refused, msg,
		    FRAME_ERROR_MSG_MAX + 1) == 0);
		check(status == x_status && refused == x_refused);
		check(strlen(msg) == tlen && memcmp(msg, text, tlen) == 0);
		free(msg);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_hdr(data, size);
	fuzz_rdma(data, size);
	fuzz_completion(data, size);
	fuzz_ints(data, size);
	fuzz_area(data, size);
	fuzz_error(data, size);
	return 0;
}
