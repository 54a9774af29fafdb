/* SPDX-License-Identifier: ISC */
/*
 * chan.c: the data channel of one connection (see chan.h).
 *
 * Lifecycle: chan_listen() creates a one-shot UNIX stream socket in the
 * private runtime directory. The first process to connect gets the channel;
 * the listening socket is closed and its path unlinked at once, so nobody
 * else can connect. chan_close() undoes whatever was done.
 *
 * Frames in both directions start with a 4-byte header: a type byte, then
 * a 24-bit big-endian body length. Type 0 is an SMB2 PDU, exactly as on
 * SMB2 Direct TCP; the daemon's operation frames use other type bytes
 * (docs/PROTOCOL.md).
 *
 * This file keeps the socket and nothing else: what the bytes read mean,
 * where they go and when a frame may be written is the data channel
 * engine's (proto/chanops.h), driven through rconn_run(). Every callback
 * here holds the connection (rconn_hold()), so a close requested while it
 * runs takes effect only after it returns.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/chan.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/peer.h"
#include "daemon/rconn.h"
#include "chanops.h"

#define CHAN_IOV_MAX	64
/* Above this many bytes queued to the smbd, stop granting credits. */
#define CHAN_HIGH_WATER	(1u << 20)

static void	chan_on_accept(evutil_socket_t, short, void *);
static void	chan_on_read(evutil_socket_t, short, void *);
static void	chan_on_write(evutil_socket_t, short, void *);

void
chan_init(struct chan *ch, struct rconn *c)
{
	memset(ch, 0, sizeof(*ch));
	ch->c = c;
	ch->listen_fd = -1;
	ch->fd = -1;
}

bool
chan_connected(const struct chan *ch)
{
	return ch->fd != -1;
}

size_t
chan_out_bytes(const struct chan *ch)
{
	return ch->out_bytes;
}

int
chan_listen(struct chan *ch, const char *dir, uint64_t conn_id)
{
	struct rconn *c = ch->c;
	struct sockaddr_un sun;
	unsigned char rnd[8];
	int fd = -1, rc = -1;
	size_t i;

	if (getentropy(rnd, sizeof(rnd)) != 0) {
		log_warn("conn=%llu: getentropy", (unsigned long long)conn_id);
		goto out;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	i = (size_t)snprintf(sun.sun_path, sizeof(sun.sun_path),
	    "%s/%llu-", dir, (unsigned long long)conn_id);
	for (size_t k = 0; k < sizeof(rnd) && i + 2 < sizeof(sun.sun_path);
	    k++) {
		i += (size_t)snprintf(sun.sun_path + i,
		    sizeof(sun.sun_path) - i, "%02x", rnd[k]);
	}
	if (i + 5 >= sizeof(sun.sun_path)) {
		log_warnx("conn=%llu: runtime_dir %s is too long for a socket "
		    "path", (unsigned long long)conn_id, dir);
		goto out;
	}
	strcat(sun.sun_path, ".sock");

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("conn=%llu: data channel socket",
		    (unsigned long long)conn_id);
		goto out;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		log_warn("conn=%llu: bind %s", (unsigned long long)conn_id,
		    sun.sun_path);
		goto out_close;
	}
	/* The directory is 0700; the socket itself needs no wider mode. */
	if (chmod(sun.sun_path, 0600) != 0 || listen(fd, 1) != 0) {
		log_warn("conn=%llu: listen %s", (unsigned long long)conn_id,
		    sun.sun_path);
		unlink(sun.sun_path);
		goto out_close;
	}
	ch->listen_ev = event_new(c->d->base, fd, EV_READ | EV_PERSIST,
	    chan_on_accept, ch);
	if (ch->listen_ev == NULL || event_add(ch->listen_ev, NULL) != 0) {
		log_warnx("conn=%llu: cannot watch the data channel socket",
		    (unsigned long long)conn_id);
		if (ch->listen_ev != NULL) {
			event_free(ch->listen_ev);
			ch->listen_ev = NULL;
		}
		unlink(sun.sun_path);
		goto out_close;
	}
	ch->listen_fd = fd;
	snprintf(ch->path, sizeof(ch->path), "%s", sun.sun_path);
	return 0;

out_close:
	close(fd);
out:
	return rc;
}

static void
chan_stop_listening(struct chan *ch)
{
	if (ch->listen_ev != NULL) {
		event_free(ch->listen_ev);
		ch->listen_ev = NULL;
	}
	if (ch->listen_fd != -1) {
		close(ch->listen_fd);
		ch->listen_fd = -1;
	}
	if (ch->path[0] != '\0') {
		unlink(ch->path);
		ch->path[0] = '\0';
	}
}

static struct chanseg *
seg_at(struct chan *ch, unsigned i)
{
	return &ch->out[(ch->out_head + i) % ch->out_cap];
}

/*
 * Take the head segment off the queue, then free what it held. Releasing
 * a receive buffer runs the engine (rconn_rx_release()); a close it asks
 * for waits until the callback holding the connection returns, but the
 * queue is consistent and the segment cleared before the call anyway, so
 * that chan_close() (which pops every segment) may call this too.
 */
static void
seg_pop(struct chan *ch)
{
	struct chanseg *slot = seg_at(ch, 0);
	struct rxbuf *rx = slot->rx;

	free(slot->own);
	if (slot->fd != -1) {
		close(slot->fd);
	}
	memset(slot, 0, sizeof(*slot));
	slot->fd = -1;
	ch->out_head = (ch->out_head + 1) % ch->out_cap;
	ch->out_n--;
	if (rx != NULL) {
		rconn_rx_release(ch->c, rx);
	}
}

/* chan_close() ran: the socket is gone and nothing may be touched. */
static bool
chan_closed(const struct chan *ch)
{
	return ch->fd == -1;
}

void
chan_close(struct chan *ch)
{
	chan_stop_listening(ch);
	if (ch->read_ev != NULL) {
		event_free(ch->read_ev);
		ch->read_ev = NULL;
	}
	if (ch->write_ev != NULL) {
		event_free(ch->write_ev);
		ch->write_ev = NULL;
	}
	if (ch->fd != -1) {
		close(ch->fd);
		ch->fd = -1;
	}
	while (ch->out_n > 0) {
		seg_pop(ch);
	}
	ch->out_bytes = 0;
	free(ch->out);
	ch->out = NULL;
	ch->out_cap = 0;
	ch->out_head = 0;
	ch->reading = false;
}

static int
chan_grow(struct chan *ch)
{
	unsigned cap = ch->out_cap == 0 ? 32 : ch->out_cap * 2, i;
	unsigned limit = ch->c->d->cfg.receive_credits + 64;
	struct chanseg *n;

	if (ch->out_cap >= limit) {
		return -ENOBUFS;
	}
	if (cap > limit) {
		cap = limit;
	}
	n = calloc(cap, sizeof(*n));
	if (n == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < ch->out_n; i++) {
		n[i] = *seg_at(ch, i);
	}
	for (; i < cap; i++) {
		n[i].fd = -1;
	}
	free(ch->out);
	ch->out = n;
	ch->out_cap = cap;
	ch->out_head = 0;
	return 0;
}

static struct chanseg *
chan_push(struct chan *ch)
{
	struct chanseg *s;

	if (ch->out_n == ch->out_cap && chan_grow(ch) != 0) {
		return NULL;
	}
	s = seg_at(ch, ch->out_n);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	ch->out_n++;
	return s;
}

static void
chan_want_write(struct chan *ch)
{
	if (ch->fd != -1 && ch->out_n > 0 && ch->write_ev != NULL &&
	    !event_pending(ch->write_ev, EV_WRITE, NULL)) {
		event_add(ch->write_ev, NULL);
	}
}

static void
chan_update_backpressure(struct chan *ch)
{
	bool block = ch->out_bytes > CHAN_HIGH_WATER;

	if (block != ch->upper_blocked) {
		ch->upper_blocked = block;
		rconn_upper_blocked(ch->c, block);
	}
}

/*
 * Queue a fragment of a received PDU. The receive buffer stays held until
 * the fragment is written to the socket. Before the smbd connects, fragments
 * simply wait here: the first PDU is held until the channel exists. The
 * engine learns of it, for the frames it holds behind a PDU.
 */
int
chan_deliver(struct chan *ch, struct rxbuf *rx, const uint8_t *data,
    uint32_t len, uint32_t pdu_len, bool first, bool last)
{
	struct chanseg *s = chan_push(ch);

	if (s == NULL) {
		return -ENOBUFS;
	}
	if (first) {
		frame_hdr_encode(s->hdr, FRAME_PDU, pdu_len);
		s->hdr_len = FRAME_HDR_SIZE;
	}
	s->data = data;
	s->len = len;
	s->rx = rx;
	ch->out_bytes += s->hdr_len + len;
	chan_update_backpressure(ch);
	chan_want_write(ch);
	chanops_deliver(ch->c->co, first, last);
	return 0;
}

/*
 * Queue a frame the engine released (CHANOPS_ACT_SEND_FRAME). Takes @body
 * (malloc()ed: the daemon's engines use the default allocator; freed when
 * written) and @fd (closed once passed, or on failure).
 */
int
chan_queue_frame(struct chan *ch, uint8_t type, uint8_t *body, uint32_t len,
    int fd)
{
	struct chanseg *s = chan_push(ch);

	if (s == NULL) {
		free(body);
		if (fd != -1) {
			close(fd);
		}
		return -ENOBUFS;
	}
	frame_hdr_encode(s->hdr, type, len);
	s->hdr_len = FRAME_HDR_SIZE;
	s->data = body;
	s->own = body;
	s->len = len;
	s->fd = fd;
	ch->out_bytes += s->hdr_len + len;
	chan_want_write(ch);
	return 0;
}

/*
 * Count @n bytes of @s that the socket just took, starting at s->done:
 * the data of a PDU fragment is pdu_to_owner; an operation frame, header
 * and body, is op_frames; a PDU's frame header is neither.
 */
static void
chan_count_out(struct chan *ch, const struct chanseg *s, size_t n)
{
	size_t hdr = s->done < s->hdr_len ? s->hdr_len - s->done : 0;

	if (hdr > n) {
		hdr = n;
	}
	if (s->rx != NULL) {
		rconn_copied(ch->c, COPY_PDU_TO_OWNER, n - hdr);
	} else {
		rconn_copied(ch->c, COPY_OP_FRAMES, n);
	}
}

static void
chan_fail(struct chan *ch, const char *why)
{
	rconn_channel_gone(ch->c, RCONN_R_CHANNEL_ERROR, why);
}

static void
chan_write(struct chan *ch)
{
	struct iovec iov[CHAN_IOV_MAX];
	unsigned n = 0, i;
	ssize_t w;
	size_t left, total;
	int pass_fd = -1;

	while (ch->out_n > 0) {
		n = 0;
		for (i = 0; i < ch->out_n && n + 2 <= CHAN_IOV_MAX; i++) {
			struct chanseg *s = seg_at(ch, i);
			uint32_t skip = s->done;

			/* A passed fd rides on its frame's first byte alone. */
			if (s->fd != -1) {
				if (i > 0) {
					break;
				}
				pass_fd = s->fd;
			}
			if (skip < s->hdr_len) {
				iov[n].iov_base = s->hdr + skip;
				iov[n].iov_len = s->hdr_len - skip;
				n++;
				skip = 0;
			} else {
				skip -= s->hdr_len;
			}
			if (s->len > skip) {
				iov[n].iov_base = (void *)(s->data + skip);
				iov[n].iov_len = s->len - skip;
				n++;
			}
			if (pass_fd != -1) {
				i++;
				break;
			}
		}
		total = 0;
		for (i = 0; i < n; i++) {
			total += iov[i].iov_len;
		}
		/* Counted per segment below (chan_count_out()). */
		w = peer_send_fd(ch->fd, iov, (int)n, pass_fd);
		if (w < 0) {
			if (w == -EAGAIN) {
				break;
			}
			errno = (int)-w;
			log_warn("conn=%llu: data channel write",
			    (unsigned long long)ch->c->id);
			chan_fail(ch, "data channel write failed");
			return;
		}
		if (pass_fd != -1) {
			/* Sent: the kernel holds its own reference now. */
			close(pass_fd);
			seg_at(ch, 0)->fd = -1;
			pass_fd = -1;
		}
		left = (size_t)w;
		ch->out_bytes -= left;
		while (left > 0 && ch->out_n > 0) {
			struct chanseg *s = seg_at(ch, 0);
			size_t rest = s->hdr_len + s->len - s->done;

			if (left < rest) {
				chan_count_out(ch, s, left);
				s->done += (uint32_t)left;
				left = 0;
				break;
			}
			chan_count_out(ch, s, rest);
			left -= rest;
			seg_pop(ch);
			if (chan_closed(ch)) {
				return;
			}
		}
		if ((size_t)w < total) {
			break;	/* the socket is full: wait for EV_WRITE */
		}
	}
	chan_update_backpressure(ch);
	if (chan_closed(ch)) {
		return;
	}
	if (ch->out_n == 0 && ch->write_ev != NULL) {
		event_del(ch->write_ev);
	} else {
		chan_want_write(ch);
	}
}

static void
chan_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct chan *ch = arg;
	struct rconn *c = ch->c;

	rconn_hold(c);
	if (c->state != RCONN_CLOSING) {
		chan_write(ch);
	}
	rconn_unhold(c);
}

/*
 * Arm reading while the engine wants bytes, disarm it otherwise (the
 * socket is level-triggered: a paused channel with data must not be
 * watched). Called after every run of the connection's engines.
 */
void
chan_update_read(struct chan *ch)
{
	struct rconn *c = ch->c;
	uint8_t *buf;
	bool want;

	if (ch->fd == -1 || ch->read_ev == NULL || ch->eof) {
		return;
	}
	want = c->state != RCONN_CLOSING && c->co != NULL &&
	    chanops_rx_want(c->co, &buf) > 0;
	if (want == ch->reading) {
		return;
	}
	ch->reading = want;
	if (want) {
		event_add(ch->read_ev, NULL);
	} else {
		event_del(ch->read_ev);
	}
}

/*
 * Receive into @buf, remembering the sender's pid (SO_PASSCRED). The
 * daemon takes no descriptors on the data channel: peer_recv_fd() closes
 * any that come.
 */
static ssize_t
chan_recv(struct chan *ch, void *buf, size_t len, pid_t *pid)
{
	struct peer_anc anc;
	ssize_t n;

	n = peer_recv_fd(ch->fd, buf, len, false, &anc);
	if (n < 0) {
		errno = (int)-n;
		return -1;
	}
	*pid = anc.cred.pid;
	return n;
}

/*
 * Read as much as is there and the engine wants: frame headers, PDU
 * bodies straight into the send ring, operation frames into the engine.
 * The engine's actions run after each piece, so that a PDU's buffer is
 * reserved before its body is read.
 */
static void
chan_read(struct chan *ch)
{
	struct rconn *c = ch->c;
	uint64_t op_before;
	uint8_t *buf;
	size_t want;
	ssize_t n;
	pid_t pid;
	bool body;

	while (!chan_closed(ch) && c->state != RCONN_CLOSING &&
	    (want = chanops_rx_want(c->co, &buf)) > 0) {
		body = chanops_rx_in_pdu(c->co);
		pid = 0;
		n = chan_recv(ch, buf, want, &pid);
		if (n == 0) {
			ch->eof = true;
			rconn_channel_gone(c, RCONN_R_CHANNEL_CLOSED,
			    chanops_rx_mid_frame(c->co) ? "the smbd closed "
			    "the data channel mid-frame" : "the smbd closed "
			    "the data channel");
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				return;
			}
			chan_fail(ch, "data channel read failed");
			return;
		}
		if (body) {
			rconn_copied(c, COPY_PDU_FROM_OWNER, (uint64_t)n);
		}
		op_before = chanops_rx_op_bytes(c->co);
		chanops_rx_got(c->co, (size_t)n, (int32_t)pid);
		rconn_copied(c, COPY_OP_FRAMES,
		    chanops_rx_op_bytes(c->co) - op_before);
		rconn_run(c);
	}
}

static void
chan_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct chan *ch = arg;
	struct rconn *c = ch->c;

	rconn_hold(c);
	chan_read(ch);
	chan_update_read(ch);
	rconn_unhold(c);
}

/*
 * Read whatever the channel holds now. A Claim request may be handled
 * before the loop has read the CLAIM frame its sender wrote just before:
 * the control socket and the channel are separate events.
 */
void
chan_read_now(struct chan *ch)
{
	if (ch->fd != -1 && ch->reading && !ch->eof) {
		chan_on_read(ch->fd, EV_READ, ch);
	}
}

static void
chan_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct chan *ch = arg;
	struct rconn *c = ch->c;
	struct ucred uc;
	socklen_t sl = sizeof(uc);
	int fd, one = 1;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR) {
			log_warn("conn=%llu: accept on the data channel",
			    (unsigned long long)c->id);
		}
		return;
	}
	/* One-shot: the first connection wins and the path goes away. */
	chan_stop_listening(ch);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &sl) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0) {
		log_warn("conn=%llu: data channel credentials",
		    (unsigned long long)c->id);
		close(fd);
		rconn_channel_gone(c, RCONN_R_CHANNEL_ERROR,
		    "cannot read the data channel peer's credentials");
		return;
	}
	ch->read_ev = event_new(c->d->base, fd, EV_READ | EV_PERSIST,
	    chan_on_read, ch);
	ch->write_ev = event_new(c->d->base, fd, EV_WRITE | EV_PERSIST,
	    chan_on_write, ch);
	if (ch->read_ev == NULL || ch->write_ev == NULL) {
		close(fd);
		rconn_channel_gone(c, RCONN_R_NO_RESOURCES,
		    "cannot watch the data channel");
		return;
	}
	ch->fd = fd;
	ch->peer_pid = uc.pid;
	log_debug("conn=%llu: data channel connected by pid=%d uid=%d",
	    (unsigned long long)c->id, (int)uc.pid, (int)uc.uid);
	rconn_hold(c);
	rconn_channel_connected(c, uc.pid);
	chan_update_read(ch);
	chan_want_write(ch);
	rconn_unhold(c);
}
