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

# ---- fuzzing ----------------------------------------------------------
# tests/fuzz/run.sh runs each target for SDP_FUZZ_SECONDS (10) on its seed
# corpus. A --enable-fuzzing build (CC=clang) builds the targets here;
# otherwise run.sh compiles them with clang itself, and fails without it
# (clang and libclang-rt-14-dev are test dependencies, scripts/deps.sh).
SDP_FUZZ_TARGETS = tests/fuzz/fuzz_sdp_wire tests/fuzz/fuzz_sdp_bd \
	tests/fuzz/fuzz_sdp_conn
SDP_FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all

if ENABLE_FUZZING
check_PROGRAMS += $(SDP_FUZZ_TARGETS)
endif
tests_fuzz_fuzz_sdp_wire_SOURCES = tests/fuzz/fuzz_sdp_wire.c proto/sdp.h \
	$(SDP_SOURCES)
tests_fuzz_fuzz_sdp_wire_CFLAGS = $(AM_CFLAGS) $(SDP_FUZZ_FLAGS)
tests_fuzz_fuzz_sdp_wire_LDFLAGS = $(SDP_FUZZ_FLAGS)
tests_fuzz_fuzz_sdp_bd_SOURCES = tests/fuzz/fuzz_sdp_bd.c proto/sdp.h \
	$(SDP_SOURCES)
tests_fuzz_fuzz_sdp_bd_CFLAGS = $(AM_CFLAGS) $(SDP_FUZZ_FLAGS)
tests_fuzz_fuzz_sdp_bd_LDFLAGS = $(SDP_FUZZ_FLAGS)
tests_fuzz_fuzz_sdp_conn_SOURCES = tests/fuzz/fuzz_sdp_conn.c proto/sdp.h \
	$(SDP_SOURCES)
tests_fuzz_fuzz_sdp_conn_CFLAGS = $(AM_CFLAGS) $(SDP_FUZZ_FLAGS)
tests_fuzz_fuzz_sdp_conn_LDFLAGS = $(SDP_FUZZ_FLAGS)

TESTS += tests/fuzz/run.sh
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/make-seeds.py tests/fuzz/corpus

# ---- benchmark --------------------------------------------------------
# `make bench-sdp` runs it; build without sanitizers for real figures
# (docs/BENCHMARKS.md). Built with everything else so it cannot rot.
noinst_PROGRAMS += bench/bench_sdp
bench_bench_sdp_SOURCES = bench/bench_sdp.c
bench_bench_sdp_LDADD = proto/libsdp.la

bench-sdp: bench/bench_sdp$(EXEEXT)
	./bench/bench_sdp$(EXEEXT) $(BENCH_SDP_PDUS)
# Other benchmarks can hang off `make bench` the same way.
bench: bench-sdp
.PHONY: bench bench-sdp
