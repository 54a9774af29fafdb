/* SPDX-License-Identifier: ISC */
/*
 * io: the socket loops the rest of libclient shares. Library-internal:
 * the version script keeps these out of the shared object's exports.
 */
#ifndef SMBDIRECT_CTL_IO_H
#define SMBDIRECT_CTL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/* Descriptors that arrived with SCM_RIGHTS while reading one message. */
#define IO_MAX_FDS	4

/*
 * Invariant: fds[0..n) are open and owned by whoever holds the struct;
 * descriptors beyond IO_MAX_FDS were closed on arrival.
 */
struct io_fds {
	int		fds[IO_MAX_FDS];
	unsigned	n;
};

void	io_fds_init(struct io_fds *);
void	io_fds_close(struct io_fds *);
int	io_fds_take(struct io_fds *);

int	io_connect_unix(const char *path, int type);
int	io_wait(int fd, short events, int timeout_ms);
int	io_send_all(int fd, struct iovec *iov, int iovcnt, int pass_fd);
int	io_recv_exact(int fd, void *buf, size_t len, bool record,
	    bool may_eagain, struct io_fds *fds);

#endif
