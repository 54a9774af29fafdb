# SPDX-License-Identifier: ISC
# proto/: pure code shared by the daemon, libclient, the CLI and the tests.
# The control-channel C code is generated from smbdirect-ctl.proto at build
# time by protoc-c; it is never committed or distributed.

EXTRA_DIST += proto/smbdirect-ctl.proto

proto/smbdirect-ctl.pb-c.c proto/smbdirect-ctl.pb-c.h: \
		$(srcdir)/proto/smbdirect-ctl.proto
	$(AM_V_GEN)$(MKDIR_P) proto && \
	$(PROTOC_C) --proto_path=$(srcdir)/proto --c_out=proto \
		$(srcdir)/proto/smbdirect-ctl.proto

BUILT_SOURCES += proto/smbdirect-ctl.pb-c.c proto/smbdirect-ctl.pb-c.h
CLEANFILES += proto/smbdirect-ctl.pb-c.c proto/smbdirect-ctl.pb-c.h

noinst_LTLIBRARIES += proto/libsdproto.la
nodist_proto_libsdproto_la_SOURCES = proto/smbdirect-ctl.pb-c.c \
	proto/smbdirect-ctl.pb-c.h
proto_libsdproto_la_SOURCES = proto/frame.c proto/frame.h proto/sanexit.h \
	proto/chanops.c proto/chanops.h
proto_libsdproto_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
proto_libsdproto_la_LIBADD = $(PROTOBUF_C_LIBS)

# The data channel's frame codec and the RDMA request checks.
check_PROGRAMS += tests/unit/test_frame
TESTS += tests/unit/test_frame
tests_unit_test_frame_SOURCES = tests/unit/test_frame.c
tests_unit_test_frame_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_frame_LDADD = proto/libsdproto.la $(CMOCKA_LIBS)

# The data channel's engine: parser, held-frame rule, RDMA scheduler.
check_PROGRAMS += tests/unit/test_chanops
TESTS += tests/unit/test_chanops
tests_unit_test_chanops_SOURCES = tests/unit/test_chanops.c
tests_unit_test_chanops_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_chanops_LDADD = proto/libsdproto.la $(CMOCKA_LIBS)
