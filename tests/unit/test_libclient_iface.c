/* SPDX-License-Identifier: ISC */
/*
 * libclient's NETWORK_INTERFACE_INFO encoder ([MS-SMB2] 2.2.32.5): entries
 * are compared byte for byte with ones written out by hand here.
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

#define ENTRY	152

static struct sdctl_iface
iface(const char *addr, bool v6, uint32_t port, uint32_t idx, uint64_t speed)
{
	struct sdctl_iface i;

	memset(&i, 0, sizeof(i));
	strcpy(i.address, addr);
	i.ipv6 = v6;
	i.port = port;
	i.if_index = idx;
	i.link_speed_bps = speed;
	i.transport = SDCTL_TRANSPORT_ROCE;
	strcpy(i.device, "rxe0");
	return i;
}

static void
test_ipv4_entry(void **state)
{
	/* 10.0.0.1 on ifindex 3 at 25 Gb/s, the only entry. */
	static const uint8_t want[ENTRY] = {
		0x00, 0x00, 0x00, 0x00,		/* Next: last */
		0x03, 0x00, 0x00, 0x00,		/* IfIndex */
		0x02, 0x00, 0x00, 0x00,		/* Capability: RDMA */
		0x00, 0x00, 0x00, 0x00,		/* Reserved */
		0x00, 0xba, 0x1d, 0xd2, 0x05, 0x00, 0x00, 0x00, /* 25e9 */
		0x02, 0x00,			/* Family: InterNetwork */
		0x00, 0x00,			/* Port */
		10, 0, 0, 1,			/* IPv4Address */
		/* Reserved and the rest of the 128 bytes: zero. */
	};
	struct sdctl_iface i = iface("10.0.0.1", false, 5445, 3,
	    25000000000ull);
	uint8_t buf[ENTRY + 8];
	size_t len = 0;

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(sdctl_network_interface_info(&i, 1, buf, ENTRY,
	    &len), 0);
	assert_int_equal(len, ENTRY);
	assert_memory_equal(buf, want, ENTRY);
	assert_int_equal(buf[ENTRY], 0xee);	/* nothing written past */
}

static void
test_ipv6_entry(void **state)
{
	static const uint8_t want[ENTRY] = {
		0x00, 0x00, 0x00, 0x00,
		0x07, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x10, 0xa5, 0xd4, 0xe8, 0x00, 0x00, 0x00, /* 1e12 */
		0x17, 0x00,			/* Family: InterNetworkV6 */
		0x00, 0x00,			/* Port */
		0x00, 0x00, 0x00, 0x00,		/* FlowInfo */
		0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x00, 0x00, 0x00, 0x00,		/* ScopeId */
	};
	struct sdctl_iface i = iface("fd00::2", true, 5445, 7,
	    1000000000000ull);
	uint8_t buf[ENTRY];
	size_t len = 0;

	assert_int_equal(sdctl_network_interface_info(&i, 1, buf,
	    sizeof(buf), &len), 0);
	assert_int_equal(len, ENTRY);
	assert_memory_equal(buf, want, ENTRY);
}

static void
test_chaining_and_dedup(void **state)
{
	struct sdctl_iface ifs[4] = {
		iface("10.0.0.1", false, 5445, 3, 1000),
		iface("10.0.0.1", false, 445, 3, 1000), /* same address */
		iface("fd00::2", true, 5445, 4, 2000),
		iface("10.0.1.1", false, 5445, 5, 3000),
	};
	uint8_t buf[4 * ENTRY];
	size_t len = 0;

	assert_int_equal(sdctl_network_interface_info(ifs, 4, buf,
	    sizeof(buf), &len), 0);
	assert_int_equal(len, 3 * ENTRY);
	/* Next: 152, 152, 0. */
	assert_int_equal(buf[0], ENTRY);
	assert_int_equal(buf[ENTRY], ENTRY);
	assert_int_equal(buf[2 * ENTRY], 0);
	assert_int_equal(buf[1], 0);
	/* In input order: v4 (ifindex 3), v6 (4), v4 (5). */
	assert_int_equal(buf[4], 3);
	assert_int_equal(buf[ENTRY + 4], 4);
	assert_int_equal(buf[ENTRY + 24], 0x17);
	assert_int_equal(buf[2 * ENTRY + 4], 5);
	assert_int_equal(buf[2 * ENTRY + 24 + 6], 1);	/* 10.0.1.1 */
}

static void
test_enospc(void **state)
{
	struct sdctl_iface ifs[2] = {
		iface("10.0.0.1", false, 5445, 3, 1000),
		iface("10.0.0.2", false, 5445, 3, 1000),
	};
	uint8_t buf[2 * ENTRY];
	size_t len = 12345;

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(sdctl_network_interface_info(ifs, 2, buf,
	    2 * ENTRY - 1, &len), -ENOSPC);
	assert_int_equal(len, 12345);
	assert_int_equal(buf[0], 0xee);		/* nothing written */
	assert_int_equal(sdctl_network_interface_info(ifs, 2, buf, 0, &len),
	    -ENOSPC);
	assert_int_equal(sdctl_network_interface_info(ifs, 2, buf,
	    2 * ENTRY, &len), 0);
	assert_int_equal(len, 2 * ENTRY);
}

static void
test_invalid(void **state)
{
	struct sdctl_iface ok = iface("10.0.0.1", false, 5445, 3, 1000);
	struct sdctl_iface bad[] = {
		iface("10.0.0.256", false, 5445, 3, 1000),
		iface("fd00::2", false, 5445, 3, 1000),	/* v6 as v4 */
		iface("10.0.0.1", true, 5445, 3, 1000),	/* v4 as v6 */
		iface("", false, 5445, 3, 1000),
	};
	uint8_t buf[2 * ENTRY];
	size_t len = 0, i;
	struct sdctl_iface pair[2];

	assert_int_equal(sdctl_network_interface_info(&ok, 0, buf,
	    sizeof(buf), &len), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pair[0] = ok;
		pair[1] = bad[i];
		assert_int_equal(sdctl_network_interface_info(pair, 2, buf,
		    sizeof(buf), &len), -EINVAL);
	}
	/* Not NUL-terminated within the field. */
	pair[1] = ok;
	memset(pair[1].address, '1', sizeof(pair[1].address));
	assert_int_equal(sdctl_network_interface_info(pair, 2, buf,
	    sizeof(buf), &len), -EINVAL);
}

static void
test_wildcard_and_ifindex0_skipped(void **state)
{
	struct sdctl_iface ifs[3] = {
		iface("0.0.0.0", false, 5445, 3, 1000),
		iface("10.0.0.9", false, 5445, 0, 1000),
		iface("::", true, 5445, 2, 1000),
	};
	uint8_t buf[3 * ENTRY];
	size_t len = 0;

	assert_int_equal(sdctl_network_interface_info(ifs, 3, buf,
	    sizeof(buf), &len), -EINVAL);
	ifs[1].if_index = 9;
	assert_int_equal(sdctl_network_interface_info(ifs, 3, buf,
	    sizeof(buf), &len), 0);
	assert_int_equal(len, ENTRY);
	assert_int_equal(buf[4], 9);
	assert_int_equal(buf[0], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_entry),
		cmocka_unit_test(test_ipv6_entry),
		cmocka_unit_test(test_chaining_and_dedup),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_wildcard_and_ifindex0_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
