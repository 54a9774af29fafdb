# SPDX-License-Identifier: ISC
# samba/: the patch series that makes Samba's smbd the master and owner of
# smbdirectd's connections, and the script that builds it (see README.md).

EXTRA_DIST += samba/README.md samba/NOTES-integration.md samba/build.sh \
	samba/patches/series \
	samba/patches/0001-build-with-smbdirectd.patch \
	samba/patches/0002-param-server-smb-direct.patch \
	samba/patches/0003-smbd-add-connection-with-addresses.patch \
	samba/patches/0004-smbd-master-of-smbdirectd.patch \
	samba/patches/0005-smbd-smbdirect-data-channel-frames.patch \
	samba/patches/0006-smb2-read-write-rdma-channels.patch \
	samba/patches/0007-fsctl-network-interface-info-rdma.patch \
	samba/patches/0008-smbd-multichannel-hand-off.patch \
	samba/patches/0009-smbd-master-joins-running-daemon.patch
