/* SPDX-License-Identifier: ISC */
/*
 * listener.c: RDMA CM listening ids and the CM event channel.
 *
 * One event channel serves every id the daemon has, listening or
 * connected, and is one event on the loop. Each CM event is copied and
 * acked before it is handled: rdma_destroy_id() waits for the acks of its
 * id's events, and a handler may destroy the id.
 *
 * Default listeners. Without `listen` lines, the daemon listens on every
 * local IP address that an RDMA device owns: 5445 where the device is
 * iWARP ([MS-SMBD] §2.1: iWARP shares the TCP port space, so it must not
 * take SMB's 445 from the TCP server), 445 where it is InfiniBand or RoCE.
 * An address is matched to its device by binding a probe id to it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "daemon/dev.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/rconn.h"

#define LISTEN_BACKLOG	128

static uint64_t
netdev_speed_bps(const char *ifname)
{
	char path[128];
	FILE *f;
	long mbps = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/speed", ifname);
	f = fopen(path, "r");
	if (f == NULL) {
		return 0;
	}
	if (fscanf(f, "%ld", &mbps) != 1 || mbps <= 0) {
		mbps = 0;
	}
	fclose(f);
	return (uint64_t)mbps * 1000000ull;
}

/* Link speed from the verbs port, for devices whose netdev has none. */
static uint64_t
port_speed_bps(struct ibv_context *verbs, uint8_t port)
{
	struct ibv_port_attr pa;
	uint64_t lane, width;

	if (verbs == NULL || ibv_query_port(verbs, port ? port : 1, &pa) != 0) {
		return 0;
	}
	switch (pa.active_speed) {
	case 1: lane = 2500000000ull; break;	/* SDR */
	case 2: lane = 5000000000ull; break;	/* DDR */
	case 4: case 8: lane = 10000000000ull; break;	/* QDR, FDR10 */
	case 16: lane = 14062500000ull; break;	/* FDR */
	case 32: lane = 25781250000ull; break;	/* EDR */
	case 64: lane = 50000000000ull; break;	/* HDR */
	case 128: lane = 100000000000ull; break;	/* NDR */
	default: lane = 0; break;
	}
	switch (pa.active_width) {
	case 1: width = 1; break;
	case 2: width = 4; break;
	case 4: width = 8; break;
	case 8: width = 12; break;
	case 16: width = 2; break;
	default: width = 1; break;
	}
	return lane * width;
}

static int
listener_add(struct daemon *d, const char *host, const char *port,
    const char *ifname)
{
	struct rdma_addrinfo hints, *ai = NULL;
	struct listener *l = NULL;
	char hostbuf[64];
	char *pct;
	int rc = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = RAI_PASSIVE | RAI_NUMERICHOST;
	hints.ai_port_space = RDMA_PS_TCP;
	snprintf(hostbuf, sizeof(hostbuf), "%s", host);
	if (rdma_getaddrinfo(hostbuf, port, &hints, &ai) != 0) {
		log_warnx("listen %s:%s: not a usable address", host, port);
		goto out;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		goto out;
	}
	if (rdma_create_id(d->cm_ch, &l->id, l, RDMA_PS_TCP) != 0) {
		log_warn("listen %s:%s: rdma_create_id", host, port);
		goto out_free;
	}
	if (rdma_bind_addr(l->id, ai->ai_src_addr) != 0) {
		log_warn("listen %s:%s: rdma_bind_addr", host, port);
		goto out_destroy_id;
	}
	if (rdma_listen(l->id, LISTEN_BACKLOG) != 0) {
		log_warn("listen %s:%s: rdma_listen", host, port);
		goto out_destroy_id;
	}
	/* copy: none (an address) */
	memcpy(&l->addr, ai->ai_src_addr, ai->ai_src_len < sizeof(l->addr) ?
	    ai->ai_src_len : sizeof(l->addr));
	if (strchr(host, ':') != NULL) {
		snprintf(l->text, sizeof(l->text), "[%s]:%s", host, port);
	} else {
		snprintf(l->text, sizeof(l->text), "%s:%s", host, port);
	}
	if (l->id->verbs != NULL) {
		snprintf(l->device, sizeof(l->device), "%s",
		    ibv_get_device_name(l->id->verbs->device));
		l->transport = dev_transport(l->id->verbs, l->id->port_num);
		/*
		 * Open the device now, not on the first connection: its PD
		 * and completion channel are per device anyway, and a daemon
		 * whose resources do not change under the first client is
		 * easier to watch (fds, `rdma resource`).
		 */
		l->dev = dev_get(d, l->id->verbs);
		if (l->dev == NULL) {
			log_warnx("listen %s:%s: cannot open device %s", host,
			    port, l->device);
			goto out_destroy_id;
		}
	}
	/* The interface, for FSCTL_QUERY_NETWORK_INTERFACE_INFO. */
	if (ifname == NULL && (pct = strchr(hostbuf, '%')) != NULL) {
		ifname = pct + 1;
	}
	if (ifname != NULL) {
		l->if_index = if_nametoindex(ifname);
		l->link_speed_bps = netdev_speed_bps(ifname);
	} else {
		struct ifaddrs *ifa = NULL, *i;

		if (getifaddrs(&ifa) == 0) {
			for (i = ifa; i != NULL; i = i->ifa_next) {
				char a[INET6_ADDRSTRLEN];
				const void *p;

				if (i->ifa_addr == NULL ||
				    i->ifa_addr->sa_family !=
				    ai->ai_src_addr->sa_family) {
					continue;
				}
				p = i->ifa_addr->sa_family == AF_INET ?
				    (const void *)&((struct sockaddr_in *)
				    (void *)i->ifa_addr)->sin_addr :
				    (const void *)&((struct sockaddr_in6 *)
				    (void *)i->ifa_addr)->sin6_addr;
				if (inet_ntop(i->ifa_addr->sa_family, p, a,
				    sizeof(a)) != NULL && strcmp(a, host) == 0) {
					l->if_index = if_nametoindex(
					    i->ifa_name);
					l->link_speed_bps = netdev_speed_bps(
					    i->ifa_name);
					break;
				}
			}
			freeifaddrs(ifa);
		}
	}
	if (l->link_speed_bps == 0) {
		l->link_speed_bps = port_speed_bps(l->id->verbs,
		    l->id->port_num);
	}
	TAILQ_INSERT_TAIL(&d->listeners, l, entry);
	log_info("listening on %s (%s%s%s)", l->text,
	    l->device[0] != '\0' ? l->device : "any device",
	    l->device[0] != '\0' ? ", " : "",
	    l->device[0] != '\0' ? transport_name(l->transport) : "");
	l = NULL;
	rc = 0;

out_destroy_id:
	if (l != NULL) {
		rdma_destroy_id(l->id);
	}
out_free:
	free(l);
out:
	if (ai != NULL) {
		rdma_freeaddrinfo(ai);
	}
	return rc;
}

/* Listen on every address an RDMA device owns (see the top comment). */
static int
listener_defaults(struct daemon *d)
{
	struct ifaddrs *ifa = NULL, *i;
	struct rdma_cm_id *probe = NULL;
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	enum transport t;
	int n = 0;

	if (getifaddrs(&ifa) != 0) {
		log_warn("getifaddrs");
		return -1;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		struct sockaddr_storage ss;
		const void *p;

		if (i->ifa_addr == NULL || (i->ifa_flags & IFF_LOOPBACK) ||
		    (i->ifa_addr->sa_family != AF_INET &&
		    i->ifa_addr->sa_family != AF_INET6)) {
			continue;
		}
		memset(&ss, 0, sizeof(ss));
		/* copy: none (an address) */
		memcpy(&ss, i->ifa_addr, i->ifa_addr->sa_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		if (rdma_create_id(NULL, &probe, NULL, RDMA_PS_TCP) != 0) {
			continue;
		}
		if (rdma_bind_addr(probe, (struct sockaddr *)&ss) != 0 ||
		    probe->verbs == NULL) {
			rdma_destroy_id(probe);
			continue;
		}
		t = dev_transport(probe->verbs, probe->port_num);
		rdma_destroy_id(probe);
		if (ss.ss_family == AF_INET) {
			p = &((struct sockaddr_in *)&ss)->sin_addr;
		} else {
			p = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		}
		inet_ntop(ss.ss_family, p, host, sizeof(host));
		if (ss.ss_family == AF_INET6 &&
		    IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)&ss)->
		    sin6_addr)) {
			strcat(host, "%");
			strcat(host, i->ifa_name);
		}
		if (listener_add(d, host, t == TRANSPORT_IWARP ? "5445" : "445",
		    i->ifa_name) == 0) {
			n++;
		}
	}
	freeifaddrs(ifa);
	return n;
}

static bool
is_listener(struct daemon *d, struct rdma_cm_id *id)
{
	struct listener *l;

	TAILQ_FOREACH(l, &d->listeners, entry) {
		if (l->id == id) {
			return true;
		}
	}
	return false;
}

static void
listener_on_cm(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct rdma_cm_event *ev = NULL;
	struct rdma_conn_param req;
	enum rdma_cm_event_type type;
	struct rdma_cm_id *id;
	int status;

	while (rdma_get_cm_event(d->cm_ch, &ev) == 0) {
		type = ev->event;
		id = ev->id;
		status = ev->status;
		memset(&req, 0, sizeof(req));
		if (type == RDMA_CM_EVENT_CONNECT_REQUEST) {
			req = ev->param.conn;
			req.private_data = NULL;
			req.private_data_len = 0;
		}
		rdma_ack_cm_event(ev);
		log_debug("RDMA CM: %s (status %d)", rdma_event_str(type),
		    status);

		if (type == RDMA_CM_EVENT_CONNECT_REQUEST) {
			rconn_connect_request(d, id, &req);
		} else if (is_listener(d, id)) {
			log_warnx("RDMA CM: %s on a listener (status %d)",
			    rdma_event_str(type), status);
		} else if (id->context != NULL) {
			rconn_cm_event(id->context, type, status);
		}
	}
	if (errno != EAGAIN && errno != EINTR) {
		log_warn("rdma_get_cm_event");
	}
}

int
listener_init(struct daemon *d)
{
	unsigned i;
	int fl, n = 0;

	d->cm_ch = rdma_create_event_channel();
	if (d->cm_ch == NULL) {
		log_warn("rdma_create_event_channel (is rdma_ucm loaded?)");
		return -1;
	}
	fl = fcntl(d->cm_ch->fd, F_GETFL);
	if (fl == -1 || fcntl(d->cm_ch->fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		log_warn("RDMA CM channel O_NONBLOCK");
		return -1;
	}
	d->cm_ev = event_new(d->base, d->cm_ch->fd, EV_READ | EV_PERSIST,
	    listener_on_cm, d);
	if (d->cm_ev == NULL || event_add(d->cm_ev, NULL) != 0) {
		log_warnx("cannot watch the RDMA CM channel");
		return -1;
	}
	if (d->cfg.n_listen > 0) {
		for (i = 0; i < d->cfg.n_listen; i++) {
			if (listener_add(d, d->cfg.listen[i].host,
			    d->cfg.listen[i].port, NULL) != 0) {
				return -1;
			}
			n++;
		}
	} else {
		n = listener_defaults(d);
		if (n <= 0) {
			log_warnx("no IP address is bound to an RDMA device; "
			    "configure one, or set `listen` in %s",
			    d->cfg.path[0] != '\0' ? d->cfg.path :
			    "the configuration");
			return -1;
		}
	}
	return 0;
}

void
listener_close_all(struct daemon *d)
{
	struct listener *l;

	while ((l = TAILQ_FIRST(&d->listeners)) != NULL) {
		TAILQ_REMOVE(&d->listeners, l, entry);
		rdma_destroy_id(l->id);
		if (l->dev != NULL) {
			dev_put(l->dev);
		}
		free(l);
	}
}
