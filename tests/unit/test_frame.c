/* SPDX-License-Identifier: ISC */
/*
 * proto/frame.c: the checks the daemon runs on an RDMA_READ or RDMA_WRITE
 * frame before it posts anything (frame_rdma_check()), and why a body
 * does not decode (frame_rdma_decode_reject()). Each reason of
 * FRAME_RDMA_REJECTS is reached by one frame that passes every earlier
 * check, and its token and status are the ones docs/PROTOCOL.md lists.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

#define AREA	(4u << 20)
#define MAX_RW	(1u << 20)

static const struct frame_rdma_limits lim_ok = {
	.has_area = true, .area_size = AREA, .max_read_write = MAX_RW,
	.can_read = true, .write_pending = false,
};

/* A frame that passes: two descriptors, 3000 + 5000 bytes at 4096. */
static struct frame_rdma
good(void)
{
	struct frame_rdma f;

	memset(&f, 0, sizeof(f));
	f.req_id = 77;
	f.area_off = 4096;
	f.n_desc = 2;
	f.desc[0].offset = 0x7f0000001000ull;
	f.desc[0].token = 0x1234;
	f.desc[0].length = 3000;
	f.desc[1].offset = 0x7f0000100000ull;
	f.desc[1].token = 0x1235;
	f.desc[1].length = 5000;
	return f;
}

static void
expect(const struct frame_rdma *f, bool write,
    const struct frame_rdma_limits *lim, enum frame_rdma_reject want)
{
	uint64_t total = 0xdead;

	assert_int_equal(frame_rdma_check(f, write, lim, &total), want);
	if (want != FRAME_RDMA_OK) {
		/* Written only on success. */
		assert_true(total == 0xdead);
	}
}

static void
test_check_passes(void **state)
{
	struct frame_rdma f = good();
	struct frame_rdma_limits lim = lim_ok;
	uint64_t total = 0;

	(void)state;
	assert_int_equal(frame_rdma_check(&f, false, &lim, &total),
	    FRAME_RDMA_OK);
	assert_true(total == 8000);
	/* Exactly MaxReadWriteSize, ending exactly at the area's end. */
	f.n_desc = 1;
	f.desc[0].length = MAX_RW;
	f.area_off = AREA - MAX_RW;
	assert_int_equal(frame_rdma_check(&f, true, &lim, &total),
	    FRAME_RDMA_OK);
	assert_true(total == MAX_RW);
	/* A WRITE_THEN_PDU with none pending; a plain WRITE with one. */
	f.flags = FRAME_WRITE_THEN_PDU;
	expect(&f, true, &lim, FRAME_RDMA_OK);
	f.flags = 0;
	lim.write_pending = true;
	expect(&f, true, &lim, FRAME_RDMA_OK);
	/* No ORD only matters to READs. */
	lim.can_read = false;
	expect(&f, true, &lim, FRAME_RDMA_OK);
}

/* Each check, reached by a frame that passes every earlier one. */
static void
test_check_each_reason(void **state)
{
	struct frame_rdma f;
	struct frame_rdma_limits lim;

	(void)state;
	f = good();
	f.flags = FRAME_WRITE_THEN_PDU;
	expect(&f, false, &lim_ok, FRAME_RDMA_READ_THEN_PDU);

	f = good();
	lim = lim_ok;
	lim.has_area = false;
	lim.area_size = 0;
	expect(&f, true, &lim, FRAME_RDMA_NO_AREA);

	lim = lim_ok;
	lim.can_read = false;
	expect(&f, false, &lim, FRAME_RDMA_NO_RDMA_READ);

	f = good();
	f.desc[1].length = 0;
	expect(&f, true, &lim_ok, FRAME_RDMA_ZERO_LENGTH);

	f = good();
	f.desc[1].offset = UINT64_MAX - 100;
	expect(&f, true, &lim_ok, FRAME_RDMA_WRAP);
	/* Ending exactly at 2^64 - 1 does not wrap. */
	f.desc[1].offset = UINT64_MAX - f.desc[1].length;
	expect(&f, true, &lim_ok, FRAME_RDMA_OK);

	f = good();
	f.desc[0].length = MAX_RW - 4999;
	expect(&f, true, &lim_ok, FRAME_RDMA_EXCEEDS_MAX_READ_WRITE);

	f = good();
	f.area_off = AREA - 7999;
	expect(&f, true, &lim_ok, FRAME_RDMA_OUTSIDE_AREA);
	/* An offset past the end, and one whose sum would wrap. */
	f.area_off = AREA + 1;
	expect(&f, true, &lim_ok, FRAME_RDMA_OUTSIDE_AREA);
	f.area_off = UINT64_MAX - 10;
	expect(&f, true, &lim_ok, FRAME_RDMA_OUTSIDE_AREA);

	f = good();
	f.flags = FRAME_WRITE_THEN_PDU;
	lim = lim_ok;
	lim.write_pending = true;
	expect(&f, true, &lim, FRAME_RDMA_WRITE_PENDING);
}

/* The order is the documented one: the earliest failing check wins. */
static void
test_check_order(void **state)
{
	struct frame_rdma f = good();
	struct frame_rdma_limits lim = lim_ok;

	(void)state;
	f.flags = FRAME_WRITE_THEN_PDU;
	f.desc[0].length = 0;
	f.area_off = AREA;
	lim.has_area = false;
	expect(&f, false, &lim, FRAME_RDMA_READ_THEN_PDU);
	expect(&f, true, &lim, FRAME_RDMA_NO_AREA);
	lim.has_area = true;
	lim.write_pending = true;
	expect(&f, true, &lim, FRAME_RDMA_ZERO_LENGTH);
	f.desc[0].length = MAX_RW;
	expect(&f, true, &lim, FRAME_RDMA_EXCEEDS_MAX_READ_WRITE);
	f.desc[0].length = 100;
	expect(&f, true, &lim, FRAME_RDMA_OUTSIDE_AREA);
	f.area_off = 0;
	expect(&f, true, &lim, FRAME_RDMA_WRITE_PENDING);
}

static void
test_decode_reject(void **state)
{
	struct frame_rdma f = good(), back;
	uint8_t buf[FRAME_RDMA_FIXED + 17 * 16];
	size_t n;

	(void)state;
	n = frame_rdma_encode(&f, buf);
	assert_int_equal(frame_rdma_decode_reject(buf, n), FRAME_RDMA_OK);
	assert_int_equal(frame_rdma_decode(buf, n, &back), 0);

	/* Short, and a body whose size does not match n_desc. */
	assert_int_equal(frame_rdma_decode_reject(buf, FRAME_RDMA_FIXED - 1),
	    FRAME_RDMA_MALFORMED);
	assert_int_equal(frame_rdma_decode_reject(buf, n - 1),
	    FRAME_RDMA_MALFORMED);
	/* A reserved field, and a flag nobody defined. */
	buf[26] = 1;
	assert_int_equal(frame_rdma_decode_reject(buf, n),
	    FRAME_RDMA_MALFORMED);
	buf[26] = 0;
	frame_put_le32(buf + 16, 0x2);
	assert_int_equal(frame_rdma_decode_reject(buf, n),
	    FRAME_RDMA_MALFORMED);
	frame_put_le32(buf + 16, 0);

	/* No descriptors; and 17, with a body sized for 17. */
	frame_put_le16(buf + 24, 0);
	assert_int_equal(frame_rdma_decode_reject(buf, FRAME_RDMA_FIXED),
	    FRAME_RDMA_NO_DESCRIPTORS);
	frame_put_le16(buf + 24, FRAME_MAX_DESC + 1);
	memset(buf + FRAME_RDMA_FIXED, 0x11, 17 * 16);
	assert_int_equal(frame_rdma_decode_reject(buf, sizeof(buf)),
	    FRAME_RDMA_TOO_MANY_DESCRIPTORS);
	assert_int_not_equal(frame_rdma_decode(buf, sizeof(buf), &back), 0);
}

/* Tokens and statuses: the ones docs/PROTOCOL.md and smbdirectd(8) list. */
static void
test_names(void **state)
{
	static const struct {
		enum frame_rdma_reject	r;
		const char		*name;
		int			 status;
	} want[] = {
		{ FRAME_RDMA_MALFORMED, "malformed", -EBADMSG },
		{ FRAME_RDMA_NO_DESCRIPTORS, "no_descriptors", -EINVAL },
		{ FRAME_RDMA_TOO_MANY_DESCRIPTORS, "too_many_descriptors",
		    -EINVAL },
		{ FRAME_RDMA_READ_THEN_PDU, "read_then_pdu", -EINVAL },
		{ FRAME_RDMA_NO_AREA, "no_area", -ENXIO },
		{ FRAME_RDMA_NO_RDMA_READ, "no_rdma_read", -EOPNOTSUPP },
		{ FRAME_RDMA_ZERO_LENGTH, "zero_length", -EINVAL },
		{ FRAME_RDMA_WRAP, "wrap", -EINVAL },
		{ FRAME_RDMA_EXCEEDS_MAX_READ_WRITE, "exceeds_max_read_write",
		    -E2BIG },
		{ FRAME_RDMA_OUTSIDE_AREA, "outside_area", -ERANGE },
		{ FRAME_RDMA_WRITE_PENDING, "write_pending", -EBUSY },
		{ FRAME_RDMA_NO_MEMORY, "no_memory", -ENOMEM },
	};
	size_t i;

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]),
	    FRAME_RDMA_REJECT_END - 1);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(frame_rdma_reject_name(want[i].r),
		    want[i].name);
		assert_int_equal(frame_rdma_reject_status(want[i].r),
		    want[i].status);
	}
	assert_string_equal(frame_rdma_reject_name(FRAME_RDMA_OK), "unknown");
	assert_string_equal(frame_rdma_reject_name(FRAME_RDMA_REJECT_END),
	    "unknown");
	assert_int_equal(frame_rdma_reject_status(FRAME_RDMA_REJECT_END),
	    -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_passes),
		cmocka_unit_test(test_check_each_reason),
		cmocka_unit_test(test_check_order),
		cmocka_unit_test(test_decode_reject),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
