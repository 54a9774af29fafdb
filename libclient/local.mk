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
