/*
 * The daemon's metrics registry.
 *
 * Hot-path counters are plain fields, bumped where the event happens
 * (per connection and daemon-wide). Rare events that carry a reason
 * (refusals, negotiate failures, closes, errors) go to labelled families,
 * small tables searched linearly: they are counted a few times per
 * connection at most. Label values are stable tokens (sdp_error_name(),
 * "no_master", ...), never free text.
 */
#ifndef SMBDIRECTD_METRICS_H
#define SMBDIRECTD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_FAMILY_MAX	48	/* label values per family */

enum metrics_family {
	MF_REFUSED,		/* connections refused, by reason */
	MF_NEGOTIATE_FAIL,	/* negotiate failures, by reason */
	MF_CLOSED,		/* connections closed, by reason */
	MF_ERRORS,		/* errors, by kind */
	MF_COUNT
};

struct metrics_label {
	char		name[40];
	uint64_t	value;
};

struct metrics_table {
	struct metrics_label	labels[METRICS_FAMILY_MAX];
	unsigned		n;
	uint64_t		overflow;	/* counted under "other" */
};

/* Daemon-wide totals; per-connection ones live in struct rconn. */
struct metrics {
	uint64_t	conn_total;		/* accepted in RDMA CM */
	uint64_t	bytes_in;		/* SMB Direct message bytes */
	uint64_t	bytes_out;
	uint64_t	msgs_in;
	uint64_t	msgs_out;
	uint64_t	pdus_in;
	uint64_t	pdus_out;
	uint64_t	rdma_read_bytes;
	uint64_t	rdma_read_ops;
	uint64_t	rdma_write_bytes;
	uint64_t	rdma_write_ops;
	uint64_t	sends_with_invalidate;	/* SEND with Invalidate */
	uint64_t	credit_stalls;		/* sends that waited for credit */
	uint64_t	recv_posted;		/* receive buffers posted */
	uint64_t	handoffs;
	uint64_t	keepalive_timeouts;
	uint64_t	copied_payload_bytes;	/* RDMA payload copied: 0 */
	uint64_t	inline_copied_bytes;	/* inline PDU bytes, once */
	uint64_t	control_clients_total;
	uint64_t	textfile_writes;
	struct metrics_table	families[MF_COUNT];
};

struct daemon;

void	metrics_count(struct metrics *, enum metrics_family,
	    const char *label, uint64_t n);
uint64_t metrics_family_total(const struct metrics *, enum metrics_family);
char	*metrics_render(struct daemon *);
int	 metrics_write_textfile(struct daemon *);

#endif
