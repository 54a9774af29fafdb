/* SPDX-License-Identifier: ISC */
/*
 * peer.c: a UNIX-socket peer on the event loop (see peer.h).
 *
 * Why it is shaped this way. The daemon's UNIX peers (control clients,
 * data channels) each had their own recvmsg() loop to pick credentials
 * out and close unwanted descriptors, and their own pair of read and
 * write events. A stray descriptor that one loop forgot to close would
 * stay open in a daemon that never restarts. So both jobs live here,
 * once:
 *
 *  - One event per peer. Its interest is worked out again in
 *    peer_update(), and only there: EV_READ while reading is on, EV_WRITE
 *    while a message is queued and no write has failed. tmux's
 *    proc_update_event() does the same. A peer with an empty queue is
 *    never woken to write.
 *  - peer_recv() is the only recvmsg(). Every descriptor that arrives is
 *    either handed to a caller that asked for one, or closed before it
 *    returns.
 *
 * Callbacks may free the peer (see peer.h, "Re-entry"). While code of
 * this file is on the stack for a peer, p->busy is non-zero. peer_free()
 * then closes the socket and releases the queue at once, but leaves the
 * memory to peer_unbusy(), which frees it when the outermost frame
 * returns. The same counter defers peer_update() to that point, so the
 * event is never changed under its own callback.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "daemon/peer.h"

/* iovecs one sendmsg() gathers on a stream peer (two per message). */
#define PEER_IOV_MAX	64

/*
 * One queued message: hdr[0..hdr_len) then data[0..len). Its first @done
 * bytes are written. Only the head is ever partly written; during a write
 * pass, the head may also hold messages written whole and not yet
 * released. @fd is -1 once passed. A message leaves the queue before its
 * release function runs.
 */
struct peer_msg {
	TAILQ_ENTRY(peer_msg)	 entry;
	const uint8_t		*data;
	size_t			 len;
	size_t			 done;
	int			 fd;
	peer_release_fn		 release;
	void			*arg;
	uint8_t			 hdr_len;
	uint8_t			 hdr[PEER_HDR_MAX];
};

/*
 * Invariants. fd == -1 exactly when dead. dead: freed by the owner; only
 * the memory is left, and it goes when busy drops to 0. armed is the
 * interest ev was last added with (0: not added). n_out and out_bytes
 * describe the queue. werr != 0: a write failed; EV_WRITE stays off, and
 * werr_told says whether cb.error has run.
 */
struct peer {
	struct event_base	*base;
	struct event		*ev;
	int			 fd;
	bool			 stream;	/* else datagrams */
	bool			 reading;
	bool			 writing;	/* in peer_write() */
	bool			 dead;
	bool			 werr_told;
	short			 armed;
	unsigned		 busy;
	int			 werr;
	struct ucred		 cred;		/* SO_PEERCRED */
	struct peer_cb		 cb;
	void			*arg;
	TAILQ_HEAD(, peer_msg)	 out;
	size_t			 n_out;
	size_t			 out_bytes;
};

static void	peer_on_io(evutil_socket_t, short, void *);

/*
 * Make the event's interest match the peer's state. Deferred while the
 * peer is busy: the outermost frame calls it on the way out.
 */
static void
peer_update(struct peer *p)
{
	short want = 0;

	if (p->dead || p->busy > 0) {
		return;
	}
	if (p->reading) {
		want |= EV_READ;
	}
	if (p->n_out > 0 && p->werr == 0) {
		want |= EV_WRITE;
	}
	if (want != p->armed) {
		event_del(p->ev);
		p->armed = 0;
		if (want != 0) {
			event_assign(p->ev, p->base, p->fd, want | EV_PERSIST,
			    peer_on_io, p);
			if (event_add(p->ev, NULL) == 0) {
				p->armed = want;
			}
		}
	}
	/* A write failed outside the loop: report it from the loop. */
	if (p->werr != 0 && !p->werr_told) {
		event_active(p->ev, EV_WRITE, 0);
	}
}

static void
peer_unbusy(struct peer *p)
{
	p->busy--;
	if (p->busy > 0) {
		return;
	}
	if (p->dead) {
		event_free(p->ev);
		free(p);
		return;
	}
	peer_update(p);
}

int
peer_new(struct event_base *base, int fd, int flags,
    const struct peer_cb *cb, void *arg, struct peer **out)
{
	struct peer *p = NULL;
	socklen_t sl;
	int type = 0, one = 1, rc;

	if (fd < 0) {
		return -EINVAL;
	}
	if ((flags & ~PEER_PASSCRED) != 0 || cb->read == NULL ||
	    cb->error == NULL) {
		rc = -EINVAL;
		goto out_close;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		rc = -ENOMEM;
		goto out_close;
	}
	sl = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) != 0) {
		rc = -errno;
		goto out_free;
	}
	if (type != SOCK_STREAM && type != SOCK_SEQPACKET &&
	    type != SOCK_DGRAM) {
		rc = -EPROTOTYPE;
		goto out_free;
	}
	sl = sizeof(p->cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &p->cred, &sl) != 0) {
		rc = -errno;
		goto out_free;
	}
	if ((flags & PEER_PASSCRED) && setsockopt(fd, SOL_SOCKET,
	    SO_PASSCRED, &one, sizeof(one)) != 0) {
		rc = -errno;
		goto out_free;
	}
	p->ev = event_new(base, fd, EV_READ | EV_PERSIST, peer_on_io, p);
	if (p->ev == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	if (event_add(p->ev, NULL) != 0) {
		rc = -ENOMEM;
		goto out_free_ev;
	}
	p->base = base;
	p->fd = fd;
	p->stream = type == SOCK_STREAM;
	p->reading = true;
	p->armed = EV_READ;
	p->cb = *cb;
	p->arg = arg;
	TAILQ_INIT(&p->out);
	*out = p;
	return 0;

out_free_ev:
	event_free(p->ev);
out_free:
	free(p);
out_close:
	close(fd);
	return rc;
}

void
peer_free(struct peer *p)
{
	struct peer_msg *m;

	if (p == NULL || p->dead) {
		return;
	}
	p->dead = true;
	p->busy++;
	event_del(p->ev);
	close(p->fd);
	p->fd = -1;
	while ((m = TAILQ_FIRST(&p->out)) != NULL) {
		TAILQ_REMOVE(&p->out, m, entry);
		p->n_out--;
		p->out_bytes -= m->hdr_len + m->len - m->done;
		if (m->fd != -1) {
			close(m->fd);
		}
		/* Written whole by a pass that a release cut short: done. */
		if (m->release != NULL) {
			m->release(m->arg, m->done,
			    m->done == m->hdr_len + m->len ? 0 : -ECANCELED);
		}
		free(m);
	}
	peer_unbusy(p);
}

int
peer_fd(const struct peer *p)
{
	return p->fd;
}

const struct ucred *
peer_cred(const struct peer *p)
{
	return &p->cred;
}

static ssize_t	peer_recvmsg(int fd, bool stream, void *buf, size_t len,
		    bool take_fd, struct peer_anc *anc);

ssize_t
peer_recv(struct peer *p, void *buf, size_t len, bool take_fd,
    struct peer_anc *anc)
{
	if (take_fd && anc == NULL) {
		return -EINVAL;
	}
	if (p->dead) {
		return -EBADF;
	}
	return peer_recvmsg(p->fd, p->stream, buf, len, take_fd, anc);
}

ssize_t
peer_recv_fd(int fd, void *buf, size_t len, bool take_fd,
    struct peer_anc *anc)
{
	if (take_fd && anc == NULL) {
		return -EINVAL;
	}
	return peer_recvmsg(fd, true, buf, len, take_fd, anc);
}

/* The one place a UNIX socket's bytes, credentials and descriptors come. */
static ssize_t
peer_recvmsg(int sfd, bool stream, void *buf, size_t len, bool take_fd,
    struct peer_anc *anc)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
		    CMSG_SPACE(sizeof(int) * PEER_RECV_FDS)];
	} cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct peer_anc got = {
		.cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 },
		.fd = -1,
	};
	struct msghdr msg;
	struct cmsghdr *cm;
	size_t nfd, k;
	ssize_t n;
	int fd;

	do {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		/* The data channel counts what it reads (chan_read()). */
		/* copy: pdu_from_owner, op_frames */
		n = recvmsg(sfd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC |
		    (stream ? 0 : MSG_TRUNC));
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	got.ctrunc = (msg.msg_flags & MSG_CTRUNC) != 0;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
	    cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET) {
			continue;
		}
		if (cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			/* copy: none (the sender's credentials) */
			memcpy(&got.cred, CMSG_DATA(cm), sizeof(got.cred));
		} else if (cm->cmsg_type == SCM_RIGHTS) {
			/*
			 * Every descriptor here is installed in this process
			 * now: each one is handed over or closed.
			 */
			nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (k = 0; k < nfd; k++) {
				/* copy: none (a descriptor number) */
				memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int),
				    sizeof(fd));
				if (take_fd && !got.ctrunc && got.fd == -1) {
					got.fd = fd;
					continue;
				}
				close(fd);
				got.fds_closed++;
			}
		}
	}
	if (anc != NULL) {
		*anc = got;
	}
	return n;
}

int
peer_queue(struct peer *p, const void *hdr, size_t hdr_len,
    const void *data, size_t len, int fd, peer_release_fn release,
    void *arg)
{
	struct peer_msg *m = NULL;
	int rc;

	if (hdr_len > PEER_HDR_MAX || hdr_len + len == 0) {
		rc = -EINVAL;
		goto out_close;
	}
	if (p->dead) {
		rc = -EBADF;
		goto out_close;
	}
	if (p->werr != 0) {
		rc = p->werr;
		goto out_close;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		rc = -ENOMEM;
		goto out_close;
	}
	if (hdr_len > 0) {
		/* copy: none (a frame header of at most PEER_HDR_MAX bytes) */
		memcpy(m->hdr, hdr, hdr_len);
	}
	m->hdr_len = (uint8_t)hdr_len;
	m->data = data;
	m->len = len;
	m->fd = fd;
	m->release = release;
	m->arg = arg;
	TAILQ_INSERT_TAIL(&p->out, m, entry);
	p->n_out++;
	p->out_bytes += hdr_len + len;
	peer_update(p);
	return 0;

out_close:
	if (fd != -1) {
		close(fd);
	}
	return rc;
}

void
peer_release_free(void *arg, size_t written, int status)
{
	free(arg);
}

/*
 * Gather what the next sendmsg() sends, from the head of the queue: one
 * message on a datagram peer; on a stream peer, messages up to the first
 * one after the head that carries a descriptor (which starts its own
 * sendmsg()), or only the head if it carries one. Returns the iovec count
 * and sets *pass_fd and *total.
 */
static int
peer_gather(struct peer *p, struct iovec *iov, int *pass_fd, size_t *total)
{
	struct peer_msg *m;
	size_t skip;
	int n = 0;

	*pass_fd = -1;
	*total = 0;
	TAILQ_FOREACH(m, &p->out, entry) {
		if (n + 2 > PEER_IOV_MAX) {
			break;
		}
		if (m->fd != -1) {
			if (m != TAILQ_FIRST(&p->out)) {
				break;
			}
			*pass_fd = m->fd;
		}
		skip = m->done;
		if (skip < m->hdr_len) {
			iov[n].iov_base = m->hdr + skip;
			iov[n].iov_len = m->hdr_len - skip;
			*total += iov[n].iov_len;
			n++;
			skip = 0;
		} else {
			skip -= m->hdr_len;
		}
		if (m->len > skip) {
			iov[n].iov_base = (void *)(uintptr_t)(m->data + skip);
			iov[n].iov_len = m->len - skip;
			*total += iov[n].iov_len;
			n++;
		}
		if (!p->stream || *pass_fd != -1) {
			break;
		}
	}
	return n;
}

ssize_t
peer_send_fd(int fd, const struct iovec *iov, int iovcnt, int pass_fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t w;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = (struct iovec *)(uintptr_t)iov;
	msg.msg_iovlen = (size_t)iovcnt;
	if (pass_fd != -1) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		/* copy: none (the descriptor passed) */
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	do {
		/* The data channel counts what it writes (chan_write()). */
		/* copy: pdu_to_owner, op_frames */
		w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (w < 0 && errno == EINTR);
	if (w < 0) {
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	return w;
}

/*
 * Write until the queue is empty or the socket is full. Returns 0 or the
 * sendmsg() error (which also sets werr). The caller holds p busy; a
 * release function may free p, which stops the pass (p->dead).
 */
static int
peer_write(struct peer *p)
{
	struct iovec iov[PEER_IOV_MAX];
	struct peer_msg *m;
	size_t total, left, rest;
	bool wrote = false;
	ssize_t w;
	int n, pass_fd, rc = 0;

	if (p->writing || p->werr != 0) {
		return p->werr;
	}
	p->writing = true;
	while (!p->dead && !TAILQ_EMPTY(&p->out)) {
		n = peer_gather(p, iov, &pass_fd, &total);
		w = peer_send_fd(p->fd, iov, n, pass_fd);
		if (w < 0) {
			if (w != -EAGAIN) {
				rc = (int)w;
				p->werr = rc;
			}
			break;
		}
		wrote = true;
		if (pass_fd != -1) {
			/* Sent: the kernel holds its own reference now. */
			close(pass_fd);
			TAILQ_FIRST(&p->out)->fd = -1;
		}
		/*
		 * Account for the whole write before any release runs: a
		 * release may free the peer, and peer_free() must then see
		 * which messages are complete.
		 */
		left = p->stream ? (size_t)w : total;	/* datagrams: whole */
		p->out_bytes -= left;
		TAILQ_FOREACH(m, &p->out, entry) {
			if (left == 0) {
				break;
			}
			rest = m->hdr_len + m->len - m->done;
			rest = left < rest ? left : rest;
			m->done += rest;
			left -= rest;
		}
		while (!p->dead && (m = TAILQ_FIRST(&p->out)) != NULL &&
		    m->done == m->hdr_len + m->len) {
			TAILQ_REMOVE(&p->out, m, entry);
			p->n_out--;
			if (m->release != NULL) {
				m->release(m->arg, m->done, 0);
			}
			free(m);
		}
		if ((size_t)w < total) {
			break;	/* the socket is full: wait for EV_WRITE */
		}
	}
	p->writing = false;
	if (wrote && !p->dead && p->cb.sent != NULL) {
		p->cb.sent(p, p->arg);
	}
	return rc;
}

int
peer_flush(struct peer *p)
{
	int rc;

	if (p->dead) {
		return -EBADF;
	}
	p->busy++;
	rc = peer_write(p);
	peer_unbusy(p);
	return rc;
}

size_t
peer_queued(const struct peer *p, size_t *bytes)
{
	if (bytes != NULL) {
		*bytes = p->out_bytes;
	}
	return p->n_out;
}

void
peer_set_reading(struct peer *p, bool on)
{
	p->reading = on;
	peer_update(p);
}

short
peer_events(const struct peer *p)
{
	if (p->dead) {
		return 0;
	}
	return (short)event_pending(p->ev, EV_READ | EV_WRITE, NULL);
}

static void
peer_on_io(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;

	p->busy++;
	if ((what & EV_READ) && p->reading) {
		p->cb.read(p, p->arg);
	}
	if (!p->dead && (what & EV_WRITE)) {
		peer_write(p);
	}
	if (!p->dead && p->werr != 0 && !p->werr_told) {
		p->werr_told = true;
		p->cb.error(p, p->arg, p->werr);
	}
	peer_unbusy(p);
}
