# SPDX-License-Identifier: ISC
# gateway/: smbdirect-gw, a master smbd that fronts a TCP SMB server.

sbin_PROGRAMS += gateway/smbdirect-gw
gateway_smbdirect_gw_SOURCES = gateway/gw.c gateway/relay.c gateway/relay.h \
	gateway/gwsmb2.c gateway/gwsmb2.h daemon/conf_indent.h
gateway_smbdirect_gw_CPPFLAGS = $(AM_CPPFLAGS) -DSYSCONFDIR='"$(sysconfdir)"'
gateway_smbdirect_gw_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(SYSTEMD_CFLAGS) \
	-pthread
gateway_smbdirect_gw_LDADD = libclient/libsmbdirect-ctl.la $(INIH_LIBS) \
	$(SYSTEMD_LIBS) -lpthread

# relay_run() driven whole in one process: the test plays the daemon on the
# data channel and the SMB server on TCP, for what the Linux client never
# sends (compounds with RDMA channels, signed and encrypted requests). It
# compiles the relay from source; the frame codec is private to libclient,
# so it links its own copy to speak the data channel.
check_PROGRAMS += tests/unit/test_gw_relay
TESTS += tests/unit/test_gw_relay
tests_unit_test_gw_relay_SOURCES = tests/unit/test_gw_relay.c \
	gateway/relay.c gateway/relay.h gateway/gwsmb2.c gateway/gwsmb2.h
tests_unit_test_gw_relay_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -pthread
tests_unit_test_gw_relay_LDADD = libclient/libsmbdirect-ctl.la \
	proto/libsdproto.la $(CMOCKA_LIBS) -lpthread
