# SPDX-License-Identifier: ISC
# daemon/: smbdirectd, one libevent loop, one file per role.

sbin_PROGRAMS += daemon/smbdirectd
daemon_smbdirectd_SOURCES = \
	daemon/admin.c \
	daemon/area.c daemon/area.h \
	daemon/arena.c daemon/arena.h \
	daemon/chan.c daemon/chan.h \
	daemon/clock.c daemon/clock.h \
	daemon/conf.c daemon/conf.h daemon/conf_indent.h \
	daemon/control.c daemon/control.h \
	daemon/counters.h \
	daemon/daemon.h \
	daemon/dev.c daemon/dev.h \
	daemon/info.c daemon/info.h \
	daemon/listener.c daemon/listener.h \
	daemon/log.c daemon/log.h \
	daemon/main.c \
	daemon/master.c daemon/master.h \
	daemon/metrics.c daemon/metrics.h \
	daemon/ops.c daemon/ops.h \
	daemon/peer.c daemon/peer.h \
	daemon/rconn.c daemon/rconn.h \
	daemon/rconn_reason.c daemon/rconn_reason.h
daemon_smbdirectd_CPPFLAGS = $(AM_CPPFLAGS) -DSYSCONFDIR='"$(sysconfdir)"'
daemon_smbdirectd_CFLAGS = $(AM_CFLAGS) $(IBVERBS_CFLAGS) $(RDMACM_CFLAGS) \
	$(PROTOBUF_C_CFLAGS) $(LIBEVENT_CFLAGS) $(INIH_CFLAGS) \
	$(SYSTEMD_CFLAGS)
daemon_smbdirectd_LDADD = proto/libsdproto.la proto/libsdp.la \
	$(RDMACM_LIBS) $(IBVERBS_LIBS) $(PROTOBUF_C_LIBS) $(LIBEVENT_LIBS) \
	$(INIH_LIBS) $(SYSTEMD_LIBS)

# Every memcpy() or socket transfer in the daemon says which copy counter
# counts it (daemon/metrics.h, METRICS_COPY_KINDS).
TESTS += tests/unit/test_copy_sites.sh
dist_noinst_SCRIPTS += tests/unit/test_copy_sites.sh
TESTS += tests/unit/test_metric_labels.sh
dist_noinst_SCRIPTS += tests/unit/test_metric_labels.sh

# metrics.c's exposition, info.c's counters and rconn_reason.c's tokens,
# compiled alone with the functions of other modules they call stubbed in
# the test.
check_PROGRAMS += tests/unit/test_metrics
TESTS += tests/unit/test_metrics
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c \
	daemon/metrics.c daemon/log.c daemon/info.c daemon/arena.c \
	daemon/rconn_reason.c
tests_unit_test_metrics_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(IBVERBS_CFLAGS) $(RDMACM_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(LIBEVENT_CFLAGS)
tests_unit_test_metrics_LDADD = proto/libsdproto.la proto/libsdp.la \
	$(PROTOBUF_C_LIBS) $(CMOCKA_LIBS)
$(tests_unit_test_metrics_OBJECTS): proto/smbdirect-ctl.pb-c.h

# chan.c's outbound queue over a real socket pair, the connection's side
# stubbed in the test (which includes chan.c to drive its static writer).
check_PROGRAMS += tests/unit/test_chan
TESTS += tests/unit/test_chan
tests_unit_test_chan_SOURCES = tests/unit/test_chan.c daemon/log.c daemon/peer.c
tests_unit_test_chan_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(IBVERBS_CFLAGS) $(RDMACM_CFLAGS) $(PROTOBUF_C_CFLAGS) \
	$(LIBEVENT_CFLAGS)
tests_unit_test_chan_LDADD = proto/libsdproto.la proto/libsdp.la \
	$(LIBEVENT_LIBS) $(PROTOBUF_C_LIBS) $(CMOCKA_LIBS)
$(tests_unit_test_chan_OBJECTS): proto/smbdirect-ctl.pb-c.h

# log.c: priorities for journald when stderr is its stream.
check_PROGRAMS += tests/unit/test_log
TESTS += tests/unit/test_log
tests_unit_test_log_SOURCES = tests/unit/test_log.c daemon/log.c
tests_unit_test_log_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_log_LDADD = $(CMOCKA_LIBS)
