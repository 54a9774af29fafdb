/* SPDX-License-Identifier: ISC */
/*
 * rconn_reason.h: why a connection closed, one vocabulary.
 *
 * enum rconn_reason is the only type that says why a connection ended.
 * struct rconn's close_reason holds one, rconn_close() and
 * rconn_channel_gone() take one, and rconn_reason_name() gives the
 * stable token that labels smbdirect_connections_closed_total{reason}
 * and the control channel's ConnectionClosed.reason. A token never
 * changes once released.
 *
 * Its values come from two lists, one per reporter:
 *
 *   RCONN_REASONS       the daemon's own: what the engine cannot see (RDMA
 *                       CM events, completions, the data channel, timers,
 *                       the control channel) and the daemon's decisions.
 *                       X(name, token): RCONN_R_<name>.
 *   RCONN_SDP_REASONS   the engine's: one per enum sdp_error that can end
 *                       a connection. X(name, code): RCONN_R_SDP_<name>,
 *                       whose token is sdp_error_name(code), the engine's
 *                       own token. The engine reports these as the reason
 *                       of SDP_ACT_DISCONNECT, and rconn_run() maps that
 *                       with rconn_reason_from_sdp(): the one place where
 *                       a fatal sdp_error becomes a close reason. The one
 *                       other engine error that ends a connection is
 *                       sdp_send_pdu() refusing a PDU the daemon checked
 *                       (rconn_tx_submit(), mapped the same way).
 *
 * RCONN_R_NONE (0) means "not closing". Every value is > 0; no sdp_error
 * or errno is ever stored as a close reason.
 *
 * The other codes in the daemon: a function returns 0 or a negative errno
 * (-ENOMEM, -EAGAIN, -EPIPE, ...) and never a close reason; an enum
 * sdp_error lives only in the int an engine call returned, and is handled
 * or mapped where that call is made.
 */
#ifndef SMBDIRECTD_RCONN_REASON_H
#define SMBDIRECTD_RCONN_REASON_H

#include "daemon/metrics.h"
#include "sdp.h"

/*
 * The daemon's own reasons, X(name, token). Who reports each:
 *
 *   peer_disconnect      the peer disconnected (RDMA CM DISCONNECTED), or
 *                        its going flushed the queue pair, between PDUs:
 *                        rconn_cm_event(), rconn_close_wc();
 *   channel_closed       the smbd closed the data channel (end of file):
 *                        chan.c;
 *   channel_timeout      nobody connected to the data channel within
 *                        channel_connect_timeout_ms: the state timer;
 *   channel_error        the data channel failed: a read or write error,
 *                        a frame the daemon refuses, credentials it cannot
 *                        read: chan.c, ops.c;
 *   no_master            the first PDU arrived with no master smbd
 *                        registered, and none registered within
 *                        master_grace_ms: rconn_first_pdu(), the state
 *                        timer;
 *   killed               a control client asked (KillConnection):
 *                        admin.c;
 *   drained              the drain grace period ended with the connection
 *                        still open: the state timer;
 *   shutdown             the daemon is stopping or exiting: main.c,
 *                        rconn_free_all();
 *   rdma_error           any other RDMA failure: a completion error, an
 *                        RDMA CM error event, device removal, a post that
 *                        failed: rconn.c, ops.c;
 *   no_resources         memory, receive buffers, a socket or queue room
 *                        ran out, or the connection could not be set up:
 *                        rconn.c, chan.c, ops.c;
 *   idle_timeout         no I/O for idle_timeout_ms: main.c;
 *   disconnect_mid_pdu   as peer_disconnect, while a PDU was being
 *                        reassembled (sdp_rx_remaining() > 0);
 *   rdma_remote_access   a work request failed with a remote access
 *                        error: the client's token or range was bad:
 *                        rconn_close_wc();
 *   disconnect_mid_rdma  as peer_disconnect, while an RDMA READ or WRITE
 *                        of the peer's memory was on the queue pair.
 *                        soft-iWARP reports a client's bad token or range
 *                        this way: the TERMINATE it receives (RDMAP remote
 *                        protection error) flushes the queue pair, and the
 *                        work request completes as flushed, not as a
 *                        remote access error.
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

/*
 * The engine's reasons, X(name, enum sdp_error). Reported by the engine
 * as SDP_ACT_DISCONNECT's reason unless said otherwise; proto/sdp.h
 * documents each rule and sdp_strerror() gives the text the close
 * message carries.
 *
 * Negotiation ([MS-SMBD] 3.1.5.6, 3.1.5.7); the CREDITS_GRANTED,
 * PREFERRED_SEND_SIZE and STATUS checks are the client role's, listed
 * because every fatal code has its series from the start:
 *   NEG_SHORT ... NEG_STATUS  the peer's negotiate message broke the
 *                             named rule;
 *   NEG_TIMEOUT               negotiation did not finish within
 *                             negotiate_timeout_ms.
 * Receive checks ([MS-SMBD] 3.1.5.8 and credit accounting):
 *   RX_*                      a message the peer sent broke the named
 *                             rule. RX_TOO_LONG is also reported by the
 *                             daemon: rconn_wc() when the device saw a
 *                             message longer than our receive buffers.
 * Timers and local decisions:
 *   KEEPALIVE_TIMEOUT         our keepalive went unanswered, or unsent
 *                             for want of a credit, for too long;
 *   SHUTDOWN                  the engine ended the connection on our
 *                             request (sdp_shutdown()).
 * Calls the engine refused, none of which should happen:
 *   INVAL, STATE, MSGSIZE     sdp_send_pdu() refused a PDU the daemon had
 *                             checked: rconn_tx_submit();
 *   INTERNAL                  an engine invariant failed, or the engine
 *                             reported a code this list lacks
 *                             (rconn_reason_from_sdp()'s fallback).
 */
#define RCONN_SDP_REASONS(X)						\
	X(NEG_SHORT, SDP_ERR_NEG_SHORT)					\
	X(NEG_VERSION, SDP_ERR_NEG_VERSION)				\
	X(NEG_CREDITS_REQUESTED, SDP_ERR_NEG_CREDITS_REQUESTED)		\
	X(NEG_CREDITS_GRANTED, SDP_ERR_NEG_CREDITS_GRANTED)		\
	X(NEG_MAX_RECEIVE_SIZE, SDP_ERR_NEG_MAX_RECEIVE_SIZE)		\
	X(NEG_MAX_FRAGMENTED_SIZE, SDP_ERR_NEG_MAX_FRAGMENTED_SIZE)	\
	X(NEG_PREFERRED_SEND_SIZE, SDP_ERR_NEG_PREFERRED_SEND_SIZE)	\
	X(NEG_STATUS, SDP_ERR_NEG_STATUS)				\
	X(NEG_TIMEOUT, SDP_ERR_NEG_TIMEOUT)				\
	X(RX_SHORT, SDP_ERR_RX_SHORT)					\
	X(RX_TOO_LONG, SDP_ERR_RX_TOO_LONG)				\
	X(RX_NOT_POSTED, SDP_ERR_RX_NOT_POSTED)				\
	X(RX_NO_CREDIT, SDP_ERR_RX_NO_CREDIT)				\
	X(RX_CREDITS_REQUESTED, SDP_ERR_RX_CREDITS_REQUESTED)		\
	X(RX_DATA_OFFSET_ALIGN, SDP_ERR_RX_DATA_OFFSET_ALIGN)		\
	X(RX_DATA_OFFSET_HEADER, SDP_ERR_RX_DATA_OFFSET_HEADER)		\
	X(RX_DATA_BEYOND, SDP_ERR_RX_DATA_BEYOND)			\
	X(RX_FRAGMENTED_SIZE, SDP_ERR_RX_FRAGMENTED_SIZE)		\
	X(RX_REMAINING_MISMATCH, SDP_ERR_RX_REMAINING_MISMATCH)		\
	X(RX_EMPTY_FRAGMENT, SDP_ERR_RX_EMPTY_FRAGMENT)			\
	X(RX_CREDITS_OVERFLOW, SDP_ERR_RX_CREDITS_OVERFLOW)		\
	X(KEEPALIVE_TIMEOUT, SDP_ERR_KEEPALIVE_TIMEOUT)			\
	X(SHUTDOWN, SDP_ERR_SHUTDOWN)					\
	X(INVAL, SDP_ERR_INVAL)						\
	X(STATE, SDP_ERR_STATE)						\
	X(MSGSIZE, SDP_ERR_MSGSIZE)					\
	X(INTERNAL, SDP_ERR_INTERNAL)

enum rconn_reason {
	RCONN_R_NONE = 0,		/* not closing */
#define X(e, token)	RCONN_R_##e,
	RCONN_REASONS(X)
#undef X
#define X(e, code)	RCONN_R_SDP_##e,
	RCONN_SDP_REASONS(X)
#undef X
	RCONN_R_END
};

/*
 * rconn_reason_name() - the stable token of @r: "peer_disconnect", or
 * the engine's sdp_error_name() for an RCONN_R_SDP_* value.
 *
 * Return: a static string; "unknown" for RCONN_R_NONE and values out of
 * range. Never NULL.
 */
const char		*rconn_reason_name(enum rconn_reason r);

/*
 * rconn_reason_from_sdp() - the close reason for engine error @err.
 *
 * Return: its RCONN_R_SDP_* value; RCONN_R_SDP_INTERNAL for a code not in
 * RCONN_SDP_REASONS (tests/unit/test_metrics.c checks that every fatal
 * code is).
 */
enum rconn_reason	 rconn_reason_from_sdp(int err);

/*
 * rconn_reason_sdp() - the engine error an RCONN_R_SDP_* value stands
 * for.
 *
 * Return: a negative enum sdp_error, or 0 for the daemon's own reasons.
 */
int			 rconn_reason_sdp(enum rconn_reason r);

/*
 * rconn_metrics_init() - give every close reason its series in @m at 0:
 * the daemon's own, then the engine's fatal ones (the reasons the engine
 * ends a connection with), in list order. The engine's refused calls get
 * theirs when first counted.
 */
void			 rconn_metrics_init(struct metrics *m);

#endif
