/* SPDX-License-Identifier: ISC */
/*
 * Engine configuration: the defaults are valid and match Windows and
 * [MS-SMBD]; every bound is tested at, below and above it, and each
 * violation has its own code.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdp.h"

static void
test_config_defaults(void **state)
{
	struct sdp_config s, c;

	sdp_config_init_defaults(&s, SDP_ROLE_SERVER);
	sdp_config_init_defaults(&c, SDP_ROLE_CLIENT);
	assert_int_equal(sdp_config_validate(&s), 0);
	assert_int_equal(sdp_config_validate(&c), 0);
	assert_int_equal(s.recv_credit_max, 255);
	assert_int_equal(s.send_credit_target, 255);
	assert_int_equal(s.max_send_size, 1364);
	assert_int_equal(s.max_receive_size, 8192);
	assert_int_equal(c.max_receive_size, 1364);
	assert_int_equal(s.max_fragmented_size, 1u << 20);
	assert_int_equal(s.max_read_write_size, 1u << 20);
	assert_int_equal(s.keepalive_interval_ms, 120000);
	assert_int_equal(s.negotiate_timeout_ms, 5000);
	assert_int_equal(c.negotiate_timeout_ms, 120000);
	assert_int_equal(c.min_version, SDP_VERSION_1);
	assert_int_equal(c.max_version, SDP_VERSION_1);
	/* No spare receive unless asked: the engine as it was. */
	assert_int_equal(s.recv_spare, 0);
	assert_int_equal(c.recv_spare, 0);
	/* Idle connections hold few receives: far fewer than the max. */
	assert_true(s.recv_credit_initial <= 16);
	assert_int_equal(sdp_config_validate(NULL), SDP_ERR_INVAL);
}

/* Validate @base with one field changed. */
#define CHECK(field, value, want) do {					\
	struct sdp_config t_ = base;					\
	t_.field = (value);						\
	assert_int_equal(sdp_config_validate(&t_), (want));		\
} while (0)

static void
test_config_bounds(void **state)
{
	struct sdp_config base;

	sdp_config_init_defaults(&base, SDP_ROLE_SERVER);

	CHECK(role, (enum sdp_role)0, SDP_ERR_CFG_ROLE);
	CHECK(role, (enum sdp_role)3, SDP_ERR_CFG_ROLE);

	CHECK(recv_credit_max, 2, SDP_ERR_CFG_RECV_CREDIT_MAX);
	CHECK(recv_credit_max, 256, SDP_ERR_CFG_RECV_CREDIT_MAX);
	base.recv_credit_initial = 2;
	CHECK(recv_credit_max, 3, 0);
	CHECK(recv_credit_max, 255, 0);
	base.recv_credit_initial = 8;

	CHECK(recv_credit_initial, 0, SDP_ERR_CFG_RECV_CREDIT_INITIAL);
	CHECK(recv_credit_initial, 1, 0);
	CHECK(recv_credit_initial, 255, 0);
	base.recv_credit_max = 100;
	CHECK(recv_credit_initial, 100, 0);
	CHECK(recv_credit_initial, 101, SDP_ERR_CFG_RECV_CREDIT_INITIAL);
	base.recv_credit_max = 255;

	CHECK(recv_spare, 0, 0);
	CHECK(recv_spare, 1, 0);
	CHECK(recv_spare, 2, SDP_ERR_CFG_RECV_SPARE);
	CHECK(recv_spare, 0xffffffffu, SDP_ERR_CFG_RECV_SPARE);
	/* The window floor of 3 must stay grantable beside the spare. */
	base.recv_credit_initial = 3;
	base.recv_credit_max = 3;
	CHECK(recv_spare, 0, 0);
	CHECK(recv_spare, 1, SDP_ERR_CFG_RECV_SPARE);
	base.recv_credit_max = 4;
	CHECK(recv_spare, 1, 0);
	/* recv_credit_initial may reach max: the grant is cut to max - 1. */
	base.recv_credit_initial = 4;
	CHECK(recv_spare, 1, 0);
	base.recv_credit_max = 255;
	base.recv_credit_initial = 8;

	CHECK(send_credit_target, 0, SDP_ERR_CFG_SEND_CREDIT_TARGET);
	CHECK(send_credit_target, 1, 0);
	CHECK(send_credit_target, 255, 0);
	CHECK(send_credit_target, 256, SDP_ERR_CFG_SEND_CREDIT_TARGET);

	CHECK(max_send_size, 127, SDP_ERR_CFG_MAX_SEND_SIZE);
	CHECK(max_send_size, 128, 0);
	CHECK(max_send_size, SDP_CFG_MSG_SIZE_MAX, 0);
	CHECK(max_send_size, SDP_CFG_MSG_SIZE_MAX + 1,
	    SDP_ERR_CFG_MAX_SEND_SIZE);

	CHECK(max_receive_size, 127, SDP_ERR_CFG_MAX_RECEIVE_SIZE);
	CHECK(max_receive_size, 128, 0);
	CHECK(max_receive_size, SDP_CFG_MSG_SIZE_MAX + 1,
	    SDP_ERR_CFG_MAX_RECEIVE_SIZE);

	CHECK(max_fragmented_size, 131071, SDP_ERR_CFG_MAX_FRAGMENTED_SIZE);
	CHECK(max_fragmented_size, 131072, 0);
	CHECK(max_fragmented_size, SDP_CFG_FRAGMENTED_SIZE_MAX, 0);
	CHECK(max_fragmented_size, SDP_CFG_FRAGMENTED_SIZE_MAX + 1,
	    SDP_ERR_CFG_MAX_FRAGMENTED_SIZE);

	CHECK(max_read_write_size, 0, SDP_ERR_CFG_MAX_READ_WRITE_SIZE);
	CHECK(max_read_write_size, 1, 0);
	CHECK(max_read_write_size, 8u << 20, 0);
	CHECK(max_read_write_size, (8u << 20) + 1,
	    SDP_ERR_CFG_MAX_READ_WRITE_SIZE);

	CHECK(negotiate_timeout_ms, 0, SDP_ERR_CFG_NEGOTIATE_TIMEOUT);
	CHECK(negotiate_timeout_ms, 1, 0);

	CHECK(keepalive_timeout_ms, 0, SDP_ERR_CFG_KEEPALIVE);
	base.keepalive_interval_ms = 0;
	CHECK(keepalive_timeout_ms, 0, 0);
	base.keepalive_interval_ms = 120000;

	CHECK(send_queue_max, 0, SDP_ERR_CFG_SEND_QUEUE_MAX);
	CHECK(send_queue_max, 1, 0);
	CHECK(send_queue_max, 65536, 0);
	CHECK(send_queue_max, 65537, SDP_ERR_CFG_SEND_QUEUE_MAX);

	CHECK(max_outstanding_sends, 0, SDP_ERR_CFG_MAX_OUTSTANDING);
	CHECK(max_outstanding_sends, 1, 0);
	CHECK(max_outstanding_sends, 65537, SDP_ERR_CFG_MAX_OUTSTANDING);

	/* Overrides: a server never lies on the wire. */
	CHECK(override.mask, SDP_OVR_CREDITS_REQUESTED, SDP_ERR_CFG_OVERRIDE);
	base.role = SDP_ROLE_CLIENT;
	CHECK(override.mask, SDP_OVR_CREDITS_REQUESTED |
	    SDP_OVR_PREFERRED_SEND_SIZE | SDP_OVR_MAX_RECEIVE_SIZE |
	    SDP_OVR_MAX_FRAGMENTED_SIZE, 0);
	CHECK(override.mask, 0x10, SDP_ERR_CFG_OVERRIDE);
	/* Any version range may be sent, for misbehaviour tests. */
	CHECK(min_version, 0xffff, 0);
	CHECK(max_version, 0, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
