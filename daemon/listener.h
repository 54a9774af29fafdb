/* SPDX-License-Identifier: ISC */
/*
 * listener: the RDMA CM listening ids and the one CM event channel that
 * serves every id of the daemon, listening or connected.
 */
#ifndef SMBDIRECTD_LISTENER_H
#define SMBDIRECTD_LISTENER_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <rdma/rdma_cma.h>

#include "daemon/dev.h"

struct daemon;

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

int	listener_init(struct daemon *);
void	listener_close_all(struct daemon *);

#endif
