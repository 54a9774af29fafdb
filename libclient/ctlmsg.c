/* SPDX-License-Identifier: ISC */
/*
 * ctlmsg.c: protobuf messages to the public structures.
 *
 * The daemon is trusted to be the daemon, not to be bug-free or of the
 * same version: every absent sub-message reads as zeros, every string is
 * copied with truncation (never cutting a UTF-8 sequence in half), and
 * enum values this library does not know map to the UNKNOWN values.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libclient/ctlmsg.h"

void
ctlmsg_str(char *dst, size_t size, const char *src)
{
	size_t n;

	if (size == 0) {
		return;
	}
	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	n = strnlen(src, size);
	if (n == size) {
		/* Truncated: back off to the start of a UTF-8 sequence. */
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80) {
			n--;
		}
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static enum sdctl_transport
ctlmsg_transport(Smbdirect__Ctl__Transport t)
{
	switch (t) {
	case SMBDIRECT__CTL__TRANSPORT__TRANSPORT_IWARP:
		return SDCTL_TRANSPORT_IWARP;
	case SMBDIRECT__CTL__TRANSPORT__TRANSPORT_ROCE:
		return SDCTL_TRANSPORT_ROCE;
	case SMBDIRECT__CTL__TRANSPORT__TRANSPORT_IB:
		return SDCTL_TRANSPORT_IB;
	default:
		return SDCTL_TRANSPORT_UNKNOWN;
	}
}

static enum sdctl_conn_state
ctlmsg_state(Smbdirect__Ctl__ConnState s)
{
	switch (s) {
	case SMBDIRECT__CTL__CONN_STATE__CONN_STATE_NEGOTIATING:
		return SDCTL_STATE_NEGOTIATING;
	case SMBDIRECT__CTL__CONN_STATE__CONN_STATE_WAIT_MASTER:
		return SDCTL_STATE_WAIT_MASTER;
	case SMBDIRECT__CTL__CONN_STATE__CONN_STATE_WAIT_CHANNEL:
		return SDCTL_STATE_WAIT_CHANNEL;
	case SMBDIRECT__CTL__CONN_STATE__CONN_STATE_ACTIVE:
		return SDCTL_STATE_ACTIVE;
	case SMBDIRECT__CTL__CONN_STATE__CONN_STATE_DRAINING:
		return SDCTL_STATE_DRAINING;
	case SMBDIRECT__CTL__CONN_STATE__CONN_STATE_CLOSING:
		return SDCTL_STATE_CLOSING;
	default:
		return SDCTL_STATE_UNKNOWN;
	}
}

/* A labelled count into @o (at most SDCTL_MAX_COUNTS series). */
static void
ctlmsg_counts(Smbdirect__Ctl__LabelCount *const *v, size_t n,
    struct sdctl_count *o, unsigned *n_out)
{
	size_t i;

	*n_out = 0;
	for (i = 0; i < n && *n_out < SDCTL_MAX_COUNTS; i++) {
		if (v[i] == NULL) {
			continue;
		}
		ctlmsg_str(o[*n_out].label, sizeof(o[*n_out].label),
		    v[i]->label);
		o[*n_out].value = v[i]->value;
		(*n_out)++;
	}
}

static void
ctlmsg_counters(const Smbdirect__Ctl__Counters *k, struct sdctl_counters *o)
{
	memset(o, 0, sizeof(*o));
	if (k == NULL) {
		return;
	}
	o->bytes_in = k->bytes_in;
	o->bytes_out = k->bytes_out;
	o->messages_in = k->messages_in;
	o->messages_out = k->messages_out;
	o->pdus_in = k->pdus_in;
	o->pdus_out = k->pdus_out;
	o->rdma_read_bytes = k->rdma_read_bytes;
	o->rdma_read_ops = k->rdma_read_ops;
	o->rdma_write_bytes = k->rdma_write_bytes;
	o->rdma_write_ops = k->rdma_write_ops;
	o->keepalives_sent = k->keepalives_sent;
	ctlmsg_counts(k->copied_bytes, k->n_copied_bytes, o->copied_bytes,
	    &o->n_copied_bytes);
}

void
ctlmsg_conn(const Smbdirect__Ctl__Connection *c, struct sdctl_conn *o)
{
	memset(o, 0, sizeof(*o));
	if (c == NULL) {
		return;
	}
	o->id = c->id;
	ctlmsg_str(o->peer, sizeof(o->peer), c->peer);
	ctlmsg_str(o->local, sizeof(o->local), c->local);
	o->transport = ctlmsg_transport(c->transport);
	o->state = ctlmsg_state(c->state);
	ctlmsg_str(o->device, sizeof(o->device), c->device);
	o->owner_pid = c->owner_pid;
	if (c->params != NULL) {
		o->params.version = c->params->version;
		o->params.max_send_size = c->params->max_send_size;
		o->params.max_receive_size = c->params->max_receive_size;
		o->params.max_fragmented_size = c->params->max_fragmented_size;
		o->params.peer_max_fragmented_size =
		    c->params->peer_max_fragmented_size;
		o->params.max_read_write_size = c->params->max_read_write_size;
		o->params.ird = c->params->ird;
		o->params.ord = c->params->ord;
		o->params.receive_credit_max = c->params->receive_credit_max;
		o->params.send_credit_target = c->params->send_credit_target;
	}
	if (c->credits != NULL) {
		o->credits.send_available = c->credits->send_available;
		o->credits.send_target = c->credits->send_target;
		o->credits.receive_posted = c->credits->receive_posted;
		o->credits.receive_target = c->credits->receive_target;
		o->credits.receive_held = c->credits->receive_held;
		o->credits.granted_total = c->credits->granted_total;
		o->credits.credit_waits = c->credits->credit_waits;
	}
	ctlmsg_counters(c->counters, &o->counters);
	if (c->mr != NULL) {
		o->mr.count = c->mr->count;
		o->mr.bytes = c->mr->bytes;
		o->mr.area_bytes = c->mr->area_bytes;
		o->mr.limit = c->mr->limit;
	}
	o->age_ms = c->age_ms;
	o->idle_ms = c->idle_ms;
}

void
ctlmsg_iface(const Smbdirect__Ctl__Interface *i, struct sdctl_iface *o)
{
	memset(o, 0, sizeof(*o));
	if (i == NULL) {
		return;
	}
	ctlmsg_str(o->address, sizeof(o->address), i->address);
	o->port = i->port;
	o->if_index = i->if_index;
	o->link_speed_bps = i->link_speed_bps;
	o->transport = ctlmsg_transport(i->transport);
	ctlmsg_str(o->device, sizeof(o->device), i->device);
	o->ipv6 = i->ipv6;
}

static void
ctlmsg_device(const Smbdirect__Ctl__Device *d, struct sdctl_device *o)
{
	size_t i;

	memset(o, 0, sizeof(*o));
	if (d == NULL) {
		return;
	}
	ctlmsg_str(o->name, sizeof(o->name), d->name);
	o->transport = ctlmsg_transport(d->transport);
	o->max_sge = d->max_sge;
	o->max_qp_rd_atom = d->max_qp_rd_atom;
	o->max_mr = d->max_mr;
	/* Ports beyond SDCTL_MAX_PORTS are dropped. */
	for (i = 0; i < d->n_ports && o->n_ports < SDCTL_MAX_PORTS; i++) {
		struct sdctl_device_port *p = &o->ports[o->n_ports];

		if (d->ports[i] == NULL) {
			continue;
		}
		p->port = d->ports[i]->port;
		ctlmsg_str(p->state, sizeof(p->state), d->ports[i]->state);
		ctlmsg_str(p->netdev, sizeof(p->netdev), d->ports[i]->netdev);
		o->n_ports++;
	}
}

int
ctlmsg_status(const Smbdirect__Ctl__StatusReply *s, struct sdctl_status *o)
{
	struct sdctl_status st;
	size_t i;
	int rc = -ENOMEM;

	memset(&st, 0, sizeof(st));
	ctlmsg_str(st.version, sizeof(st.version), s->version);
	st.uptime_ms = s->uptime_ms;
	if (s->n_listeners > 0) {
		st.listeners = calloc(s->n_listeners, sizeof(*st.listeners));
		if (st.listeners == NULL) {
			goto out;
		}
	}
	for (i = 0; i < s->n_listeners; i++) {
		const Smbdirect__Ctl__Listener *l = s->listeners[i];
		struct sdctl_listener *ol = &st.listeners[st.n_listeners];

		if (l == NULL) {
			continue;
		}
		ctlmsg_str(ol->address, sizeof(ol->address), l->address);
		ol->transport = ctlmsg_transport(l->transport);
		ctlmsg_str(ol->device, sizeof(ol->device), l->device);
		st.n_listeners++;
	}
	if (s->n_devices > 0) {
		st.devices = calloc(s->n_devices, sizeof(*st.devices));
		if (st.devices == NULL) {
			goto out;
		}
	}
	for (i = 0; i < s->n_devices; i++) {
		if (s->devices[i] != NULL) {
			ctlmsg_device(s->devices[i],
			    &st.devices[st.n_devices++]);
		}
	}
	st.draining = s->draining;
	st.master_pid = s->master_pid;
	st.connections_active = s->connections_active;
	st.connections_total = s->connections_total;
	st.connections_refused = s->connections_refused;
	st.control_clients = s->control_clients;
	st.max_connections = s->max_connections;
	ctlmsg_counters(s->totals, &st.totals);
	ctlmsg_counts(s->connections_peak, s->n_connections_peak,
	    st.connections_peak, &st.n_connections_peak);
	*o = st;
	memset(&st, 0, sizeof(st));
	rc = 0;
out:
	sdctl_status_free(&st);
	return rc;
}

/* Return: 0, or -ENOENT for an event body this library does not know. */
int
ctlmsg_event(const Smbdirect__Ctl__Event *e, struct sdctl_event *o)
{
	struct sdctl_event ev;
	int rc = 0;

	memset(&ev, 0, sizeof(ev));
	switch (e->body_case) {
	case SMBDIRECT__CTL__EVENT__BODY_NEW_CONNECTION:
		ev.kind = SDCTL_EVENT_NEW_CONNECTION;
		ctlmsg_conn(e->new_connection->connection,
		    &ev.u.new_connection.conn);
		ctlmsg_str(ev.u.new_connection.socket_path,
		    sizeof(ev.u.new_connection.socket_path),
		    e->new_connection->socket_path);
		ev.u.new_connection.connect_timeout_ms =
		    e->new_connection->connect_timeout_ms;
		break;
	case SMBDIRECT__CTL__EVENT__BODY_CONNECTION_CLOSED:
		ev.kind = SDCTL_EVENT_CONNECTION_CLOSED;
		ev.u.connection_closed.conn_id =
		    e->connection_closed->conn_id;
		ctlmsg_str(ev.u.connection_closed.reason,
		    sizeof(ev.u.connection_closed.reason),
		    e->connection_closed->reason);
		ctlmsg_str(ev.u.connection_closed.message,
		    sizeof(ev.u.connection_closed.message),
		    e->connection_closed->message);
		ev.u.connection_closed.owner_pid =
		    e->connection_closed->owner_pid;
		break;
	case SMBDIRECT__CTL__EVENT__BODY_DRAIN_REQUESTED:
		ev.kind = SDCTL_EVENT_DRAIN_REQUESTED;
		ev.u.drain_requested.conn_id = e->drain_requested->conn_id;
		ev.u.drain_requested.grace_ms = e->drain_requested->grace_ms;
		break;
	case SMBDIRECT__CTL__EVENT__BODY_OWNER_CHANGED:
		ev.kind = SDCTL_EVENT_OWNER_CHANGED;
		ev.u.owner_changed.conn_id = e->owner_changed->conn_id;
		ev.u.owner_changed.old_pid = e->owner_changed->old_pid;
		ev.u.owner_changed.new_pid = e->owner_changed->new_pid;
		break;
	default:
		rc = -ENOENT;
		goto out;
	}
	*o = ev;
out:
	return rc;
}
