/* SPDX-License-Identifier: ISC */
/*
 * dev: the RDMA devices the daemon uses (one PD and one completion
 * channel each, shared by the device's connections) and the transports
 * they speak.
 */
#ifndef SMBDIRECTD_DEV_H
#define SMBDIRECTD_DEV_H

#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <infiniband/verbs.h>

struct daemon;

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

/*
 * The memory regions one user (a connection) holds on a device's PD. The
 * device counts them too, for the daemon-wide gauges.
 */
struct dev_mrs {
	unsigned	 count;
	uint64_t	 bytes;
};

struct dev	*dev_get(struct daemon *, struct ibv_context *);
struct ibv_mr	*dev_reg_mr(struct dev *, struct dev_mrs *, void *addr,
		    size_t len, int access);
void		 dev_dereg_mr(struct dev *, struct dev_mrs *, struct ibv_mr *);
void		 dev_put(struct dev *);
void		 dev_free_all(struct daemon *);
enum transport	 dev_transport(struct ibv_context *, uint8_t port);
const char	*transport_name(enum transport);

#endif
