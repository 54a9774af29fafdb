/* SPDX-License-Identifier: ISC */
/*
 * The generated control-channel code packs and unpacks what the schema
 * promises: a request's version, id and body survive a round trip, and a
 * truncated datagram is refused rather than half-decoded.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smbdirect-ctl.pb-c.h"

static void
test_request_round_trip(void **state)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__StatusRequest st = SMBDIRECT__CTL__STATUS_REQUEST__INIT;
	Smbdirect__Ctl__Request *back = NULL;
	uint8_t buf[64];
	size_t n;

	req.version = SMBDIRECT__CTL__VERSION__VERSION_1;
	req.id = 0x1122334455667788ull;
	req.body_case = SMBDIRECT__CTL__REQUEST__BODY_STATUS;
	req.status = &st;
	n = smbdirect__ctl__request__get_packed_size(&req);
	assert_true(n <= sizeof(buf));
	assert_int_equal(smbdirect__ctl__request__pack(&req, buf), n);

	back = smbdirect__ctl__request__unpack(NULL, n, buf);
	assert_non_null(back);
	assert_int_equal(back->version, 1);
	assert_true(back->id == 0x1122334455667788ull);
	assert_int_equal(back->body_case, SMBDIRECT__CTL__REQUEST__BODY_STATUS);
	smbdirect__ctl__request__free_unpacked(back, NULL);

	/* Cut inside the 64-bit id: protobuf-c must refuse it. */
	assert_null(smbdirect__ctl__request__unpack(NULL, 5, buf));
}

static void
test_reply_carries_status_and_message(void **state)
{
	Smbdirect__Ctl__Reply rep = SMBDIRECT__CTL__REPLY__INIT;
	Smbdirect__Ctl__Reply *back = NULL;
	uint8_t buf[128];
	size_t n;

	rep.id = 7;
	rep.status = -22;
	rep.message = (char *)"bad request";
	n = smbdirect__ctl__reply__pack(&rep, buf);
	back = smbdirect__ctl__reply__unpack(NULL, n, buf);
	assert_non_null(back);
	assert_int_equal(back->status, -22);
	assert_string_equal(back->message, "bad request");
	smbdirect__ctl__reply__free_unpacked(back, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_reply_carries_status_and_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
