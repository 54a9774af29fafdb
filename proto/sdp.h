/* SPDX-License-Identifier: ISC */
/*
 * sdp.h: the SMB Direct protocol engine ([MS-SMBD] version 1.0), sans-IO.
 *
 * One struct sdp_conn is one SMB Direct connection, in the server
 * (passive, listening) or the client (active) role. The engine does no I/O:
 * it owns no sockets, verbs objects, threads or clocks, prints nothing and
 * keeps no global state. The caller feeds it inputs (received message bytes,
 * completions, the time, "send this PDU", "the upper layer is full") and
 * then drains the actions it asks for with sdp_next_action(), performing
 * them strictly in the order they come:
 *
 *	sdp_on_recv(conn, buf, len, now);
 *	while (sdp_next_action(conn, &a) == 1)
 *		perform(&a);	(may itself call sdp_send_pdu(), ...)
 *
 * Actions are computed when they are pulled, so a caller that performs one
 * action and feeds a new input before pulling the next one gets actions
 * that already reflect the new input. The caller must drain the queue after
 * every input before it waits for the next event; otherwise prompt messages
 * (credit grants, keepalive replies) are not sent.
 *
 * Bytes: the engine never sees the bytes of a PDU the caller sends. A SEND
 * action carries an encoded header and says which slice of which PDU (by
 * the caller's cookie) follows it. On receive, a DELIVER action points into
 * the caller's receive buffer (zero copy); the caller keeps that buffer
 * until it calls sdp_rx_release().
 *
 * Time: every timed input takes now_ms, a monotonic clock in milliseconds
 * chosen by the caller. The connection has one timer; TIMER actions say
 * when it must next fire.
 *
 * Errors: every function returns 0 (or a documented positive value) or a
 * negative enum sdp_error. Codes <= SDP_ERR_FATAL end the connection: the
 * engine has enqueued a DISCONNECT action and accepts no more inputs.
 *
 * Unless stated otherwise, pointer parameters are borrowed for the duration
 * of the call and must not be NULL.
 */
#ifndef SMBDIRECTD_PROTO_SDP_H
#define SMBDIRECTD_PROTO_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------
 * Wire constants ([MS-SMBD] 2.2)
 * ------------------------------------------------------------------- */

#define SDP_VERSION_1			0x0100
#define SDP_NEG_REQ_SIZE		20
#define SDP_NEG_RESP_SIZE		32
#define SDP_DATA_HDR_SIZE		20
/* DataOffset of every data message with payload we send (4 B padding). */
#define SDP_DATA_OFFSET			24
#define SDP_FLAG_RESPONSE_REQUESTED	0x0001
#define SDP_STATUS_SUCCESS		0x00000000u
#define SDP_STATUS_NOT_SUPPORTED	0xC00000BBu
/* Lower bounds a peer's negotiate values must meet ([MS-SMBD] 3.1.5.6). */
#define SDP_MIN_RECEIVE_SIZE		128
#define SDP_MIN_FRAGMENTED_SIZE		131072
/* Credits on the wire never exceed this (Wireshark rejects more). */
#define SDP_CREDITS_MAX			255
/* Size of one SMB_DIRECT_BUFFER_DESCRIPTOR_V1. */
#define SDP_BD_SIZE			16
/* Longest header a SEND action carries (the negotiate response). */
#define SDP_ACT_HDR_MAX			32

/* ---------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------- */

/*
 * One negative code per failure. Codes above SDP_ERR_FATAL report a call
 * that failed without harming the connection (bad argument, would block,
 * a bad configuration or buffer descriptor list). Codes at or below
 * SDP_ERR_FATAL end the connection; each names the rule that was broken and
 * is what SDP_ACT_DISCONNECT carries as its reason.
 */
enum sdp_error {
	SDP_OK				= 0,

	/* Non-fatal. */
	SDP_ERR_INVAL			= -1,
	SDP_ERR_NOMEM			= -2,
	SDP_ERR_STATE			= -3,
	SDP_ERR_WOULDBLOCK		= -4,
	SDP_ERR_MSGSIZE			= -5,
	SDP_ERR_BUFSIZE			= -6,
	SDP_ERR_INTERNAL		= -7,

	/* Configuration (sdp_config_validate()). */
	SDP_ERR_CFG_ROLE		= -20,
	SDP_ERR_CFG_RECV_CREDIT_MAX	= -21,
	SDP_ERR_CFG_RECV_CREDIT_INITIAL	= -22,
	SDP_ERR_CFG_SEND_CREDIT_TARGET	= -23,
	SDP_ERR_CFG_MAX_SEND_SIZE	= -24,
	SDP_ERR_CFG_MAX_RECEIVE_SIZE	= -25,
	SDP_ERR_CFG_MAX_FRAGMENTED_SIZE	= -26,
	SDP_ERR_CFG_MAX_READ_WRITE_SIZE	= -27,
	SDP_ERR_CFG_NEGOTIATE_TIMEOUT	= -28,
	SDP_ERR_CFG_KEEPALIVE		= -29,
	SDP_ERR_CFG_SEND_QUEUE_MAX	= -30,
	SDP_ERR_CFG_MAX_OUTSTANDING	= -31,
	SDP_ERR_CFG_OVERRIDE		= -32,
	SDP_ERR_CFG_RECV_SPARE		= -33,

	/* Buffer descriptor lists (sdp_bd_parse()). */
	SDP_ERR_BD_EMPTY		= -40,
	SDP_ERR_BD_ALIGN		= -41,
	SDP_ERR_BD_COUNT		= -42,
	SDP_ERR_BD_ZERO_LENGTH		= -43,
	SDP_ERR_BD_TOTAL		= -44,
	SDP_ERR_BD_WRAP			= -45,

	/* The threshold: this and every code below end the connection. */
	SDP_ERR_FATAL			= -100,

	/* Negotiation ([MS-SMBD] 3.1.5.6, 3.1.5.7). */
	SDP_ERR_NEG_SHORT		= -101,
	SDP_ERR_NEG_VERSION		= -102,
	SDP_ERR_NEG_CREDITS_REQUESTED	= -103,
	SDP_ERR_NEG_CREDITS_GRANTED	= -104,
	SDP_ERR_NEG_MAX_RECEIVE_SIZE	= -105,
	SDP_ERR_NEG_MAX_FRAGMENTED_SIZE	= -106,
	SDP_ERR_NEG_PREFERRED_SEND_SIZE	= -107,
	SDP_ERR_NEG_STATUS		= -108,
	SDP_ERR_NEG_TIMEOUT		= -109,

	/* Receive checks ([MS-SMBD] 3.1.5.8 and credit accounting). */
	SDP_ERR_RX_SHORT		= -120,
	SDP_ERR_RX_TOO_LONG		= -121,
	SDP_ERR_RX_NOT_POSTED		= -122,
	SDP_ERR_RX_NO_CREDIT		= -123,
	SDP_ERR_RX_CREDITS_REQUESTED	= -124,
	SDP_ERR_RX_DATA_OFFSET_ALIGN	= -125,
	SDP_ERR_RX_DATA_OFFSET_HEADER	= -126,
	SDP_ERR_RX_DATA_BEYOND		= -127,
	SDP_ERR_RX_FRAGMENTED_SIZE	= -128,
	SDP_ERR_RX_REMAINING_MISMATCH	= -129,
	SDP_ERR_RX_EMPTY_FRAGMENT	= -130,
	SDP_ERR_RX_CREDITS_OVERFLOW	= -131,

	/* Timers. */
	SDP_ERR_KEEPALIVE_TIMEOUT	= -140,

	/* Local decisions. */
	SDP_ERR_SHUTDOWN		= -150,
};

/**
 * sdp_strerror() - a human description of an error code.
 * @err: an enum sdp_error value (0 included).
 *
 * Return: a static string; "unknown SMB Direct error" for codes not in the
 * enum. Never NULL.
 */
const char	*sdp_strerror(int err);

/**
 * sdp_error_name() - a short stable token for an error code.
 * @err: an enum sdp_error value (0 included).
 *
 * The token ("credits_requested_zero", "keepalive_timeout", ...) is meant
 * for metric labels and structured logs: it never changes once released.
 *
 * Return: a static string; "unknown" for codes not in the enum. Never NULL.
 */
const char	*sdp_error_name(int err);

/**
 * sdp_error_is_fatal() - whether a code ends the connection.
 * @err: any int.
 *
 * Return: true when @err <= SDP_ERR_FATAL.
 */
bool		 sdp_error_is_fatal(int err);

/* ---------------------------------------------------------------------
 * Wire formats ([MS-SMBD] 2.2): encode and decode, no policy
 * ------------------------------------------------------------------- */

/* Negotiate Request, 20 bytes. Reserved is written as 0, ignored on read. */
struct sdp_neg_req {
	uint16_t	min_version;
	uint16_t	max_version;
	uint16_t	credits_requested;
	uint32_t	preferred_send_size;
	uint32_t	max_receive_size;
	uint32_t	max_fragmented_size;
};

/* Negotiate Response, 32 bytes. Reserved is written as 0, ignored on read. */
struct sdp_neg_resp {
	uint16_t	min_version;
	uint16_t	max_version;
	uint16_t	negotiated_version;
	uint16_t	credits_requested;
	uint16_t	credits_granted;
	uint32_t	status;
	uint32_t	max_read_write_size;
	uint32_t	preferred_send_size;
	uint32_t	max_receive_size;
	uint32_t	max_fragmented_size;
};

/* Data Transfer header, 20 bytes. Reserved is written as 0, ignored. */
struct sdp_data_hdr {
	uint16_t	credits_requested;
	uint16_t	credits_granted;
	uint16_t	flags;
	uint32_t	remaining_data_length;
	uint32_t	data_offset;
	uint32_t	data_length;
};

/**
 * sdp_neg_req_encode() - write a Negotiate Request.
 * @r:   the fields, written verbatim (no validation: test peers send bad
 *       values on purpose).
 * @buf: where to write; at least SDP_NEG_REQ_SIZE bytes.
 * @len: size of @buf.
 *
 * Return: SDP_NEG_REQ_SIZE, or SDP_ERR_BUFSIZE if @len is too small.
 */
int	sdp_neg_req_encode(const struct sdp_neg_req *r, uint8_t *buf,
	    size_t len);

/**
 * sdp_neg_req_decode() - read a Negotiate Request.
 * @buf: the received message.
 * @len: its length; bytes past the 20th are ignored.
 * @out: written only on success.
 *
 * Return: 0, or SDP_ERR_NEG_SHORT if @len < SDP_NEG_REQ_SIZE.
 */
int	sdp_neg_req_decode(const uint8_t *buf, size_t len,
	    struct sdp_neg_req *out);

/**
 * sdp_neg_resp_encode() - write a Negotiate Response.
 * @r:   the fields, written verbatim.
 * @buf: at least SDP_NEG_RESP_SIZE bytes.
 * @len: size of @buf.
 *
 * Return: SDP_NEG_RESP_SIZE, or SDP_ERR_BUFSIZE if @len is too small.
 */
int	sdp_neg_resp_encode(const struct sdp_neg_resp *r, uint8_t *buf,
	    size_t len);

/**
 * sdp_neg_resp_decode() - read a Negotiate Response.
 * @buf: the received message.
 * @len: its length; bytes past the 32nd are ignored.
 * @out: written only on success.
 *
 * Return: 0, or SDP_ERR_NEG_SHORT if @len < SDP_NEG_RESP_SIZE.
 */
int	sdp_neg_resp_decode(const uint8_t *buf, size_t len,
	    struct sdp_neg_resp *out);

/**
 * sdp_data_hdr_encode() - write a Data Transfer header.
 * @h:   the fields, written verbatim.
 * @buf: where to write.
 * @len: size of @buf.
 *
 * Writes the 20-byte header. When @h carries payload (data_length > 0) and
 * data_offset lies past the header, the padding up to data_offset is
 * written as zeros too, so the result is exactly what precedes the payload.
 *
 * Return: the number of bytes written (20, or data_offset), or
 * SDP_ERR_BUFSIZE if @len is smaller than that.
 */
int	sdp_data_hdr_encode(const struct sdp_data_hdr *h, uint8_t *buf,
	    size_t len);

/**
 * sdp_data_hdr_decode() - read a Data Transfer header.
 * @buf: the received message.
 * @len: its length.
 * @out: written only on success.
 *
 * Return: 0, or SDP_ERR_RX_SHORT if @len < SDP_DATA_HDR_SIZE.
 */
int	sdp_data_hdr_decode(const uint8_t *buf, size_t len,
	    struct sdp_data_hdr *out);

/**
 * sdp_data_hdr_check() - the receive checks of [MS-SMBD] 3.1.5.8.
 * @h:        a decoded header.
 * @msg_len:  length of the whole received message.
 * @max_frag: the receiver's MaxFragmentedSize.
 *
 * Return: 0 or, in this order of checking: SDP_ERR_RX_CREDITS_REQUESTED
 * (CreditsRequested is 0), SDP_ERR_RX_DATA_OFFSET_ALIGN (DataOffset not a
 * multiple of 8), SDP_ERR_RX_DATA_OFFSET_HEADER (payload that starts inside
 * the 20-byte header), SDP_ERR_RX_DATA_BEYOND (DataOffset + DataLength past
 * the message), SDP_ERR_RX_FRAGMENTED_SIZE (DataLength +
 * RemainingDataLength above @max_frag).
 */
int	sdp_data_hdr_check(const struct sdp_data_hdr *h, size_t msg_len,
	    uint32_t max_frag);

/* ---------------------------------------------------------------------
 * Buffer descriptor lists ([MS-SMBD] 2.2.3.1)
 * ------------------------------------------------------------------- */

/* One SMB_DIRECT_BUFFER_DESCRIPTOR_V1: a peer memory region. */
struct sdp_bd {
	uint64_t	offset;
	uint32_t	token;
	uint32_t	length;
};

/**
 * sdp_bd_parse() - decode and validate a Buffer Descriptor V1 list.
 * @buf:       the list as received (e.g. an SMB2 READ's channel info); may
 *             be unaligned.
 * @len:       its length in bytes.
 * @max_total: the largest allowed sum of lengths (MaxReadWriteSize).
 * @max_count: the most entries accepted; @out has room for this many.
 * @out:       the entries; written only on success.
 * @n_out:     the entry count; written only on success.
 *
 * Return: 0 or, in this order of checking: SDP_ERR_BD_EMPTY (@len is 0),
 * SDP_ERR_BD_ALIGN (@len not a multiple of 16), SDP_ERR_BD_COUNT (more than
 * @max_count entries), SDP_ERR_BD_ZERO_LENGTH (an entry of length 0),
 * SDP_ERR_BD_WRAP (Offset + Length past 2^64), SDP_ERR_BD_TOTAL (the sum of
 * lengths above @max_total). These codes are not fatal to the SMB Direct
 * connection: the upper layer fails the one request.
 */
int	sdp_bd_parse(const uint8_t *buf, size_t len, uint32_t max_total,
	    unsigned max_count, struct sdp_bd *out, unsigned *n_out);

/**
 * sdp_bd_encode() - write a Buffer Descriptor V1 list.
 * @bd:  the entries, written verbatim.
 * @n:   how many.
 * @buf: where to write, at least @n * 16 bytes.
 * @len: size of @buf.
 *
 * Return: the number of bytes written, or SDP_ERR_BUFSIZE.
 */
int	sdp_bd_encode(const struct sdp_bd *bd, unsigned n, uint8_t *buf,
	    size_t len);

/* ---------------------------------------------------------------------
 * Configuration
 * ------------------------------------------------------------------- */

enum sdp_role {
	SDP_ROLE_SERVER = 1,	/* passive: gets the negotiate request */
	SDP_ROLE_CLIENT = 2,	/* active: sends it (test peer, bench) */
};

/* Bits of struct sdp_neg_override.mask: which fields replace our own. */
#define SDP_OVR_CREDITS_REQUESTED	0x1u
#define SDP_OVR_PREFERRED_SEND_SIZE	0x2u
#define SDP_OVR_MAX_RECEIVE_SIZE	0x4u
#define SDP_OVR_MAX_FRAGMENTED_SIZE	0x8u

/*
 * Client only, for misbehaviour tests: values that go into the negotiate
 * request instead of the ones derived from the configuration. The engine's
 * own bookkeeping keeps using the configuration (its buffers really are
 * max_receive_size); only the wire lies. A server with a non-zero mask is
 * rejected by sdp_config_validate().
 */
struct sdp_neg_override {
	unsigned	mask;
	uint16_t	credits_requested;
	uint32_t	preferred_send_size;
	uint32_t	max_receive_size;
	uint32_t	max_fragmented_size;
};

/*
 * Per-connection limits. Start from sdp_config_init_defaults() and change
 * what you need; sdp_config_validate() states the bounds.
 */
struct sdp_config {
	enum sdp_role	role;
	/*
	 * Receive credits: at most recv_credit_max receive buffers are ever
	 * posted or held by the caller at once (3..255: with fewer, a peer
	 * on its last credit could wait for a grant that never comes).
	 * Negotiation grants recv_credit_initial (1..max, and no more than
	 * the peer asks for, nor than max - recv_spare); the engine then
	 * keeps at least 3 receives granted or ready to grant and grows
	 * toward min(peer's CreditsRequested, max - recv_spare) when the
	 * peer runs short.
	 */
	uint16_t	recv_credit_max;
	uint16_t	recv_credit_initial;
	/*
	 * Spare receives (0 or 1): from negotiation on, the engine keeps
	 * this many receives posted beyond every credit it has granted or
	 * will grant, and never grants them. A well-behaved peer never
	 * reaches them; a message sent without a credit lands in one
	 * instead of finding no receive (RNR retries on RoCE and IB, a
	 * terminated QP on iWARP), so the engine sees it and ends the
	 * connection with SDP_ERR_RX_NO_CREDIT. The spare counts against
	 * recv_credit_max, which must leave 3 grantable receives:
	 * recv_credit_max - recv_spare >= 3. Meant for the server.
	 */
	unsigned	recv_spare;
	/* Our CreditsRequested on every message (1..255). */
	uint16_t	send_credit_target;
	/* Our PreferredSendSize: messages we send are at most this long. */
	uint32_t	max_send_size;
	/* Size of our receive buffers, announced as MaxReceiveSize. */
	uint32_t	max_receive_size;
	/* Largest PDU we reassemble, announced as MaxFragmentedSize. */
	uint32_t	max_fragmented_size;
	/* Server: offered; client: the most we accept (1 B..8 MiB). */
	uint32_t	max_read_write_size;
	/* Idle time before we send RESPONSE_REQUESTED; 0 disables. */
	uint32_t	keepalive_interval_ms;
	/*
	 * How long the request may wait for a send credit once the idle
	 * time is up, and then how long we wait for any message after
	 * sending it.
	 */
	uint32_t	keepalive_timeout_ms;
	/* From sdp_start() to the end of negotiation. */
	uint32_t	negotiate_timeout_ms;
	/* PDUs accepted by sdp_send_pdu() and not yet fully sent. */
	unsigned	send_queue_max;
	/* SEND actions emitted and not yet completed (send queue depth). */
	unsigned	max_outstanding_sends;
	/* Client only: the version range sent (any values: tests lie). */
	uint16_t	min_version;
	uint16_t	max_version;
	/* Client only: see struct sdp_neg_override. */
	struct sdp_neg_override override;
};

/* Bounds enforced by sdp_config_validate(). */
#define SDP_CFG_MSG_SIZE_MAX		(16u << 20)
#define SDP_CFG_FRAGMENTED_SIZE_MAX	(16u << 20)
#define SDP_CFG_READ_WRITE_SIZE_MAX	(8u << 20)
#define SDP_CFG_QUEUE_MAX		65536u
#define SDP_CFG_RECV_SPARE_MAX		1u

/**
 * sdp_config_init_defaults() - fill a configuration with defaults.
 * @cfg:  written whole.
 * @role: SDP_ROLE_SERVER or SDP_ROLE_CLIENT.
 *
 * Defaults follow Windows and [MS-SMBD]: 255 receive credits at most (8 at
 * first), CreditsRequested 255, MaxSendSize 1364, MaxReceiveSize 8192 for a
 * server and 1364 for a client, MaxFragmentedSize 1 MiB, MaxReadWriteSize
 * 1 MiB, keepalive after 120 s idle with a 5 s reply timeout, negotiation
 * within 5 s (server) or 120 s (client, [MS-SMBD] 3.1.4.1), 64 queued PDUs
 * and 64 outstanding sends, version range 0x0100..0x0100, no overrides,
 * no spare receive (recv_spare 0, as before the option existed; a server
 * should set 1).
 */
void	sdp_config_init_defaults(struct sdp_config *cfg,
	    enum sdp_role role);

/**
 * sdp_config_validate() - check a configuration.
 * @cfg: the configuration.
 *
 * Return: 0, or the first violated bound: SDP_ERR_CFG_ROLE (not a role),
 * SDP_ERR_CFG_RECV_CREDIT_MAX (not 3..255), SDP_ERR_CFG_RECV_CREDIT_INITIAL
 * (not 1..recv_credit_max), SDP_ERR_CFG_RECV_SPARE (not 0..1, or leaving
 * recv_credit_max - recv_spare below 3), SDP_ERR_CFG_SEND_CREDIT_TARGET
 * (not 1..255),
 * SDP_ERR_CFG_MAX_SEND_SIZE and SDP_ERR_CFG_MAX_RECEIVE_SIZE (not
 * 128..16 MiB), SDP_ERR_CFG_MAX_FRAGMENTED_SIZE (not 131072..16 MiB),
 * SDP_ERR_CFG_MAX_READ_WRITE_SIZE (not 1..8 MiB),
 * SDP_ERR_CFG_NEGOTIATE_TIMEOUT (0), SDP_ERR_CFG_KEEPALIVE (an interval
 * with a zero timeout), SDP_ERR_CFG_SEND_QUEUE_MAX and
 * SDP_ERR_CFG_MAX_OUTSTANDING (not 1..65536), SDP_ERR_CFG_OVERRIDE (an
 * override on a server, or an unknown mask bit); SDP_ERR_INVAL if @cfg is
 * NULL.
 */
int	sdp_config_validate(const struct sdp_config *cfg);

/* ---------------------------------------------------------------------
 * The engine
 * ------------------------------------------------------------------- */

/*
 * An injectable allocator. free() must accept what malloc() returned; the
 * engine never frees NULL through it. ud is passed back untouched.
 */
struct sdp_mem {
	void	*(*malloc)(size_t size, void *ud);
	void	 (*free)(void *ptr, void *ud);
	void	*ud;
};

struct sdp_conn;

enum sdp_state {
	SDP_STATE_INIT = 0,	/* created, sdp_start() not called */
	SDP_STATE_NEGOTIATING,	/* waiting for the negotiate message */
	SDP_STATE_ESTABLISHED,	/* data flows */
	SDP_STATE_CLOSING,	/* negotiate failure response in flight */
	SDP_STATE_DISCONNECTED,	/* DISCONNECT enqueued; inputs refused */
};

/**
 * sdp_state_name() - a short stable name for a state ("established", ...).
 * @state: an enum sdp_state.
 *
 * Return: a static string, "unknown" for values outside the enum.
 */
const char	*sdp_state_name(enum sdp_state state);

/**
 * sdp_conn_new() - create an engine for one connection.
 * @cfg: the configuration; copied, so it may be freed after the call.
 * @mem: the allocator, copied; NULL means malloc()/free().
 * @out: the new engine, written only on success; free it with
 *       sdp_conn_free().
 *
 * Allocates the engine, its PDU queue (send_queue_max entries) and a small
 * action ring. Nothing is sent or posted before sdp_start().
 *
 * Return: 0; SDP_ERR_INVAL if @cfg or @out is NULL or @mem lacks a
 * function; any sdp_config_validate() code; SDP_ERR_NOMEM.
 */
int	sdp_conn_new(const struct sdp_config *cfg, const struct sdp_mem *mem,
	    struct sdp_conn **out);

/**
 * sdp_conn_free() - free an engine and everything it allocated.
 * @conn: taken; NULL is a no-op.
 *
 * The caller's buffers and PDUs are the caller's: the engine holds only
 * pointers into them, and those die with it.
 */
void	sdp_conn_free(struct sdp_conn *conn);

/*
 * Inputs. Each returns 0 or a negative enum sdp_error. A fatal code means
 * the engine found a violation or a timeout, enqueued SDP_ACT_DISCONNECT
 * with that code as the reason and now refuses inputs with SDP_ERR_STATE.
 * SDP_ERR_NOMEM means nothing was consumed or changed: the caller may retry
 * the same call or end the connection. Inputs on a disconnected engine, or
 * before sdp_start(), return SDP_ERR_STATE.
 */

/**
 * sdp_start() - begin negotiation.
 * @conn:   the engine.
 * @now_ms: the current time.
 *
 * Server: asks for one receive (for the negotiate request) and arms the
 * negotiate timer. Client: asks for one receive (for the response), sends
 * the negotiate request and arms the timer.
 *
 * Return: 0, SDP_ERR_STATE (already started), SDP_ERR_NOMEM.
 */
int	sdp_start(struct sdp_conn *conn, uint64_t now_ms);

/**
 * sdp_on_recv() - one received message (one completed RDMA receive).
 * @conn:   the engine.
 * @msg:    the message bytes; borrowed for the call, except that DELIVER
 *          actions enqueued by this call point into it (see below). May be
 *          NULL only if @len is 0.
 * @len:    the received length (the completion's byte_len).
 * @now_ms: the current time.
 *
 * Every call consumes one receive the caller posted. When the message
 * carries payload, the engine enqueues exactly one SDP_ACT_DELIVER pointing
 * into @msg and returns 1: the caller must keep the buffer unchanged, and
 * must not post it again, until it calls sdp_rx_release() for it. When the
 * call returns 0 the buffer is free for reuse at once.
 *
 * A data message that arrives while the peer holds no credit ends the
 * connection with SDP_ERR_RX_NO_CREDIT. Without a spare receive
 * (recv_spare) such a message usually finds no receive posted and never
 * reaches the engine; with one it always does.
 *
 * Return: 1 (buffer held), 0 (buffer free), SDP_ERR_INVAL, SDP_ERR_STATE,
 * SDP_ERR_NOMEM, or a fatal code naming the violated rule: negotiation
 * (SDP_ERR_NEG_*), receive checks (SDP_ERR_RX_*). A server that receives a
 * negotiate request whose version range excludes 0x0100 returns 0: it
 * sends the STATUS_NOT_SUPPORTED response and ends the connection
 * gracefully once that send completes.
 */
int	sdp_on_recv(struct sdp_conn *conn, const uint8_t *msg, size_t len,
	    uint64_t now_ms);

/**
 * sdp_on_send_complete() - @n SEND actions completed (RC: in order).
 * @conn:   the engine.
 * @n:      how many; at most the number outstanding.
 * @now_ms: the current time.
 *
 * Return: 0, SDP_ERR_INVAL (more completions than sends outstanding),
 * SDP_ERR_STATE.
 */
int	sdp_on_send_complete(struct sdp_conn *conn, unsigned n,
	    uint64_t now_ms);

/**
 * sdp_send_pdu() - queue one upper-layer PDU for sending.
 * @conn:            the engine.
 * @cookie:          the caller's name for the PDU, echoed in SEND actions.
 *                   The caller keeps the PDU's bytes until the SEND action
 *                   with last_of_pdu set has completed.
 * @len:             PDU length, 1..the peer's MaxFragmentedSize.
 * @invalidate_rkey: a remote token the peer should invalidate when the PDU
 *                   arrives (send with invalidate), or 0 for none.
 * @now_ms:          the current time.
 *
 * The PDU is cut into data messages of at most the negotiated send size,
 * sent as credits allow.
 *
 * Return: 0; SDP_ERR_WOULDBLOCK when send_queue_max PDUs are queued (the
 * PDU is not taken; stop reading the upper layer until SDP_ACT_WRITABLE);
 * SDP_ERR_INVAL (@len is 0); SDP_ERR_MSGSIZE (@len above the peer's
 * MaxFragmentedSize); SDP_ERR_STATE (not established: wait for
 * SDP_ACT_NEGOTIATED).
 */
int	sdp_send_pdu(struct sdp_conn *conn, uint64_t cookie, size_t len,
	    uint32_t invalidate_rkey, uint64_t now_ms);

/**
 * sdp_rx_release() - the caller is done with @n held receive buffers.
 * @conn: the engine.
 * @n:    how many buffers, each one that a DELIVER action pointed into.
 *
 * The buffers may be reposted when the engine asks for receives.
 *
 * Return: 0, SDP_ERR_INVAL (more than are held), SDP_ERR_STATE.
 */
int	sdp_rx_release(struct sdp_conn *conn, unsigned n);

/**
 * sdp_set_upper_blocked() - the upper layer can (not) take more data.
 * @conn:    the engine.
 * @blocked: true: stop granting credits (no new receives are posted, so
 *           the peer runs out of credits and stops); false: resume.
 * @now_ms:  the current time.
 *
 * While blocked the engine still grants one receive, within
 * recv_credit_max, when a keepalive could not be sent or answered
 * otherwise: a stalled upper layer is not a dead peer. The spare receive
 * (recv_spare) stays posted.
 *
 * Return: 0, SDP_ERR_STATE.
 */
int	sdp_set_upper_blocked(struct sdp_conn *conn, bool blocked,
	    uint64_t now_ms);

/**
 * sdp_on_timer() - the connection's timer fired.
 * @conn:   the engine.
 * @now_ms: the current time (early calls are harmless).
 *
 * Keepalive ([MS-SMBD] 3.1.2.2): after keepalive_interval_ms without any
 * received message the next message we send carries RESPONSE_REQUESTED,
 * as soon as credits allow and the peer holds (or is granted with it) a
 * credit to answer with; some message must then arrive within
 * keepalive_timeout_ms of sending it. If the request cannot be sent
 * within keepalive_timeout_ms of the idle time running out (the peer
 * grants us no credit, or our sends never complete) the connection ends
 * too: a peer that withholds every credit is as dead as a silent one.
 * Any received message cancels the request and restarts the idle time.
 * The idle timer also shrinks the receive window back to
 * recv_credit_initial.
 *
 * Return: 0, SDP_ERR_STATE, SDP_ERR_NEG_TIMEOUT (negotiation took too
 * long) or SDP_ERR_KEEPALIVE_TIMEOUT (no message within
 * keepalive_timeout_ms of our keepalive request, or the request still
 * unsent keepalive_timeout_ms after the idle time ran out).
 */
int	sdp_on_timer(struct sdp_conn *conn, uint64_t now_ms);

/**
 * sdp_shutdown() - end the connection from our side.
 * @conn:   the engine.
 * @now_ms: the current time.
 *
 * Enqueues SDP_ACT_DISCONNECT (reason SDP_ERR_SHUTDOWN, graceful) at once;
 * queued PDUs are dropped, so wait for sdp_get_stats().queued_pdus == 0
 * first to flush them.
 *
 * Return: 0, SDP_ERR_STATE (already disconnected), SDP_ERR_NOMEM.
 */
int	sdp_shutdown(struct sdp_conn *conn, uint64_t now_ms);

/* ---------------------------------------------------------------------
 * Outputs
 * ------------------------------------------------------------------- */

enum sdp_action_type {
	SDP_ACT_NONE = 0,
	SDP_ACT_POST_RECV,
	SDP_ACT_SEND,
	SDP_ACT_DELIVER,
	SDP_ACT_TIMER,
	SDP_ACT_NEGOTIATED,
	SDP_ACT_WRITABLE,
	SDP_ACT_DISCONNECT,
};

struct sdp_action {
	enum sdp_action_type type;
	union {
		/*
		 * Post @count receive buffers of at least @size bytes. The
		 * engine counts them as posted from now on: posted plus held
		 * never exceeds recv_credit_max. Posted receives are either
		 * granted, to be granted, or (recv_spare) the spare that is
		 * never granted; the caller need not tell them apart, a
		 * receive is a receive.
		 */
		struct {
			unsigned	count;
			size_t		size;
		} post_recv;
		/*
		 * Post one send: @hdr_len bytes of @hdr followed, when
		 * @has_payload, by bytes [@pdu_off, @pdu_off + @pdu_len) of
		 * the PDU @cookie. @last_of_pdu marks its final fragment;
		 * @invalidate_rkey is non-zero only there (send with
		 * invalidate). Negotiate messages and credit-only or keepalive
		 * messages have no payload.
		 */
		struct {
			uint8_t		hdr[SDP_ACT_HDR_MAX];
			size_t		hdr_len;
			uint64_t	cookie;
			size_t		pdu_off;
			size_t		pdu_len;
			bool		has_payload;
			bool		last_of_pdu;
			uint32_t	invalidate_rkey;
		} send;
		/*
		 * A fragment of a received PDU: @len bytes at @data, inside
		 * the buffer of the sdp_on_recv() call that enqueued it, at
		 * offset @pdu_off of a PDU of @pdu_len bytes. @first: the
		 * PDU starts here (write its frame header now); @last: it
		 * ends here.
		 */
		struct {
			const uint8_t	*data;
			size_t		 len;
			size_t		 pdu_len;
			size_t		 pdu_off;
			bool		 first;
			bool		 last;
		} deliver;
		/*
		 * (Re)arm the one timer at @deadline_ms, replacing any
		 * earlier setting; 0 cancels it. When a deadline merely moves
		 * later (every received message moves the idle deadline) the
		 * engine lets the armed timer fire early instead: call
		 * sdp_on_timer() whenever it fires and it arms the next one.
		 */
		struct {
			uint64_t	deadline_ms;
		} timer;
		/*
		 * End the connection. @reason is a fatal enum sdp_error.
		 * @graceful: we are ending it in order (local shutdown, or
		 * the STATUS_NOT_SUPPORTED response has been sent), not
		 * aborting on a violation. No actions follow, not even a
		 * TIMER cancel: the caller drops its timer itself.
		 */
		struct {
			int		reason;
			bool		graceful;
		} disconnect;
	} u;
};

/**
 * sdp_next_action() - take the next action.
 * @conn: the engine.
 * @out:  the action, written only when 1 is returned.
 *
 * Perform actions in the order they come: the receives a SEND grants are
 * always asked for (POST_RECV) before that SEND. Sends and credit grants
 * are computed here, when pulled, within the send credits and
 * max_outstanding_sends: a message without payload goes out for credits
 * alone only when two or more (or a quarter of the receive window) wait
 * to be granted, so two engines never trade credit messages for ever.
 *
 * Return: 1 with an action, 0 when there is none now.
 */
int	sdp_next_action(struct sdp_conn *conn, struct sdp_action *out);

/* ---------------------------------------------------------------------
 * Inspection
 * ------------------------------------------------------------------- */

/* What negotiation settled ([MS-SMBD] 3.1.5.6, 3.1.5.7). */
struct sdp_params {
	uint16_t	version;
	/* Our messages are at most this long. */
	uint32_t	max_send_size;
	/* The peer's messages are at most this long. */
	uint32_t	max_receive_size;
	/* Largest PDU we accept, and the largest the peer accepts. */
	uint32_t	max_fragmented_size;
	uint32_t	peer_max_fragmented_size;
	uint32_t	max_read_write_size;
	/* Our CreditsRequested and the peer's, from negotiation. */
	uint16_t	send_credit_target;
	uint16_t	peer_credits_requested;
	/* Credits granted to us, and by us, in negotiation. */
	uint16_t	initial_send_credits;
	uint16_t	initial_recv_credits;
};

/**
 * sdp_get_params() - the negotiated parameters.
 * @conn: the engine.
 * @out:  written only on success.
 *
 * Return: 0, or SDP_ERR_STATE before negotiation succeeded.
 */
int	sdp_get_params(const struct sdp_conn *conn, struct sdp_params *out);

/**
 * sdp_is_negotiated() - whether negotiation succeeded (even if the
 * connection has ended since).
 * @conn: the engine.
 */
bool	sdp_is_negotiated(const struct sdp_conn *conn);

/**
 * sdp_rx_remaining() - bytes of a PDU the peer has yet to send.
 * @conn: the engine.
 *
 * While a PDU is being reassembled (a fragment with RemainingDataLength
 * > 0 was delivered and its last fragment was not), its
 * RemainingDataLength; 0 between PDUs. It keeps answering after the
 * connection ended, so a caller can tell a peer that went away in the
 * middle of a PDU from one that went away between PDUs.
 *
 * Return: the bytes still to come, or 0.
 */
uint32_t	sdp_rx_remaining(const struct sdp_conn *conn);

/**
 * sdp_get_state() - the engine's state.
 * @conn: the engine.
 */
enum sdp_state	sdp_get_state(const struct sdp_conn *conn);

/* Counters and gauges, for metrics and for tests. */
struct sdp_stats {
	/*
	 * Gauges. The targets follow [MS-SMBD]'s names:
	 * Connection.SendCreditTarget is what we request,
	 * Connection.ReceiveCreditTarget what the peer requests (its latest
	 * CreditsRequested, within 3..recv_credit_max - recv_spare).
	 * recv_credits_posted includes the spare receive.
	 */
	unsigned	send_credits;		/* ours, usable now */
	unsigned	send_credit_target;	/* our CreditsRequested */
	unsigned	recv_credits_posted;	/* receives posted */
	unsigned	recv_credit_target;	/* peer's CreditsRequested */
	unsigned	recv_window;		/* receives we aim at */
	unsigned	recv_held;		/* buffers the caller holds */
	unsigned	peer_credits;		/* held by the peer */
	unsigned	queued_pdus;		/* PDUs not fully sent */
	unsigned	sends_outstanding;	/* SENDs not completed */
	/* Counters. */
	uint64_t	credits_granted_total;	/* granted to the peer */
	uint64_t	credits_received_total;	/* granted to us */
	uint64_t	credit_waits;		/* stalls for credits */
	uint64_t	msgs_sent;
	uint64_t	bytes_sent;		/* headers and payload */
	uint64_t	msgs_received;
	uint64_t	bytes_received;
	uint64_t	pdus_sent;
	uint64_t	pdus_received;
	uint64_t	credit_msgs_sent;	/* messages without payload */
	uint64_t	keepalives_sent;	/* RESPONSE_REQUESTED sent */
	uint64_t	keepalives_received;	/* requests seen */
};

/**
 * sdp_get_stats() - a snapshot of counters and gauges.
 * @conn: the engine.
 * @out:  written whole.
 */
void	sdp_get_stats(const struct sdp_conn *conn, struct sdp_stats *out);

/**
 * sdp_conn_check() - verify the engine's internal invariants.
 * @conn: the engine.
 *
 * For tests and fuzzers: a correct engine always passes.
 *
 * Return: 0, or SDP_ERR_INTERNAL.
 */
int	sdp_conn_check(const struct sdp_conn *conn);

#endif /* SMBDIRECTD_PROTO_SDP_H */
