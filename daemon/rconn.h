/* SPDX-License-Identifier: ISC */
/*
 * rconn: one SMB Direct connection: its RDMA CM id, QP, CQ, registered
 * buffers and the protocol engine (proto/sdp.h) in the server role, plus
 * the data channel (chan.h) that carries its PDUs to an smbd.
 */
#ifndef SMBDIRECTD_RCONN_H
#define SMBDIRECTD_RCONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "daemon/chan.h"
#include "daemon/counters.h"
#include "daemon/daemon.h"
#include "daemon/rconn_reason.h"
#include "sdp.h"

#define RX_CHUNK_BUFS	16	/* receive buffers per registered chunk */

enum rconn_state {
	RCONN_ACCEPTING,	/* connect request accepted, not established */
	RCONN_NEGOTIATING,	/* SMB Direct negotiation, or no PDU yet */
	RCONN_WAIT_MASTER,	/* first PDU held, no master registered */
	RCONN_WAIT_CHANNEL,	/* NewConnection sent, socket not opened */
	RCONN_ACTIVE,		/* data channel connected */
	RCONN_DRAINING,		/* owner told; closes after the grace */
	RCONN_CLOSING,		/* disconnecting; resources about to go */
};

/*
 * What a work request's wr_id is. An RDMA READ or WRITE's is the data
 * channel engine's cookie (8-byte aligned) with WR_ID_RDMA set; any other
 * points at a structure whose first member says which kind.
 */
#define WR_ID_RDMA	1u

enum wr_kind {
	WR_RECV = 1,
	WR_SEND,
};

struct rxchunk;
struct area;
struct chanops;

/*
 * A receive buffer. It is on the free list, posted, or held: delivered
 * to the data channel, which releases it once written out.
 */
struct rxbuf {
	uint8_t			 kind;		/* WR_RECV */
	struct rxchunk		*chunk;
	uint8_t			*data;
	SLIST_ENTRY(rxbuf)	 free_entry;
};

/* max_receive_size * RX_CHUNK_BUFS bytes registered as one MR. */
struct rxchunk {
	SLIST_ENTRY(rxchunk)	 entry;
	struct ibv_mr		*mr;
	uint8_t			*mem;
	struct rxbuf		 bufs[RX_CHUNK_BUFS];
};

/*
 * One send work request in flight: the message header lives in its slot
 * of the registered header area; the payload, if any, is a slice of a
 * PDU in the send ring.
 */
struct txslot {
	uint8_t		 kind;		/* WR_SEND */
	struct txpdu	*pdu;		/* NULL: no payload */
	bool		 last;		/* last fragment: frees the PDU */
	uint8_t		*hdr;		/* 32 bytes in the header area */
};

/*
 * A PDU read from the data channel into the send ring, until its last
 * fragment's send completes. PDUs leave the ring in the order they
 * entered it: the engine sends them in order and RC completes in order.
 */
struct txpdu {
	TAILQ_ENTRY(txpdu)	 entry;
	uint32_t		 off;		/* in the ring */
	uint32_t		 len;		/* PDU bytes */
	uint32_t		 span;		/* ring bytes used, with skip */
	uint32_t		 invalidate_rkey;
};

struct rconn {
	TAILQ_ENTRY(rconn)	 entry;
	struct daemon		*d;
	uint64_t		 id;
	enum rconn_state	 state;
	struct rdma_cm_id	*cm_id;
	struct dev		*dev;
	struct ibv_cq		*cq;
	struct sdp_conn		*sdp;
	bool			 established;	/* ESTABLISHED seen */
	bool			 disconnected;	/* DISCONNECTED seen */
	bool			 qp_dead;	/* flushes: post nothing */
	enum rconn_reason	 close_reason;	/* RCONN_R_NONE until closing */
	/*
	 * The one run loop (rconn_run()) and deferred close: in_run while it
	 * drains the engines' actions; holds while an event callback works
	 * on the connection. A close asked for meanwhile marks the
	 * connection CLOSING at once and tears it down (close_pending) only
	 * when neither is set.
	 */
	bool			 in_run;
	bool			 run_again;
	unsigned		 holds;
	bool			 close_pending;
	enum rconn_state	 close_prev;	/* the state close found */
	char			 close_msg[160];
	uint64_t		 t_start;
	uint64_t		 t_last_io;
	unsigned		 ird, ord;	/* accepted RDMA read depths */
	struct rxbuf		*cur_rx;	/* the receive being fed in */
	uint32_t		 owner_pid;
	uint32_t		 handoff_pid;	/* pending HandOff target */
	uint32_t		 claim_pid;	/* who sent a CLAIM frame */

	char			 peer[64];	/* "addr:port" */
	char			 local[64];
	struct sockaddr_storage	 peer_addr;
	enum transport		 transport;

	struct event		*engine_timer;	/* the engine's one timer */
	struct event		*state_timer;	/* channel/grace/drain */
	struct event		*reap_ev;	/* deferred free */

	/* Receive side. */
	SLIST_HEAD(, rxchunk)	 rx_chunks;
	SLIST_HEAD(, rxbuf)	 rx_free;
	unsigned		 rx_allocated;	/* buffers in chunks */
	unsigned		 rx_posted;
	unsigned		 rx_held;

	/* Send side: header slots and the PDU ring, one MR. */
	struct ibv_mr		*tx_mr;
	uint8_t			*tx_mem;
	uint32_t		 ring_size;
	uint32_t		 ring_head;	/* next free byte */
	uint32_t		 ring_used;
	TAILQ_HEAD(, txpdu)	 tx_pdus;	/* in ring order */
	struct txslot		*slots;
	unsigned		 n_slots;
	unsigned		*slot_free;	/* stack of free slot indexes */
	unsigned		 n_slot_free;
	unsigned		 sends_outstanding;

	struct chan		 chan;
	struct area		*area;		/* shared-memory area, or NULL */
	struct chanops		*co;		/* the data channel's engine */

	/* Per-connection counters: COUNT() (counters.h), rconn_copied(). */
	COUNTERS(COUNTERS_RCONN_FIELD)
	uint64_t		 copied[COPY_END];
	struct dev_mrs		 mrs;		/* on c->dev's PD */
	bool			 counted_open;	/* in d->conns_open */
};

/* COUNT(c, name, n) of counters.h, for each CONN counter. */
#define X(scope, ctl, name, ...)					\
	COUNTERS_PER_CONN_##scope(					\
	static inline void						\
	rconn_add_##name(struct rconn *c, uint64_t n)			\
	{								\
		c->name += n;						\
		c->d->metrics.name += n;				\
	})
COUNTERS(X)
#undef X

/* Count @n bytes copied, of kind @k, on @c and daemon-wide. */
static inline void
rconn_copied(struct rconn *c, enum metrics_copy k, uint64_t n)
{
	c->copied[k] += n;
	c->d->metrics.copied[k] += n;
}

const char	*rconn_state_name(enum rconn_state);

void		 rconn_connect_request(struct daemon *, struct rdma_cm_id *,
		    const struct rdma_conn_param *req);
void		 rconn_cm_event(struct rconn *, enum rdma_cm_event_type,
		    int status);
void		 rconn_cq_event(struct rconn *);
void		 rconn_close_wc(struct rconn *, const struct ibv_wc *, bool,
		    const char *what);
void		 rconn_close(struct rconn *, enum rconn_reason,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
struct rconn	*rconn_find(struct daemon *, uint64_t id);
void		 rconn_master_changed(struct daemon *);
void		 rconn_drain_timer(struct rconn *, uint32_t grace_ms);
void		 rconn_free_all(struct daemon *);

unsigned	 rconn_mr_limit(const struct conf *);

void		 rconn_run(struct rconn *);
void		 rconn_hold(struct rconn *);
void		 rconn_unhold(struct rconn *);

/* Called by chan.c and ops.c. */
void		 rconn_rx_release(struct rconn *, struct rxbuf *);
int		 rconn_tx_reserve(struct rconn *, uint32_t len,
		    struct txpdu **out, uint8_t **buf);
int		 rconn_tx_submit(struct rconn *, struct txpdu *);
void		 rconn_upper_blocked(struct rconn *, bool);
void		 rconn_channel_connected(struct rconn *, pid_t pid);
void		 rconn_channel_gone(struct rconn *, enum rconn_reason,
		    const char *why);

#endif
