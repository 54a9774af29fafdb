# SPDX-License-Identifier: ISC
# libclient/: libsmbdirect-ctl, the installed library an smbd links to
# talk to smbdirectd (control client, data channel, fd passing, SMB2
# parsers, NETWORK_INTERFACE_INFO). Exports only sdctl_* (version script).

lib_LTLIBRARIES += libclient/libsmbdirect-ctl.la
include_HEADERS += libclient/smbdirect-ctl.h
libclient_libsmbdirect_ctl_la_SOURCES = \
	libclient/chan.c libclient/chan.h \
	libclient/ctl.c \
	libclient/ctlmsg.c libclient/ctlmsg.h \
	libclient/iface.c \
	libclient/io.c libclient/io.h \
	libclient/names.c \
	libclient/pass.c \
	libclient/smb2.c
libclient_libsmbdirect_ctl_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
libclient_libsmbdirect_ctl_la_LIBADD = proto/libsdproto.la $(PROTOBUF_C_LIBS)
# -version-info current:revision:age (libtool rules; bump on release).
libclient_libsmbdirect_ctl_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 \
	-no-undefined \
	-Wl,--version-script=$(srcdir)/libclient/libsmbdirect-ctl.sym
EXTRA_libclient_libsmbdirect_ctl_la_DEPENDENCIES = \
	$(srcdir)/libclient/libsmbdirect-ctl.sym
# The generated header must exist before the first compile (unit-check
# builds without BUILT_SOURCES).
$(libclient_libsmbdirect_ctl_la_OBJECTS): proto/smbdirect-ctl.pb-c.h

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = libclient/smbdirect-ctl.pc
EXTRA_DIST += libclient/libsmbdirect-ctl.sym libclient/smbdirect-ctl.pc.in

# ---- unit tests: one cmocka program per module ------------------------
LIBCLIENT_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
LIBCLIENT_TEST_LIBS = libclient/libsmbdirect-ctl.la proto/libsdproto.la \
	$(CMOCKA_LIBS)
LIBCLIENT_TESTS = tests/unit/test_libclient_smb2 \
	tests/unit/test_libclient_iface tests/unit/test_libclient_chan \
	tests/unit/test_libclient_pass tests/unit/test_libclient_ctl
check_PROGRAMS += $(LIBCLIENT_TESTS)
TESTS += $(LIBCLIENT_TESTS)

tests_unit_test_libclient_smb2_SOURCES = tests/unit/test_libclient_smb2.c
tests_unit_test_libclient_smb2_CFLAGS = $(LIBCLIENT_TEST_CFLAGS)
tests_unit_test_libclient_smb2_LDADD = $(LIBCLIENT_TEST_LIBS)

tests_unit_test_libclient_iface_SOURCES = tests/unit/test_libclient_iface.c
tests_unit_test_libclient_iface_CFLAGS = $(LIBCLIENT_TEST_CFLAGS)
tests_unit_test_libclient_iface_LDADD = $(LIBCLIENT_TEST_LIBS)

# The frame codec is private to the library: the test links its own copy
# to decode what the library wrote.
tests_unit_test_libclient_chan_SOURCES = tests/unit/test_libclient_chan.c
tests_unit_test_libclient_chan_CFLAGS = $(LIBCLIENT_TEST_CFLAGS)
tests_unit_test_libclient_chan_LDADD = $(LIBCLIENT_TEST_LIBS) \
	proto/libsdproto.la

tests_unit_test_libclient_pass_SOURCES = tests/unit/test_libclient_pass.c
tests_unit_test_libclient_pass_CFLAGS = $(LIBCLIENT_TEST_CFLAGS)
tests_unit_test_libclient_pass_LDADD = $(LIBCLIENT_TEST_LIBS)

# test_libclient_ctl plays the daemon with the generated protobuf-c code.
tests_unit_test_libclient_ctl_SOURCES = tests/unit/test_libclient_ctl.c
tests_unit_test_libclient_ctl_CFLAGS = $(LIBCLIENT_TEST_CFLAGS) \
	$(PROTOBUF_C_CFLAGS)
tests_unit_test_libclient_ctl_LDADD = $(LIBCLIENT_TEST_LIBS) \
	proto/libsdproto.la $(PROTOBUF_C_LIBS)
$(tests_unit_test_libclient_ctl_OBJECTS): proto/smbdirect-ctl.pb-c.h

# ---- fuzz targets -----------------------------------------------------
# libFuzzer targets (LLVMFuzzerTestOneInput), each one source file that
# links libclient/libsmbdirect-ctl.la; tests/fuzz/ wires them into the
# --enable-fuzzing build:
#   fuzz_smb2: sdctl_smb2_client_guid() and sdctl_smb2_rw_parse() on
#              arbitrary bytes, at every offset the input's compound
#              chain names;
#   fuzz_chan: sdctl_chan_read() and sdctl_chan_receive() on arbitrary
#              bytes fed through socketpairs.
LIBCLIENT_FUZZ_TARGETS = tests/fuzz/fuzz_smb2.c tests/fuzz/fuzz_chan.c
EXTRA_DIST += $(LIBCLIENT_FUZZ_TARGETS)

# The exported symbols, their version nodes, and the frozen released ones.
TESTS += tests/unit/test_abi.sh
dist_noinst_SCRIPTS += tests/unit/test_abi.sh
EXTRA_DIST += libclient/abi/SMBDIRECT_CTL_0.1
