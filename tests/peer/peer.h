/* SPDX-License-Identifier: ISC */
/*
 * peer: an SMB Direct client on librdmacm and the engine (proto/sdp.h) in
 * the client role. The test peer (sdpeer) and the benchmarks drive it.
 *
 * It is deliberately simple where the daemon is careful: received PDUs are
 * copied into a reassembly buffer, one poll() loop drives one connection,
 * and a process runs one connection (use fork for many).
 */
#ifndef SMBDIRECTD_PEER_H
#define SMBDIRECTD_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "sdp.h"

#define PEER_MAX_SLOTS	64
#define PEER_HDR_SLOT	64
/* wr_id of unsignaled work requests that are not sends (window binds). */
#define PEER_WRID_BIND	0xb1d0b1d0ull

struct peer_pdu {
	struct peer_pdu	*next;
	size_t		 len;
	uint8_t		 data[];
};

struct peer {
	struct sdp_config	 cfg;
	unsigned		 ird, ord;
	unsigned		 timeout_ms;	/* per wait */
	bool			 verbose;

	struct rdma_event_channel *ech;
	struct rdma_cm_id	*id;
	struct ibv_pd		*pd;
	struct ibv_comp_channel	*cch;
	struct ibv_cq		*cq;
	struct sdp_conn		*sdp;
	bool			 connected;
	bool			 disconnected;
	bool			 negotiated;
	bool			 rejected;
	int			 disconnect_reason;	/* engine's, or 0 */
	char			 why[160];	/* how the connection ended */
	uint64_t		 deadline;	/* engine timer, 0: none */

	/* Receive buffers: one registered array, a free stack. */
	uint8_t			*rx_mem;
	struct ibv_mr		*rx_mr;
	unsigned		 n_rx;
	unsigned		*rx_free;
	unsigned		 n_rx_free;
	size_t			 rx_size;

	/* Sends: header slots, then the PDU ring, one MR. */
	uint8_t			*tx_mem;
	struct ibv_mr		*tx_mr;
	size_t			 tx_ring;	/* PDU bytes */
	size_t			 tx_head;
	size_t			 tx_used;
	unsigned		 slot_free[PEER_MAX_SLOTS];
	unsigned		 n_slot_free;
	uint64_t		 slot_cookie[PEER_MAX_SLOTS];
	bool			 slot_last[PEER_MAX_SLOTS];
	bool			 slot_raw[PEER_MAX_SLOTS];
	unsigned		 pdus_in_flight;

	/* Reassembly and the queue of received PDUs. */
	uint8_t			*in;
	size_t			 in_len;
	size_t			 in_got;
	struct peer_pdu		*rq_head;
	struct peer_pdu		**rq_tail;
	unsigned		 rq_n;

	/* Behaviour switches for misbehaviour tests. */
	bool			 no_release;	/* never release rx buffers */
	bool			 frozen;	/* receives bypass the engine:
						   it never learns of them, so
						   never grants again */
	unsigned		 held;

	/* The last receive that invalidated a token (SEND with invalidate). */
	uint32_t		 last_invalidated;
	uint64_t		 n_invalidated;

	/* Counters. */
	uint64_t		 pdus_sent, pdus_received;
	uint64_t		 bytes_sent, bytes_received;
};

uint64_t peer_now(void);
void	peer_init(struct peer *);
int	peer_connect(struct peer *, const char *addr, const char *port,
	    bool start_engine);
int	peer_wait_negotiated(struct peer *);
int	peer_send(struct peer *, const void *data, size_t len);
int	peer_send_raw(struct peer *, const void *msg, size_t len);
int	peer_recv(struct peer *, struct peer_pdu **out);
int	peer_wait_disconnect(struct peer *, unsigned timeout_ms);
int	peer_run_once(struct peer *, int timeout_ms);
void	peer_disconnect(struct peer *);
void	peer_destroy(struct peer *);
const char *peer_transport(const struct peer *);

#endif
