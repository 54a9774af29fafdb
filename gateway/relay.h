/* SPDX-License-Identifier: ISC */
/*
 * relay: one SMB Direct connection relayed to the backend SMB server over
 * TCP, with RDMA offload translated (see relay.c).
 */
#ifndef SMBDIRECTD_RELAY_H
#define SMBDIRECTD_RELAY_H

#include <stdint.h>

/*
 * Bytes the relay copies, by kind: smbdirect_gw_copied_bytes_total{kind}.
 * X(name, token).
 *
 *   payload_recv_to_area    READ data received from the backend's socket
 *                           straight into the area;
 *   payload_send_from_area  WRITE data written to the backend's socket
 *                           straight from the area;
 *   payload_memcpy          READ data memcpy()d into the area from a
 *                           response read whole (a compound): the second
 *                           copy;
 *   pdu_memcpy              SMB2 message bytes memcpy()d inside the relay:
 *                           the 80-byte head of a response read in two
 *                           steps, every command of a rebuilt compound
 *                           response, and the headers copied into rewritten
 *                           or stand-in messages (gwsmb2.h says how many
 *                           bytes each helper copies).
 *
 * Socket reads and writes of SMB2 messages themselves are not counted
 * here: bytes_to_backend and bytes_to_client count what is written.
 */
#define GW_COPY_KINDS(X)						\
	X(PAYLOAD_RECV_TO_AREA, "payload_recv_to_area")			\
	X(PAYLOAD_SEND_FROM_AREA, "payload_send_from_area")		\
	X(PAYLOAD_MEMCPY, "payload_memcpy")				\
	X(PDU_MEMCPY, "pdu_memcpy")

enum gw_copy {
#define X(e, token)	GW_COPY_##e,
	GW_COPY_KINDS(X)
#undef X
	GW_COPY_END
};

/*
 * Counters shared by the gateway's processes (one page, MAP_SHARED, made
 * before the first fork); updated with atomic adds.
 */
struct gw_stats {
	uint64_t	connections_total;
	uint64_t	connections_active;
	uint64_t	connections_failed;
	uint64_t	pdus_to_backend;
	uint64_t	pdus_to_client;
	uint64_t	bytes_to_backend;	/* SMB2 bytes written to TCP */
	uint64_t	bytes_to_client;	/* SMB2 bytes sent to clients */
	uint64_t	rdma_read_ops;		/* client WRITE data pulled */
	uint64_t	rdma_read_bytes;
	uint64_t	rdma_write_ops;		/* client READ data pushed */
	uint64_t	rdma_write_bytes;
	uint64_t	copied[GW_COPY_END];	/* by enum gw_copy */
	uint64_t	compound_requests;
	uint64_t	refused_signed_rdma;
	uint64_t	passthrough_encrypted;
};

struct relay_conf {
	const char	*backend_host;
	const char	*backend_port;
	unsigned	 connect_timeout_ms;
};

/*
 * relay_run() - relay one connection until either side ends it.
 * Runs in its own process (forked per connection); returns an exit status.
 */
int	relay_run(const struct relay_conf *, const char *socket_path,
	    uint64_t conn_id, uint32_t max_rw, uint32_t peer_max_frag,
	    uint32_t max_frag, struct gw_stats *);

#endif
