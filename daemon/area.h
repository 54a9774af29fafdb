/* SPDX-License-Identifier: ISC */
/*
 * area: a connection's shared-memory area (ARCHITECTURE §2, §3): a memfd
 * with its size sealed, mapped by the daemon, registered as one MR with
 * local access only, and passed to the owner, which allocates within it.
 * RDMA READ and WRITE payload moves between the client's memory and the
 * area; the daemon never copies it.
 */
#ifndef SMBDIRECTD_AREA_H
#define SMBDIRECTD_AREA_H

#include <stddef.h>
#include <stdint.h>

struct rconn;
struct area;

int	 area_get(struct rconn *, struct area **out);
int	 area_dup_fd(const struct area *);
size_t	 area_size(const struct area *);
uint8_t	*area_base(const struct area *);
uint32_t area_lkey(const struct area *);
void	 area_free(struct rconn *);

#endif
