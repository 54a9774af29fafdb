/* SPDX-License-Identifier: ISC */
/*
 * master: the master smbd's registration, events, and the hand-off of a
 * connection from one smbd to another (ARCHITECTURE §1, steps 4-6).
 */
#ifndef SMBDIRECTD_MASTER_H
#define SMBDIRECTD_MASTER_H

#include <stdbool.h>

#include "daemon/rconn.h"

struct daemon;

bool	master_present(const struct daemon *);
pid_t	master_pid(const struct daemon *);
void	master_new_connection(struct daemon *, struct rconn *);
void	master_conn_closed(struct daemon *, struct rconn *,
	    enum rconn_state prev);
void	master_drain_requested(struct daemon *, uint64_t conn_id,
	    uint32_t grace_ms, uint32_t owner_pid);

#endif
