# SPDX-License-Identifier: ISC
# Unit tests and the benchmark of the SMB Direct engine, and every fuzz
# target of the tree.
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
# Every libFuzzer target of the tree lives here, not only the engine's.
# tests/fuzz/run.sh runs each for SDP_FUZZ_SECONDS (10) on its seed corpus
# (tests/fuzz/corpus/<target>/, written by tests/fuzz/make-seeds.py). A
# --enable-fuzzing build (CC=clang) builds the targets here; otherwise
# run.sh compiles them with clang itself from the table at its top, which
# names the same sources as below, and fails without clang (clang and
# libclang-rt-14-dev are test dependencies, scripts/deps.sh).
#
# Each target compiles the code it fuzzes from source rather than linking
# its library: libFuzzer needs that code instrumented (-fsanitize=fuzzer)
# to see coverage, and the libraries are built without it.
SDP_FUZZ_TARGETS = tests/fuzz/fuzz_sdp_wire tests/fuzz/fuzz_sdp_bd \
	tests/fuzz/fuzz_sdp_conn tests/fuzz/fuzz_frame tests/fuzz/fuzz_smb2 \
	tests/fuzz/fuzz_chan tests/fuzz/fuzz_conf tests/fuzz/fuzz_chanops \
	tests/fuzz/fuzz_gwsmb2 tests/fuzz/fuzz_control
SDP_FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
SDP_FUZZ_CFLAGS = $(AM_CFLAGS) $(SDP_FUZZ_FLAGS)

if ENABLE_FUZZING
check_PROGRAMS += $(SDP_FUZZ_TARGETS)
endif
tests_fuzz_fuzz_sdp_wire_SOURCES = tests/fuzz/fuzz_sdp_wire.c proto/sdp.h \
	$(SDP_SOURCES)
tests_fuzz_fuzz_sdp_wire_CFLAGS = $(SDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_sdp_wire_LDFLAGS = $(SDP_FUZZ_FLAGS)
tests_fuzz_fuzz_sdp_bd_SOURCES = tests/fuzz/fuzz_sdp_bd.c proto/sdp.h \
	$(SDP_SOURCES)
tests_fuzz_fuzz_sdp_bd_CFLAGS = $(SDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_sdp_bd_LDFLAGS = $(SDP_FUZZ_FLAGS)
tests_fuzz_fuzz_sdp_conn_SOURCES = tests/fuzz/fuzz_sdp_conn.c proto/sdp.h \
	$(SDP_SOURCES)
tests_fuzz_fuzz_sdp_conn_CFLAGS = $(SDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_sdp_conn_LDFLAGS = $(SDP_FUZZ_FLAGS)

# proto/frame.c: the data channel's frame codec.
tests_fuzz_fuzz_frame_SOURCES = tests/fuzz/fuzz_frame.c proto/frame.c \
	proto/frame.h
tests_fuzz_fuzz_frame_CFLAGS = $(SDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_frame_LDFLAGS = $(SDP_FUZZ_FLAGS)

# daemon/control.c's request handling, with the rest of the daemon but
# main.c (fuzz_control.c includes control.c for its static dispatcher).
tests_fuzz_fuzz_control_SOURCES = tests/fuzz/fuzz_control.c \
	daemon/admin.c daemon/area.c daemon/arena.c daemon/chan.c \
	daemon/clock.c daemon/conf.c daemon/dev.c daemon/info.c \
	daemon/listener.c daemon/log.c daemon/master.c daemon/metrics.c \
	daemon/ops.c daemon/peer.c daemon/rconn.c daemon/rconn_reason.c \
	proto/frame.c proto/chanops.c $(SDP_SOURCES)
nodist_tests_fuzz_fuzz_control_SOURCES = proto/smbdirect-ctl.pb-c.c
tests_fuzz_fuzz_control_CFLAGS = $(SDP_FUZZ_CFLAGS) $(IBVERBS_CFLAGS) \
	$(RDMACM_CFLAGS) $(PROTOBUF_C_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(INIH_CFLAGS)
tests_fuzz_fuzz_control_LDFLAGS = $(SDP_FUZZ_FLAGS)
tests_fuzz_fuzz_control_LDADD = $(IBVERBS_LIBS) $(RDMACM_LIBS) \
	$(PROTOBUF_C_LIBS) $(LIBEVENT_LIBS) $(INIH_LIBS)

# gateway/gwsmb2.c: the relay's SMB2 parsers.
tests_fuzz_fuzz_gwsmb2_SOURCES = tests/fuzz/fuzz_gwsmb2.c gateway/gwsmb2.c \
	gateway/gwsmb2.h proto/frame.c proto/frame.h
tests_fuzz_fuzz_gwsmb2_CFLAGS = $(SDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_gwsmb2_LDFLAGS = $(SDP_FUZZ_FLAGS)

# proto/chanops.c: the data channel's engine, driven by a script.
tests_fuzz_fuzz_chanops_SOURCES = tests/fuzz/fuzz_chanops.c proto/chanops.c \
	proto/chanops.h proto/frame.c proto/frame.h
tests_fuzz_fuzz_chanops_CFLAGS = $(SDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_chanops_LDFLAGS = $(SDP_FUZZ_FLAGS)

# libclient's parsers (libclient/local.mk describes the two targets).
tests_fuzz_fuzz_smb2_SOURCES = tests/fuzz/fuzz_smb2.c libclient/smb2.c \
	libclient/smbdirect-ctl.h proto/frame.c proto/frame.h
tests_fuzz_fuzz_smb2_CFLAGS = $(SDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_smb2_LDFLAGS = $(SDP_FUZZ_FLAGS)
tests_fuzz_fuzz_chan_SOURCES = tests/fuzz/fuzz_chan.c libclient/chan.c \
	libclient/chan.h libclient/pass.c libclient/io.c libclient/io.h \
	libclient/smbdirect-ctl.h proto/frame.c proto/frame.h
tests_fuzz_fuzz_chan_CFLAGS = $(SDP_FUZZ_CFLAGS)
tests_fuzz_fuzz_chan_LDFLAGS = $(SDP_FUZZ_FLAGS)

# daemon/conf.c: smbdirectd.conf and the option parsers, over inih.
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c daemon/conf.c \
	daemon/conf_indent.h \
	daemon/conf.h
tests_fuzz_fuzz_conf_CFLAGS = $(SDP_FUZZ_CFLAGS) $(INIH_CFLAGS)
tests_fuzz_fuzz_conf_LDFLAGS = $(SDP_FUZZ_FLAGS)
tests_fuzz_fuzz_conf_LDADD = $(INIH_LIBS)

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

# The long fuzz run, outside CI: every target for SDP_FUZZ_RUNS executions
# (10 million by default), merging what found new coverage into the
# committed corpus (review and commit it).
fuzz-long:
	srcdir=$(abs_srcdir) builddir=$(abs_builddir) \
	    SDP_FUZZ_RUNS=$${SDP_FUZZ_RUNS:-10000000} SDP_FUZZ_MERGE=yes \
	    $(SHELL) $(srcdir)/tests/fuzz/run.sh
.PHONY: fuzz-long
