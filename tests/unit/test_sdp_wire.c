/* SPDX-License-Identifier: ISC */
/*
 * SMB Direct message layouts, byte for byte: the example exchange of
 * [MS-SMBD] 4.1, the STATUS_NOT_SUPPORTED response, data and keepalive
 * headers, in both directions (encode, then decode), plus every receive
 * check of [MS-SMBD] 3.1.5.8 at, below and above its bound.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdp.h"

/* [MS-SMBD] 4.1 step 1: the initiator's Negotiate Request. */
static const uint8_t ex_neg_req[SDP_NEG_REQ_SIZE] = {
	0x00, 0x01, 0x00, 0x01,		/* MinVersion, MaxVersion */
	0x00, 0x00, 0x0a, 0x00,		/* Reserved, CreditsRequested */
	0x00, 0x04, 0x00, 0x00,		/* PreferredSendSize 1 KiB */
	0x00, 0x04, 0x00, 0x00,		/* MaxReceiveSize 1 KiB */
	0x00, 0x00, 0x02, 0x00,		/* MaxFragmentedSize 128 KiB */
};

/* [MS-SMBD] 4.1 step 2: the peer's Negotiate Response. */
static const uint8_t ex_neg_resp[SDP_NEG_RESP_SIZE] = {
	0x00, 0x01, 0x00, 0x01,		/* MinVersion, MaxVersion */
	0x00, 0x01, 0x00, 0x00,		/* NegotiatedVersion, Reserved */
	0x0a, 0x00, 0x0a, 0x00,		/* CreditsRequested, -Granted */
	0x00, 0x00, 0x00, 0x00,		/* Status */
	0x00, 0x00, 0x10, 0x00,		/* MaxReadWriteSize 1 MiB */
	0x00, 0x04, 0x00, 0x00,		/* PreferredSendSize 1 KiB */
	0x00, 0x04, 0x00, 0x00,		/* MaxReceiveSize 1 KiB */
	0x00, 0x00, 0x02, 0x00,		/* MaxFragmentedSize 128 KiB */
};

/* [MS-SMBD] 3.1.5.3: versions set, Status, everything else zero. */
static const uint8_t ex_neg_refuse[SDP_NEG_RESP_SIZE] = {
	0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xbb, 0x00, 0x00, 0xc0,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/*
 * [MS-SMBD] 4.1 step 3: the first data transfer grants 10 and requests 10
 * (the DataLength, 0x68, stands for a 104-byte SMB2 NEGOTIATE).
 */
static const uint8_t ex_data[SDP_DATA_OFFSET] = {
	0x0a, 0x00, 0x0a, 0x00,		/* CreditsRequested, -Granted */
	0x00, 0x00, 0x00, 0x00,		/* Flags, Reserved */
	0x00, 0x00, 0x00, 0x00,		/* RemainingDataLength */
	0x18, 0x00, 0x00, 0x00,		/* DataOffset 24 */
	0x68, 0x00, 0x00, 0x00,		/* DataLength */
	0x00, 0x00, 0x00, 0x00,		/* Padding */
};

/* A keepalive request: no payload, RESPONSE_REQUESTED. */
static const uint8_t ex_keepalive[SDP_DATA_HDR_SIZE] = {
	0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};

/* A middle fragment: 1340 bytes with 2680 to come, granting 3. */
static const uint8_t ex_fragment[SDP_DATA_OFFSET] = {
	0xff, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x78, 0x0a, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00,
	0x3c, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Field by field: structure padding is not part of the comparison. */
static void
eq_req(const struct sdp_neg_req *a, const struct sdp_neg_req *b)
{
	assert_int_equal(a->min_version, b->min_version);
	assert_int_equal(a->max_version, b->max_version);
	assert_int_equal(a->credits_requested, b->credits_requested);
	assert_int_equal(a->preferred_send_size, b->preferred_send_size);
	assert_int_equal(a->max_receive_size, b->max_receive_size);
	assert_int_equal(a->max_fragmented_size, b->max_fragmented_size);
}

static void
eq_resp(const struct sdp_neg_resp *a, const struct sdp_neg_resp *b)
{
	assert_int_equal(a->min_version, b->min_version);
	assert_int_equal(a->max_version, b->max_version);
	assert_int_equal(a->negotiated_version, b->negotiated_version);
	assert_int_equal(a->credits_requested, b->credits_requested);
	assert_int_equal(a->credits_granted, b->credits_granted);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->max_read_write_size, b->max_read_write_size);
	assert_int_equal(a->preferred_send_size, b->preferred_send_size);
	assert_int_equal(a->max_receive_size, b->max_receive_size);
	assert_int_equal(a->max_fragmented_size, b->max_fragmented_size);
}

static void
eq_hdr(const struct sdp_data_hdr *a, const struct sdp_data_hdr *b)
{
	assert_int_equal(a->credits_requested, b->credits_requested);
	assert_int_equal(a->credits_granted, b->credits_granted);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->remaining_data_length, b->remaining_data_length);
	assert_int_equal(a->data_offset, b->data_offset);
	assert_int_equal(a->data_length, b->data_length);
}

static void
test_neg_req_example(void **state)
{
	struct sdp_neg_req r = {
		.min_version = 0x0100, .max_version = 0x0100,
		.credits_requested = 10, .preferred_send_size = 1024,
		.max_receive_size = 1024, .max_fragmented_size = 131072,
	};
	struct sdp_neg_req d;
	uint8_t buf[64], in[SDP_NEG_REQ_SIZE + 4];

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(sdp_neg_req_encode(&r, buf, sizeof(buf)),
	    SDP_NEG_REQ_SIZE);
	assert_memory_equal(buf, ex_neg_req, SDP_NEG_REQ_SIZE);
	assert_int_equal(buf[SDP_NEG_REQ_SIZE], 0xaa);

	/* Reserved is ignored on receipt; trailing bytes too. */
	memcpy(in, ex_neg_req, SDP_NEG_REQ_SIZE);
	in[4] = 0x55;
	in[5] = 0x66;
	memset(in + SDP_NEG_REQ_SIZE, 0x77, 4);
	assert_int_equal(sdp_neg_req_decode(in, sizeof(in), &d), 0);
	eq_req(&d, &r);
	assert_int_equal(sdp_neg_req_decode(in, SDP_NEG_REQ_SIZE, &d), 0);
}

static void
test_neg_req_bounds(void **state)
{
	struct sdp_neg_req r, d;
	uint8_t buf[SDP_NEG_REQ_SIZE];

	memset(&d, 0x5a, sizeof(d));
	r = d;
	assert_int_equal(sdp_neg_req_decode(ex_neg_req, SDP_NEG_REQ_SIZE - 1,
	    &d), SDP_ERR_NEG_SHORT);
	assert_int_equal(sdp_neg_req_decode(ex_neg_req, 0, &d),
	    SDP_ERR_NEG_SHORT);
	/* Out parameters are untouched on failure. */
	eq_req(&d, &r);
	assert_int_equal(sdp_neg_req_encode(&r, buf, SDP_NEG_REQ_SIZE - 1),
	    SDP_ERR_BUFSIZE);

	/* Every field carries its full range verbatim. */
	r.min_version = 0xfffe;
	r.max_version = 0x0001;
	r.credits_requested = 0xffff;
	r.preferred_send_size = 0xffffffffu;
	r.max_receive_size = 0;
	r.max_fragmented_size = 0x01020304;
	assert_int_equal(sdp_neg_req_encode(&r, buf, sizeof(buf)),
	    SDP_NEG_REQ_SIZE);
	assert_int_equal(buf[16], 0x04);
	assert_int_equal(buf[19], 0x01);
	assert_int_equal(sdp_neg_req_decode(buf, sizeof(buf), &d), 0);
	eq_req(&d, &r);
}

static void
test_neg_resp_example(void **state)
{
	struct sdp_neg_resp r = {
		.min_version = 0x0100, .max_version = 0x0100,
		.negotiated_version = 0x0100, .credits_requested = 10,
		.credits_granted = 10, .status = 0,
		.max_read_write_size = 1u << 20, .preferred_send_size = 1024,
		.max_receive_size = 1024, .max_fragmented_size = 131072,
	};
	struct sdp_neg_resp d;
	uint8_t buf[SDP_NEG_RESP_SIZE], in[SDP_NEG_RESP_SIZE];

	assert_int_equal(sdp_neg_resp_encode(&r, buf, sizeof(buf)),
	    SDP_NEG_RESP_SIZE);
	assert_memory_equal(buf, ex_neg_resp, SDP_NEG_RESP_SIZE);
	memcpy(in, ex_neg_resp, sizeof(in));
	in[6] = 0xff;
	assert_int_equal(sdp_neg_resp_decode(in, sizeof(in), &d), 0);
	eq_resp(&d, &r);
	assert_int_equal(sdp_neg_resp_decode(in, SDP_NEG_RESP_SIZE - 1, &d),
	    SDP_ERR_NEG_SHORT);
	assert_int_equal(sdp_neg_resp_encode(&r, buf, SDP_NEG_RESP_SIZE - 1),
	    SDP_ERR_BUFSIZE);
}

static void
test_neg_resp_refusal(void **state)
{
	struct sdp_neg_resp r, d;
	uint8_t buf[SDP_NEG_RESP_SIZE];

	memset(&r, 0, sizeof(r));
	r.min_version = SDP_VERSION_1;
	r.max_version = SDP_VERSION_1;
	r.status = SDP_STATUS_NOT_SUPPORTED;
	assert_int_equal(sdp_neg_resp_encode(&r, buf, sizeof(buf)),
	    SDP_NEG_RESP_SIZE);
	assert_memory_equal(buf, ex_neg_refuse, sizeof(buf));
	assert_int_equal(sdp_neg_resp_decode(buf, sizeof(buf), &d), 0);
	assert_int_equal(d.status, 0xC00000BBu);
	assert_int_equal(d.negotiated_version, 0);
	assert_int_equal(d.credits_granted, 0);
}

static void
test_data_example(void **state)
{
	struct sdp_data_hdr h = {
		.credits_requested = 10, .credits_granted = 10, .flags = 0,
		.remaining_data_length = 0, .data_offset = SDP_DATA_OFFSET,
		.data_length = 0x68,
	};
	struct sdp_data_hdr d;
	uint8_t buf[64];

	memset(buf, 0xaa, sizeof(buf));
	/* With payload the padding is part of what is written, as zeros. */
	assert_int_equal(sdp_data_hdr_encode(&h, buf, sizeof(buf)),
	    SDP_DATA_OFFSET);
	assert_memory_equal(buf, ex_data, SDP_DATA_OFFSET);
	assert_int_equal(buf[SDP_DATA_OFFSET], 0xaa);
	assert_int_equal(sdp_data_hdr_encode(&h, buf, SDP_DATA_OFFSET - 1),
	    SDP_ERR_BUFSIZE);
	assert_int_equal(sdp_data_hdr_decode(ex_data, sizeof(ex_data), &d),
	    0);
	eq_hdr(&d, &h);

	/* A fragment in the middle of a PDU. */
	h.credits_requested = 255;
	h.credits_granted = 3;
	h.remaining_data_length = 2680;
	h.data_length = 1340;
	assert_int_equal(sdp_data_hdr_encode(&h, buf, sizeof(buf)),
	    SDP_DATA_OFFSET);
	assert_memory_equal(buf, ex_fragment, SDP_DATA_OFFSET);
	assert_int_equal(sdp_data_hdr_decode(ex_fragment, SDP_DATA_OFFSET,
	    &d), 0);
	eq_hdr(&d, &h);
}

static void
test_data_keepalive(void **state)
{
	struct sdp_data_hdr h = {
		.credits_requested = 255,
		.flags = SDP_FLAG_RESPONSE_REQUESTED,
	};
	struct sdp_data_hdr d;
	uint8_t buf[SDP_DATA_HDR_SIZE], in[SDP_DATA_HDR_SIZE];

	assert_int_equal(sdp_data_hdr_encode(&h, buf, sizeof(buf)),
	    SDP_DATA_HDR_SIZE);
	assert_memory_equal(buf, ex_keepalive, sizeof(buf));
	memcpy(in, ex_keepalive, sizeof(in));
	in[6] = 0x12;	/* Reserved: ignored */
	assert_int_equal(sdp_data_hdr_decode(in, sizeof(in), &d), 0);
	eq_hdr(&d, &h);
	assert_int_equal(sdp_data_hdr_decode(in, SDP_DATA_HDR_SIZE - 1, &d),
	    SDP_ERR_RX_SHORT);
	assert_int_equal(sdp_data_hdr_encode(&h, buf, SDP_DATA_HDR_SIZE - 1),
	    SDP_ERR_BUFSIZE);
	/* An odd DataOffset (a test peer's lie) is written verbatim. */
	h.data_length = 8;
	h.data_offset = 12;
	assert_int_equal(sdp_data_hdr_encode(&h, buf, sizeof(buf)),
	    SDP_DATA_HDR_SIZE);
	assert_int_equal(buf[12], 12);
}

static void
test_data_checks(void **state)
{
	const uint32_t mf = 131072;
	struct sdp_data_hdr h = {
		.credits_requested = 1, .data_offset = 24, .data_length = 100,
	};

	assert_int_equal(sdp_data_hdr_check(&h, 124, mf), 0);
	/* DataOffset + DataLength: at the message length, then past it. */
	assert_int_equal(sdp_data_hdr_check(&h, 123, mf),
	    SDP_ERR_RX_DATA_BEYOND);
	/* CreditsRequested: 0 is refused, 1 and 0xffff are not. */
	h.credits_requested = 0;
	assert_int_equal(sdp_data_hdr_check(&h, 124, mf),
	    SDP_ERR_RX_CREDITS_REQUESTED);
	h.credits_requested = 0xffff;
	assert_int_equal(sdp_data_hdr_check(&h, 124, mf), 0);
	/* Alignment of DataOffset. */
	h.data_offset = 28;
	assert_int_equal(sdp_data_hdr_check(&h, 200, mf),
	    SDP_ERR_RX_DATA_OFFSET_ALIGN);
	h.data_offset = 32;
	assert_int_equal(sdp_data_hdr_check(&h, 200, mf), 0);
	/* Payload inside the header. */
	h.data_offset = 16;
	assert_int_equal(sdp_data_hdr_check(&h, 200, mf),
	    SDP_ERR_RX_DATA_OFFSET_HEADER);
	h.data_offset = 0;
	assert_int_equal(sdp_data_hdr_check(&h, 200, mf),
	    SDP_ERR_RX_DATA_OFFSET_HEADER);
	/* Without payload, DataOffset 0 is the canonical form. */
	h.data_length = 0;
	assert_int_equal(sdp_data_hdr_check(&h, 20, mf), 0);
	/* ... and a DataOffset pointing past the message is not. */
	h.data_offset = 24;
	assert_int_equal(sdp_data_hdr_check(&h, 20, mf),
	    SDP_ERR_RX_DATA_BEYOND);
	/* DataLength + RemainingDataLength against MaxFragmentedSize. */
	h.data_offset = 24;
	h.data_length = 100;
	h.remaining_data_length = mf - 100;
	assert_int_equal(sdp_data_hdr_check(&h, 124, mf), 0);
	h.remaining_data_length = mf - 99;
	assert_int_equal(sdp_data_hdr_check(&h, 124, mf),
	    SDP_ERR_RX_FRAGMENTED_SIZE);
	/* 32-bit wrap-around cannot sneak past either sum. */
	h.remaining_data_length = 0xffffffffu;
	assert_int_equal(sdp_data_hdr_check(&h, 124, mf),
	    SDP_ERR_RX_FRAGMENTED_SIZE);
	h.remaining_data_length = 0;
	h.data_offset = 0xfffffff8u;
	h.data_length = 0x10;
	assert_int_equal(sdp_data_hdr_check(&h, 124, mf),
	    SDP_ERR_RX_DATA_BEYOND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neg_req_example),
		cmocka_unit_test(test_neg_req_bounds),
		cmocka_unit_test(test_neg_resp_example),
		cmocka_unit_test(test_neg_resp_refusal),
		cmocka_unit_test(test_data_example),
		cmocka_unit_test(test_data_keepalive),
		cmocka_unit_test(test_data_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
