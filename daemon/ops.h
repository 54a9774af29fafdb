/*
 * ops: the operation frames an owner sends on the data channel (frame.h):
 * RDMA READ and WRITE through the area, send with invalidate, the area
 * itself, and CLAIM.
 */
#ifndef SMBDIRECTD_OPS_H
#define SMBDIRECTD_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <infiniband/verbs.h>

struct rconn;
struct txpdu;

/*
 * RDMA operations in flight at most: READs up to the ORD, WRITEs up to
 * twice it (at least 2). The send queue is sized from this.
 */
#define OPS_MAX_READS(ord)	(ord)
#define OPS_MAX_WRITES(ord)	((ord) > 0 ? (ord) * 2 : 2)
#define OPS_MAX_POSTED(ord)	(OPS_MAX_READS(ord) + OPS_MAX_WRITES(ord))

int	ops_handle(struct rconn *, uint8_t type, const uint8_t *body,
	    uint32_t len, pid_t sender);
int	ops_pdu_ready(struct rconn *, struct txpdu *);
bool	ops_can_accept(const struct rconn *);
bool	ops_in_flight(const struct rconn *);
void	ops_rdma_complete(struct rconn *, const struct ibv_wc *);
void	ops_abort(struct rconn *);
void	ops_free(struct rconn *);
int	ops_error(struct rconn *, uint8_t refused, int status,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
