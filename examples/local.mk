# SPDX-License-Identifier: ISC
# examples/: mini-smbd, the seed's steps 0-8 as an smbd would run them
# against libsmbdirect-ctl (master, c1, c2; SMB2 over the data channel).

noinst_PROGRAMS += examples/mini-smbd
examples_mini_smbd_SOURCES = examples/mini-smbd.c \
	examples/mini-smbd-smb2.c examples/mini-smbd-smb2.h
examples_mini_smbd_LDADD = libclient/libsmbdirect-ctl.la

# Its SMB2 response encoders, against hand-built requests.
check_PROGRAMS += tests/unit/test_mini_smbd_smb2
tests_unit_test_mini_smbd_smb2_SOURCES = tests/unit/test_mini_smbd_smb2.c \
	examples/mini-smbd-smb2.c examples/mini-smbd-smb2.h
tests_unit_test_mini_smbd_smb2_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_mini_smbd_smb2_LDADD = proto/libsdproto.la $(CMOCKA_LIBS)
TESTS += tests/unit/test_mini_smbd_smb2
