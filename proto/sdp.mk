# SPDX-License-Identifier: ISC
# The SMB Direct engine ([MS-SMBD]), sans-IO: a convenience library with no
# dependency beyond libc. The fuzz targets (tests/unit/sdp.mk) compile the
# same sources again with their own instrumentation, hence the variable.

SDP_SOURCES = proto/sdp_error.c proto/sdp_wire.c proto/sdp_bd.c \
	proto/sdp_config.c proto/sdp_conn.c

noinst_LTLIBRARIES += proto/libsdp.la
proto_libsdp_la_SOURCES = proto/sdp.h $(SDP_SOURCES)
