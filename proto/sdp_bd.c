/* SPDX-License-Identifier: ISC */
/*
 * sdp_bd.c: SMB_DIRECT_BUFFER_DESCRIPTOR_V1 lists ([MS-SMBD] 2.2.3.1).
 *
 * An SMB2 READ or WRITE sent over RDMA names the client's memory with a
 * list of these. The daemon turns each entry into an RDMA operation, so
 * everything an attacker could put in the list is checked here, before
 * anything is written: the count against what the caller can hold, each
 * length against zero and against wrap-around, and the sum against the
 * negotiated MaxReadWriteSize.
 */
#include "config.h"

#include "sdp.h"

static uint32_t
bd_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
bd_get64(const uint8_t *p)
{
	return (uint64_t)bd_get32(p) | (uint64_t)bd_get32(p + 4) << 32;
}

static void
bd_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int
sdp_bd_parse(const uint8_t *buf, size_t len, uint32_t max_total,
    unsigned max_count, struct sdp_bd *out, unsigned *n_out)
{
	uint64_t total = 0;
	size_t n, i;
	int rc = 0;

	if (len == 0) {
		rc = SDP_ERR_BD_EMPTY;
		goto out;
	}
	if (len % SDP_BD_SIZE != 0) {
		rc = SDP_ERR_BD_ALIGN;
		goto out;
	}
	n = len / SDP_BD_SIZE;
	if (n > max_count) {
		rc = SDP_ERR_BD_COUNT;
		goto out;
	}
	/* Validate everything first: out is written only on success. */
	for (i = 0; i < n; i++) {
		const uint8_t *p = buf + i * SDP_BD_SIZE;
		uint64_t off = bd_get64(p);
		uint32_t length = bd_get32(p + 12);

		if (length == 0) {
			rc = SDP_ERR_BD_ZERO_LENGTH;
			goto out;
		}
		if (off > UINT64_MAX - length) {
			rc = SDP_ERR_BD_WRAP;
			goto out;
		}
		/* n <= max_count bounds the sum well below 2^64. */
		total += length;
		if (total > max_total) {
			rc = SDP_ERR_BD_TOTAL;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		const uint8_t *p = buf + i * SDP_BD_SIZE;

		out[i].offset = bd_get64(p);
		out[i].token = bd_get32(p + 8);
		out[i].length = bd_get32(p + 12);
	}
	*n_out = (unsigned)n;
out:
	return rc;
}

int
sdp_bd_encode(const struct sdp_bd *bd, unsigned n, uint8_t *buf, size_t len)
{
	unsigned i;

	if ((size_t)n * SDP_BD_SIZE > len || n > INT32_MAX / SDP_BD_SIZE) {
		return SDP_ERR_BUFSIZE;
	}
	for (i = 0; i < n; i++) {
		uint8_t *p = buf + (size_t)i * SDP_BD_SIZE;

		bd_put32(p, (uint32_t)bd[i].offset);
		bd_put32(p + 4, (uint32_t)(bd[i].offset >> 32));
		bd_put32(p + 8, bd[i].token);
		bd_put32(p + 12, bd[i].length);
	}
	return (int)(n * SDP_BD_SIZE);
}
