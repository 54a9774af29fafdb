/* SPDX-License-Identifier: ISC */
/*
 * ctl.c: the control client (smbdirect-ctl.h; docs/PROTOCOL.md).
 *
 * One SOCK_SEQPACKET socket, one protobuf message per datagram. Requests
 * are synchronous: send a Request, then poll() until the Reply carrying
 * its id arrives or the timeout passes. The daemon answers in request
 * order, so a reply with another id is a late answer to an earlier
 * request that timed out, and is dropped. A reply with id 0 is the
 * daemon's answer to a datagram it could not decode (or that was too
 * large), which can only be the request in flight.
 *
 * Events are unsolicited and may arrive while a request waits; they are
 * converted and kept in a bounded queue (SDCTL_EVQ_MAX) that
 * sdctl_next_event() drains before it reads the socket again, so their
 * order is kept. When the queue is full, further events are dropped and
 * the next sdctl_next_event() reports -ENOBUFS once; the caller resyncs
 * with sdctl_list_connections(). (The daemon itself drops a client that
 * lets 256 datagrams queue, so this takes a badly stuck daemon.)
 *
 * The socket is non-blocking for the caller's event loop; no threads, no
 * signals (MSG_NOSIGNAL), no global state.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "libclient/chan.h"
#include "libclient/ctlmsg.h"
#include "libclient/io.h"
#include "libclient/smbdirect-ctl.h"
#include "smbdirect-ctl.pb-c.h"

#define SDCTL_TIMEOUT_MS	10000
#define SDCTL_EVQ_MAX		1024
#define SDCTL_RBUF_MIN		(64u * 1024)
#define SDCTL_RBUF_MAX		(4u * 1024 * 1024)
#define SDCTL_RCVBUF		(1024 * 1024)
#define SDCTL_CLAIM_WAIT_MS	2000

#define REQ(x)		SMBDIRECT__CTL__REQUEST__BODY_##x
#define REP(x)		SMBDIRECT__CTL__REPLY__BODY_##x
#define KIND(x)		SMBDIRECT__CTL__DAEMON_MESSAGE__KIND_##x

/*
 * The handle. Invariants: fd is open, non-blocking and close-on-exec for
 * the handle's life; evq holds evq_n events starting at evq_head in a
 * ring of evq_cap <= SDCTL_EVQ_MAX slots; dead is 0 until a read finds
 * end of file (everything the daemon sent has been read), then -EPIPE
 * for good; err is "" unless the last request was refused by the daemon.
 */
struct sdctl {
	int			 fd;
	unsigned		 timeout_ms;
	uint64_t		 last_id;
	int			 dead;
	uint8_t			*rbuf;
	size_t			 rbuf_cap;
	struct sdctl_event	*evq;
	unsigned		 evq_cap;
	unsigned		 evq_head;
	unsigned		 evq_n;
	bool			 evq_lost;
	char			 err[256];
};

static int
sdctl_new(int fd, struct sdctl **out)
{
	struct sdctl *ctl = NULL;
	int rcvbuf = SDCTL_RCVBUF, fl, rc;

	fl = fcntl(fd, F_GETFL);
	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		rc = -errno;
		goto out_close;
	}
	/* Big replies (status, metrics) arrive in one datagram. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		rc = -ENOMEM;
		goto out_close;
	}
	ctl->rbuf = malloc(SDCTL_RBUF_MIN);
	if (ctl->rbuf == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	ctl->rbuf_cap = SDCTL_RBUF_MIN;
	ctl->fd = fd;
	ctl->timeout_ms = SDCTL_TIMEOUT_MS;
	*out = ctl;
	rc = 0;
	goto out;

out_free:
	free(ctl);
out_close:
	close(fd);
out:
	return rc;
}

int
sdctl_connect(const char *path, struct sdctl **out)
{
	int fd;

	if (path == NULL) {
		path = SDCTL_DEFAULT_SOCKET;
	}
	if (out == NULL) {
		return -EINVAL;
	}
	fd = io_connect_unix(path, SOCK_SEQPACKET);
	if (fd < 0) {
		return fd;
	}
	/* Takes fd, on failure too. */
	return sdctl_new(fd, out);
}

int
sdctl_adopt(int fd, struct sdctl **out)
{
	int type = 0;
	socklen_t sl = sizeof(type);
	int rc;

	if (out == NULL) {
		rc = -EINVAL;
		goto out_close;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) != 0) {
		rc = -errno;
		goto out_close;
	}
	if (type != SOCK_SEQPACKET) {
		rc = -EPROTOTYPE;
		goto out_close;
	}
	/* Takes fd, on failure too. */
	rc = sdctl_new(fd, out);
	goto out;

out_close:
	if (fd >= 0) {
		close(fd);
	}
out:
	return rc;
}

void
sdctl_close(struct sdctl *ctl)
{
	if (ctl == NULL) {
		return;
	}
	close(ctl->fd);
	free(ctl->evq);
	free(ctl->rbuf);
	free(ctl);
}

int
sdctl_fd(const struct sdctl *ctl)
{
	return ctl->fd;
}

void
sdctl_set_timeout(struct sdctl *ctl, unsigned timeout_ms)
{
	ctl->timeout_ms = timeout_ms;
}

const char *
sdctl_last_error(const struct sdctl *ctl)
{
	return ctl->err;
}

/* ---------------------------------------------------------------------
 * Receiving
 * ------------------------------------------------------------------- */

static void
sdctl_evq_push(struct sdctl *ctl, const struct sdctl_event *ev)
{
	struct sdctl_event *n = NULL;
	unsigned cap, i;

	if (ctl->evq_n == ctl->evq_cap) {
		cap = ctl->evq_cap == 0 ? 16 : ctl->evq_cap * 2;
		if (cap > SDCTL_EVQ_MAX) {
			cap = SDCTL_EVQ_MAX;
		}
		if (cap > ctl->evq_cap) {
			n = calloc(cap, sizeof(*n));
		}
		if (n == NULL) {
			ctl->evq_lost = true;
			goto out;
		}
		for (i = 0; i < ctl->evq_n; i++) {
			n[i] = ctl->evq[(ctl->evq_head + i) % ctl->evq_cap];
		}
		free(ctl->evq);
		ctl->evq = n;
		ctl->evq_cap = cap;
		ctl->evq_head = 0;
	}
	ctl->evq[(ctl->evq_head + ctl->evq_n) % ctl->evq_cap] = *ev;
	ctl->evq_n++;
out:
	return;
}

/*
 * Read one datagram without blocking.
 * Return: 1 with *out (the caller frees it), 0 when nothing is waiting,
 * -EPIPE (the daemon closed), -EPROTO (undecodable or larger than
 * SDCTL_RBUF_MAX; consumed), -ENOMEM, or the recv() error.
 *
 * No short cut on ctl->dead: after the daemon closed, what it sent before
 * is still queued, and recv() reports end of file again after it.
 */
static int
sdctl_recv(struct sdctl *ctl, Smbdirect__Ctl__DaemonMessage **out)
{
	Smbdirect__Ctl__DaemonMessage *dm;
	uint8_t *nbuf;
	ssize_t n;
	int rc;

	do {
		n = recv(ctl->fd, ctl->rbuf, ctl->rbuf_cap,
		    MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			rc = 0;
		} else if (errno == ECONNRESET) {
			rc = ctl->dead = -EPIPE;
		} else {
			rc = -errno;
		}
		goto out;
	}
	if (n == 0) {
		/* SOCK_SEQPACKET end of file; the daemon never sends 0. */
		rc = ctl->dead = -EPIPE;
		goto out;
	}
	if ((size_t)n > ctl->rbuf_cap) {
		if ((size_t)n > SDCTL_RBUF_MAX) {
			/* Consume it: the next read must not meet it again. */
			(void)recv(ctl->fd, ctl->rbuf, 1, MSG_DONTWAIT);
			rc = -EPROTO;
			goto out;
		}
		nbuf = realloc(ctl->rbuf, (size_t)n);
		if (nbuf == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		ctl->rbuf = nbuf;
		ctl->rbuf_cap = (size_t)n;
	}
	n = recv(ctl->fd, ctl->rbuf, ctl->rbuf_cap, MSG_DONTWAIT | MSG_TRUNC);
	if (n <= 0 || (size_t)n > ctl->rbuf_cap) {
		/* Nobody else reads this socket: the peeked datagram is it. */
		rc = n < 0 ? -errno : -EPROTO;
		goto out;
	}
	dm = smbdirect__ctl__daemon_message__unpack(NULL, (size_t)n,
	    ctl->rbuf);
	if (dm == NULL) {
		rc = -EPROTO;
		goto out;
	}
	*out = dm;
	rc = 1;
out:
	return rc;
}

/* Queue @dm's event; unknown event kinds from a newer daemon are ignored. */
static void
sdctl_take_event(struct sdctl *ctl, const Smbdirect__Ctl__DaemonMessage *dm)
{
	struct sdctl_event ev;

	if (ctlmsg_event(dm->event, &ev) == 0) {
		sdctl_evq_push(ctl, &ev);
	}
}

int
sdctl_next_event(struct sdctl *ctl, struct sdctl_event *out)
{
	Smbdirect__Ctl__DaemonMessage *dm = NULL;
	int rc;

	for (;;) {
		if (ctl->evq_lost) {
			ctl->evq_lost = false;
			rc = -ENOBUFS;
			break;
		}
		if (ctl->evq_n > 0) {
			*out = ctl->evq[ctl->evq_head];
			ctl->evq_head = (ctl->evq_head + 1) % ctl->evq_cap;
			ctl->evq_n--;
			rc = 1;
			break;
		}
		rc = sdctl_recv(ctl, &dm);
		if (rc <= 0) {
			break;
		}
		/* Replies here answer requests that timed out: dropped. */
		if (dm->kind_case == KIND(EVENT)) {
			sdctl_take_event(ctl, dm);
		}
		smbdirect__ctl__daemon_message__free_unpacked(dm, NULL);
		dm = NULL;
	}
	return rc;
}

/* ---------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------- */

static uint64_t
sdctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for @events until @deadline (0: forever). */
static int
sdctl_wait(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd;
	uint64_t now;
	int n, left;

	for (;;) {
		left = -1;
		if (deadline != 0) {
			now = sdctl_now_ms();
			left = now >= deadline ? 0 : (int)(deadline - now);
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left);
		if (n >= 0 || errno != EINTR) {
			break;
		}
	}
	return n > 0 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

static int
sdctl_send(struct sdctl *ctl, const Smbdirect__Ctl__Request *req,
    uint64_t deadline)
{
	size_t len = smbdirect__ctl__request__get_packed_size(req);
	uint8_t *buf = NULL;
	ssize_t n;
	int rc;

	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	smbdirect__ctl__request__pack(req, buf);
	for (;;) {
		n = send(ctl->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			rc = 0;
			break;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			rc = sdctl_wait(ctl->fd, POLLOUT, deadline);
			if (rc != 0) {
				break;
			}
			continue;
		}
		/* ctl->dead is set once recv() has drained to end of file. */
		rc = errno == ECONNRESET ? -EPIPE : -errno;
		break;
	}
out:
	free(buf);
	return rc;
}

/*
 * Is @dm the reply to request @id? A reply with id 0 and an error is the
 * daemon's answer to a datagram it could not decode: the request in
 * flight, since the daemon answers in order.
 */
static bool
sdctl_is_reply(const Smbdirect__Ctl__DaemonMessage *dm, uint64_t id)
{
	return dm->kind_case == KIND(REPLY) && (dm->reply->id == id ||
	    (dm->reply->id == 0 && dm->reply->status != 0));
}

/*
 * Send @req (its version and id are set here) and wait for its reply.
 * @want is the reply body a success must carry (NOT_SET: none needed).
 * Return: 0 with *out (free with daemon_message__free_unpacked), the
 * daemon's negative status (its message in ctl->err), or a transport
 * error.
 */
static int
sdctl_call(struct sdctl *ctl, Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply__BodyCase want,
    Smbdirect__Ctl__DaemonMessage **out)
{
	Smbdirect__Ctl__DaemonMessage *dm = NULL;
	const Smbdirect__Ctl__Reply *rep;
	uint64_t deadline = 0;
	int rc;

	ctl->err[0] = '\0';
	if (ctl->dead != 0) {
		rc = ctl->dead;
		goto out;
	}
	if (ctl->timeout_ms != 0) {
		deadline = sdctl_now_ms() + ctl->timeout_ms;
	}
	req->version = SMBDIRECT__CTL__VERSION__VERSION_1;
	req->id = ++ctl->last_id;
	rc = sdctl_send(ctl, req, deadline);
	if (rc != 0) {
		goto out;
	}
	for (;;) {
		rc = sdctl_recv(ctl, &dm);
		if (rc < 0) {
			goto out;
		}
		if (rc == 0) {
			rc = sdctl_wait(ctl->fd, POLLIN, deadline);
			if (rc != 0) {
				goto out;
			}
			continue;
		}
		if (sdctl_is_reply(dm, req->id)) {
			break;
		}
		if (dm->kind_case == KIND(EVENT)) {
			sdctl_take_event(ctl, dm);
		}
		smbdirect__ctl__daemon_message__free_unpacked(dm, NULL);
		dm = NULL;
	}
	rep = dm->reply;
	if (rep->status != 0) {
		ctlmsg_str(ctl->err, sizeof(ctl->err), rep->message);
		rc = rep->status < 0 ? rep->status : -EPROTO;
	} else if (want != SMBDIRECT__CTL__REPLY__BODY__NOT_SET &&
	    rep->body_case != want) {
		rc = -EPROTO;
	} else {
		*out = dm;
		dm = NULL;
		rc = 0;
	}
out:
	if (dm != NULL) {
		smbdirect__ctl__daemon_message__free_unpacked(dm, NULL);
	}
	return rc;
}

/* A request whose successful reply carries nothing we need. */
static int
sdctl_call_simple(struct sdctl *ctl, Smbdirect__Ctl__Request *req)
{
	Smbdirect__Ctl__DaemonMessage *dm = NULL;
	int rc;

	rc = sdctl_call(ctl, req, SMBDIRECT__CTL__REPLY__BODY__NOT_SET, &dm);
	if (dm != NULL) {
		smbdirect__ctl__daemon_message__free_unpacked(dm, NULL);
	}
	return rc;
}

int
sdctl_register(struct sdctl *ctl, enum sdctl_role role, const char *name,
    bool *read_only)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__Register r = SMBDIRECT__CTL__REGISTER__INIT;
	Smbdirect__Ctl__DaemonMessage *dm = NULL;
	int rc;

	ctl->err[0] = '\0';
	switch (role) {
	case SDCTL_ROLE_MASTER:
		r.role = SMBDIRECT__CTL__ROLE__ROLE_MASTER;
		break;
	case SDCTL_ROLE_OWNER:
		r.role = SMBDIRECT__CTL__ROLE__ROLE_OWNER;
		break;
	case SDCTL_ROLE_ADMIN:
		r.role = SMBDIRECT__CTL__ROLE__ROLE_ADMIN;
		break;
	default:
		rc = -EINVAL;
		goto out;
	}
	r.name = (char *)(name != NULL ? name : "");
	req.body_case = REQ(REGISTER);
	req.register_ = &r;
	rc = sdctl_call(ctl, &req, REP(REGISTER), &dm);
	if (rc != 0) {
		goto out;
	}
	if (read_only != NULL) {
		*read_only = dm->reply->register_->read_only;
	}
	smbdirect__ctl__daemon_message__free_unpacked(dm, NULL);
out:
	return rc;
}

int
sdctl_subscribe(struct sdctl *ctl, const enum sdctl_event_kind *kinds,
    size_t n)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__Subscribe s = SMBDIRECT__CTL__SUBSCRIBE__INIT;
	Smbdirect__Ctl__EventKind *k = NULL;
	size_t i;
	int rc;

	ctl->err[0] = '\0';
	if (n > 0 && kinds == NULL) {
		rc = -EINVAL;
		goto out;
	}
	if (n > 0) {
		k = calloc(n, sizeof(*k));
		if (k == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		/* The public values are the wire's; the daemon checks them. */
		for (i = 0; i < n; i++) {
			k[i] = (Smbdirect__Ctl__EventKind)kinds[i];
		}
	}
	s.n_kinds = n;
	s.kinds = k;
	req.body_case = REQ(SUBSCRIBE);
	req.subscribe = &s;
	rc = sdctl_call_simple(ctl, &req);
out:
	free(k);
	return rc;
}

int
sdctl_status(struct sdctl *ctl, struct sdctl_status *out)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__StatusRequest s = SMBDIRECT__CTL__STATUS_REQUEST__INIT;
	Smbdirect__Ctl__DaemonMessage *dm = NULL;
	int rc;

	req.body_case = REQ(STATUS);
	req.status = &s;
	rc = sdctl_call(ctl, &req, REP(STATUS_REPLY), &dm);
	if (rc == 0) {
		rc = ctlmsg_status(dm->reply->status_reply, out);
		smbdirect__ctl__daemon_message__free_unpacked(dm, NULL);
	}
	return rc;
}

void
sdctl_status_free(struct sdctl_status *st)
{
	if (st == NULL) {
		return;
	}
	free(st->listeners);
	free(st->devices);
	st->listeners = NULL;
	st->n_listeners = 0;
	st->devices = NULL;
	st->n_devices = 0;
}

int
sdctl_list_connections(struct sdctl *ctl, struct sdctl_conn **out,
    size_t *n_out)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__ListConnections l =
	    SMBDIRECT__CTL__LIST_CONNECTIONS__INIT;
	Smbdirect__Ctl__DaemonMessage *dm = NULL;
	const Smbdirect__Ctl__ConnectionList *cl;
	struct sdctl_conn *v = NULL;
	size_t i, n = 0;
	int rc;

	req.body_case = REQ(LIST_CONNECTIONS);
	req.list_connections = &l;
	rc = sdctl_call(ctl, &req, REP(CONNECTIONS), &dm);
	if (rc != 0) {
		goto out;
	}
	cl = dm->reply->connections;
	if (cl->n_connections > 0) {
		v = calloc(cl->n_connections, sizeof(*v));
		if (v == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < cl->n_connections; i++) {
		if (cl->connections[i] != NULL) {
			ctlmsg_conn(cl->connections[i], &v[n++]);
		}
	}
	*out = v;
	*n_out = n;
out:
	if (dm != NULL) {
		smbdirect__ctl__daemon_message__free_unpacked(dm, NULL);
	}
	return rc;
}

int
sdctl_get_connection(struct sdctl *ctl, uint64_t id, struct sdctl_conn *out)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__GetConnection g = SMBDIRECT__CTL__GET_CONNECTION__INIT;
	Smbdirect__Ctl__DaemonMessage *dm = NULL;
	int rc;

	g.conn_id = id;
	req.body_case = REQ(GET_CONNECTION);
	req.get_connection = &g;
	rc = sdctl_call(ctl, &req, REP(CONNECTION), &dm);
	if (rc == 0) {
		ctlmsg_conn(dm->reply->connection, out);
		smbdirect__ctl__daemon_message__free_unpacked(dm, NULL);
	}
	return rc;
}

int
sdctl_list_interfaces(struct sdctl *ctl, struct sdctl_iface **out,
    size_t *n_out)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__ListInterfaces l =
	    SMBDIRECT__CTL__LIST_INTERFACES__INIT;
	Smbdirect__Ctl__DaemonMessage *dm = NULL;
	const Smbdirect__Ctl__InterfaceList *il;
	struct sdctl_iface *v = NULL;
	size_t i, n = 0;
	int rc;

	req.body_case = REQ(LIST_INTERFACES);
	req.list_interfaces = &l;
	rc = sdctl_call(ctl, &req, REP(INTERFACES), &dm);
	if (rc != 0) {
		goto out;
	}
	il = dm->reply->interfaces;
	if (il->n_interfaces > 0) {
		v = calloc(il->n_interfaces, sizeof(*v));
		if (v == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < il->n_interfaces; i++) {
		if (il->interfaces[i] != NULL) {
			ctlmsg_iface(il->interfaces[i], &v[n++]);
		}
	}
	*out = v;
	*n_out = n;
out:
	if (dm != NULL) {
		smbdirect__ctl__daemon_message__free_unpacked(dm, NULL);
	}
	return rc;
}

int
sdctl_hand_off(struct sdctl *ctl, uint64_t id, pid_t to_pid)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__HandOff h = SMBDIRECT__CTL__HAND_OFF__INIT;
	int rc;

	ctl->err[0] = '\0';
	if (to_pid <= 0) {
		rc = -EINVAL;
		goto out;
	}
	h.conn_id = id;
	h.to_pid = (uint32_t)to_pid;
	req.body_case = REQ(HAND_OFF);
	req.hand_off = &h;
	rc = sdctl_call_simple(ctl, &req);
out:
	return rc;
}

/*
 * Wait, up to @timeout_ms (0: SDCTL_CLAIM_WAIT_MS), until the daemon has
 * read everything this process wrote on the data channel.
 *
 * Why: the daemon watches the data channel and the control socket as two
 * independent events, so a Claim request could be dispatched before the
 * CLAIM frame written just before it is read, and be refused. A UNIX
 * socket's SIOCOUTQ counts the bytes the peer has not consumed yet; the
 * daemon handles an operation frame in the same callback that reads it,
 * so once it reaches 0 the frame has been seen. If it does not get there
 * in time (the daemon has stopped reading the channel), the request goes
 * anyway and the daemon's answer tells.
 */
static void
sdctl_wait_consumed(int fd, unsigned timeout_ms)
{
	struct timespec ts = { 0, 100 * 1000 };
	uint64_t deadline;
	int queued;

	if (timeout_ms == 0 || timeout_ms > SDCTL_CLAIM_WAIT_MS) {
		timeout_ms = SDCTL_CLAIM_WAIT_MS;
	}
	deadline = sdctl_now_ms() + timeout_ms;
	while (ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0 &&
	    sdctl_now_ms() < deadline) {
		nanosleep(&ts, NULL);
		if (ts.tv_nsec < 10 * 1000 * 1000) {
			ts.tv_nsec *= 2;
		}
	}
}

int
sdctl_claim(struct sdctl *ctl, int chan_fd, uint64_t id)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__Claim c = SMBDIRECT__CTL__CLAIM__INIT;
	int rc;

	ctl->err[0] = '\0';
	rc = chan_write_claim(chan_fd, id);
	if (rc != 0) {
		goto out;
	}
	sdctl_wait_consumed(chan_fd, ctl->timeout_ms);
	c.conn_id = id;
	req.body_case = REQ(CLAIM);
	req.claim = &c;
	rc = sdctl_call_simple(ctl, &req);
out:
	return rc;
}

int
sdctl_drain(struct sdctl *ctl, uint64_t id, uint32_t grace_ms)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__Drain d = SMBDIRECT__CTL__DRAIN__INIT;

	d.conn_id = id;
	d.grace_ms = grace_ms;
	req.body_case = REQ(DRAIN);
	req.drain = &d;
	return sdctl_call_simple(ctl, &req);
}

int
sdctl_undrain(struct sdctl *ctl)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__Undrain u = SMBDIRECT__CTL__UNDRAIN__INIT;

	req.body_case = REQ(UNDRAIN);
	req.undrain = &u;
	return sdctl_call_simple(ctl, &req);
}

int
sdctl_kill(struct sdctl *ctl, uint64_t id)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__Kill k = SMBDIRECT__CTL__KILL__INIT;

	k.conn_id = id;
	req.body_case = REQ(KILL);
	req.kill = &k;
	return sdctl_call_simple(ctl, &req);
}

int
sdctl_metrics(struct sdctl *ctl, char **out)
{
	Smbdirect__Ctl__Request req = SMBDIRECT__CTL__REQUEST__INIT;
	Smbdirect__Ctl__MetricsRequest m =
	    SMBDIRECT__CTL__METRICS_REQUEST__INIT;
	Smbdirect__Ctl__DaemonMessage *dm = NULL;
	const char *text;
	char *copy;
	int rc;

	req.body_case = REQ(METRICS);
	req.metrics = &m;
	rc = sdctl_call(ctl, &req, REP(METRICS), &dm);
	if (rc != 0) {
		goto out;
	}
	text = dm->reply->metrics->text;
	copy = strdup(text != NULL ? text : "");
	smbdirect__ctl__daemon_message__free_unpacked(dm, NULL);
	if (copy == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	*out = copy;
out:
	return rc;
}
