/* SPDX-License-Identifier: ISC */
/*
 * The daemon's metrics registry.
 *
 * Hot-path counters are plain fields, defined once in counters.h and
 * bumped where the event happens by COUNT() (per connection and
 * daemon-wide at once) or COUNT_DAEMON(). Rare events that carry a reason
 * (refusals, negotiate failures, closes, errors) go to labelled families,
 * small tables searched linearly: they are counted a few times per
 * connection at most. Label values are stable tokens (sdp_error_name(),
 * "no_master", ...), never free text.
 */
#ifndef SMBDIRECTD_METRICS_H
#define SMBDIRECTD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/counters.h"
#include "frame.h"

#define METRICS_FAMILY_MAX	48	/* label values per family */

/*
 * Bytes the daemon copies, by kind: smbdirect_copied_bytes_total{kind},
 * the per-connection copy counters and the control channel's
 * Counters.copied_bytes all come from this list. X(name, token).
 *
 *   pdu_to_owner    SMB2 PDU bytes written from receive buffers to a data
 *                   channel (the 4-byte frame headers are not counted),
 *                   as the socket takes them;
 *   pdu_from_owner  SMB2 PDU bytes read from a data channel into the send
 *                   ring (frame headers not counted), as they are read;
 *   memcpy          PDU or payload bytes copied by memcpy() inside the
 *                   daemon: no such copy exists, and
 *                   tests/unit/test_copy_sites.sh fails if one appears
 *                   without being counted here;
 *   op_frames       operation frames (header and body) written to or read
 *                   from a data channel: not payload, not PDUs.
 */
#define METRICS_COPY_KINDS(X)						\
	X(PDU_TO_OWNER, "pdu_to_owner")					\
	X(PDU_FROM_OWNER, "pdu_from_owner")				\
	X(MEMCPY, "memcpy")						\
	X(OP_FRAMES, "op_frames")

enum metrics_copy {
#define X(e, token)	COPY_##e,
	METRICS_COPY_KINDS(X)
#undef X
	COPY_END
};

/*
 * The label values of smbdirect_connections_refused_total{reason} and
 * smbdirect_errors_total{kind} that the daemon counts: every one has its
 * series from the start (0), so that a missing series means a broken
 * exporter, never "not yet". tests/unit/test_metric_labels.sh fails if a
 * count site names a label that is not listed here.
 */
#define METRICS_REFUSALS(X)						\
	X("access_denied")						\
	X("shutting_down")						\
	X("draining")							\
	X("max_connections")						\
	X("max_connections_per_peer")					\
	X("no_master")							\
	X("no_resources")

#define METRICS_ERROR_KINDS(X)						\
	X("bad_frame")							\
	X("completion_error")						\
	X("control_bad_message")					\
	X("control_bad_version")					\
	X("control_oversized")						\
	X("control_too_many_clients")					\
	X("control_too_many_per_uid")

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

/*
 * Daemon-wide totals: every counter of COUNTERS() (counters.h), whose
 * CONN ones also live in struct rconn, and what that list leaves out
 * (counters.h says why).
 */
struct metrics {
	COUNTERS(COUNTERS_METRICS_FIELD)
	uint64_t	credit_stalls;		/* credit waits, reaped conns */
	uint64_t	copied[COPY_END];	/* by enum metrics_copy */
	/* RDMA frames refused, by enum frame_rdma_reject (0 unused). */
	uint64_t	rdma_rejected[FRAME_RDMA_REJECT_END];
	uint64_t	control_clients_total;
	uint64_t	textfile_writes;
	struct metrics_table	families[MF_COUNT];
};

/* COUNT_DAEMON(d, name, n) of counters.h, for each DAEMON counter. */
#define X(scope, ctl, name, ...)					\
	COUNTERS_DAEMON_ONLY_##scope(					\
	static inline void						\
	metrics_add_##name(struct metrics *m, uint64_t n)		\
	{								\
		m->name += n;						\
	})
COUNTERS(X)
#undef X

struct daemon;

void	metrics_init(struct metrics *);
void	metrics_count(struct metrics *, enum metrics_family,
	    const char *label, uint64_t n);
uint64_t metrics_family_total(const struct metrics *, enum metrics_family);
const char *metrics_copy_name(enum metrics_copy);
char	*metrics_render(struct daemon *);
int	 metrics_write_textfile(struct daemon *);

#endif
