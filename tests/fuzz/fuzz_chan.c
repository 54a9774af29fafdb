/* SPDX-License-Identifier: ISC */
/*
 * fuzz_chan: libclient's data-channel readers on arbitrary bytes.
 *
 * The first input byte picks the reader, the rest is what arrives on a
 * socketpair:
 *	0  sdctl_chan_read(), frame after frame, on a SOCK_STREAM;
 *	1  sdctl_chan_receive() on a SOCK_STREAM, the bytes arriving with a
 *	   real stream socket attached (SCM_RIGHTS) so parsing goes past the
 *	   descriptor check;
 *	2  sdctl_chan_receive() on a SOCK_SEQPACKET, the rest cut into
 *	   records by little-endian u16 length prefixes, the first record
 *	   carrying a stream socket.
 * Every descriptor is closed again: an input that leaks one aborts.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libclient/smbdirect-ctl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL) {
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		n += e->d_name[0] != '.';
	}
	closedir(d);
	return n;
}

/* Send @len bytes, with @fd attached if >= 0; 0 or -1. */
static int
send_with_fd(int sock, const uint8_t *p, size_t len, int fd)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct iovec iov = { (void *)p, len };
	struct msghdr msg;
	struct cmsghdr *cm;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)len ? 0 : -1;
}

static void
read_frames(int fd)
{
	struct sdctl_frame f;
	unsigned n;

	for (n = 0; n < 1024 && sdctl_chan_read(fd, 65536, &f) == 0; n++) {
		free(f.pdu);
		if (f.area_fd >= 0) {
			close(f.area_fd);
		}
	}
}

static void
receive_all(int fd)
{
	struct sdctl_passed p;
	unsigned n;

	for (n = 0; n < 16 && sdctl_chan_receive(fd, &p) == 0; n++) {
		sdctl_passed_free(&p);
		close(p.chan_fd);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2] = { -1, -1 }, att[2] = { -1, -1 }, before, sz = 1 << 20;
	size_t off, len;
	uint8_t mode;

	if (size < 1 || size > 512 * 1024) {
		return 0;
	}
	mode = data[0] % 3;
	data++;
	size--;
	before = count_fds();
	if (socketpair(AF_UNIX, (mode == 2 ? SOCK_SEQPACKET : SOCK_STREAM) |
	    SOCK_CLOEXEC, 0, sv) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, att) != 0) {
		goto out;
	}
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (mode == 0 || mode == 1) {
		if (size > 0 && send_with_fd(sv[0], data, size,
		    mode == 1 ? att[0] : -1) != 0) {
			goto out;
		}
	} else {
		for (off = 0; off + 2 <= size; off += 2 + len) {
			len = (size_t)data[off] | (size_t)data[off + 1] << 8;
			if (len > size - off - 2) {
				len = size - off - 2;
			}
			if (send_with_fd(sv[0], data + off + 2, len,
			    off == 0 ? att[0] : -1) != 0) {
				break;
			}
		}
	}
	shutdown(sv[0], SHUT_WR);
	if (mode == 0) {
		read_frames(sv[1]);
	} else {
		receive_all(sv[1]);
	}
out:
	if (sv[0] >= 0) {
		close(sv[0]);
		close(sv[1]);
	}
	if (att[0] >= 0) {
		close(att[0]);
		close(att[1]);
	}
	if (count_fds() != before) {
		abort();
	}
	return 0;
}
