/* SPDX-License-Identifier: ISC */
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

/* clock.h, dev.h and listener.h also for files that include only this. */
#include "daemon/clock.h"
#include "daemon/conf.h"
#include "daemon/dev.h"
#include "daemon/listener.h"
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

struct daemon {
	struct event_base	*base;
	struct conf		 cfg;
	uint64_t		 start_ms;	/* monotonic */
	uint64_t		 start_wall;	/* seconds since the epoch */
	bool			 foreground;
	bool			 shutting_down;
	bool			 stopped;	/* the loop ended: up is 0 */
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
void		 daemon_check_shutdown(struct daemon *);

#endif
