/*
 * smbdirectd: the daemon's shared structures.
 *
 * One libevent loop runs everything: the RDMA CM event channel, one
 * completion channel per device, the control socket and its clients, each
 * connection's data channel and timers. Nothing blocks and there are no
 * threads, so no structure here needs a lock.
 *
 * Ownership, top down:
 *   struct daemon   owns devices, listeners, connections, control clients
 *   struct dev      owns a PD and a completion channel; outlives its conns
 *   struct rconn    owns its cm_id, QP, CQ, MRs, buffers, engine, channel
 *   struct chan     owns the data-channel socket (and the one-shot path)
 */
#ifndef SMBDIRECTD_DAEMON_H
#define SMBDIRECTD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/event.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "daemon/conf.h"
#include "daemon/metrics.h"

/*
 * glibc's <sys/queue.h> lacks the BSD _SAFE iterator, which allows removing
 * the current element: the BSD definition, verbatim in meaning.
 */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST((head));				\
	    (var) && ((tvar) = TAILQ_NEXT((var), field), 1);		\
	    (var) = (tvar))
#endif

struct rconn;
struct chan;
struct ctl_client;

/*
 * RDMA transports: X(name, number, token). The token names the transport
 * in logs, metrics labels (smbdirect_connections_peak{transport}) and the
 * control channel's StatusReply.connections_peak.
 */
#define TRANSPORTS(X)							\
	X(IWARP, 1, "iwarp")						\
	X(ROCE, 2, "roce")						\
	X(IB, 3, "ib")

enum transport {
#define X(e, n, token)	TRANSPORT_##e = n,
	TRANSPORTS(X)
#undef X
	TRANSPORT_END
};

/*
 * An RDMA device the daemon uses. Created on the first cm_id bound to it;
 * freed at shutdown once no connection refers to it (refs == 0).
 */
struct dev {
	TAILQ_ENTRY(dev)	 entry;
	struct daemon		*d;
	struct ibv_context	*verbs;		/* borrowed from RDMA CM */
	struct ibv_pd		*pd;
	struct ibv_comp_channel	*cch;
	struct ibv_cq		*guard_cq;	/* siw only: see dev_siw_guard() */
	struct event		*cch_ev;
	struct ibv_device_attr	 attr;
	enum transport		 transport;
	char			 name[IBV_SYSFS_NAME_MAX];
	unsigned		 refs;		/* connections using it */
	unsigned		 mr_count;	/* MRs registered on its PD */
	uint64_t		 mr_bytes;
};

/* One RDMA CM listening id. */
struct listener {
	TAILQ_ENTRY(listener)	 entry;
	struct rdma_cm_id	*id;
	struct sockaddr_storage	 addr;
	enum transport		 transport;
	char			 device[IBV_SYSFS_NAME_MAX];
	struct dev		*dev;		/* held open, or NULL */
	char			 text[80];	/* "10.0.0.1:5445" */
	unsigned		 if_index;
	uint64_t		 link_speed_bps;
};

struct daemon {
	struct event_base	*base;
	struct conf		 cfg;
	uint64_t		 start_ms;	/* monotonic */
	uint64_t		 start_wall;	/* seconds since the epoch */
	bool			 foreground;
	bool			 shutting_down;
	bool			 draining;
	int			 control_fd;	/* --control-fd, or -1 */

	struct rdma_event_channel *cm_ch;
	struct event		*cm_ev;
	TAILQ_HEAD(, listener)	 listeners;
	TAILQ_HEAD(, dev)	 devs;

	TAILQ_HEAD(, rconn)	 conns;
	unsigned		 n_conns;
	uint64_t		 next_conn_id;
	/*
	 * Accepted connections open now, and the most ever open at once,
	 * by enum transport (0 unused): counted from the accept until the
	 * reap, like n_conns (rconn_open_count()).
	 */
	unsigned		 conns_open[TRANSPORT_END];
	unsigned		 conns_peak[TRANSPORT_END];

	struct control		*control;
	struct metrics		 metrics;
	struct event		*sig_term;
	struct event		*sig_int;
	struct event		*sig_hup;
	struct event		*metrics_timer;
	struct event		*shutdown_timer;
};

/* main.c */
uint64_t	 now_ms(void);
void		 daemon_check_shutdown(struct daemon *);

/* dev.c */
struct dev	*dev_get(struct daemon *, struct ibv_context *);
void		 dev_put(struct dev *);
void		 dev_free_all(struct daemon *);
enum transport	 dev_transport(struct ibv_context *, uint8_t port);
const char	*transport_name(enum transport);

/* listener.c */
int		 listener_init(struct daemon *);
void		 listener_close_all(struct daemon *);

#endif
