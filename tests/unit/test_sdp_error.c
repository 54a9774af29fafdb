/* SPDX-License-Identifier: ISC */
/*
 * Every error code has a distinct stable token usable as a metric label,
 * a human text, and sits on the right side of the fatal threshold.
 */
#include "config.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdp.h"

static const int nonfatal[] = {
	SDP_ERR_INVAL, SDP_ERR_NOMEM, SDP_ERR_STATE, SDP_ERR_WOULDBLOCK,
	SDP_ERR_MSGSIZE, SDP_ERR_BUFSIZE, SDP_ERR_INTERNAL,
	SDP_ERR_CFG_ROLE, SDP_ERR_CFG_RECV_CREDIT_MAX,
	SDP_ERR_CFG_RECV_CREDIT_INITIAL, SDP_ERR_CFG_SEND_CREDIT_TARGET,
	SDP_ERR_CFG_MAX_SEND_SIZE, SDP_ERR_CFG_MAX_RECEIVE_SIZE,
	SDP_ERR_CFG_MAX_FRAGMENTED_SIZE, SDP_ERR_CFG_MAX_READ_WRITE_SIZE,
	SDP_ERR_CFG_NEGOTIATE_TIMEOUT, SDP_ERR_CFG_KEEPALIVE,
	SDP_ERR_CFG_SEND_QUEUE_MAX, SDP_ERR_CFG_MAX_OUTSTANDING,
	SDP_ERR_CFG_OVERRIDE, SDP_ERR_CFG_RECV_SPARE,
	SDP_ERR_BD_EMPTY, SDP_ERR_BD_ALIGN, SDP_ERR_BD_COUNT,
	SDP_ERR_BD_ZERO_LENGTH, SDP_ERR_BD_TOTAL, SDP_ERR_BD_WRAP,
};

static const int fatal[] = {
	SDP_ERR_NEG_SHORT, SDP_ERR_NEG_VERSION, SDP_ERR_NEG_CREDITS_REQUESTED,
	SDP_ERR_NEG_CREDITS_GRANTED, SDP_ERR_NEG_MAX_RECEIVE_SIZE,
	SDP_ERR_NEG_MAX_FRAGMENTED_SIZE, SDP_ERR_NEG_PREFERRED_SEND_SIZE,
	SDP_ERR_NEG_STATUS, SDP_ERR_NEG_TIMEOUT,
	SDP_ERR_RX_SHORT, SDP_ERR_RX_TOO_LONG, SDP_ERR_RX_NOT_POSTED,
	SDP_ERR_RX_NO_CREDIT, SDP_ERR_RX_CREDITS_REQUESTED,
	SDP_ERR_RX_DATA_OFFSET_ALIGN, SDP_ERR_RX_DATA_OFFSET_HEADER,
	SDP_ERR_RX_DATA_BEYOND, SDP_ERR_RX_FRAGMENTED_SIZE,
	SDP_ERR_RX_REMAINING_MISMATCH, SDP_ERR_RX_EMPTY_FRAGMENT,
	SDP_ERR_RX_CREDITS_OVERFLOW, SDP_ERR_KEEPALIVE_TIMEOUT,
	SDP_ERR_SHUTDOWN,
};

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static void
check_token(const char *t)
{
	size_t i;

	assert_true(strlen(t) > 0 && strlen(t) < 40);
	for (i = 0; t[i] != '\0'; i++) {
		assert_true(islower((unsigned char)t[i]) ||
		    isdigit((unsigned char)t[i]) || t[i] == '_');
	}
}

static void
test_error_names_distinct(void **state)
{
	const char *names[N(nonfatal) + N(fatal) + 1];
	size_t n = 0, i, j;

	names[n++] = sdp_error_name(SDP_OK);
	for (i = 0; i < N(nonfatal); i++) {
		names[n++] = sdp_error_name(nonfatal[i]);
	}
	for (i = 0; i < N(fatal); i++) {
		names[n++] = sdp_error_name(fatal[i]);
	}
	for (i = 0; i < n; i++) {
		check_token(names[i]);
		assert_string_not_equal(names[i], "unknown");
		for (j = i + 1; j < n; j++) {
			assert_string_not_equal(names[i], names[j]);
		}
	}
	/* The tokens are an interface: a few, pinned. */
	assert_string_equal(sdp_error_name(SDP_ERR_RX_CREDITS_REQUESTED),
	    "credits_requested_zero");
	assert_string_equal(sdp_error_name(SDP_ERR_KEEPALIVE_TIMEOUT),
	    "keepalive_timeout");
	assert_string_equal(sdp_error_name(SDP_ERR_NEG_TIMEOUT),
	    "negotiate_timeout");
	assert_string_equal(sdp_error_name(SDP_ERR_SHUTDOWN),
	    "local_shutdown");
	assert_string_equal(sdp_error_name(SDP_ERR_RX_NO_CREDIT),
	    "rx_without_credit");
}

static void
test_error_fatal_threshold(void **state)
{
	size_t i;

	assert_false(sdp_error_is_fatal(SDP_OK));
	assert_false(sdp_error_is_fatal(1));
	for (i = 0; i < N(nonfatal); i++) {
		assert_false(sdp_error_is_fatal(nonfatal[i]));
		assert_true(nonfatal[i] > SDP_ERR_FATAL);
	}
	for (i = 0; i < N(fatal); i++) {
		assert_true(sdp_error_is_fatal(fatal[i]));
	}
}

static void
test_error_texts(void **state)
{
	size_t i;

	for (i = 0; i < N(fatal); i++) {
		assert_string_not_equal(sdp_strerror(fatal[i]),
		    "unknown SMB Direct error");
	}
	for (i = 0; i < N(nonfatal); i++) {
		assert_string_not_equal(sdp_strerror(nonfatal[i]),
		    "unknown SMB Direct error");
	}
	assert_string_equal(sdp_strerror(-12345), "unknown SMB Direct error");
	assert_string_equal(sdp_error_name(-12345), "unknown");
	assert_string_equal(sdp_error_name(12345), "unknown");
	assert_string_equal(sdp_state_name(SDP_STATE_ESTABLISHED),
	    "established");
	assert_string_equal(sdp_state_name((enum sdp_state)99), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_names_distinct),
		cmocka_unit_test(test_error_fatal_threshold),
		cmocka_unit_test(test_error_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
