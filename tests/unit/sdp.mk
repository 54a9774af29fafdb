# Unit tests, fuzz targets and the benchmark of the SMB Direct engine.
#
# One cmocka program per module (test_sdp_<module>); test_sdp_pair is the
# randomized two-engine test (SDP_PAIR_PDUS=N runs it longer). All link
# only proto/libsdp.la and cmocka: the engine needs nothing else.

SDP_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
SDP_TEST_LIBS = proto/libsdp.la $(CMOCKA_LIBS)
SDP_TEST_UTIL = tests/unit/test_sdp_util.c tests/unit/test_sdp_util.h

check_PROGRAMS += tests/unit/test_sdp_error tests/unit/test_sdp_wire \
	tests/unit/test_sdp_bd tests/unit/test_sdp_config \
	tests/unit/test_sdp_conn tests/unit/test_sdp_pair
TESTS += tests/unit/test_sdp_error tests/unit/test_sdp_wire \
	tests/unit/test_sdp_bd tests/unit/test_sdp_config \
	tests/unit/test_sdp_conn tests/unit/test_sdp_pair

tests_unit_test_sdp_error_SOURCES = tests/unit/test_sdp_error.c
tests_unit_test_sdp_error_CFLAGS = $(SDP_TEST_CFLAGS)
tests_unit_test_sdp_error_LDADD = $(SDP_TEST_LIBS)

tests_unit_test_sdp_wire_SOURCES = tests/unit/test_sdp_wire.c
tests_unit_test_sdp_wire_CFLAGS = $(SDP_TEST_CFLAGS)
tests_unit_test_sdp_wire_LDADD = $(SDP_TEST_LIBS)

tests_unit_test_sdp_bd_SOURCES = tests/unit/test_sdp_bd.c
tests_unit_test_sdp_bd_CFLAGS = $(SDP_TEST_CFLAGS)
tests_unit_test_sdp_bd_LDADD = $(SDP_TEST_LIBS)

tests_unit_test_sdp_config_SOURCES = tests/unit/test_sdp_config.c
tests_unit_test_sdp_config_CFLAGS = $(SDP_TEST_CFLAGS)
tests_unit_test_sdp_config_LDADD = $(SDP_TEST_LIBS)

tests_unit_test_sdp_conn_SOURCES = tests/unit/test_sdp_conn.c \
	$(SDP_TEST_UTIL)
tests_unit_test_sdp_conn_CFLAGS = $(SDP_TEST_CFLAGS)
tests_unit_test_sdp_conn_LDADD = $(SDP_TEST_LIBS)

tests_unit_test_sdp_pair_SOURCES = tests/unit/test_sdp_pair.c \
	$(SDP_TEST_UTIL)
tests_unit_test_sdp_pair_CFLAGS = $(SDP_TEST_CFLAGS)
tests_unit_test_sdp_pair_LDADD = $(SDP_TEST_LIBS)
