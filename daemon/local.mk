# daemon/: smbdirectd, one libevent loop, one file per role.

sbin_PROGRAMS += daemon/smbdirectd
daemon_smbdirectd_SOURCES = \
	daemon/admin.c \
	daemon/area.c daemon/area.h \
	daemon/arena.c daemon/arena.h \
	daemon/chan.c daemon/chan.h \
	daemon/conf.c daemon/conf.h \
	daemon/control.c daemon/control.h \
	daemon/daemon.h \
	daemon/dev.c \
	daemon/info.c daemon/info.h \
	daemon/listener.c \
	daemon/log.c daemon/log.h \
	daemon/main.c \
	daemon/master.c daemon/master.h \
	daemon/metrics.c daemon/metrics.h \
	daemon/ops.c daemon/ops.h \
	daemon/rconn.c daemon/rconn.h
daemon_smbdirectd_CPPFLAGS = $(AM_CPPFLAGS) -DSYSCONFDIR='"$(sysconfdir)"'
daemon_smbdirectd_CFLAGS = $(AM_CFLAGS) $(IBVERBS_CFLAGS) $(RDMACM_CFLAGS) \
	$(PROTOBUF_C_CFLAGS) $(LIBEVENT_CFLAGS) $(INIH_CFLAGS) \
	$(SYSTEMD_CFLAGS)
daemon_smbdirectd_LDADD = proto/libsdproto.la proto/libsdp.la \
	$(RDMACM_LIBS) $(IBVERBS_LIBS) $(PROTOBUF_C_LIBS) $(LIBEVENT_LIBS) \
	$(INIH_LIBS) $(SYSTEMD_LIBS)
