/* SPDX-License-Identifier: ISC */
/*
 * io.c: blocking-style send and receive loops over UNIX sockets.
 *
 * Every frame libclient writes goes out whole or not at all from the
 * caller's point of view: once the first byte is on the socket, a
 * non-blocking socket that fills up is waited on with poll() rather than
 * leaving half a frame behind for the next writer. Reads do the same once
 * a message has started. Sends use MSG_NOSIGNAL: a library must not kill
 * its host with SIGPIPE.
 *
 * Descriptors can arrive with any read (SCM_RIGHTS rides on the byte the
 * sender attached it to), so every read passes a control buffer; without
 * one the kernel would silently discard them.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "libclient/io.h"

/* Room for more descriptors than we keep, so extras can be closed. */
#define IO_CMSG_FDS	16

void
io_fds_init(struct io_fds *f)
{
	f->n = 0;
}

void
io_fds_close(struct io_fds *f)
{
	unsigned i;

	for (i = 0; i < f->n; i++) {
		close(f->fds[i]);
	}
	f->n = 0;
}

/* Take the first descriptor out of @f; -1 if there is none. */
int
io_fds_take(struct io_fds *f)
{
	int fd = -1;

	if (f->n > 0) {
		fd = f->fds[0];
		memmove(f->fds, f->fds + 1, (f->n - 1) * sizeof(f->fds[0]));
		f->n--;
	}
	return fd;
}

static void
io_fds_collect(struct msghdr *msg, struct io_fds *f)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		size_t i, nfd;

		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
			if (f != NULL && f->n < IO_MAX_FDS) {
				f->fds[f->n++] = fd;
			} else {
				close(fd);
			}
		}
	}
}


/*
 * Connect a close-on-exec UNIX socket of @type (SOCK_STREAM or
 * SOCK_SEQPACKET) to @path.
 * Return: the descriptor; -ENAMETOOLONG; or the socket()/connect() error.
 */
int
io_connect_unix(const char *path, int type)
{
	struct sockaddr_un sun;
	size_t len = strlen(path);
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len >= sizeof(sun.sun_path)) {
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, len);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		return -errno;
	}
	do {
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	} while (rc != 0 && errno == EINTR);
	if (rc != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/*
 * Wait until @fd is ready for @events. @timeout_ms < 0 waits forever.
 * Errors and hang-ups count as ready: the next syscall reports them.
 * Return: 0, -ETIMEDOUT, or the poll() error.
 */
int
io_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd;
	int n;

	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

/*
 * Send every byte of @iov (which is consumed: entries are advanced in
 * place). If @pass_fd >= 0, it goes with the first byte (SCM_RIGHTS).
 * Return: 0, or the negative sendmsg() error (-EPIPE when the peer closed).
 */
int
io_send_all(int fd, struct iovec *iov, int iovcnt, int pass_fd)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t w;
	size_t left;
	int rc = 0;

	while (iovcnt > 0 && iov->iov_len == 0) {
		iov++;
		iovcnt--;
	}
	while (iovcnt > 0) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)iovcnt;
		if (pass_fd >= 0) {
			memset(&cbuf, 0, sizeof(cbuf));
			msg.msg_control = cbuf.buf;
			msg.msg_controllen = sizeof(cbuf.buf);
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
		}
		w = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				rc = io_wait(fd, POLLOUT, -1);
				if (rc != 0) {
					goto out;
				}
				continue;
			}
			rc = errno == ECONNRESET ? -EPIPE : -errno;
			goto out;
		}
		/* The descriptor went with the bytes just sent. */
		pass_fd = -1;
		left = (size_t)w;
		while (iovcnt > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
		while (iovcnt > 0 && iov->iov_len == 0) {
			iov++;
			iovcnt--;
		}
	}
out:
	return rc;
}

/*
 * Read exactly @len (> 0) bytes into @buf, adding any descriptors that
 * arrive to @fds (NULL: close them).
 *
 * @record: the socket keeps message boundaries (SOCK_SEQPACKET); the next
 * message must be exactly @len bytes, or it is -EPROTO (and consumed).
 * @may_eagain: on a non-blocking socket with nothing to read yet, return
 * -EAGAIN instead of waiting; once a byte is read the call waits.
 *
 * Return: 0; -EPIPE (end of file, even mid-message); -EPROTO; -EAGAIN;
 * or the recvmsg() error.
 */
int
io_recv_exact(int fd, void *buf, size_t len, bool record, bool may_eagain,
    struct io_fds *fds)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int) * IO_CMSG_FDS)];
	} cbuf;
	struct msghdr msg;
	struct iovec iov;
	size_t got = 0;
	ssize_t n;
	int rc = 0;

	while (got < len) {
		iov.iov_base = (char *)buf + got;
		iov.iov_len = len - got;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC |
		    (record ? MSG_TRUNC : 0));
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (may_eagain && got == 0) {
					rc = -EAGAIN;
					goto out;
				}
				rc = io_wait(fd, POLLIN, -1);
				if (rc != 0) {
					goto out;
				}
				continue;
			}
			rc = errno == ECONNRESET ? -EPIPE : -errno;
			goto out;
		}
		io_fds_collect(&msg, fds);
		if (n == 0) {
			rc = -EPIPE;
			goto out;
		}
		if (record && (size_t)n != len) {
			rc = -EPROTO;
			goto out;
		}
		got += (size_t)n;
	}
out:
	return rc;
}
