/* SPDX-License-Identifier: ISC */
/*
 * frame.c: encode and decode the data channel's frames (see frame.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "frame.h"

void
frame_hdr_encode(uint8_t hdr[FRAME_HDR_SIZE], uint8_t type, uint32_t len)
{
	hdr[0] = type;
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

void
frame_hdr_decode(const uint8_t hdr[FRAME_HDR_SIZE], uint8_t *type,
    uint32_t *len)
{
	*type = hdr[0];
	*len = (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

int
frame_rdma_decode(const uint8_t *body, size_t len, struct frame_rdma *out)
{
	struct frame_rdma r;
	unsigned i;

	if (len < FRAME_RDMA_FIXED) {
		return -EBADMSG;
	}
	memset(&r, 0, sizeof(r));
	r.req_id = frame_get_le64(body);
	r.area_off = frame_get_le64(body + 8);
	r.flags = frame_get_le32(body + 16);
	r.invalidate = frame_get_le32(body + 20);
	r.n_desc = frame_get_le16(body + 24);
	if (frame_get_le16(body + 26) != 0) {
		return -EINVAL;
	}
	if (r.n_desc == 0 || r.n_desc > FRAME_MAX_DESC) {
		return -EINVAL;
	}
	if (len != FRAME_RDMA_FIXED + (size_t)r.n_desc * FRAME_DESC_SIZE) {
		return -EBADMSG;
	}
	if (r.flags & ~FRAME_WRITE_THEN_PDU) {
		return -EINVAL;
	}
	for (i = 0; i < r.n_desc; i++) {
		const uint8_t *d = body + FRAME_RDMA_FIXED + i * FRAME_DESC_SIZE;

		r.desc[i].offset = frame_get_le64(d);
		r.desc[i].token = frame_get_le32(d + 8);
		r.desc[i].length = frame_get_le32(d + 12);
	}
	*out = r;
	return 0;
}

enum frame_rdma_reject
frame_rdma_decode_reject(const uint8_t *body, size_t len)
{
	struct frame_rdma r;
	uint16_t n;

	if (frame_rdma_decode(body, len, &r) == 0) {
		return FRAME_RDMA_OK;
	}
	if (len < FRAME_RDMA_FIXED) {
		return FRAME_RDMA_MALFORMED;
	}
	n = frame_get_le16(body + 24);
	if (n == 0) {
		return FRAME_RDMA_NO_DESCRIPTORS;
	}
	if (n > FRAME_MAX_DESC) {
		return FRAME_RDMA_TOO_MANY_DESCRIPTORS;
	}
	return FRAME_RDMA_MALFORMED;
}

enum frame_rdma_reject
frame_rdma_check(const struct frame_rdma *f, bool write,
    const struct frame_rdma_limits *lim, uint64_t *total)
{
	uint64_t sum = 0;
	unsigned i;

	if (!write && (f->flags & FRAME_WRITE_THEN_PDU)) {
		return FRAME_RDMA_READ_THEN_PDU;
	}
	if (!lim->has_area) {
		return FRAME_RDMA_NO_AREA;
	}
	if (!write && !lim->can_read) {
		return FRAME_RDMA_NO_RDMA_READ;
	}
	for (i = 0; i < f->n_desc && i < FRAME_MAX_DESC; i++) {
		if (f->desc[i].length == 0) {
			return FRAME_RDMA_ZERO_LENGTH;
		}
		if (f->desc[i].offset + f->desc[i].length < f->desc[i].offset) {
			return FRAME_RDMA_WRAP;
		}
		sum += f->desc[i].length;
	}
	if (sum > lim->max_read_write) {
		return FRAME_RDMA_EXCEEDS_MAX_READ_WRITE;
	}
	if (f->area_off > lim->area_size ||
	    sum > lim->area_size - f->area_off) {
		return FRAME_RDMA_OUTSIDE_AREA;
	}
	if (write && (f->flags & FRAME_WRITE_THEN_PDU) && lim->write_pending) {
		return FRAME_RDMA_WRITE_PENDING;
	}
	*total = sum;
	return FRAME_RDMA_OK;
}

static const struct {
	const char	*name;
	int		 status;
} frame_rdma_rejects[] = {
#define X(e, token, st)	[FRAME_RDMA_##e] = { token, st },
	FRAME_RDMA_REJECTS(X)
#undef X
};

const char *
frame_rdma_reject_name(enum frame_rdma_reject r)
{
	if (r <= FRAME_RDMA_OK || r >= FRAME_RDMA_REJECT_END) {
		return "unknown";
	}
	return frame_rdma_rejects[r].name;
}

int
frame_rdma_reject_status(enum frame_rdma_reject r)
{
	if (r <= FRAME_RDMA_OK || r >= FRAME_RDMA_REJECT_END) {
		return -EINVAL;
	}
	return frame_rdma_rejects[r].status;
}

size_t
frame_rdma_encode(const struct frame_rdma *r, uint8_t *buf)
{
	unsigned i;

	frame_put_le64(buf, r->req_id);
	frame_put_le64(buf + 8, r->area_off);
	frame_put_le32(buf + 16, r->flags);
	frame_put_le32(buf + 20, r->invalidate);
	frame_put_le16(buf + 24, r->n_desc);
	frame_put_le16(buf + 26, 0);
	for (i = 0; i < r->n_desc && i < FRAME_MAX_DESC; i++) {
		uint8_t *d = buf + FRAME_RDMA_FIXED + i * FRAME_DESC_SIZE;

		frame_put_le64(d, r->desc[i].offset);
		frame_put_le32(d + 8, r->desc[i].token);
		frame_put_le32(d + 12, r->desc[i].length);
	}
	return FRAME_RDMA_FIXED + (size_t)i * FRAME_DESC_SIZE;
}

int
frame_completion_decode(const uint8_t *body, size_t len,
    struct frame_completion *out)
{
	if (len != FRAME_COMPLETION_SIZE) {
		return -EBADMSG;
	}
	out->req_id = frame_get_le64(body);
	out->status = (int32_t)frame_get_le32(body + 8);
	out->bytes = frame_get_le32(body + 12);
	return 0;
}

size_t
frame_completion_encode(const struct frame_completion *c, uint8_t *buf)
{
	frame_put_le64(buf, c->req_id);
	frame_put_le32(buf + 8, (uint32_t)c->status);
	frame_put_le32(buf + 12, c->bytes);
	return FRAME_COMPLETION_SIZE;
}

int
frame_u64_decode(const uint8_t *body, size_t len, uint64_t *out)
{
	if (len != 8) {
		return -EBADMSG;
	}
	*out = frame_get_le64(body);
	return 0;
}

int
frame_u32_decode(const uint8_t *body, size_t len, uint32_t *out)
{
	if (len != 4) {
		return -EBADMSG;
	}
	*out = frame_get_le32(body);
	return 0;
}

int
frame_area_decode(const uint8_t *body, size_t len, uint64_t *conn_id,
    uint64_t *size)
{
	if (len != FRAME_AREA_SIZE) {
		return -EBADMSG;
	}
	*conn_id = frame_get_le64(body);
	*size = frame_get_le64(body + 8);
	return 0;
}

size_t
frame_area_encode(uint64_t conn_id, uint64_t size, uint8_t *buf)
{
	frame_put_le64(buf, conn_id);
	frame_put_le64(buf + 8, size);
	return FRAME_AREA_SIZE;
}

size_t
frame_error_encode(int32_t status, uint8_t refused, const char *msg,
    uint8_t *buf, size_t buflen)
{
	size_t n = strlen(msg);

	if (buflen < FRAME_ERROR_FIXED) {
		return 0;
	}
	if (n > FRAME_ERROR_MSG_MAX) {
		n = FRAME_ERROR_MSG_MAX;
	}
	if (n > buflen - FRAME_ERROR_FIXED) {
		n = buflen - FRAME_ERROR_FIXED;
	}
	frame_put_le32(buf, (uint32_t)status);
	buf[4] = refused;
	buf[5] = buf[6] = buf[7] = 0;
	/* copy: none (an ERROR frame's text) */
	memcpy(buf + FRAME_ERROR_FIXED, msg, n);
	return FRAME_ERROR_FIXED + n;
}

int
frame_error_decode(const uint8_t *body, size_t len, int32_t *status,
    uint8_t *refused, char *msg, size_t msglen)
{
	size_t n;

	if (len < FRAME_ERROR_FIXED ||
	    len > FRAME_ERROR_FIXED + FRAME_ERROR_MSG_MAX || msglen == 0) {
		return -EBADMSG;
	}
	n = len - FRAME_ERROR_FIXED;
	if (n >= msglen) {
		n = msglen - 1;
	}
	*status = (int32_t)frame_get_le32(body);
	*refused = body[4];
	/* copy: none (an ERROR frame's text) */
	memcpy(msg, body + FRAME_ERROR_FIXED, n);
	msg[n] = '\0';
	return 0;
}
