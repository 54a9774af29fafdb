/* SPDX-License-Identifier: ISC */
/*
 * admin.c: requests that report on the daemon or change its state: status,
 * connections, interfaces, metrics, drain, undrain and kill.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/clock.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/dev.h"
#include "daemon/info.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/master.h"
#include "daemon/ops.h"
#include "daemon/rconn.h"
#include "frame.h"

static const char *
port_state_name(enum ibv_port_state s)
{
	switch (s) {
	case IBV_PORT_DOWN:
		return "DOWN";
	case IBV_PORT_INIT:
		return "INIT";
	case IBV_PORT_ARMED:
		return "ARMED";
	case IBV_PORT_ACTIVE:
		return "ACTIVE";
	case IBV_PORT_ACTIVE_DEFER:
		return "ACTIVE_DEFER";
	default:
		return "NOP";
	}
}

/* The RDMA devices librdmacm has opened, with their ports. */
static int
status_devices(struct arena *a, Smbdirect__Ctl__StatusReply *sr)
{
	struct ibv_context **ctxs;
	struct ibv_device_attr da;
	struct ibv_port_attr pa;
	struct ibv_gid_entry ge;
	int n = 0, i, p;

	ctxs = rdma_get_devices(&n);
	if (ctxs == NULL) {
		return 0;
	}
	sr->devices = arena_alloc(a, sizeof(*sr->devices) * (size_t)(n + 1));
	if (sr->devices == NULL) {
		rdma_free_devices(ctxs);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		Smbdirect__Ctl__Device *dv = arena_alloc(a, sizeof(*dv));

		if (dv == NULL || ibv_query_device(ctxs[i], &da) != 0) {
			continue;
		}
		smbdirect__ctl__device__init(dv);
		dv->name = arena_strdup(a,
		    ibv_get_device_name(ctxs[i]->device));
		dv->transport = info_transport(dev_transport(ctxs[i], 1));
		dv->max_sge = (uint32_t)da.max_sge;
		dv->max_qp_rd_atom = (uint32_t)da.max_qp_rd_atom;
		dv->max_mr = (uint32_t)da.max_mr;
		dv->ports = arena_alloc(a, sizeof(*dv->ports) *
		    (size_t)da.phys_port_cnt);
		for (p = 1; dv->ports != NULL && p <= da.phys_port_cnt; p++) {
			Smbdirect__Ctl__DevicePort *dp = arena_alloc(a,
			    sizeof(*dp));
			char ifn[IF_NAMESIZE] = "";

			if (dp == NULL || ibv_query_port(ctxs[i], (uint8_t)p,
			    &pa) != 0) {
				continue;
			}
			smbdirect__ctl__device_port__init(dp);
			dp->port = (uint32_t)p;
			dp->state = (char *)port_state_name(pa.state);
			if (ibv_query_gid_ex(ctxs[i], (uint32_t)p, 0, &ge,
			    0) == 0 && ge.ndev_ifindex != 0) {
				if_indextoname(ge.ndev_ifindex, ifn);
			}
			dp->netdev = arena_strdup(a, ifn);
			dv->ports[dv->n_ports++] = dp;
		}
		sr->devices[sr->n_devices++] = dv;
	}
	rdma_free_devices(ctxs);
	return 0;
}

/* The connection peaks, one entry per transport. */
static int
status_peaks(struct arena *a, struct daemon *d,
    Smbdirect__Ctl__StatusReply *sr)
{
	static const enum transport ts[] = {
#define X(e, n, token)	TRANSPORT_##e,
		TRANSPORTS(X)
#undef X
	};
	const char *names[sizeof(ts) / sizeof(ts[0])];
	uint64_t v[sizeof(ts) / sizeof(ts[0])];
	size_t i;

	for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		names[i] = transport_name(ts[i]);
		v[i] = d->conns_peak[ts[i]];
	}
	return info_label_counts(a, names, v, sizeof(ts) / sizeof(ts[0]),
	    &sr->connections_peak, &sr->n_connections_peak);
}

int
admin_status(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	struct daemon *d = cl->ctl->d;
	Smbdirect__Ctl__StatusReply *sr = arena_alloc(a, sizeof(*sr));
	struct listener *l;
	size_t n = 0;

	if (sr == NULL) {
		return -ENOMEM;
	}
	smbdirect__ctl__status_reply__init(sr);
	sr->version = (char *)PACKAGE_VERSION;
	sr->uptime_ms = now_ms() - d->start_ms;
	TAILQ_FOREACH(l, &d->listeners, entry) {
		n++;
	}
	sr->listeners = arena_alloc(a, sizeof(*sr->listeners) * (n + 1));
	if (sr->listeners == NULL) {
		return -ENOMEM;
	}
	TAILQ_FOREACH(l, &d->listeners, entry) {
		Smbdirect__Ctl__Listener *li = arena_alloc(a, sizeof(*li));

		if (li == NULL) {
			return -ENOMEM;
		}
		smbdirect__ctl__listener__init(li);
		li->address = l->text;
		li->transport = info_transport(l->transport);
		li->device = l->device;
		sr->listeners[sr->n_listeners++] = li;
	}
	if (status_devices(a, sr) != 0) {
		return -ENOMEM;
	}
	sr->draining = d->draining;
	sr->master_pid = (uint32_t)master_pid(d);
	sr->connections_active = d->n_conns;
	sr->connections_total = d->metrics.conn_total;
	sr->connections_refused = metrics_family_total(&d->metrics,
	    MF_REFUSED);
	sr->control_clients = d->control->n_clients;
	sr->totals = info_totals(a, d);
	sr->max_connections = d->cfg.max_connections;
	if (sr->totals == NULL || status_peaks(a, d, sr) != 0) {
		return -ENOMEM;
	}
	rep->body_case = SMBDIRECT__CTL__REPLY__BODY_STATUS_REPLY;
	rep->status_reply = sr;
	return 0;
}

int
admin_list(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	struct daemon *d = cl->ctl->d;
	Smbdirect__Ctl__ConnectionList *cls = arena_alloc(a, sizeof(*cls));
	struct rconn *c;

	if (cls == NULL) {
		return -ENOMEM;
	}
	smbdirect__ctl__connection_list__init(cls);
	cls->connections = arena_alloc(a, sizeof(*cls->connections) *
	    (d->n_conns + 1));
	if (cls->connections == NULL) {
		return -ENOMEM;
	}
	TAILQ_FOREACH(c, &d->conns, entry) {
		Smbdirect__Ctl__Connection *ci = info_connection(a, c);

		if (ci == NULL) {
			return -ENOMEM;
		}
		cls->connections[cls->n_connections++] = ci;
	}
	rep->body_case = SMBDIRECT__CTL__REPLY__BODY_CONNECTIONS;
	rep->connections = cls;
	return 0;
}

static struct rconn *
find_conn(struct ctl_client *cl, uint64_t id, const char *what,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	struct rconn *c = rconn_find(cl->ctl->d, id);

	if (c == NULL) {
		rep->message = arena_printf(a, "%s: no connection %llu", what,
		    (unsigned long long)id);
	}
	return c;
}

int
admin_get(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	struct rconn *c = find_conn(cl, req->get_connection->conn_id,
	    "get_connection", rep, a);

	if (c == NULL) {
		return -ENOENT;
	}
	/* Owners see only what they own. */
	if (cl->role == CTL_ROLE_OWNER &&
	    c->owner_pid != (uint32_t)cl->cred.pid) {
		rep->message = arena_printf(a, "get_connection: connection "
		    "%llu is not yours", (unsigned long long)c->id);
		return -EPERM;
	}
	rep->connection = info_connection(a, c);
	if (rep->connection == NULL) {
		return -ENOMEM;
	}
	rep->body_case = SMBDIRECT__CTL__REPLY__BODY_CONNECTION;
	return 0;
}

int
admin_interfaces(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	struct daemon *d = cl->ctl->d;
	Smbdirect__Ctl__InterfaceList *il = arena_alloc(a, sizeof(*il));
	struct listener *l;
	size_t n = 0;

	if (il == NULL) {
		return -ENOMEM;
	}
	smbdirect__ctl__interface_list__init(il);
	TAILQ_FOREACH(l, &d->listeners, entry) {
		n++;
	}
	il->interfaces = arena_alloc(a, sizeof(*il->interfaces) * (n + 1));
	if (il->interfaces == NULL) {
		return -ENOMEM;
	}
	TAILQ_FOREACH(l, &d->listeners, entry) {
		Smbdirect__Ctl__Interface *ifc = arena_alloc(a, sizeof(*ifc));
		char host[INET6_ADDRSTRLEN] = "";
		const void *p;

		if (ifc == NULL) {
			return -ENOMEM;
		}
		smbdirect__ctl__interface__init(ifc);
		if (l->addr.ss_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)&l->addr;

			p = &in->sin_addr;
			ifc->port = ntohs(in->sin_port);
		} else {
			const struct sockaddr_in6 *in6 = (const void *)&l->addr;

			p = &in6->sin6_addr;
			ifc->port = ntohs(in6->sin6_port);
			ifc->ipv6 = true;
		}
		inet_ntop(l->addr.ss_family, p, host, sizeof(host));
		ifc->address = arena_strdup(a, host);
		ifc->if_index = l->if_index;
		ifc->link_speed_bps = l->link_speed_bps;
		ifc->transport = info_transport(l->transport);
		ifc->device = l->device;
		il->interfaces[il->n_interfaces++] = ifc;
	}
	rep->body_case = SMBDIRECT__CTL__REPLY__BODY_INTERFACES;
	rep->interfaces = il;
	return 0;
}

int
admin_drain(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	struct daemon *d = cl->ctl->d;
	const Smbdirect__Ctl__Drain *dr = req->drain;
	uint32_t grace = dr->grace_ms != 0 ? dr->grace_ms :
	    d->cfg.drain_grace_ms;
	struct rconn *c;
	uint8_t body[FRAME_DRAIN_SIZE];

	if (dr->conn_id == 0) {
		if (!d->draining) {
			d->draining = true;
			log_info("pid=%d: drain: refusing new connections; %u "
			    "open", (int)cl->cred.pid, d->n_conns);
			master_drain_requested(d, 0, 0, 0);
		}
		return 0;
	}
	c = find_conn(cl, dr->conn_id, "drain", rep, a);
	if (c == NULL) {
		return -ENOENT;
	}
	if (c->state == RCONN_CLOSING) {
		rep->message = arena_printf(a, "drain: connection %llu is "
		    "already closing", (unsigned long long)c->id);
		return -ESHUTDOWN;
	}
	if (c->state == RCONN_DRAINING) {
		return 0;
	}
	/* The owner hears it on its data channel, the master as an event. */
	if (chan_connected(&c->chan)) {
		frame_put_le32(body, grace);
		if (ops_send_frame(c, FRAME_DRAIN, body, FRAME_DRAIN_SIZE,
		    -1) != 0 || c->state == RCONN_CLOSING) {
			rep->message = arena_printf(a, "drain: connection "
			    "%llu closed as the DRAIN frame was queued",
			    (unsigned long long)c->id);
			return -ESHUTDOWN;
		}
	}
	master_drain_requested(d, c->id, grace, c->owner_pid);
	c->state = RCONN_DRAINING;
	rconn_drain_timer(c, grace);
	log_info("conn=%llu: draining; disconnecting in %ums",
	    (unsigned long long)c->id, grace);
	return 0;
}

int
admin_undrain(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	struct daemon *d = cl->ctl->d;

	if (d->draining) {
		d->draining = false;
		log_info("pid=%d: undrain: accepting connections again",
		    (int)cl->cred.pid);
	}
	return 0;
}

int
admin_kill(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	struct rconn *c = find_conn(cl, req->kill->conn_id, "kill", rep, a);

	if (c == NULL) {
		return -ENOENT;
	}
	if (c->state == RCONN_CLOSING) {
		rep->message = arena_printf(a, "kill: connection %llu is "
		    "already closing", (unsigned long long)c->id);
		return -ESHUTDOWN;
	}
	rconn_close(c, RCONN_R_KILLED, "killed by pid %d (uid %d)",
	    (int)cl->cred.pid, (int)cl->cred.uid);
	return 0;
}

int
admin_metrics(struct ctl_client *cl, const Smbdirect__Ctl__Request *req,
    Smbdirect__Ctl__Reply *rep, struct arena *a)
{
	Smbdirect__Ctl__MetricsReply *mr = arena_alloc(a, sizeof(*mr));
	char *text;

	if (mr == NULL) {
		return -ENOMEM;
	}
	text = metrics_render(cl->ctl->d);
	if (text == NULL) {
		return -ENOMEM;
	}
	smbdirect__ctl__metrics_reply__init(mr);
	mr->text = arena_strdup(a, text);
	free(text);
	rep->body_case = SMBDIRECT__CTL__REPLY__BODY_METRICS;
	rep->metrics = mr;
	return 0;
}
