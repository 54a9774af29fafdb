/* SPDX-License-Identifier: ISC */
/*
 * ops: the connection's side of the data channel engine (proto/chanops.h):
 * performing its actions (reserving and submitting PDUs, queueing frames,
 * posting RDMA READ and WRITE, the area, CLAIM) and feeding it the RDMA
 * completions. rconn_run() calls ops_act() for each action, in order.
 */
#ifndef SMBDIRECTD_OPS_H
#define SMBDIRECTD_OPS_H

#include <stdint.h>

#include <infiniband/verbs.h>

#include "chanops.h"

struct rconn;

/* The engine for @c (c->co), once its ORD is known. -ENOMEM. */
int	ops_new(struct rconn *);
void	ops_free(struct rconn *);
void	ops_act(struct rconn *, const struct chanops_action *);
void	ops_rdma_complete(struct rconn *, const struct ibv_wc *);

/*
 * A frame of the daemon's own (DRAIN) to the owner, behind any PDU being
 * delivered; takes @fd. 0, -EPIPE (closing), -ENOBUFS (the connection
 * closes).
 */
int	ops_send_frame(struct rconn *, uint8_t type, const uint8_t *body,
	    uint32_t len, int fd);

#endif
