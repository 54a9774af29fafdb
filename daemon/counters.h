/* SPDX-License-Identifier: ISC */
/*
 * counters.h: the daemon's plain counters, each defined once.
 *
 * One line of COUNTERS() gives a counter everything it has:
 *   - its field in struct metrics (the daemon's total) and, for a
 *     per-connection counter, in struct rconn;
 *   - its count function, called through COUNT(c, name, n) (connection
 *     and daemon total together) or COUNT_DAEMON(d, name, n);
 *   - its series in the Prometheus exposition, HELP text and type
 *     (counter), and optionally a per-connection series (metrics.c);
 *   - its copy into the control channel's Counters message (info.c).
 *
 * X(scope, ctl, name, group, series, help, conn_help):
 *   scope      CONN: counted per connection and daemon-wide by one
 *              COUNT(c, name, n); DAEMON: daemon-wide only, counted by
 *              COUNT_DAEMON(d, name, n). The wrong one does not compile.
 *   ctl        CTL: sent over the control channel as the uint64 field
 *              called @name of message Counters in
 *              proto/smbdirect-ctl.proto (a new one takes the next free
 *              number, never a reserved one; without the field info.c
 *              does not compile); NOCTL: not sent. A DAEMON counter that
 *              is CTL reads 0 in a connection's Counters.
 *   name       the field in struct metrics and struct rconn.
 *   group      where the series sits in the exposition: metrics_render()
 *              prints each group at one place among the gauges and
 *              labelled families, in the order of this list.
 *   series     the series is smbdirect_<series>, of type counter.
 *   help       its HELP text.
 *   conn_help  NULL, or (CONN only) the HELP text of the per-connection
 *              series smbdirect_connection_<series>{conn,peer}, shown
 *              when metrics.per_connection is on.
 *
 * A new counter is one line here plus its count site (plus its .proto
 * field if it is CTL). Names, HELP texts and field numbers are an
 * interface: dashboards, tests/e2e and smbdirectctl --json read them, so
 * they never change once released.
 *
 * Not in this list, and why:
 *   - labelled families with open label sets, counted with
 *     metrics_count(m, MF_..., "label", n) (refusals, negotiate failures,
 *     closes, errors): their label values are tokens found at run time,
 *     one series each, not one field;
 *   - fixed families indexed by their own enum: copied[] by enum
 *     metrics_copy (rconn_copied()), rdma_rejected[] by enum
 *     frame_rdma_reject: one series per value of that enum, each list
 *     already defined once;
 *   - credit_stalls: the engine counts credit waits (sdp_get_stats());
 *     the series adds the open connections' counts to what reaped ones
 *     left, so it has no count site of its own;
 *   - gauges (connections open, MRs, areas, ...): read from state when
 *     rendered, never counted;
 *   - control_clients_total, textfile_writes: internal, not exported.
 */
#ifndef SMBDIRECTD_COUNTERS_H
#define SMBDIRECTD_COUNTERS_H

/* Where each group's series are printed: see metrics_render(). */
enum counter_group {
	CG_ACCEPTED,	/* after smbdirect_connections_peak */
	CG_TRAFFIC,	/* after smbdirect_connections_closed_total */
	CG_SENDS,	/* after smbdirect_rdma_requests_rejected_total */
	CG_RECEIVES,	/* after smbdirect_receive_credits_posted */
	CG_EVENTS,	/* after smbdirect_area_bytes */
};

#define COUNTERS(X)							\
	X(DAEMON, NOCTL, conn_total, CG_ACCEPTED, "connections_total",	\
	    "SMB Direct connections accepted.", NULL)			\
	X(CONN, CTL, bytes_in, CG_TRAFFIC, "received_bytes_total",	\
	    "SMB Direct message bytes received (Windows: Bytes Received).", \
	    "SMB Direct message bytes received on one connection.")	\
	X(CONN, CTL, bytes_out, CG_TRAFFIC, "sent_bytes_total",		\
	    "SMB Direct message bytes sent (Windows: Bytes Sent).",	\
	    "SMB Direct message bytes sent on one connection.")		\
	X(CONN, CTL, messages_in, CG_TRAFFIC, "received_messages_total", \
	    "SMB Direct messages received.", NULL)			\
	X(CONN, CTL, messages_out, CG_TRAFFIC, "sent_messages_total",	\
	    "SMB Direct messages sent.", NULL)				\
	X(CONN, CTL, pdus_in, CG_TRAFFIC, "received_pdus_total",	\
	    "SMB2 PDUs reassembled and passed to an smbd.", NULL)	\
	X(CONN, CTL, pdus_out, CG_TRAFFIC, "sent_pdus_total",		\
	    "SMB2 PDUs sent to clients.", NULL)				\
	X(CONN, CTL, rdma_read_bytes, CG_TRAFFIC, "rdma_read_bytes_total", \
	    "Bytes moved by RDMA READ (Windows: Bytes RDMA Read).",	\
	    "Bytes moved by RDMA READ on one connection.")		\
	X(CONN, CTL, rdma_read_ops, CG_TRAFFIC,				\
	    "rdma_read_operations_total",				\
	    "RDMA READ operations requested by smbds.", NULL)		\
	X(CONN, CTL, rdma_write_bytes, CG_TRAFFIC,			\
	    "rdma_write_bytes_total",					\
	    "Bytes moved by RDMA WRITE (Windows: Bytes RDMA Written).",	\
	    "Bytes moved by RDMA WRITE on one connection.")		\
	X(CONN, CTL, rdma_write_ops, CG_TRAFFIC,			\
	    "rdma_write_operations_total",				\
	    "RDMA WRITE operations requested by smbds.", NULL)		\
	X(CONN, NOCTL, sends_with_invalidate, CG_SENDS,			\
	    "sends_with_invalidate_total",				\
	    "Messages sent with remote invalidation of a client token.", \
	    NULL)							\
	X(DAEMON, NOCTL, recv_posted, CG_RECEIVES,			\
	    "receive_buffers_posted_total", "Receive buffers posted.", NULL) \
	X(DAEMON, NOCTL, handoffs, CG_EVENTS, "handoffs_total",		\
	    "Connections handed from one smbd to another.", NULL)	\
	X(DAEMON, NOCTL, keepalive_timeouts, CG_EVENTS,			\
	    "keepalive_timeouts_total",					\
	    "Connections ended because a keepalive went unanswered.", NULL)

/*
 * Filters for the expansions: COUNTERS_PER_CONN_##scope(code) keeps code
 * for CONN counters only, COUNTERS_DAEMON_ONLY_##scope(code) for DAEMON
 * ones only, COUNTERS_SENT_##ctl(code) for CTL ones only.
 */
#define COUNTERS_PER_CONN_CONN(...)	__VA_ARGS__
#define COUNTERS_PER_CONN_DAEMON(...)
#define COUNTERS_DAEMON_ONLY_CONN(...)
#define COUNTERS_DAEMON_ONLY_DAEMON(...) __VA_ARGS__
#define COUNTERS_SENT_CTL(...)		__VA_ARGS__
#define COUNTERS_SENT_NOCTL(...)

/* The fields: every counter in struct metrics, CONN ones in struct rconn. */
#define COUNTERS_METRICS_FIELD(scope, ctl, name, ...)	uint64_t name;
#define COUNTERS_RCONN_FIELD(scope, ctl, name, ...)			\
	COUNTERS_PER_CONN_##scope(uint64_t name;)

/*
 * Count @n on connection @c and in its daemon's total, or (DAEMON
 * counters) in daemon @d's total. They call rconn_add_<name>() (rconn.h)
 * and metrics_add_<name>() (metrics.h), generated from the list for CONN
 * and DAEMON counters respectively.
 */
#define COUNT(c, name, n)		rconn_add_##name((c), (n))
#define COUNT_DAEMON(d, name, n)	metrics_add_##name(&(d)->metrics, (n))

#endif
