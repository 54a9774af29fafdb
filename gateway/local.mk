# gateway/: smbdirect-gw, a master smbd that fronts a TCP SMB server.

sbin_PROGRAMS += gateway/smbdirect-gw
gateway_smbdirect_gw_SOURCES = gateway/gw.c gateway/relay.c gateway/relay.h \
	gateway/gwsmb2.c gateway/gwsmb2.h
gateway_smbdirect_gw_CPPFLAGS = $(AM_CPPFLAGS) -DSYSCONFDIR='"$(sysconfdir)"'
gateway_smbdirect_gw_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(SYSTEMD_CFLAGS) \
	-pthread
gateway_smbdirect_gw_LDADD = libclient/libsmbdirect-ctl.la $(INIH_LIBS) \
	$(SYSTEMD_LIBS) -lpthread
