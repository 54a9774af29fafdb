# SPDX-License-Identifier: ISC
# man/: the manual pages, in mdoc(7), and the test that lints them and
# checks them against the code they document.

dist_man_MANS = man/smbdirectd.8 man/smbdirectctl.8 man/smbdirectd.conf.5 \
	man/smbdirect-gw.8

TESTS += tests/unit/test_manpages.sh
dist_noinst_SCRIPTS += tests/unit/test_manpages.sh
# The test reads the option, command, key, metric and label tables from these
# sources; list them so the test runs from a tarball whatever builds them.
EXTRA_DIST += daemon/conf.c daemon/metrics.c cli/smbdirectctl.c \
	gateway/gw.c daemon/metrics.h daemon/rconn.h daemon/daemon.h \
	proto/frame.h gateway/relay.h
