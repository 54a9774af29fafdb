/* SPDX-License-Identifier: ISC */
/*
 * fuzz_sdp_wire.c: every SMB Direct decoder on arbitrary bytes.
 *
 * Whatever decodes must encode back to the same bytes (reserved fields
 * and padding aside, which are written as zeros), and the receive checks
 * must agree with an independent restatement of [MS-SMBD] 3.1.5.8.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond) {
		abort();
	}
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
fuzz_neg(const uint8_t *data, size_t size)
{
	struct sdp_neg_req req;
	struct sdp_neg_resp resp;
	uint8_t buf[SDP_NEG_RESP_SIZE];

	if (sdp_neg_req_decode(data, size, &req) == 0) {
		check(size >= SDP_NEG_REQ_SIZE);
		check(sdp_neg_req_encode(&req, buf, sizeof(buf)) ==
		    SDP_NEG_REQ_SIZE);
		check(memcmp(buf, data, 4) == 0);
		check(buf[4] == 0 && buf[5] == 0);
		check(memcmp(buf + 6, data + 6, SDP_NEG_REQ_SIZE - 6) == 0);
	} else {
		check(size < SDP_NEG_REQ_SIZE);
	}
	if (sdp_neg_resp_decode(data, size, &resp) == 0) {
		check(sdp_neg_resp_encode(&resp, buf, sizeof(buf)) ==
		    SDP_NEG_RESP_SIZE);
		check(memcmp(buf, data, 6) == 0);
		check(buf[6] == 0 && buf[7] == 0);
		check(memcmp(buf + 8, data + 8, SDP_NEG_RESP_SIZE - 8) == 0);
	} else {
		check(size < SDP_NEG_RESP_SIZE);
	}
}

static void
fuzz_data(const uint8_t *data, size_t size)
{
	struct sdp_data_hdr h;
	uint8_t buf[64];
	uint32_t max_frag;
	uint64_t end, total;
	int rc, n, want;

	if (sdp_data_hdr_decode(data, size, &h) != 0) {
		check(size < SDP_DATA_HDR_SIZE);
		return;
	}
	memset(buf, 0xa5, sizeof(buf));
	n = sdp_data_hdr_encode(&h, buf, sizeof(buf));
	if (n > 0) {
		check(memcmp(buf, data, 6) == 0);
		check(memcmp(buf + 8, data + 8, 12) == 0);
		for (; n > SDP_DATA_HDR_SIZE; n--) {
			check(buf[n - 1] == 0);
		}
	} else {
		check(n == SDP_ERR_BUFSIZE && h.data_length > 0 &&
		    h.data_offset > sizeof(buf));
	}

	/* The checks against a restatement, for a size taken from input. */
	max_frag = size >= 24 ? rd32(data + 20) : 131072;
	end = (uint64_t)h.data_offset + h.data_length;
	total = (uint64_t)h.data_length + h.remaining_data_length;
	if (h.credits_requested == 0) {
		want = SDP_ERR_RX_CREDITS_REQUESTED;
	} else if (h.data_offset & 7) {
		want = SDP_ERR_RX_DATA_OFFSET_ALIGN;
	} else if (h.data_length != 0 && h.data_offset < 20) {
		want = SDP_ERR_RX_DATA_OFFSET_HEADER;
	} else if (end > size) {
		want = SDP_ERR_RX_DATA_BEYOND;
	} else if (total > max_frag) {
		want = SDP_ERR_RX_FRAGMENTED_SIZE;
	} else {
		want = 0;
	}
	rc = sdp_data_hdr_check(&h, size, max_frag);
	check(rc == want);
	if (rc == 0 && h.data_length > 0) {
		/* The payload lies wholly inside the message. */
		check(h.data_offset >= SDP_DATA_HDR_SIZE && end <= size);
	}
	check(sdp_error_name(rc) != NULL && sdp_strerror(rc) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_neg(data, size);
	fuzz_data(data, size);
	return 0;
}
