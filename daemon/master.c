/* SPDX-License-Identifier: ISC */
/*
 * master.c: Register, Subscribe, HandOff and Claim, and the events the
 * master and other subscribers receive.
 *
 * Ownership of a connection moves only on kernel-verified proof. The first
 * owner is whoever connected to the one-shot socket (SO_PEERCRED). A
 * HandOff must come from the current owner's own control connection
 * (SO_PEERCRED again) and names the next owner's pid. The next owner then
 * writes a CLAIM frame on the data channel, which the kernel stamps with its
 * pid (SO_PASSCRED): only a process holding the socket can do that. Its
 * Claim request is granted when both agree.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/info.h"
#include "daemon/log.h"
#include "daemon/master.h"
#include "daemon/rconn.h"

#define EV_BIT(k)	(1u << SMBDIRECT__CTL__EVENT_KIND__EVENT_KIND_##k)

bool
master_present(const struct daemon *d)
{
	return d->control != NULL && d->control->master != NULL;
}

pid_t
master_pid(const struct daemon *d)
{
	return master_present(d) ? d->control->master->cred.pid : 0;
}

static void
master_announce_waiting(evutil_socket_t fd, short what, void *arg)
{
	rconn_master_changed(arg);
}

int
master_register(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	struct control *ctl = cl->ctl;
	struct daemon *d = ctl->d;
	Smbdirect__Ctl__RegisterReply *rr;
	enum ctl_role role;
	bool ro = false;
	struct timeval zero = { 0, 0 };

	switch (req->register_->role) {
	case SMBDIRECT__CTL__ROLE__ROLE_MASTER:
		role = CTL_ROLE_MASTER;
		break;
	case SMBDIRECT__CTL__ROLE__ROLE_OWNER:
		role = CTL_ROLE_OWNER;
		break;
	case SMBDIRECT__CTL__ROLE__ROLE_ADMIN:
		role = CTL_ROLE_ADMIN;
		break;
	default:
		rep->message = arena_printf(a, "register: unknown role %d",
		    (int)req->register_->role);
		return -EINVAL;
	}
	if (cl->role != CTL_ROLE_NONE) {
		rep->message = arena_printf(a, "register: already registered "
		    "as %s on this connection", control_role_name(cl->role));
		return -EALREADY;
	}
	if (!control_allowed(cl, role, &ro)) {
		rep->message = arena_printf(a, "register: uid %d (gid %d) may "
		    "not take the %s role; see [access] in %s",
		    (int)cl->cred.uid, (int)cl->cred.gid,
		    control_role_name(role), d->cfg.path[0] != '\0' ?
		    d->cfg.path : "the configuration");
		log_warnx("pid=%d: refused the %s role to uid %d",
		    (int)cl->cred.pid, control_role_name(role),
		    (int)cl->cred.uid);
		return -EACCES;
	}
	if (role == CTL_ROLE_MASTER && ctl->master != NULL) {
		rep->message = arena_printf(a, "register: a master is already "
		    "registered (pid %d)", (int)ctl->master->cred.pid);
		return -EBUSY;
	}
	cl->role = role;
	cl->read_only = ro;
	snprintf(cl->name, sizeof(cl->name), "%s",
	    req->register_->name != NULL ? req->register_->name : "");
	if (role == CTL_ROLE_MASTER) {
		ctl->master = cl;
		/* A master exists to be told about new connections. */
		cl->sub_mask |= EV_BIT(NEW_CONNECTION);
		/* After this reply has gone out, not before it. */
		event_base_once(d->base, -1, EV_TIMEOUT,
		    master_announce_waiting, d, &zero);
	}
	log_info("pid=%d: registered as %s%s (%s)", (int)cl->cred.pid,
	    control_role_name(role), ro ? ", read-only" : "",
	    cl->name[0] != '\0' ? cl->name : "unnamed");

	rr = arena_alloc(a, sizeof(*rr));
	if (rr == NULL) {
		return -ENOMEM;
	}
	smbdirect__ctl__register_reply__init(rr);
	rr->version = CTL_VERSION;
	rr->daemon_version = (char *)PACKAGE_VERSION;
	rr->daemon_pid = (uint32_t)getpid();
	rr->read_only = ro;
	rep->body_case = SMBDIRECT__CTL__REPLY__BODY_REGISTER;
	rep->register_ = rr;
	return 0;
}

int
master_subscribe(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	const Smbdirect__Ctl__Subscribe *s = req->subscribe;
	uint32_t mask = 0, allowed;
	size_t i;

	switch (cl->role) {
	case CTL_ROLE_MASTER:
		allowed = EV_BIT(NEW_CONNECTION) | EV_BIT(CONNECTION_CLOSED) |
		    EV_BIT(DRAIN_REQUESTED) | EV_BIT(OWNER_CHANGED);
		break;
	case CTL_ROLE_OWNER:
		allowed = EV_BIT(DRAIN_REQUESTED) | EV_BIT(CONNECTION_CLOSED);
		break;
	default:
		allowed = EV_BIT(CONNECTION_CLOSED) | EV_BIT(OWNER_CHANGED) |
		    EV_BIT(DRAIN_REQUESTED);
		break;
	}
	for (i = 0; i < s->n_kinds; i++) {
		if (s->kinds[i] <= 0 || s->kinds[i] > 31 ||
		    !(allowed & (1u << s->kinds[i]))) {
			rep->message = arena_printf(a, "subscribe: event kind "
			    "%d is not available to role %s", (int)s->kinds[i],
			    control_role_name(cl->role));
			return -EPERM;
		}
		mask |= 1u << s->kinds[i];
	}
	cl->sub_mask = s->n_kinds == 0 ? allowed : mask;
	if (cl->role == CTL_ROLE_MASTER) {
		cl->sub_mask |= EV_BIT(NEW_CONNECTION);
	}
	return 0;
}

int
master_hand_off(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	const Smbdirect__Ctl__HandOff *h = req->hand_off;
	struct rconn *c = rconn_find(cl->ctl->d, h->conn_id);

	if (c == NULL || c->state == RCONN_CLOSING) {
		rep->message = arena_printf(a, "hand_off: connection %llu "
		    "does not exist or has closed",
		    (unsigned long long)h->conn_id);
		return -ENOENT;
	}
	if (c->state != RCONN_ACTIVE && c->state != RCONN_DRAINING) {
		rep->message = arena_printf(a, "hand_off: connection %llu has "
		    "no data channel yet (%s)", (unsigned long long)c->id,
		    rconn_state_name(c->state));
		return -EAGAIN;
	}
	if (c->owner_pid != (uint32_t)cl->cred.pid) {
		rep->message = arena_printf(a, "hand_off: connection %llu is "
		    "held by pid %u, not by you (pid %d)",
		    (unsigned long long)c->id, c->owner_pid,
		    (int)cl->cred.pid);
		return -EPERM;
	}
	if (h->to_pid == 0 || h->to_pid == c->owner_pid) {
		rep->message = arena_printf(a, "hand_off: pid %u is not a "
		    "valid new owner", h->to_pid);
		return -EINVAL;
	}
	c->handoff_pid = h->to_pid;
	c->claim_pid = 0;
	log_info("conn=%llu: pid=%u hands off to pid=%u",
	    (unsigned long long)c->id, c->owner_pid, h->to_pid);
	return 0;
}

int
master_claim(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	struct daemon *d = cl->ctl->d;
	uint64_t id = req->claim->conn_id;
	struct rconn *c = rconn_find(d, id);
	uint32_t pid = (uint32_t)cl->cred.pid, old;
	Smbdirect__Ctl__Event ev = SMBDIRECT__CTL__EVENT__INIT;
	Smbdirect__Ctl__OwnerChanged oc = SMBDIRECT__CTL__OWNER_CHANGED__INIT;

	if (c == NULL || c->state == RCONN_CLOSING) {
		rep->message = arena_printf(a, "claim: connection %llu does "
		    "not exist or has closed", (unsigned long long)id);
		return -ENOENT;
	}
	if (c->owner_pid == pid) {
		rep->message = arena_printf(a, "claim: connection %llu is "
		    "already yours", (unsigned long long)id);
		return -EALREADY;
	}
	if (c->handoff_pid != pid) {
		rep->message = arena_printf(a, "claim: connection %llu was not "
		    "handed off to pid %u", (unsigned long long)id, pid);
		return -EPERM;
	}
	if (c->claim_pid != pid) {
		/* The CLAIM frame may still be unread on the channel. */
		chan_read_now(&c->chan);
		c = rconn_find(d, id);
		if (c == NULL || c->state == RCONN_CLOSING) {
			rep->message = arena_printf(a, "claim: connection "
			    "%llu closed", (unsigned long long)id);
			return -ENOENT;
		}
	}
	if (c->claim_pid != pid) {
		rep->message = arena_printf(a, "claim: no CLAIM frame from pid "
		    "%u on connection %llu's data channel; only a process "
		    "holding the socket can claim it", pid,
		    (unsigned long long)id);
		return -EACCES;
	}
	old = c->owner_pid;
	c->owner_pid = pid;
	c->handoff_pid = 0;
	c->claim_pid = 0;
	COUNT_DAEMON(d, handoffs, 1);
	log_info("conn=%llu: now owned by pid=%u (was pid=%u)",
	    (unsigned long long)id, pid, old);
	oc.conn_id = id;
	oc.old_pid = old;
	oc.new_pid = pid;
	ev.body_case = SMBDIRECT__CTL__EVENT__BODY_OWNER_CHANGED;
	ev.owner_changed = &oc;
	control_event(d, SMBDIRECT__CTL__EVENT_KIND__EVENT_KIND_OWNER_CHANGED,
	    &ev, pid);
	return 0;
}

void
master_client_gone(struct ctl_client *cl)
{
	struct control *ctl = cl->ctl;

	if (ctl->master == cl) {
		ctl->master = NULL;
		log_warnx("pid=%d: the master went away; existing connections "
		    "continue, new ones are %s", (int)cl->cred.pid,
		    ctl->d->cfg.master_grace_ms > 0 ? "held for the grace "
		    "period" : "refused until a master registers");
	}
}

void
master_new_connection(struct daemon *d, struct rconn *c)
{
	Smbdirect__Ctl__Event ev = SMBDIRECT__CTL__EVENT__INIT;
	Smbdirect__Ctl__NewConnection nc = SMBDIRECT__CTL__NEW_CONNECTION__INIT;
	struct arena a = { 0 };

	nc.connection = info_connection(&a, c);
	nc.socket_path = c->chan.path;
	nc.connect_timeout_ms = d->cfg.channel_connect_timeout_ms;
	ev.body_case = SMBDIRECT__CTL__EVENT__BODY_NEW_CONNECTION;
	ev.new_connection = &nc;
	if (nc.connection != NULL) {
		control_event(d,
		    SMBDIRECT__CTL__EVENT_KIND__EVENT_KIND_NEW_CONNECTION, &ev,
		    0);
	}
	log_info("conn=%llu: NewConnection sent to the master (pid=%d), "
	    "socket %s", (unsigned long long)c->id, (int)master_pid(d),
	    c->chan.path);
	arena_clear(&a);
}

void
master_conn_closed(struct daemon *d, struct rconn *c, enum rconn_state prev)
{
	Smbdirect__Ctl__Event ev = SMBDIRECT__CTL__EVENT__INIT;
	Smbdirect__Ctl__ConnectionClosed cc =
	    SMBDIRECT__CTL__CONNECTION_CLOSED__INIT;

	cc.conn_id = c->id;
	cc.reason = (char *)rconn_reason_name(c->close_reason);
	cc.message = c->close_msg;
	cc.owner_pid = c->owner_pid;
	ev.body_case = SMBDIRECT__CTL__EVENT__BODY_CONNECTION_CLOSED;
	ev.connection_closed = &cc;
	control_event(d,
	    SMBDIRECT__CTL__EVENT_KIND__EVENT_KIND_CONNECTION_CLOSED, &ev,
	    c->owner_pid);
}

void
master_drain_requested(struct daemon *d, uint64_t conn_id, uint32_t grace_ms,
    uint32_t owner_pid)
{
	Smbdirect__Ctl__Event ev = SMBDIRECT__CTL__EVENT__INIT;
	Smbdirect__Ctl__DrainRequested dr =
	    SMBDIRECT__CTL__DRAIN_REQUESTED__INIT;

	dr.conn_id = conn_id;
	dr.grace_ms = grace_ms;
	ev.body_case = SMBDIRECT__CTL__EVENT__BODY_DRAIN_REQUESTED;
	ev.drain_requested = &dr;
	control_event(d,
	    SMBDIRECT__CTL__EVENT_KIND__EVENT_KIND_DRAIN_REQUESTED, &ev,
	    owner_pid);
}
