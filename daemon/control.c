/* SPDX-License-Identifier: ISC */
/*
 * control.c: the control socket (see control.h and docs/PROTOCOL.md).
 *
 * Shaped after OpenSMTPD's control.c. The socket refuses to start if
 * another daemon answers on its path. Every client's kernel credentials are
 * read at accept; roles are granted against them, never against what a
 * client says about itself. Clients are capped in total and per uid, one
 * descriptor is kept in reserve to shed a client when the process runs out
 * (EMFILE), and accept pauses for a second when that happens. Each client
 * is a peer (peer.h): its write event is armed only while its queue is
 * non-empty, and descriptors sent to the daemon are closed there. A client
 * that lets its queue grow past CTL_MAX_QUEUE is dropped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/peer.h"

#define O_REQ(x)	SMBDIRECT__CTL__REQUEST__BODY_##x

enum {
	R_MASTER = 1u << CTL_ROLE_MASTER,
	R_OWNER = 1u << CTL_ROLE_OWNER,
	R_ADMIN = 1u << CTL_ROLE_ADMIN,
};

/*
 * The command table: who may send what. `roles` 0 means any client, even
 * one without a role (only Register). `write` requests need an admin that
 * is not read-only (masters may also use them).
 */
static const struct ctl_cmd {
	Smbdirect__Ctl__Request__BodyCase	 body;
	const char				*name;
	ctl_handler_fn				 fn;
	unsigned				 roles;
	bool					 write;
} ctl_cmds[] = {
	{ O_REQ(REGISTER), "register", master_register, 0, false },
	{ O_REQ(SUBSCRIBE), "subscribe", master_subscribe,
	    R_MASTER | R_OWNER | R_ADMIN, false },
	{ O_REQ(STATUS), "status", admin_status,
	    R_MASTER | R_OWNER | R_ADMIN, false },
	{ O_REQ(LIST_CONNECTIONS), "list_connections", admin_list,
	    R_MASTER | R_ADMIN, false },
	{ O_REQ(GET_CONNECTION), "get_connection", admin_get,
	    R_MASTER | R_OWNER | R_ADMIN, false },
	{ O_REQ(HAND_OFF), "hand_off", master_hand_off, R_MASTER | R_OWNER,
	    false },
	{ O_REQ(CLAIM), "claim", master_claim, R_MASTER | R_OWNER, false },
	{ O_REQ(LIST_INTERFACES), "list_interfaces", admin_interfaces,
	    R_MASTER | R_OWNER | R_ADMIN, false },
	{ O_REQ(DRAIN), "drain", admin_drain, R_MASTER | R_ADMIN, true },
	{ O_REQ(UNDRAIN), "undrain", admin_undrain, R_MASTER | R_ADMIN,
	    true },
	{ O_REQ(KILL), "kill", admin_kill, R_MASTER | R_ADMIN, true },
	{ O_REQ(METRICS), "metrics", admin_metrics, R_MASTER | R_ADMIN,
	    false },
};

static void	control_on_accept(evutil_socket_t, short, void *);
static void	control_on_read(struct peer *, void *);
static void	control_on_error(struct peer *, void *, int);
static void	control_drop(struct ctl_client *, const char *why);

static const struct peer_cb control_peer_cb = {
	.read = control_on_read,
	.error = control_on_error,
};

const char *
control_role_name(enum ctl_role r)
{
	switch (r) {
	case CTL_ROLE_MASTER:
		return "master";
	case CTL_ROLE_OWNER:
		return "owner";
	case CTL_ROLE_ADMIN:
		return "admin";
	case CTL_ROLE_NONE:
		break;
	}
	return "none";
}

static bool
ids_match(const struct conf_ids *ids, const struct ctl_client *cl)
{
	unsigned i, j;

	for (i = 0; i < ids->n_uids; i++) {
		if (ids->uids[i] == cl->cred.uid) {
			return true;
		}
	}
	for (i = 0; i < ids->n_gids; i++) {
		if (ids->gids[i] == cl->cred.gid) {
			return true;
		}
		for (j = 0; j < cl->n_groups; j++) {
			if (ids->gids[i] == cl->groups[j]) {
				return true;
			}
		}
	}
	return false;
}

/*
 * May @cl take @role? Root always may. Admins listed only under
 * readonly_users/readonly_groups get a read-only admin role.
 */
bool
control_allowed(const struct ctl_client *cl, enum ctl_role role,
    bool *read_only)
{
	const struct conf *cfg = &cl->ctl->d->cfg;

	*read_only = false;
	if (cl->cred.uid == 0) {
		return true;
	}
	switch (role) {
	case CTL_ROLE_MASTER:
		return ids_match(&cfg->master, cl);
	case CTL_ROLE_OWNER:
		return ids_match(&cfg->owner, cl) ||
		    ids_match(&cfg->master, cl);
	case CTL_ROLE_ADMIN:
		if (ids_match(&cfg->admin, cl)) {
			return true;
		}
		if (ids_match(&cfg->readonly, cl)) {
			*read_only = true;
			return true;
		}
		return false;
	case CTL_ROLE_NONE:
		break;
	}
	return false;
}

/* ---------------------------------------------------------------------
 * Sending
 * ------------------------------------------------------------------- */

/*
 * Queue one datagram and write what the socket takes now. A write error
 * is not the caller's: the peer reports it from the loop
 * (control_on_error()), which drops the client.
 */
int
control_send(struct ctl_client *cl, const Smbdirect__Ctl__DaemonMessage *dm)
{
	size_t len = smbdirect__ctl__daemon_message__get_packed_size(dm);
	size_t queued;
	uint8_t *buf;
	int rc;

	if (cl->peer == NULL) {
		return -EPIPE;
	}
	queued = peer_queued(cl->peer, NULL);
	if (queued >= CTL_MAX_QUEUE) {
		log_warnx("pid=%d: control client stopped reading (%zu "
		    "messages queued); dropping it", (int)cl->cred.pid,
		    queued);
		return -ENOBUFS;
	}
	buf = malloc(len);
	if (buf == NULL) {
		return -ENOMEM;
	}
	len = smbdirect__ctl__daemon_message__pack(dm, buf);
	rc = peer_queue(cl->peer, NULL, 0, buf, len, -1, peer_release_free,
	    buf);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	rc = peer_flush(cl->peer);
	if (rc != 0) {
		log_debug("pid=%d: control send: %s", (int)cl->cred.pid,
		    strerror(-rc));
	}
	return 0;
}

static void
control_on_error(struct peer *p, void *arg, int err)
{
	struct ctl_client *cl = arg;

	log_debug("pid=%d: control write: %s", (int)cl->cred.pid,
	    strerror(-err));
	control_drop(cl, "write failed");
}

static void
control_reply(struct ctl_client *cl, Smbdirect__Ctl__Reply *rep)
{
	Smbdirect__Ctl__DaemonMessage dm = SMBDIRECT__CTL__DAEMON_MESSAGE__INIT;

	dm.kind_case = SMBDIRECT__CTL__DAEMON_MESSAGE__KIND_REPLY;
	dm.reply = rep;
	if (control_send(cl, &dm) != 0) {
		control_drop(cl, "cannot queue a reply");
	}
}

static void
control_error(struct ctl_client *cl, uint64_t id, int status,
    const char *msg)
{
	Smbdirect__Ctl__Reply rep = SMBDIRECT__CTL__REPLY__INIT;

	rep.id = id;
	rep.status = status;
	rep.message = (char *)msg;
	control_reply(cl, &rep);
}

/*
 * Send an event to every subscriber that may see it. NEW_CONNECTION goes
 * to the master only; DRAIN_REQUESTED for one connection goes to the
 * master and to clients running as its owner (@owner_pid).
 */
void
control_event(struct daemon *d, Smbdirect__Ctl__EventKind kind,
    Smbdirect__Ctl__Event *ev, uint32_t owner_pid)
{
	Smbdirect__Ctl__DaemonMessage dm = SMBDIRECT__CTL__DAEMON_MESSAGE__INIT;
	struct ctl_client *cl, *tmp;

	if (d->control == NULL) {
		return;
	}
	dm.kind_case = SMBDIRECT__CTL__DAEMON_MESSAGE__KIND_EVENT;
	dm.event = ev;
	TAILQ_FOREACH_SAFE(cl, &d->control->clients, entry, tmp) {
		if (!(cl->sub_mask & (1u << kind))) {
			continue;
		}
		if (kind == SMBDIRECT__CTL__EVENT_KIND__EVENT_KIND_NEW_CONNECTION &&
		    cl != d->control->master) {
			continue;
		}
		if (cl->role == CTL_ROLE_OWNER &&
		    (owner_pid == 0 || (uint32_t)cl->cred.pid != owner_pid)) {
			continue;
		}
		if (control_send(cl, &dm) != 0) {
			control_drop(cl, "event queue overflow");
		}
	}
}

/* ---------------------------------------------------------------------
 * Receiving
 * ------------------------------------------------------------------- */

static void
control_dispatch(struct ctl_client *cl, const uint8_t *buf, size_t len)
{
	struct daemon *d = cl->ctl->d;
	Smbdirect__Ctl__Request *req = NULL;
	Smbdirect__Ctl__Reply rep = SMBDIRECT__CTL__REPLY__INIT;
	const struct ctl_cmd *cmd = NULL;
	struct arena a = { 0 };
	char msg[200];
	size_t i;
	int rc;

	req = smbdirect__ctl__request__unpack(NULL, len, buf);
	if (req == NULL) {
		metrics_count(&d->metrics, MF_ERRORS, "control_bad_message", 1);
		snprintf(msg, sizeof(msg), "cannot decode a %zu-byte datagram "
		    "as a Request", len);
		control_error(cl, 0, -EBADMSG, msg);
		return;
	}
	if (req->version != CTL_VERSION) {
		metrics_count(&d->metrics, MF_ERRORS, "control_bad_version", 1);
		snprintf(msg, sizeof(msg), "control protocol version %u is not "
		    "supported (this daemon speaks %d)", req->version,
		    CTL_VERSION);
		control_error(cl, req->id, -EPROTONOSUPPORT, msg);
		goto out;
	}
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		if (ctl_cmds[i].body == req->body_case) {
			cmd = &ctl_cmds[i];
			break;
		}
	}
	if (cmd == NULL) {
		snprintf(msg, sizeof(msg), "request %llu has no known body "
		    "(field %d)", (unsigned long long)req->id,
		    (int)req->body_case);
		control_error(cl, req->id, -EINVAL, msg);
		goto out;
	}
	if (cmd->roles != 0 && !(cmd->roles & (1u << cl->role))) {
		snprintf(msg, sizeof(msg), "%s: not allowed for role %s%s",
		    cmd->name, control_role_name(cl->role),
		    cl->role == CTL_ROLE_NONE ? " (register first)" : "");
		control_error(cl, req->id, -EPERM, msg);
		goto out;
	}
	if (cmd->write && cl->role == CTL_ROLE_ADMIN && cl->read_only) {
		snprintf(msg, sizeof(msg), "%s: read-only admins may not do "
		    "this", cmd->name);
		control_error(cl, req->id, -EPERM, msg);
		goto out;
	}
	rep.id = req->id;
	rc = cmd->fn(cl, req, &rep, &a);
	if (a.failed) {
		rep.body_case = SMBDIRECT__CTL__REPLY__BODY__NOT_SET;
		rc = -ENOMEM;
		rep.message = (char *)"out of memory building the reply";
	}
	rep.status = rc;
	if (rc != 0 && (rep.message == NULL || rep.message[0] == '\0')) {
		snprintf(msg, sizeof(msg), "%s: %s", cmd->name, strerror(-rc));
		rep.message = msg;
	}
	log_debug("pid=%d: %s -> %d", (int)cl->cred.pid, cmd->name, rc);
	/* The handler may have dropped the client (it cannot today). */
	control_reply(cl, &rep);
	arena_clear(&a);
out:
	smbdirect__ctl__request__free_unpacked(req, NULL);
}

static void
control_on_read(struct peer *p, void *arg)
{
	struct ctl_client *cl = arg;
	struct control *ctl = cl->ctl;
	char err[160];
	ssize_t n;

	for (;;) {
		/*
		 * The control channel carries no descriptors: peer_recv()
		 * closes any. A datagram's full length comes back (MSG_TRUNC).
		 */
		n = peer_recv(cl->peer, ctl->rbuf, ctl->rbuf_len, false, NULL);
		if (n == -EAGAIN) {
			return;
		}
		if (n < 0) {
			control_drop(cl, "read failed");
			return;
		}
		if (n == 0) {
			control_drop(cl, NULL);
			return;
		}
		if ((size_t)n > ctl->d->cfg.max_control_message) {
			metrics_count(&ctl->d->metrics, MF_ERRORS,
			    "control_oversized", 1);
			snprintf(err, sizeof(err), "datagram of %zd bytes "
			    "exceeds max_control_message (%u)", n,
			    ctl->d->cfg.max_control_message);
			control_error(cl, 0, -EMSGSIZE, err);
			continue;
		}
		control_dispatch(cl, ctl->rbuf, (size_t)n);
		if (cl->peer == NULL) {
			return;
		}
	}
}

/* ---------------------------------------------------------------------
 * Clients
 * ------------------------------------------------------------------- */

static void
control_client_free(struct ctl_client *cl)
{
	peer_free(cl->peer);
	free(cl);
}

/*
 * Remove a client. Its memory is freed from a deferred event, not here:
 * the caller may be a read handler still looking at the client.
 */
static void
control_on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;
	struct ctl_client *cl;

	while ((cl = TAILQ_FIRST(&ctl->dead)) != NULL) {
		TAILQ_REMOVE(&ctl->dead, cl, entry);
		control_client_free(cl);
	}
}

static void
control_drop(struct ctl_client *cl, const char *why)
{
	struct control *ctl = cl->ctl;

	if (cl->peer == NULL) {
		return;
	}
	if (why != NULL) {
		log_warnx("pid=%d: control client (%s) dropped: %s",
		    (int)cl->cred.pid, control_role_name(cl->role), why);
	} else {
		log_debug("pid=%d: control client (%s) disconnected",
		    (int)cl->cred.pid, control_role_name(cl->role));
	}
	TAILQ_REMOVE(&ctl->clients, cl, entry);
	ctl->n_clients--;
	master_client_gone(cl);
	peer_free(cl->peer);
	cl->peer = NULL;
	TAILQ_INSERT_TAIL(&ctl->dead, cl, entry);
	event_active(ctl->reap_ev, EV_TIMEOUT, 0);
	if (ctl->listen_ev != NULL &&
	    !event_pending(ctl->listen_ev, EV_READ, NULL) &&
	    !event_pending(ctl->resume_ev, EV_TIMEOUT, NULL)) {
		event_add(ctl->listen_ev, NULL);
	}
}

static unsigned
clients_of_uid(struct control *ctl, uid_t uid)
{
	struct ctl_client *cl;
	unsigned n = 0;

	TAILQ_FOREACH(cl, &ctl->clients, entry) {
		if (cl->cred.uid == uid) {
			n++;
		}
	}
	return n;
}

static int
control_add_client(struct control *ctl, int fd, bool inherited)
{
	struct ctl_client *cl = NULL;
	socklen_t sl;
	unsigned cap = ctl->d->cfg.max_control_clients;
	int rc;

	cl = calloc(1, sizeof(*cl));
	if (cl == NULL) {
		close(fd);
		return -ENOMEM;
	}
	cl->ctl = ctl;
	cl->inherited = inherited;
	/* The peer reads SO_PEERCRED, and owns (and closes) fd from here. */
	rc = peer_new(ctl->d->base, fd, 0, &control_peer_cb, cl, &cl->peer);
	if (rc != 0) {
		log_warnx("control: cannot take a client: %s", strerror(-rc));
		control_client_free(cl);
		return rc;
	}
	cl->cred = *peer_cred(cl->peer);
	sl = sizeof(cl->groups);
	if (getsockopt(peer_fd(cl->peer), SOL_SOCKET, SO_PEERGROUPS,
	    cl->groups, &sl) == 0) {
		cl->n_groups = sl / sizeof(gid_t);
	}
	if (ctl->n_clients >= cap) {
		log_warnx("pid=%d: control client refused: max_control_clients "
		    "(%u) reached", (int)cl->cred.pid, cap);
		metrics_count(&ctl->d->metrics, MF_ERRORS,
		    "control_too_many_clients", 1);
		control_client_free(cl);
		return -EMFILE;
	}
	/* Non-root uids get a quarter of the slots each. */
	if (cl->cred.uid != 0 &&
	    clients_of_uid(ctl, cl->cred.uid) >= (cap / 4 > 0 ? cap / 4 : 1)) {
		log_warnx("pid=%d: control client refused: uid %d already has "
		    "%u connections", (int)cl->cred.pid, (int)cl->cred.uid,
		    clients_of_uid(ctl, cl->cred.uid));
		metrics_count(&ctl->d->metrics, MF_ERRORS,
		    "control_too_many_per_uid", 1);
		control_client_free(cl);
		return -EMFILE;
	}
	TAILQ_INSERT_TAIL(&ctl->clients, cl, entry);
	ctl->n_clients++;
	ctl->d->metrics.control_clients_total++;
	log_debug("pid=%d: control client uid=%d%s", (int)cl->cred.pid,
	    (int)cl->cred.uid, inherited ? " (inherited fd)" : "");
	return 0;
}

static void
control_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;

	event_add(ctl->listen_ev, NULL);
}

static void
control_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct control *ctl = arg;
	struct timeval tv = { 1, 0 };
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/* Shed the pending client with the reserve fd. */
			log_warnx("control: out of file descriptors; pausing "
			    "accept for 1s");
			if (ctl->reserve_fd != -1) {
				close(ctl->reserve_fd);
				fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
				if (fd != -1) {
					close(fd);
				}
				ctl->reserve_fd = open("/dev/null",
				    O_RDONLY | O_CLOEXEC);
			}
			event_del(ctl->listen_ev);
			evtimer_add(ctl->resume_ev, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED) {
			log_warn("control: accept");
		}
		return;
	}
	control_add_client(ctl, fd, false);
}

static int
control_listen(struct control *ctl, const char *path)
{
	struct sockaddr_un sun;
	char dir[sizeof(sun.sun_path)], *slash;
	int fd = -1, probe;
	mode_t old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control socket path too long: %s", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			log_warn("mkdir %s", dir);
			return -1;
		}
	}

	/* Refuse to start if another daemon answers on this path. */
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe == -1) {
		log_warn("control: socket");
		return -1;
	}
	if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(probe);
		log_warnx("control socket %s: another smbdirectd is running",
		    path);
		return -1;
	}
	close(probe);
	if (unlink(path) != 0 && errno != ENOENT) {
		log_warn("unlink %s", path);
		return -1;
	}

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("control: socket");
		return -1;
	}
	old = umask(0111);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		umask(old);
		log_warn("control: bind %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	/*
	 * 0666: anyone may connect, and nobody gets anything without a
	 * role, which is granted from kernel credentials alone.
	 */
	if (chmod(path, 0666) != 0 || listen(fd, 16) != 0) {
		log_warn("control: listen %s", path);
		unlink(path);
		close(fd);
		return -1;
	}
	ctl->listen_fd = fd;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	return 0;
}

int
control_init(struct daemon *d, int inherited_fd)
{
	struct control *ctl;
	int type = 0;
	socklen_t sl = sizeof(type);

	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		return -1;
	}
	ctl->d = d;
	ctl->listen_fd = -1;
	TAILQ_INIT(&ctl->clients);
	TAILQ_INIT(&ctl->dead);
	d->control = ctl;
	ctl->rbuf_len = d->cfg.max_control_message + 1;
	ctl->rbuf = malloc(ctl->rbuf_len);
	ctl->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ctl->resume_ev = evtimer_new(d->base, control_on_resume, ctl);
	ctl->reap_ev = event_new(d->base, -1, 0, control_on_reap, ctl);
	if (ctl->rbuf == NULL || ctl->resume_ev == NULL ||
	    ctl->reap_ev == NULL) {
		return -1;
	}
	if (control_listen(ctl, d->cfg.control_socket) != 0) {
		return -1;
	}
	ctl->listen_ev = event_new(d->base, ctl->listen_fd,
	    EV_READ | EV_PERSIST, control_on_accept, ctl);
	if (ctl->listen_ev == NULL || event_add(ctl->listen_ev, NULL) != 0) {
		return -1;
	}
	log_info("control socket %s", ctl->path);

	if (inherited_fd >= 0) {
		if (getsockopt(inherited_fd, SOL_SOCKET, SO_TYPE, &type,
		    &sl) != 0 || type != SOCK_SEQPACKET) {
			log_warnx("--control-fd=%d is not a SOCK_SEQPACKET "
			    "socket", inherited_fd);
			return -1;
		}
		if (fcntl(inherited_fd, F_SETFL, O_NONBLOCK) != 0 ||
		    fcntl(inherited_fd, F_SETFD, FD_CLOEXEC) != 0) {
			log_warn("--control-fd=%d", inherited_fd);
			return -1;
		}
		if (control_add_client(ctl, inherited_fd, true) != 0) {
			return -1;
		}
	}
	return 0;
}

void
control_close(struct daemon *d)
{
	struct control *ctl = d->control;
	struct ctl_client *cl;

	if (ctl == NULL) {
		return;
	}
	while ((cl = TAILQ_FIRST(&ctl->clients)) != NULL) {
		TAILQ_REMOVE(&ctl->clients, cl, entry);
		control_client_free(cl);
	}
	ctl->master = NULL;
	if (ctl->reap_ev != NULL) {
		control_on_reap(-1, 0, ctl);
		event_free(ctl->reap_ev);
	}
	if (ctl->listen_ev != NULL) {
		event_free(ctl->listen_ev);
	}
	if (ctl->resume_ev != NULL) {
		event_free(ctl->resume_ev);
	}
	if (ctl->listen_fd != -1) {
		close(ctl->listen_fd);
		unlink(ctl->path);
	}
	if (ctl->reserve_fd != -1) {
		close(ctl->reserve_fd);
	}
	free(ctl->rbuf);
	free(ctl);
	d->control = NULL;
}
