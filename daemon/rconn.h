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
#include "daemon/daemon.h"
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

/* What a work request's wr_id points at: the first member says which. */
enum wr_kind {
	WR_RECV = 1,
	WR_SEND,
	WR_RDMA,
};

struct rxchunk;
struct area;
struct ops;

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
	int			 close_reason;	/* sdp_error or RCONN_R_* */
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
	struct ops		*ops;		/* RDMA operations in flight */

	/* Per-connection counters. */
	uint64_t		 bytes_in, bytes_out;
	uint64_t		 msgs_in, msgs_out;
	uint64_t		 pdus_in, pdus_out;
	uint64_t		 rdma_read_bytes, rdma_read_ops;
	uint64_t		 rdma_write_bytes, rdma_write_ops;
	uint64_t		 copied[COPY_END];	/* rconn_copied() */
	uint64_t		 sends_with_invalidate;
	unsigned		 mr_count;
	uint64_t		 mr_bytes;
	bool			 counted_open;	/* in d->conns_open */
};

/*
 * Close reasons that are not engine errors (sdp_error values are < 0):
 * X(name, token); the token labels smbdirect_connections_closed_total
 * and ConnectionClosed.reason.
 *
 *   peer_disconnect      the peer disconnected (or its going flushed the
 *                        queue pair) between PDUs;
 *   disconnect_mid_pdu   the same, while a PDU was being reassembled
 *                        (sdp_rx_remaining() > 0);
 *   disconnect_mid_rdma  the same, while an RDMA READ or WRITE of the
 *                        peer's memory was on the queue pair. soft-iWARP
 *                        reports a client's bad token or range this way:
 *                        the TERMINATE it receives (RDMAP remote
 *                        protection error) flushes the queue pair, and the
 *                        work request completes as flushed, not as a
 *                        remote access error;
 *   rdma_remote_access   a work request failed with a remote access
 *                        error: the client's token or range was bad;
 *   rdma_error           any other RDMA failure: a completion error, an
 *                        RDMA CM error, device removal, a post that failed.
 */
#define RCONN_REASONS(X)						\
	X(PEER_DISCONNECT, "peer_disconnect")				\
	X(CHANNEL_CLOSED, "channel_closed")				\
	X(CHANNEL_TIMEOUT, "channel_timeout")				\
	X(CHANNEL_ERROR, "channel_error")				\
	X(NO_MASTER, "no_master")					\
	X(KILLED, "killed")						\
	X(DRAINED, "drained")						\
	X(SHUTDOWN, "shutdown")						\
	X(RDMA_ERROR, "rdma_error")					\
	X(NO_RESOURCES, "no_resources")					\
	X(IDLE, "idle_timeout")						\
	X(DISCONNECT_MID_PDU, "disconnect_mid_pdu")			\
	X(RDMA_REMOTE_ACCESS, "rdma_remote_access")			\
	X(DISCONNECT_MID_RDMA, "disconnect_mid_rdma")

enum rconn_reason {
	RCONN_R_NONE = 0,
#define X(e, token)	RCONN_R_##e,
	RCONN_REASONS(X)
#undef X
	RCONN_R_END
};

/* Count @n bytes copied, of kind @k, on @c and daemon-wide. */
static inline void
rconn_copied(struct rconn *c, enum metrics_copy k, uint64_t n)
{
	c->copied[k] += n;
	c->d->metrics.copied[k] += n;
}

const char	*rconn_reason_name(int reason);
void		 rconn_metrics_init(struct metrics *);
const char	*rconn_state_name(enum rconn_state);

void		 rconn_connect_request(struct daemon *, struct rdma_cm_id *,
		    const struct rdma_conn_param *req);
void		 rconn_cm_event(struct rconn *, enum rdma_cm_event_type,
		    int status);
void		 rconn_cq_event(struct rconn *);
void		 rconn_close_wc(struct rconn *, const struct ibv_wc *, bool,
		    const char *what);
void		 rconn_close(struct rconn *, int reason, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
struct rconn	*rconn_find(struct daemon *, uint64_t id);
void		 rconn_master_changed(struct daemon *);
void		 rconn_drain_timer(struct rconn *, uint32_t grace_ms);
void		 rconn_free_all(struct daemon *);

unsigned	 rconn_mr_limit(const struct conf *);
struct ibv_mr	*rconn_reg_mr(struct rconn *, void *, size_t, int access);
void		 rconn_dereg_mr(struct rconn *, struct ibv_mr *);

/* Called by chan.c. */
void		 rconn_rx_release(struct rconn *, struct rxbuf *);
int		 rconn_tx_reserve(struct rconn *, uint32_t len,
		    struct txpdu **out, uint8_t **buf);
int		 rconn_tx_submit(struct rconn *, struct txpdu *);
void		 rconn_tx_unreserve(struct rconn *, struct txpdu *);
void		 rconn_upper_blocked(struct rconn *, bool);
void		 rconn_channel_connected(struct rconn *, pid_t pid);
void		 rconn_channel_gone(struct rconn *, int reason,
		    const char *why);

#endif
