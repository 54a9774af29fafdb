/* SPDX-License-Identifier: ISC */
/*
 * frame.h: the data channel's frames (docs/PROTOCOL.md, "Data channel").
 *
 * Every frame, in both directions, is a 4-byte header followed by a body:
 *
 *	byte 0     type (FRAME_PDU = 0, or an operation below)
 *	bytes 1-3  body length, 24-bit big-endian
 *
 * Type 0 is an SMB2 PDU framed exactly as on SMB2 Direct TCP, so an smbd's
 * existing TCP reader works on the channel unchanged. Operation bodies are
 * fixed little-endian layouts, encoded and decoded here and nowhere else.
 * Operation types from the owner to the daemon are 0x81..0xBF; from the
 * daemon to the owner 0xC1..0xFF. Numbers are never reused.
 *
 * Pure code: no I/O. Decoders validate lengths and counts and never read
 * past the body they are given.
 */
#ifndef SMBDIRECTD_PROTO_FRAME_H
#define SMBDIRECTD_PROTO_FRAME_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_HDR_SIZE		4
#define FRAME_MAX_BODY		0xffffffu

enum frame_type {
	FRAME_PDU		= 0x00,

	/* Owner -> daemon. */
	FRAME_AREA_REQUEST	= 0x81,	/* send me the area (fd) */
	FRAME_RDMA_READ		= 0x82,	/* client memory -> area */
	FRAME_RDMA_WRITE	= 0x83,	/* area -> client memory [+ PDU] */
	FRAME_SEND_INVALIDATE	= 0x84,	/* next PDU: send with invalidate */
	FRAME_CLAIM		= 0x85,	/* I hold this socket now */

	/* Daemon -> owner. */
	FRAME_AREA		= 0xc1,	/* the area; carries its memfd */
	FRAME_COMPLETION	= 0xc2,	/* an operation finished */
	FRAME_DRAIN		= 0xc3,	/* finish up: closing after grace */
	FRAME_ERROR		= 0xc4,	/* a frame was refused */
};

/* At most this many descriptors in one RDMA operation frame. */
#define FRAME_MAX_DESC		16

/* FRAME_RDMA_WRITE flags. */
#define FRAME_WRITE_THEN_PDU	0x1u	/* the next frame is a PDU to send
					   right after the writes */

/*
 * FRAME_RDMA_READ / FRAME_RDMA_WRITE body:
 *	u64 req_id      echoed in the completion
 *	u64 area_off    where in the area the payload starts
 *	u32 flags
 *	u32 invalidate  remote key for the following PDU (WRITE_THEN_PDU), 0
 *	u16 n_desc      1..FRAME_MAX_DESC
 *	u16 reserved    0
 *	n_desc x Buffer Descriptor V1 (u64 offset, u32 token, u32 length),
 *	exactly as the client sent them in the SMB2 request's channel info.
 * The payload is contiguous in the area: descriptor i covers the bytes
 * after those of descriptors 0..i-1.
 */
#define FRAME_RDMA_FIXED	28
#define FRAME_DESC_SIZE		16
/* The longest operation frame body: an RDMA frame with every descriptor. */
#define FRAME_OP_MAX		(FRAME_RDMA_FIXED + \
				 FRAME_MAX_DESC * FRAME_DESC_SIZE)

struct frame_desc {
	uint64_t	offset;
	uint32_t	token;
	uint32_t	length;
};

struct frame_rdma {
	uint64_t		req_id;
	uint64_t		area_off;
	uint32_t		flags;
	uint32_t		invalidate;
	uint16_t		n_desc;
	struct frame_desc	desc[FRAME_MAX_DESC];
};

/*
 * Why the daemon refuses an RDMA_READ or RDMA_WRITE frame: one reason per
 * check, in the order the checks run. X(name, token, status): the token
 * labels smbdirect_rdma_requests_rejected_total; status is what the
 * owner's COMPLETION carries. The first three come from
 * frame_rdma_decode_reject(): the daemon trusts no request id then, and
 * answers with an ERROR frame carrying the decoder's error and closes the
 * channel. The next eight come from frame_rdma_check(); NO_MEMORY is the
 * daemon's own.
 */
#define FRAME_RDMA_REJECTS(X)						\
	X(MALFORMED, "malformed", -EBADMSG)				\
	X(NO_DESCRIPTORS, "no_descriptors", -EINVAL)			\
	X(TOO_MANY_DESCRIPTORS, "too_many_descriptors", -EINVAL)	\
	X(READ_THEN_PDU, "read_then_pdu", -EINVAL)			\
	X(NO_AREA, "no_area", -ENXIO)					\
	X(NO_RDMA_READ, "no_rdma_read", -EOPNOTSUPP)			\
	X(ZERO_LENGTH, "zero_length", -EINVAL)				\
	X(WRAP, "wrap", -EINVAL)					\
	X(EXCEEDS_MAX_READ_WRITE, "exceeds_max_read_write", -E2BIG)	\
	X(OUTSIDE_AREA, "outside_area", -ERANGE)			\
	X(WRITE_PENDING, "write_pending", -EBUSY)			\
	X(NO_MEMORY, "no_memory", -ENOMEM)

enum frame_rdma_reject {
	FRAME_RDMA_OK = 0,
#define X(e, token, status)	FRAME_RDMA_##e,
	FRAME_RDMA_REJECTS(X)
#undef X
	FRAME_RDMA_REJECT_END
};

/* What frame_rdma_check() needs to know of the connection. */
struct frame_rdma_limits {
	bool		has_area;
	uint64_t	area_size;
	uint32_t	max_read_write;	/* negotiated MaxReadWriteSize */
	bool		can_read;	/* the client's IRD (our ORD) > 0 */
	bool		write_pending;	/* a WRITE_THEN_PDU awaits its PDU */
};

/* FRAME_SEND_INVALIDATE body: u32 rkey. */
#define FRAME_SEND_INVALIDATE_SIZE	4

/* FRAME_CLAIM body: u64 conn_id. */
#define FRAME_CLAIM_SIZE	8

/* FRAME_AREA body: u64 conn_id, u64 size; one fd via SCM_RIGHTS. */
#define FRAME_AREA_SIZE		16

/*
 * FRAME_COMPLETION body:
 *	u64 req_id
 *	i32 status      0 or a negative errno value
 *	u32 bytes       payload bytes moved
 */
#define FRAME_COMPLETION_SIZE	16

/* FRAME_DRAIN body: u32 grace_ms. */
#define FRAME_DRAIN_SIZE	4

/*
 * FRAME_ERROR body: i32 status, u8 frame type refused, 3 reserved bytes,
 * then a UTF-8 message (not NUL-terminated) of the remaining length.
 */
#define FRAME_ERROR_FIXED	8
#define FRAME_ERROR_MSG_MAX	200

struct frame_completion {
	uint64_t	req_id;
	int32_t		status;
	uint32_t	bytes;
};

/* Header helpers. */
void	frame_hdr_encode(uint8_t hdr[FRAME_HDR_SIZE], uint8_t type,
	    uint32_t len);
void	frame_hdr_decode(const uint8_t hdr[FRAME_HDR_SIZE], uint8_t *type,
	    uint32_t *len);

/*
 * Decoders return 0, or -EBADMSG for a body of the wrong size, -EINVAL
 * for a bad count or a non-zero reserved field. Outputs are written only on
 * success. Encoders write into @buf (at least the size they return) and
 * return the body length.
 */
int	frame_rdma_decode(const uint8_t *body, size_t len,
	    struct frame_rdma *out);
size_t	frame_rdma_encode(const struct frame_rdma *r, uint8_t *buf);

/*
 * frame_rdma_decode_reject() - why frame_rdma_decode() refused @body:
 * FRAME_RDMA_NO_DESCRIPTORS or FRAME_RDMA_TOO_MANY_DESCRIPTORS for a
 * descriptor count outside 1..FRAME_MAX_DESC, FRAME_RDMA_MALFORMED for
 * anything else, FRAME_RDMA_OK if it decodes.
 */
enum frame_rdma_reject frame_rdma_decode_reject(const uint8_t *body,
	    size_t len);

/*
 * frame_rdma_check() - the checks a decoded RDMA frame must pass before
 * anything is posted, in FRAME_RDMA_REJECTS order: a READ never asks
 * for a PDU after it; an area exists; a READ needs an ORD; no descriptor
 * has length 0 or wraps past 2^64; the total is at most MaxReadWriteSize
 * and lies within the area; no earlier WRITE_THEN_PDU still waits (for a
 * WRITE_THEN_PDU). @write: an RDMA_WRITE frame. @total, on success, the
 * payload bytes. Return: FRAME_RDMA_OK, or the first check that failed.
 */
enum frame_rdma_reject frame_rdma_check(const struct frame_rdma *f,
	    bool write, const struct frame_rdma_limits *lim,
	    uint64_t *total);

/* The token, and the status, of a reason; "unknown" and -EINVAL else. */
const char	*frame_rdma_reject_name(enum frame_rdma_reject);
int		 frame_rdma_reject_status(enum frame_rdma_reject);
int	frame_completion_decode(const uint8_t *body, size_t len,
	    struct frame_completion *out);
size_t	frame_completion_encode(const struct frame_completion *c,
	    uint8_t *buf);
int	frame_u64_decode(const uint8_t *body, size_t len, uint64_t *out);
int	frame_u32_decode(const uint8_t *body, size_t len, uint32_t *out);
int	frame_area_decode(const uint8_t *body, size_t len, uint64_t *conn_id,
	    uint64_t *size);
size_t	frame_area_encode(uint64_t conn_id, uint64_t size, uint8_t *buf);
size_t	frame_error_encode(int32_t status, uint8_t refused, const char *msg,
	    uint8_t *buf, size_t buflen);
int	frame_error_decode(const uint8_t *body, size_t len, int32_t *status,
	    uint8_t *refused, char *msg, size_t msglen);

/*
 * Little-endian field access: the one definition the frame codec, the
 * SMB Direct engine (sdp_wire.c), the gateway, the examples and the tests
 * share. Inline, so that code outside libsdproto (the engine) needs no
 * link to it.
 */
static inline void
frame_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
frame_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void
frame_put_le64(uint8_t *p, uint64_t v)
{
	frame_put_le32(p, (uint32_t)v);
	frame_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t
frame_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
frame_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
frame_get_le64(const uint8_t *p)
{
	return (uint64_t)frame_get_le32(p) |
	    (uint64_t)frame_get_le32(p + 4) << 32;
}

#endif
