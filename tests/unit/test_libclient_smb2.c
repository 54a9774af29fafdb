/* SPDX-License-Identifier: ISC */
/*
 * libclient's SMB2 parsers: the NEGOTIATE ClientGuid and READ/WRITE
 * channel info ([MS-SMB2] 2.2.3, 2.2.19, 2.2.21). Every PDU is built byte
 * by byte here; every truncation is fed in an exactly sized heap copy, so
 * AddressSanitizer catches a single byte read past the end.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "libclient/smbdirect-ctl.h"
#include "proto/frame.h"

#define HDR	64
#define RW_FIXED 48
#define MAX_RW	(1024u * 1024)

static void
put_hdr(uint8_t *p, uint16_t cmd, uint32_t flags, uint32_t next)
{
	memset(p, 0, HDR);
	p[0] = 0xfe;
	p[1] = 'S';
	p[2] = 'M';
	p[3] = 'B';
	frame_put_le16(p + 4, HDR);
	frame_put_le16(p + 12, cmd);
	frame_put_le32(p + 16, flags);
	frame_put_le32(p + 20, next);
	frame_put_le64(p + 24, 0x42);		/* MessageId */
}

static const uint8_t guid_g[16] = {
	0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};

/* A NEGOTIATE request with @count dialects; returns its length. */
static size_t
build_negotiate(uint8_t *p, uint16_t count)
{
	uint8_t *b = p + HDR;
	uint16_t i;

	put_hdr(p, 0, 0, 0);
	memset(b, 0, 36);
	frame_put_le16(b, 36);
	frame_put_le16(b + 2, count);
	frame_put_le16(b + 4,
	    1);			/* SecurityMode: signing */
	frame_put_le32(b + 8, 0x7f);		/* Capabilities */
	memcpy(b + 12, guid_g, 16);
	for (i = 0; i < count; i++) {
		frame_put_le16(b + 36 + i * 2, (uint16_t)(0x0202 + i));
	}
	return HDR + 36 + (size_t)count * 2;
}

/*
 * A READ (cmd 8) or WRITE (cmd 9) with @n descriptors on @channel, the
 * channel info right after the fixed fields. For a WRITE without a
 * channel, @n is ignored and @data_len bytes of data follow instead.
 */
static size_t
build_rw(uint8_t *p, uint16_t cmd, uint32_t channel, unsigned n,
    uint32_t data_len, uint32_t next)
{
	uint8_t *b = p + HDR;
	uint16_t ci = HDR + RW_FIXED;
	unsigned i;

	put_hdr(p, cmd, 0, next);
	memset(b, 0, RW_FIXED);
	frame_put_le16(b, 49);
	frame_put_le64(b + 8, 0x123456789ull);	/* file Offset */
	memset(b + 16, 0xf1, 16);	/* FileId */
	if (cmd == 8) {
		frame_put_le32(b + 4, 65536);	/* Length */
		frame_put_le32(b + 32, 1);	/* MinimumCount */
		frame_put_le32(b + 36, channel);
		frame_put_le32(b + 40, 7);	/* RemainingBytes */
		if (channel != 0) {
			frame_put_le16(b + 44, ci);
			frame_put_le16(b + 46, (uint16_t)(n * 16));
		}
	} else {
		frame_put_le32(b + 32, channel);
		if (channel != 0) {
			frame_put_le32(b + 36, n * 4096); /* RemainingBytes */
			frame_put_le16(b + 40, ci);
			frame_put_le16(b + 42, (uint16_t)(n * 16));
		} else {
			frame_put_le16(b + 2, ci);	/* DataOffset */
			frame_put_le32(b + 4, data_len);
			memset(p + ci, 0xd7, data_len);
			return ci + data_len;
		}
	}
	if (channel == 0) {
		return HDR + RW_FIXED + 1;	/* the one Buffer byte */
	}
	for (i = 0; i < n; i++) {
		uint8_t *d = p + ci + i * 16;

		frame_put_le64(d, 0x7f0000001000ull + i * 0x10000);
		frame_put_le32(d + 8, 0xabc00 + i);
		frame_put_le32(d + 12, 4096);
	}
	return ci + (size_t)n * 16;
}

/* Parse an exactly sized copy of @p[0..len). */
static int
guid_of(const uint8_t *p, size_t len, uint8_t guid[16])
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, p, len);
	rc = sdctl_smb2_client_guid(copy, len, guid);
	free(copy);
	return rc;
}

static int
rw_of(const uint8_t *p, size_t len, size_t off, uint32_t max_rw,
    struct sdctl_smb2_rw *out)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, p, len);
	rc = sdctl_smb2_rw_parse(copy, len, off, max_rw, out);
	free(copy);
	return rc;
}

static void
test_negotiate_guid(void **state)
{
	uint8_t p[256], guid[16];
	size_t len = build_negotiate(p, 4);

	assert_int_equal(guid_of(p, len, guid), 0);
	assert_memory_equal(guid, guid_g, 16);
	/* Trailing bytes (negotiate contexts) are fine. */
	assert_int_equal(guid_of(p, len + 40, guid), 0);
}

static void
test_negotiate_every_truncation(void **state)
{
	uint8_t p[256], guid[16], untouched[16];
	size_t len = build_negotiate(p, 4), cut;

	memset(untouched, 0x5a, sizeof(untouched));
	for (cut = 0; cut < len; cut++) {
		memcpy(guid, untouched, sizeof(guid));
		assert_int_equal(guid_of(p, cut, guid), -EPROTO);
		assert_memory_equal(guid, untouched, sizeof(guid));
	}
	assert_int_equal(sdctl_smb2_client_guid(NULL, 0, guid), -EPROTO);
}

static void
test_negotiate_malformed(void **state)
{
	uint8_t p[256], q[256], guid[16];
	size_t len = build_negotiate(p, 2);

	memcpy(q, p, len);
	q[0] = 0xff;			/* SMB1 */
	assert_int_equal(guid_of(q, len, guid), -EPROTO);
	memcpy(q, p, len);
	q[0] = 0xfd;			/* a transform header */
	assert_int_equal(guid_of(q, len, guid), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + 4, 63);		/* header StructureSize */
	assert_int_equal(guid_of(q, len, guid), -EPROTO);
	memcpy(q, p, len);
	frame_put_le32(q + 16,
	    1);		/* SERVER_TO_REDIR: a response */
	assert_int_equal(guid_of(q, len, guid), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + 12, 1);		/* SESSION_SETUP */
	assert_int_equal(guid_of(q, len, guid), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + HDR, 37);		/* request StructureSize */
	assert_int_equal(guid_of(q, len, guid), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + HDR + 2, 0);		/* DialectCount 0 */
	assert_int_equal(guid_of(q, len, guid), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + HDR + 2, 3);	/* one more than there is */
	assert_int_equal(guid_of(q, len, guid), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + HDR + 2, 0xffff);
	assert_int_equal(guid_of(q, len, guid), -EPROTO);
	memcpy(q, p, len);
	frame_put_le32(q + 20,
	    96);		/* NextCommand cuts the fixed part */
	assert_int_equal(guid_of(q, len, guid), -EPROTO);

	len = build_negotiate(q, 4);	/* 108 bytes */
	frame_put_le32(q + 20,
	    104);		/* NextCommand cuts the dialects */
	assert_int_equal(guid_of(q, len, guid), -EPROTO);
	frame_put_le32(q + 20, 0);
	assert_int_equal(guid_of(q, len, guid), 0);
}

static void
test_read_rdma(void **state)
{
	uint8_t p[512];
	struct sdctl_smb2_rw rw;
	size_t len = build_rw(p, 8, SMB2_CHANNEL_RDMA_V1, 3, 0, 0);

	assert_int_equal(rw_of(p, len, 0, MAX_RW, &rw), 0);
	assert_int_equal(rw.command, 8);
	assert_int_equal(rw.channel, SMB2_CHANNEL_RDMA_V1);
	assert_int_equal(rw.length, 65536);
	assert_true(rw.offset == 0x123456789ull);
	assert_int_equal(rw.remaining_bytes, 7);
	assert_int_equal(rw.n_desc, 3);
	assert_true(rw.desc_total == 3 * 4096);
	assert_true(rw.desc[2].offset == 0x7f0000021000ull);
	assert_int_equal(rw.desc[2].token, 0xabc02);
	assert_int_equal(rw.desc[2].length, 4096);
	assert_int_equal(rw.data_offset, 0);
	assert_int_equal(rw.data_length, 0);
}

static void
test_write_rdma_invalidate(void **state)
{
	uint8_t p[512];
	struct sdctl_smb2_rw rw;
	size_t len = build_rw(p, 9, SMB2_CHANNEL_RDMA_V1_INVALIDATE, 2, 0, 0);

	assert_int_equal(rw_of(p, len, 0, MAX_RW, &rw), 0);
	assert_int_equal(rw.command, 9);
	assert_int_equal(rw.channel, SMB2_CHANNEL_RDMA_V1_INVALIDATE);
	assert_int_equal(rw.length, 0);
	assert_int_equal(rw.remaining_bytes, 2 * 4096);
	assert_int_equal(rw.n_desc, 2);
	assert_int_equal(rw.desc[1].token, 0xabc01);
	assert_true(rw.desc_total == 8192);
}

static void
test_inline(void **state)
{
	uint8_t p[512];
	struct sdctl_smb2_rw rw;
	size_t len;

	len = build_rw(p, 9, SMB2_CHANNEL_NONE, 0, 100, 0);
	assert_int_equal(rw_of(p, len, 0, MAX_RW, &rw), 0);
	assert_int_equal(rw.channel, SMB2_CHANNEL_NONE);
	assert_int_equal(rw.n_desc, 0);
	assert_int_equal(rw.data_offset, HDR + RW_FIXED);
	assert_int_equal(rw.data_length, 100);
	assert_int_equal(p[rw.data_offset + 99], 0xd7);

	len = build_rw(p, 8, SMB2_CHANNEL_NONE, 0, 0, 0);
	assert_int_equal(rw_of(p, len, 0, MAX_RW, &rw), 0);
	assert_int_equal(rw.n_desc, 0);
	assert_int_equal(rw.length, 65536);
}

static void
test_rw_every_truncation(void **state)
{
	struct {
		uint16_t cmd;
		uint32_t channel;
		unsigned n;
		uint32_t data;
	} cases[] = {
		{ 8, SMB2_CHANNEL_RDMA_V1, 2, 0 },
		{ 9, SMB2_CHANNEL_RDMA_V1_INVALIDATE, 16, 0 },
		{ 9, SMB2_CHANNEL_NONE, 0, 64 },
	};
	struct sdctl_smb2_rw rw, untouched;
	uint8_t p[1024];
	size_t i, len, cut;

	memset(&untouched, 0xa5, sizeof(untouched));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = build_rw(p, cases[i].cmd, cases[i].channel, cases[i].n,
		    cases[i].data, 0);
		assert_int_equal(rw_of(p, len, 0, MAX_RW, &rw), 0);
		for (cut = 0; cut < len; cut++) {
			rw = untouched;
			assert_int_equal(rw_of(p, cut, 0, MAX_RW, &rw),
			    -EPROTO);
			assert_memory_equal(&rw, &untouched, sizeof(rw));
		}
	}
}

static void
test_rw_structure_and_command(void **state)
{
	uint8_t p[512], q[512];
	struct sdctl_smb2_rw rw;
	size_t len = build_rw(p, 8, SMB2_CHANNEL_RDMA_V1, 1, 0, 0);

	memcpy(q, p, len);
	frame_put_le16(q + HDR, 48);
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + HDR, 50);
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + 12, 5);		/* CREATE */
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	memcpy(q, p, len);
	frame_put_le32(q + 16, 1);		/* a READ response */
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	memcpy(q, p, len);
	frame_put_le32(q + HDR + 36, 3);		/* RDMA_TRANSFORM */
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	assert_int_equal(rw_of(p, len, len, MAX_RW, &rw), -EPROTO);
	assert_int_equal(rw_of(p, len, (size_t)-1, MAX_RW, &rw), -EPROTO);
	assert_int_equal(sdctl_smb2_rw_parse(NULL, 0, 0, MAX_RW, &rw),
	    -EPROTO);
}

static void
test_rw_bad_channel_info(void **state)
{
	uint8_t p[512], q[512];
	struct sdctl_smb2_rw rw;
	size_t len = build_rw(p, 8, SMB2_CHANNEL_RDMA_V1, 2, 0, 0);

	memcpy(q, p, len);
	frame_put_le16(q + HDR + 44,
	    HDR + RW_FIXED - 8);	/* inside fixed fields */
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + HDR + 44,
	    HDR + RW_FIXED + 8);	/* 8 bytes past end */
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + HDR + 44, 0xffff);
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + HDR + 46,
	    24);		/* not a multiple of 16 */
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + HDR + 46, 0);			/* a channel,
	    no info */
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	memcpy(q, p, len);
	frame_put_le32(q + HDR + RW_FIXED + 16 + 12,
	    0);	/* descriptor length 0 */
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);

	/* A WRITE's inline data must be inside the command. */
	len = build_rw(p, 9, SMB2_CHANNEL_NONE, 0, 32, 0);
	memcpy(q, p, len);
	frame_put_le32(q + HDR + 4, 33);
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + HDR + 2,
	    16);		/* DataOffset in the header */
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
	memcpy(q, p, len);
	frame_put_le16(q + HDR + 2, 0xffff);
	assert_int_equal(rw_of(q, len, 0, MAX_RW, &rw), -EPROTO);
}

static void
test_rw_descriptor_limits(void **state)
{
	uint8_t p[1024];
	struct sdctl_smb2_rw rw;
	size_t len;

	len = build_rw(p, 9, SMB2_CHANNEL_RDMA_V1, SDCTL_MAX_DESC, 0, 0);
	assert_int_equal(rw_of(p, len, 0, MAX_RW, &rw), 0);
	assert_int_equal(rw.n_desc, SDCTL_MAX_DESC);

	len = build_rw(p, 9, SMB2_CHANNEL_RDMA_V1, SDCTL_MAX_DESC + 1, 0, 0);
	assert_int_equal(rw_of(p, len, 0, MAX_RW, &rw), -ERANGE);

	/* The total against MaxReadWriteSize: equal is fine, above is not. */
	len = build_rw(p, 8, SMB2_CHANNEL_RDMA_V1, 4, 0, 0);
	assert_int_equal(rw_of(p, len, 0, 4 * 4096, &rw), 0);
	assert_int_equal(rw_of(p, len, 0, 4 * 4096 - 1, &rw), -E2BIG);
	/* Lengths that would wrap a 32-bit sum still count. */
	frame_put_le32(p + HDR + RW_FIXED + 12, 0xffffffffu);
	frame_put_le32(p + HDR + RW_FIXED + 16 + 12, 0xffffffffu);
	assert_int_equal(rw_of(p, len, 0, 0xffffffffu, &rw), -E2BIG);
}

static void
test_rw_compound(void **state)
{
	uint8_t p[1024], q[1024];
	struct sdctl_smb2_rw rw;
	size_t first, second, next;

	/* A READ, padded to 8, then a WRITE. */
	first = build_rw(p, 8, SMB2_CHANNEL_RDMA_V1, 1, 0, 0);
	next = (first + 7) & ~(size_t)7;
	frame_put_le32(p + 20, (uint32_t)next);
	memset(p + first, 0, next - first);
	second = build_rw(p + next, 9, SMB2_CHANNEL_RDMA_V1_INVALIDATE, 2,
	    0, 0);

	assert_int_equal(rw_of(p, next + second, 0, MAX_RW, &rw), 0);
	assert_int_equal(rw.command, 8);
	assert_int_equal(rw.n_desc, 1);
	assert_int_equal(rw_of(p, next + second, next, MAX_RW, &rw), 0);
	assert_int_equal(rw.command, 9);
	assert_int_equal(rw.n_desc, 2);

	/* Channel info of the first that reaches into the second. */
	memcpy(q, p, next + second);
	frame_put_le16(q + HDR + 46, 32);
	assert_int_equal(rw_of(q, next + second, 0, MAX_RW, &rw), -EPROTO);
	/* NextCommand misaligned, too small, or past the PDU. */
	memcpy(q, p, next + second);
	frame_put_le32(q + 20, (uint32_t)next - 4);
	assert_int_equal(rw_of(q, next + second, 0, MAX_RW, &rw), -EPROTO);
	frame_put_le32(q + 20, 56);
	assert_int_equal(rw_of(q, next + second, 0, MAX_RW, &rw), -EPROTO);
	frame_put_le32(q + 20, (uint32_t)(next + second + 8));
	assert_int_equal(rw_of(q, next + second, 0, MAX_RW, &rw), -EPROTO);
	/* The second command cut short. */
	assert_int_equal(rw_of(p, next + second - 1, next, MAX_RW, &rw),
	    -EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiate_guid),
		cmocka_unit_test(test_negotiate_every_truncation),
		cmocka_unit_test(test_negotiate_malformed),
		cmocka_unit_test(test_read_rdma),
		cmocka_unit_test(test_write_rdma_invalidate),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_rw_every_truncation),
		cmocka_unit_test(test_rw_structure_and_command),
		cmocka_unit_test(test_rw_bad_channel_info),
		cmocka_unit_test(test_rw_descriptor_limits),
		cmocka_unit_test(test_rw_compound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
