/* SPDX-License-Identifier: ISC */
/*
 * mini-smbd's SMB2 encoders (examples/mini-smbd-smb2.c): every request is
 * built byte by byte as sdpeer or a Windows client sends it, and every
 * response is checked at the offsets [MS-SMB2] 2.2 gives (and sdpeer
 * reads). Truncated inputs are fed in exactly sized heap copies, so
 * AddressSanitizer catches a read past the end.
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

#include "examples/mini-smbd-smb2.h"
#include "proto/frame.h"

#define HDR	MSMB2_HDR_LEN

/* A request header as a client writes it. */
static void
req_hdr(uint8_t *p, uint16_t cmd, uint64_t mid, uint16_t charge,
    uint16_t credits)
{
	memset(p, 0, HDR);
	memcpy(p, "\xfeSMB", 4);
	frame_put_le16(p + 4, HDR);
	frame_put_le16(p + 6, charge);
	frame_put_le16(p + 12, cmd);
	frame_put_le16(p + 14, credits);
	frame_put_le64(p + 24, mid);
	frame_put_le32(p + 32, 0xfeff);	/* ProcessId / Reserved */
	frame_put_le32(p + 36, 7);		/* TreeId */
	frame_put_le64(p + 40, 0x1122334455667788ull);
}

/* The response header every encoder writes. */
static void
check_rsp_hdr(const uint8_t *r, uint16_t cmd, uint32_t status, uint64_t mid,
    uint16_t credits)
{
	assert_memory_equal(r, "\xfeSMB", 4);
	assert_int_equal(frame_get_le16(r + 4), 64);
	assert_int_equal(frame_get_le32(r + 8), status);
	assert_int_equal(frame_get_le16(r + 12), cmd);
	assert_int_equal(frame_get_le16(r + 14), credits);
	assert_int_equal(frame_get_le32(r + 16),
	    1);	/* SERVER_TO_REDIR only */
	assert_int_equal(frame_get_le32(r + 20), 0);	/* NextCommand */
	assert_int_equal(frame_get_le64(r + 24), mid);
	assert_int_equal(frame_get_le32(r + 32), 0xfeff);
	assert_memory_equal(r + 48, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

static void
parsed(const uint8_t *pdu, size_t len, struct msmb2_hdr *h)
{
	assert_int_equal(msmb2_parse(pdu, len, h), 0);
}

static void
test_parse(void **state)
{
	uint8_t b[HDR], *cut;
	struct msmb2_hdr h;

	req_hdr(b, SMB2_READ, 9, 2, 64);
	frame_put_le32(b + 20, 0);
	parsed(b, sizeof(b), &h);
	assert_int_equal(h.command, SMB2_READ);
	assert_int_equal(h.message_id, 9);
	assert_int_equal(h.credit_charge, 2);
	assert_int_equal(h.credit_request, 64);
	assert_int_equal(h.tree_id, 7);
	assert_int_equal(h.session_id, 0x1122334455667788ull);

	cut = malloc(HDR - 1);
	memcpy(cut, b, HDR - 1);
	assert_int_equal(msmb2_parse(cut, HDR - 1, &h), -EPROTO);
	free(cut);
	b[0] = 0xff;			/* SMB1 */
	assert_int_equal(msmb2_parse(b, sizeof(b), &h), -EPROTO);
	b[0] = 0xfe;
	frame_put_le16(b + 4, 65);
	assert_int_equal(msmb2_parse(b, sizeof(b), &h), -EPROTO);
	frame_put_le16(b + 4, 64);
	frame_put_le32(b + 16, 1);		/* a response */
	assert_int_equal(msmb2_parse(b, sizeof(b), &h), -EPROTO);
}

/* NEGOTIATE request with @n dialects (sdpeer offers 3.0 and 3.0.2). */
static size_t
negotiate_req(uint8_t *b, const uint16_t *d, unsigned n)
{
	unsigned i;

	req_hdr(b, SMB2_NEGOTIATE, 0, 0, 1);
	memset(b + HDR, 0, 36);
	frame_put_le16(b + HDR, 36);
	frame_put_le16(b + HDR + 2, (uint16_t)n);
	memcpy(b + HDR + 12, "sdpeer-guid-0001", 16);
	for (i = 0; i < n; i++) {
		frame_put_le16(b + HDR + 36 + i * 2, d[i]);
	}
	return HDR + 36 + n * 2;
}

static void
test_pick_dialect(void **state)
{
	static const uint16_t both[] = { 0x0300, 0x0302 };
	static const uint16_t old[] = { 0x0202, 0x0210, 0x0300 };
	static const uint16_t new[] = { 0x0311, 0x0210 };
	uint8_t b[HDR + 64], *cut;
	uint16_t d = 0;
	size_t n;

	n = negotiate_req(b, both, 2);
	assert_int_equal(msmb2_pick_dialect(b, n, &d), 0);
	assert_int_equal(d, 0x0302);
	n = negotiate_req(b, old, 3);
	assert_int_equal(msmb2_pick_dialect(b, n, &d), 0);
	assert_int_equal(d, 0x0300);
	n = negotiate_req(b, new, 2);
	assert_int_equal(msmb2_pick_dialect(b, n, &d), -ENOTSUP);
	/* DialectCount past the end, or 0. */
	n = negotiate_req(b, both, 2);
	cut = malloc(n - 1);
	memcpy(cut, b, n - 1);
	assert_int_equal(msmb2_pick_dialect(cut, n - 1, &d), -EPROTO);
	free(cut);
	frame_put_le16(b + HDR + 2, 0);
	assert_int_equal(msmb2_pick_dialect(b, n, &d), -EPROTO);
}

static void
test_negotiate(void **state)
{
	static const uint16_t both[] = { 0x0300, 0x0302 };
	uint8_t b[HDR + 64], r[MSMB2_NEGOTIATE_LEN];
	struct msmb2_hdr h;
	size_t n;

	n = negotiate_req(b, both, 2);
	parsed(b, n, &h);
	assert_int_equal(msmb2_negotiate(&h, 0x0302,
	    (const uint8_t *)"mini-smbd-server", 1u << 20,
	    0x01d9000000000000ull, r), 129);
	check_rsp_hdr(r, SMB2_NEGOTIATE, STATUS_SUCCESS, 0, 1);
	assert_int_equal(frame_get_le16(r + HDR),
	    65);		/* StructureSize */
	assert_int_equal(frame_get_le16(r + HDR + 2),
	    1);		/* signing enabled */
	assert_int_equal(frame_get_le16(r + HDR + 4), 0x0302);
	assert_memory_equal(r + HDR + 8, "mini-smbd-server", 16);
	assert_int_equal(frame_get_le32(r + HDR + 24),
	    0);		/* Capabilities */
	assert_int_equal(frame_get_le32(r + HDR + 28),
	    1u << 20);	/* MaxTransactSize */
	assert_int_equal(frame_get_le32(r + HDR + 32),
	    1u << 20);	/* MaxReadSize */
	assert_int_equal(frame_get_le32(r + HDR + 36),
	    1u << 20);	/* MaxWriteSize */
	assert_int_equal(frame_get_le64(r + HDR + 40), 0x01d9000000000000ull);
	assert_int_equal(frame_get_le64(r + HDR + 48),
	    0);		/* ServerStartTime */
	assert_int_equal(frame_get_le16(r + HDR + 56),
	    128);	/* SecurityBufferOffset */
	assert_int_equal(frame_get_le16(r + HDR + 58), 0);
	assert_int_equal(frame_get_le32(r + HDR + 60), 0);
}

static void
test_error(void **state)
{
	uint8_t b[HDR], r[MSMB2_ERROR_LEN];
	struct msmb2_hdr h;

	req_hdr(b, 0x0005, 12, 1, 0);	/* CREATE, asking no credits */
	parsed(b, sizeof(b), &h);
	assert_int_equal(msmb2_error(&h, STATUS_NOT_SUPPORTED, r), 73);
	check_rsp_hdr(r, 0x0005, STATUS_NOT_SUPPORTED, 12, 1);
	assert_int_equal(frame_get_le16(r + HDR), 9);
	assert_memory_equal(r + HDR + 2, "\0\0\0\0\0\0\0", 7);
	assert_int_equal(frame_get_le64(r + 40), 0x1122334455667788ull);
}

static void
test_session_tree(void **state)
{
	uint8_t b[HDR + 25], r[MSMB2_TREE_CONNECT_LEN];
	struct msmb2_hdr h;

	req_hdr(b, SMB2_SESSION_SETUP, 1, 1, 64);
	frame_put_le64(b + 40, 0);
	memset(b + HDR, 0, 25);
	frame_put_le16(b + HDR, 25);
	parsed(b, sizeof(b), &h);
	assert_int_equal(msmb2_session_setup(&h, 0x4242, r), 73);
	check_rsp_hdr(r, SMB2_SESSION_SETUP, STATUS_SUCCESS, 1, 64);
	assert_int_equal(frame_get_le64(r + 40),
	    0x4242);		/* SessionId */
	assert_int_equal(frame_get_le16(r + HDR), 9);
	assert_int_equal(frame_get_le16(r + HDR + 2),
	    0);		/* SessionFlags */
	assert_int_equal(frame_get_le16(r + HDR + 4),
	    72);	/* SecurityBufferOffset */
	assert_int_equal(frame_get_le16(r + HDR + 6), 0);

	req_hdr(b, SMB2_TREE_CONNECT, 2, 1, 64);
	frame_put_le32(b + 36, 0);
	parsed(b, HDR + 9, &h);
	assert_int_equal(msmb2_tree_connect(&h, 1, r), 80);
	check_rsp_hdr(r, SMB2_TREE_CONNECT, STATUS_SUCCESS, 2, 64);
	assert_int_equal(frame_get_le32(r + 36), 1);		/* TreeId */
	assert_int_equal(frame_get_le16(r + HDR), 16);
	assert_int_equal(r[HDR + 2], 1);		/* DISK */
	assert_int_equal(frame_get_le32(r + HDR + 12), 0x001f01ff);

	req_hdr(b, SMB2_ECHO, 3, 0, 1);
	parsed(b, HDR + 4, &h);
	assert_int_equal(msmb2_empty(&h, r), 68);
	check_rsp_hdr(r, SMB2_ECHO, STATUS_SUCCESS, 3, 1);
	assert_int_equal(frame_get_le16(r + HDR), 4);
}

/* FSCTL_QUERY_NETWORK_INTERFACE_INFO as sdpeer and Windows send it. */
static void
test_ioctl(void **state)
{
	uint8_t b[HDR + 57], r[MSMB2_IOCTL_OUTPUT_OFF + 152];
	struct msmb2_ioctl io;
	struct msmb2_hdr h;
	uint8_t *cut;

	req_hdr(b, SMB2_IOCTL, 5, 1, 64);
	memset(b + HDR, 0, 57);
	frame_put_le16(b + HDR, 57);
	frame_put_le32(b + HDR + 4, FSCTL_QUERY_NETWORK_INTERFACE_INFO);
	memset(b + HDR + 8, 0xff, 16);
	frame_put_le32(b + HDR + 24, HDR + 56);
	frame_put_le32(b + HDR + 36, HDR + 56);
	frame_put_le32(b + HDR + 44, 65536);
	frame_put_le32(b + HDR + 48, 1);
	parsed(b, sizeof(b), &h);
	assert_int_equal(msmb2_ioctl_parse(b, sizeof(b), &io), 0);
	assert_int_equal(io.ctl_code, FSCTL_QUERY_NETWORK_INTERFACE_INFO);
	assert_int_equal(io.max_output, 65536);
	/* No input: the 56 fixed bytes are enough. */
	cut = malloc(HDR + 56);
	memcpy(cut, b, HDR + 56);
	assert_int_equal(msmb2_ioctl_parse(cut, HDR + 56, &io), 0);
	assert_int_equal(msmb2_ioctl_parse(cut, HDR + 55, &io), -EPROTO);
	free(cut);

	memset(r + MSMB2_IOCTL_OUTPUT_OFF, 0xab, 152);
	assert_int_equal(msmb2_ioctl(&h, &io, 152, r), 112 + 152);
	check_rsp_hdr(r, SMB2_IOCTL, STATUS_SUCCESS, 5, 64);
	assert_int_equal(frame_get_le16(r + HDR), 49);
	assert_int_equal(frame_get_le32(r + HDR + 4),
	    FSCTL_QUERY_NETWORK_INTERFACE_INFO);
	assert_memory_equal(r + HDR + 8,
	    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
	    16);
	assert_int_equal(frame_get_le32(r + HDR + 24),
	    112);	/* InputOffset */
	assert_int_equal(frame_get_le32(r + HDR + 28),
	    0);		/* InputCount */
	assert_int_equal(frame_get_le32(r + HDR + 32),
	    112);	/* OutputOffset */
	assert_int_equal(frame_get_le32(r + HDR + 36),
	    152);	/* OutputCount */
	assert_int_equal(frame_get_le32(r + HDR + 40),
	    0);		/* Flags */
	assert_int_equal(r[112], 0xab);			/* output untouched */
	/* No output still carries the 1-byte Buffer. */
	assert_int_equal(msmb2_ioctl(&h, &io, 0, r), 113);
	assert_int_equal(frame_get_le32(r + HDR + 36), 0);
}

static void
test_read_write(void **state)
{
	uint8_t b[HDR + 49], r[MSMB2_READ_DATA_OFF + 8];
	struct msmb2_hdr h;

	req_hdr(b, SMB2_READ, 77, 16, 64);
	parsed(b, sizeof(b), &h);
	/* Inline: the data follows at DataOffset 80. */
	assert_int_equal(msmb2_read(&h, 8, 0, r), 88);
	check_rsp_hdr(r, SMB2_READ, STATUS_SUCCESS, 77, 64);
	assert_int_equal(frame_get_le16(r + 6),
	    16);		/* CreditCharge */
	assert_int_equal(frame_get_le16(r + HDR), 17);
	assert_int_equal(r[HDR + 2], 80);
	assert_int_equal(frame_get_le32(r + HDR + 4), 8);
	assert_int_equal(frame_get_le32(r + HDR + 8), 0);
	/*
	 * RDMA: DataLength 0, DataRemaining the bytes on the channel, and
	 * exactly 80 bytes: no Buffer byte for a client to trip over.
	 */
	assert_int_equal(msmb2_read(&h, 0, 1u << 20, r), 80);
	assert_int_equal(frame_get_le32(r + HDR + 4), 0);
	assert_int_equal(frame_get_le32(r + HDR + 8), 1u << 20);

	req_hdr(b, SMB2_WRITE, 78, 16, 64);
	parsed(b, sizeof(b), &h);
	assert_int_equal(msmb2_write(&h, 1u << 20, r), 80);
	check_rsp_hdr(r, SMB2_WRITE, STATUS_SUCCESS, 78, 64);
	assert_int_equal(frame_get_le16(r + HDR), 17);
	assert_int_equal(frame_get_le32(r + HDR + 4),
	    1u << 20);	/* Count */
	assert_int_equal(frame_get_le32(r + HDR + 8), 0);
	assert_int_equal(frame_get_le32(r + HDR + 12), 0);
}

static void
test_trim_desc(void **state)
{
	static const struct sdctl_desc in[3] = {
		{ 0x1000, 7, 4096 }, { 0x9000, 8, 4096 }, { 0x20000, 9, 100 },
	};
	struct sdctl_desc out[3];

	assert_int_equal(msmb2_trim_desc(in, 3, 8292, out), 3);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(msmb2_trim_desc(in, 3, 5000, out), 2);
	assert_int_equal(out[0].length, 4096);
	assert_int_equal(out[1].offset, 0x9000);
	assert_int_equal(out[1].token, 8);
	assert_int_equal(out[1].length, 904);
	assert_int_equal(msmb2_trim_desc(in, 3, 4096, out), 1);
	assert_int_equal(msmb2_trim_desc(in, 3, 1, out), 1);
	assert_int_equal(out[0].length, 1);
	assert_int_equal(msmb2_trim_desc(in, 3, 0, out), 0);
	/* Asking for more than the list holds gives the whole list. */
	assert_int_equal(msmb2_trim_desc(in, 3, 1u << 30, out), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_pick_dialect),
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_session_tree),
		cmocka_unit_test(test_ioctl),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_trim_desc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
