/* SPDX-License-Identifier: ISC */
/*
 * Buffer Descriptor V1 lists: what an SMB2 READ or WRITE over RDMA may
 * name. Each rejection is tested at its bound, and a list that passes
 * survives an encode/parse round trip.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdp.h"

static const uint8_t ex_one[SDP_BD_SIZE] = {
	0x00, 0x10, 0x32, 0x54, 0x76, 0x98, 0x00, 0x00,	/* Offset */
	0x78, 0x56, 0x34, 0x12,				/* Token */
	0x00, 0x00, 0x01, 0x00,			/* Length 64 KiB */
};

static void
test_bd_one(void **state)
{
	struct sdp_bd bd[4], want = {
		.offset = 0x987654321000ull, .token = 0x12345678,
		.length = 65536,
	};
	unsigned n = 99;
	uint8_t buf[SDP_BD_SIZE];

	assert_int_equal(sdp_bd_parse(ex_one, sizeof(ex_one), 1u << 20, 4,
	    bd, &n), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(&bd[0], &want, sizeof(want));
	assert_int_equal(sdp_bd_encode(&want, 1, buf, sizeof(buf)),
	    SDP_BD_SIZE);
	assert_memory_equal(buf, ex_one, sizeof(buf));
	assert_int_equal(sdp_bd_encode(&want, 1, buf, sizeof(buf) - 1),
	    SDP_ERR_BUFSIZE);
}

static void
test_bd_round_trip_unaligned(void **state)
{
	struct sdp_bd in[8], out[8];
	uint8_t raw[8 * SDP_BD_SIZE + 1];
	unsigned i, n = 0;

	for (i = 0; i < 8; i++) {
		in[i].offset = 0x1000ull * i + 0xffffffff00000000ull;
		in[i].token = 0xa0000000u + i;
		in[i].length = 4096 * (i + 1);
	}
	/* Descriptors inside an SMB2 request need not be aligned. */
	assert_int_equal(sdp_bd_encode(in, 8, raw + 1, sizeof(raw) - 1),
	    8 * SDP_BD_SIZE);
	assert_int_equal(sdp_bd_parse(raw + 1, 8 * SDP_BD_SIZE, 1u << 20, 8,
	    out, &n), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(in, out, sizeof(in));
}

static void
test_bd_rejections(void **state)
{
	struct sdp_bd in[3], out[3], keep;
	uint8_t raw[3 * SDP_BD_SIZE];
	unsigned n = 77;

	memset(in, 0, sizeof(in));
	in[0].offset = 0;
	in[0].length = 1000;
	in[1].offset = 4096;
	in[1].length = 24;
	in[2].offset = 8192;
	in[2].length = 1;
	sdp_bd_encode(in, 3, raw, sizeof(raw));
	memset(&keep, 0x3c, sizeof(keep));
	out[0] = keep;

	assert_int_equal(sdp_bd_parse(raw, 0, 1025, 3, out, &n),
	    SDP_ERR_BD_EMPTY);
	assert_int_equal(sdp_bd_parse(raw, 15, 1025, 3, out, &n),
	    SDP_ERR_BD_ALIGN);
	assert_int_equal(sdp_bd_parse(raw, 17, 1025, 3, out, &n),
	    SDP_ERR_BD_ALIGN);
	/* Count: at the bound, then one above. */
	assert_int_equal(sdp_bd_parse(raw, 48, 1025, 2, out, &n),
	    SDP_ERR_BD_COUNT);
	/* Total: 1025 is exactly the sum; one less is refused. */
	assert_int_equal(sdp_bd_parse(raw, 48, 1024, 3, out, &n),
	    SDP_ERR_BD_TOTAL);
	/* Nothing was written by any failure. */
	assert_int_equal(n, 77);
	assert_memory_equal(&out[0], &keep, sizeof(keep));
	assert_int_equal(sdp_bd_parse(raw, 48, 1025, 3, out, &n), 0);
	assert_int_equal(n, 3);

	/* A zero-length entry. */
	in[1].length = 0;
	sdp_bd_encode(in, 3, raw, sizeof(raw));
	assert_int_equal(sdp_bd_parse(raw, 48, 1u << 20, 3, out, &n),
	    SDP_ERR_BD_ZERO_LENGTH);

	/* Offset + Length: ending exactly at 2^64 - 1 is fine, past is not. */
	in[1].length = 16;
	in[1].offset = UINT64_MAX - 16;
	sdp_bd_encode(in, 3, raw, sizeof(raw));
	assert_int_equal(sdp_bd_parse(raw, 48, 1u << 20, 3, out, &n), 0);
	in[1].offset = UINT64_MAX - 15;
	sdp_bd_encode(in, 3, raw, sizeof(raw));
	assert_int_equal(sdp_bd_parse(raw, 48, 1u << 20, 3, out, &n),
	    SDP_ERR_BD_WRAP);
}

static void
test_bd_total_no_overflow(void **state)
{
	struct sdp_bd in[4], out[4];
	uint8_t raw[4 * SDP_BD_SIZE];
	unsigned n, i;

	/* Four maximal lengths would wrap a 32-bit sum: must not pass. */
	for (i = 0; i < 4; i++) {
		in[i].offset = (uint64_t)i << 40;
		in[i].token = i;
		in[i].length = 0xffffffffu;
	}
	sdp_bd_encode(in, 4, raw, sizeof(raw));
	assert_int_equal(sdp_bd_parse(raw, sizeof(raw), 8u << 20, 4, out,
	    &n), SDP_ERR_BD_TOTAL);
	assert_int_equal(sdp_bd_parse(raw, sizeof(raw), 0xffffffffu, 4, out,
	    &n), SDP_ERR_BD_TOTAL);
	assert_int_equal(sdp_bd_parse(raw, SDP_BD_SIZE, 0xffffffffu, 4, out,
	    &n), 0);
	assert_int_equal(sdp_bd_encode(in, 0, raw, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bd_one),
		cmocka_unit_test(test_bd_round_trip_unaligned),
		cmocka_unit_test(test_bd_rejections),
		cmocka_unit_test(test_bd_total_no_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
