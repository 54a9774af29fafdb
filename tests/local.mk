# SPDX-License-Identifier: ISC
# tests/: cmocka unit tests (TESTS), the test peers, and the qemu RDMA test
# bed, which `make check` boots after the unit tests.

check_PROGRAMS += tests/peer/rdma_smoke
tests_peer_rdma_smoke_SOURCES = tests/peer/rdma_smoke.c
tests_peer_rdma_smoke_CFLAGS = $(AM_CFLAGS) $(IBVERBS_CFLAGS) $(RDMACM_CFLAGS)
tests_peer_rdma_smoke_LDADD = $(RDMACM_LIBS) $(IBVERBS_LIBS)

# A deliberate leak: the test bed's sanitizer self-test (run-all.sh).
check_PROGRAMS += tests/peer/planted_leak
tests_peer_planted_leak_SOURCES = tests/peer/planted_leak.c

check_PROGRAMS += tests/peer/sdpeer
tests_peer_sdpeer_SOURCES = tests/peer/sdpeer.c tests/peer/peer.c \
	tests/peer/peer.h tests/peer/smb2c.c tests/peer/smb2c.h \
	tests/peer/smb2sec.c tests/peer/smb2sec.h
tests_peer_sdpeer_CFLAGS = $(AM_CFLAGS) $(IBVERBS_CFLAGS) $(RDMACM_CFLAGS) \
	$(NETTLE_CFLAGS)
tests_peer_sdpeer_LDADD = proto/libsdp.la proto/libsdproto.la $(RDMACM_LIBS) \
	$(IBVERBS_LIBS) $(NETTLE_LIBS)

check_PROGRAMS += tests/peer/testmaster
tests_peer_testmaster_SOURCES = tests/peer/testmaster.c
tests_peer_testmaster_LDADD = libclient/libsmbdirect-ctl.la

# ---- unit tests ------------------------------------------------------
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LIBS = $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_ctl_proto
tests_unit_test_ctl_proto_SOURCES = tests/unit/test_ctl_proto.c
tests_unit_test_ctl_proto_CFLAGS = $(UNIT_CFLAGS) $(PROTOBUF_C_CFLAGS)
tests_unit_test_ctl_proto_LDADD = proto/libsdproto.la $(UNIT_LIBS)
TESTS += tests/unit/test_ctl_proto

check_PROGRAMS += tests/unit/test_conf
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c daemon/conf.c
tests_unit_test_conf_CFLAGS = $(UNIT_CFLAGS) $(INIH_CFLAGS)
tests_unit_test_conf_LDADD = $(UNIT_LIBS) $(INIH_LIBS)
TESTS += tests/unit/test_conf

# daemon/peer.c over socket pairs and a real event loop.
check_PROGRAMS += tests/unit/test_peer
tests_unit_test_peer_SOURCES = tests/unit/test_peer.c daemon/peer.c \
	daemon/peer.h
tests_unit_test_peer_CFLAGS = $(UNIT_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_peer_LDADD = $(LIBEVENT_LIBS) $(UNIT_LIBS)
TESTS += tests/unit/test_peer
AM_TESTS_ENVIRONMENT = srcdir=$(abs_srcdir); export srcdir; \
	abs_top_builddir=$(abs_top_builddir); export abs_top_builddir; \
	CC="$(CC)"; export CC; SD_LDFLAGS="$(SD_LDFLAGS)"; export SD_LDFLAGS;

check_PROGRAMS += tests/unit/test_smb2sec
tests_unit_test_smb2sec_SOURCES = tests/unit/test_smb2sec.c \
	tests/peer/smb2sec.c
tests_unit_test_smb2sec_CFLAGS = $(UNIT_CFLAGS) $(NETTLE_CFLAGS)
tests_unit_test_smb2sec_LDADD = proto/libsdproto.la $(UNIT_LIBS) $(NETTLE_LIBS)
TESTS += tests/unit/test_smb2sec

# make install, then a program built with pkg-config against the result.
TESTS += tests/unit/test_install.sh
dist_noinst_SCRIPTS += tests/unit/test_install.sh

# ---- the test bed ----------------------------------------------------
dist_noinst_SCRIPTS += tests/vm/testbed.sh tests/vm/guest.sh tests/vm/init \
	tests/e2e/smoke.sh tests/e2e/daemon.sh tests/e2e/wire.sh \
	tests/e2e/handoff.sh tests/e2e/ctl.sh tests/e2e/gateway.sh \
	tests/e2e/samba.sh

# The scenarios the test bed runs, in order, in one boot. `make check
# E2E_SCENARIOS="smoke"` runs a subset.
E2E_SCENARIOS = smoke daemon wire handoff ctl gateway samba
# Seconds the whole boot may take before the test bed kills the VM; every
# scenario also bounds its own waits.
E2E_TIMEOUT = 3600
EXTRA_DIST += tests/e2e/run-all.sh tests/e2e/demo.sh tests/e2e/lib.sh

check-programs: $(check_PROGRAMS)
.PHONY: check-programs

# The test bed runs after the unit tests; it never skips: a machine without
# RDMA is exactly what it exists for. The samba scenario needs Samba
# patched by samba/patches, built on the host first (cached: seconds when
# nothing changed); the VM gets its bin directory as SAMBA_BIN.
# `make check` runs it unless configured --disable-testbed (a package
# build's test step); `make check-e2e` runs it alone, always.
check-e2e: check-programs
	$(AM_V_at)case " $(E2E_SCENARIOS) " in \
	*" samba "*) SAMBA_BIN=$$($(srcdir)/samba/build.sh) || exit 1 ;; \
	*) SAMBA_BIN= ;; \
	esac; \
	export SAMBA_BIN; TB_ENV="SAMBA_BIN $${TB_ENV:-}"; export TB_ENV; \
	$(srcdir)/tests/vm/testbed.sh run -t $(E2E_TIMEOUT) -m 3072 -o tests/vm/results \
		$(srcdir)/tests/e2e/run-all.sh \
		$(patsubst %,$(abs_srcdir)/tests/e2e/%.sh,$(E2E_SCENARIOS))
.PHONY: check-e2e

if TESTBED
check-local: check-TESTS
	$(AM_V_at)$(MAKE) $(AM_MAKEFLAGS) check-e2e
endif

clean-local: clean-local-testbed
clean-local-testbed:
	-rm -rf tests/vm/results bench/results bench/results-handoff
.PHONY: clean-local-testbed

# Build and run only the unit tests (no test bed): a developer's shortcut.
unit-check: check-programs
	$(MAKE) $(AM_MAKEFLAGS) check-TESTS
.PHONY: unit-check
