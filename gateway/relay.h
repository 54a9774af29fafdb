/*
 * relay: one SMB Direct connection relayed to the backend SMB server over
 * TCP, with RDMA offload translated (see relay.c).
 */
#ifndef SMBDIRECTD_RELAY_H
#define SMBDIRECTD_RELAY_H

#include <stdint.h>

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
	uint64_t	payload_recv_to_area;	/* TCP -> area, one copy */
	uint64_t	payload_send_from_area;	/* area -> TCP, one copy */
	uint64_t	payload_memcpy;		/* extra copies (compounds) */
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
