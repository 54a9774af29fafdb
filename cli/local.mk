# SPDX-License-Identifier: ISC
# cli/: smbdirectctl, built on libsmbdirect-ctl alone.

bin_PROGRAMS += cli/smbdirectctl
cli_smbdirectctl_SOURCES = cli/smbdirectctl.c
cli_smbdirectctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
cli_smbdirectctl_LDADD = libclient/libsmbdirect-ctl.la $(JSONC_LIBS)
