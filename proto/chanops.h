/* SPDX-License-Identifier: ISC */
/*
 * chanops.h: the data channel's engine, without I/O.
 *
 * One engine per connection owns every protocol decision of the data
 * channel (frame.h, docs/PROTOCOL.md "Data channel"):
 *
 *  - the frame-stream parser: where the next bytes read from the socket
 *    go (a frame header, an operation frame's body, or a PDU body straight
 *    into memory the caller reserved), and what a finished frame means;
 *  - the held-frame rule: a frame of the daemon's never goes between the
 *    fragments of a PDU on the stream to the owner, so frames made while a
 *    PDU is half delivered wait behind it;
 *  - the operation scheduler: checking RDMA READ/WRITE frames, the FIFO of
 *    accepted requests, the caps on work requests in flight (READs up to
 *    the ORD, WRITEs up to twice it), splitting at the port's largest
 *    message, the WRITE_THEN_PDU gate, and the answers (COMPLETION, ERROR)
 *    they earn.
 *
 * Use, as with proto/sdp.h: feed an input, then take the actions it
 * queued with chanops_next_action() and perform them in order. Performing
 * an action may call further inputs; their actions queue behind:
 *
 *	n = chanops_rx_want(co, &buf);	(read at most n bytes into buf)
 *	chanops_rx_got(co, nread, sender_pid);
 *	while (chanops_next_action(co, &a) == 1)
 *		perform(&a);
 *
 * Nothing here reads a socket, posts a work request, logs or counts: the
 * actions say what to do and carry what a log line or a counter needs.
 *
 * Errors. Every function returning int returns 0 or a negative enum
 * chanops_error. A fatal one (everything but CHANOPS_ERR_INVAL and
 * CHANOPS_ERR_STATE) also queues CHANOPS_ACT_CLOSE with that code: the
 * engine is then closed and refuses further inputs with CHANOPS_ERR_STATE,
 * except chanops_rdma_done(), which keeps accepting the completions of
 * work requests already posted, and the inspection functions.
 *
 * Ownership. The engine owns its requests and held frames. A SEND_FRAME
 * action hands its body (from the engine's allocator) and descriptor to
 * the caller, who frees the body with that allocator's free() (plain
 * free() when chanops_new() got no allocator) and closes the descriptor
 * once passed. PDU handles (void *) are the caller's; the engine only
 * hands them back. Not thread-safe; one engine is used by one thread.
 */
#ifndef SMBDIRECTD_PROTO_CHANOPS_H
#define SMBDIRECTD_PROTO_CHANOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "sdp.h"

/*
 * Errors. X(name, token): the token is a stable name for logs and
 * metrics labels.
 *
 *   NOMEM             an allocation failed; the connection cannot go on
 *                     without losing a frame, so it closes;
 *   OVERSIZED_OP      an operation frame longer than FRAME_OP_MAX;
 *   MALFORMED_RDMA    an RDMA frame that does not decode: its request id
 *                     cannot be trusted, so an ERROR frame goes out and
 *                     the channel closes;
 *   UNKNOWN_TYPE      a frame type the daemon does not know;
 *   HELD_FULL         more than held_max frames wait behind a PDU;
 *   INVAL             a bad argument (a bug in the caller), not fatal;
 *   STATE             the engine is closed, or the call does not fit the
 *                     state (a PDU buffer nobody asked for), not fatal.
 */
#define CHANOPS_ERRORS(X)						\
	X(NOMEM, "no_memory")						\
	X(OVERSIZED_OP, "oversized_operation_frame")			\
	X(MALFORMED_RDMA, "malformed_rdma_frame")			\
	X(UNKNOWN_TYPE, "unknown_frame_type")				\
	X(HELD_FULL, "held_frames_full")				\
	X(INVAL, "invalid_argument")					\
	X(STATE, "bad_state")

enum chanops_error {
	CHANOPS_OK = 0,
#define X(e, token)	CHANOPS_ERR_##e,
	CHANOPS_ERRORS(X)
#undef X
	CHANOPS_ERR_END
};

/* The token of a (negative or positive) error; "unknown" outside. */
const char	*chanops_error_name(int err);

struct chanops_config {
	uint64_t	conn_id;	/* what a CLAIM frame must name */
	unsigned	ord;		/* the accepted ORD: READs in flight */
	uint32_t	max_wr_bytes;	/* largest work request (port
					   max_msg_sz); 0: 1 GiB */
	unsigned	queue_max;	/* RDMA requests accepted and not
					   finished; 0: 32 */
	unsigned	held_max;	/* frames held behind a PDU; 0: 512 */
};

/* Work requests in flight at most, for sizing the send queue. */
#define CHANOPS_MAX_READS(ord)	(ord)
#define CHANOPS_MAX_WRITES(ord)	((ord) > 0 ? (ord) * 2 : 2)
#define CHANOPS_MAX_POSTED(ord)	(CHANOPS_MAX_READS(ord) + \
				 CHANOPS_MAX_WRITES(ord))

enum chanops_act_type {
	CHANOPS_ACT_NONE = 0,
	/*
	 * A PDU frame of @len bytes starts: reserve @len bytes for its body
	 * and give them with chanops_pdu_buffer(). If there is no room now,
	 * do nothing: reading stays paused and chanops_resume() asks again.
	 */
	CHANOPS_ACT_RESERVE_PDU,
	/*
	 * A PDU from the owner is complete: send it to the peer, with
	 * @invalidate (0: none) as the SEND_WITH_INVALIDATE key. If the
	 * sender cannot take it now, give it back with
	 * chanops_submit_blocked().
	 */
	CHANOPS_ACT_SUBMIT_PDU,
	/* Queue this frame on the stream to the owner (see Ownership). */
	CHANOPS_ACT_SEND_FRAME,
	/*
	 * Post one RDMA READ (@write false: the peer's memory into the area)
	 * or WRITE. @cookie goes back in chanops_rdma_done(); its low three
	 * bits are zero, so the caller may tag them.
	 */
	CHANOPS_ACT_POST_RDMA,
	/* The owner asked for the area (FRAME_AREA_REQUEST, well formed). */
	CHANOPS_ACT_AREA_REQUEST,
	/*
	 * A CLAIM frame named this connection and was written by @pid
	 * alone. Whether @pid may claim it is the caller's to judge (a
	 * refusal goes through chanops_refuse()).
	 */
	CHANOPS_ACT_CLAIM,
	/* The next PDU carries this invalidate key (for the log). */
	CHANOPS_ACT_INVALIDATE_NEXT,
	/* An RDMA request was accepted (counted), or ended. */
	CHANOPS_ACT_RDMA_START,
	CHANOPS_ACT_RDMA_END,
	/* An RDMA request failed a check; its COMPLETION is queued. */
	CHANOPS_ACT_RDMA_REJECTED,
	/* A frame was refused with an ERROR frame (queued already). */
	CHANOPS_ACT_REFUSED,
	/* Close the connection: @error says why. Always the last action. */
	CHANOPS_ACT_CLOSE,
};

struct chanops_action {
	enum chanops_act_type type;
	union {
		struct {
			uint32_t	 len;
		} reserve;
		struct {
			void		*pdu;
			uint32_t	 invalidate;
		} submit;
		struct {
			uint8_t		 type;
			uint8_t		*body;
			uint32_t	 len;
			int		 fd;	/* to pass, or -1 */
		} frame;
		struct {
			uint64_t	 cookie;
			bool		 write;
			uint64_t	 area_off;
			uint32_t	 len;
			uint64_t	 remote_addr;
			uint32_t	 rkey;
		} post;
		struct {
			int32_t		 pid;
		} claim;
		struct {
			uint32_t	 rkey;
		} invalidate;
		struct {
			bool		 write;
			uint64_t	 req_id;
			uint64_t	 area_off;
			uint16_t	 n_desc;
			uint32_t	 bytes;	/* END: moved; START: asked */
			int32_t		 status;	/* END: 0 or -errno */
			enum frame_rdma_reject why;	/* REJECTED */
		} rdma;
		struct {
			uint8_t		 refused;	/* the frame type */
			int32_t		 status;
			/* FRAME_RDMA_OK, or why an RDMA frame was refused */
			enum frame_rdma_reject why;
			char		 msg[FRAME_ERROR_MSG_MAX + 1];
		} refused;
		struct {
			int		 error;	/* negative chanops_error */
			char		 msg[FRAME_ERROR_MSG_MAX + 1];
		} close;
	} u;
};

struct chanops;

/**
 * chanops_new() - an engine for one connection.
 * @cfg: copied.
 * @mem: the allocator, copied; NULL means malloc()/free().
 * @out: written on success; free with chanops_free().
 *
 * Return: 0, CHANOPS_ERR_INVAL (NULL argument, ord above 65535),
 * CHANOPS_ERR_NOMEM.
 */
int	chanops_new(const struct chanops_config *cfg,
	    const struct sdp_mem *mem, struct chanops **out);

/**
 * chanops_free() - free the engine, its requests, held frames and
 * untaken actions (closing their descriptors). NULL is a no-op. Call it
 * only when no work request it asked for can complete any more (the
 * queue pair is gone).
 */
void	chanops_free(struct chanops *co);

/*
 * What the connection tells the engine as it learns it. Until
 * chanops_set_max_read_write() every RDMA frame exceeds the limit; until
 * chanops_set_area() none has an area.
 */
void	chanops_set_max_read_write(struct chanops *co, uint32_t max);
void	chanops_set_area(struct chanops *co, uint64_t size);

/* ---- the stream from the owner --------------------------------------- */

/**
 * chanops_rx_want() - where the next bytes read from the channel go.
 * @buf: set to the destination when the return is non-zero.
 *
 * Return: the most bytes to read into @buf now; 0 when the channel must
 * not be read now (a PDU waits for its buffer, for its writes or for the
 * sender; the request queue is full; the engine is closed). Any input may
 * change the answer: ask again after performing the actions.
 */
size_t	chanops_rx_want(struct chanops *co, uint8_t **buf);

/**
 * chanops_rx_got() - @n bytes (1..what chanops_rx_want() allowed) were
 * read into the buffer it gave; @pid is the process that wrote them
 * (SCM_CREDENTIALS), 0 if unknown. A frame written by more than one
 * process has sender 0.
 *
 * Return: 0, CHANOPS_ERR_INVAL (n out of range), CHANOPS_ERR_STATE, or a
 * fatal error for what the bytes completed: CHANOPS_ERR_OVERSIZED_OP,
 * CHANOPS_ERR_MALFORMED_RDMA, CHANOPS_ERR_UNKNOWN_TYPE,
 * CHANOPS_ERR_NOMEM, CHANOPS_ERR_HELD_FULL.
 */
int	chanops_rx_got(struct chanops *co, size_t n, int32_t pid);

/* Whether a frame is partly read (for the close reason at EOF). */
bool	chanops_rx_mid_frame(const struct chanops *co);

/* Whether chanops_rx_want() points into a PDU's body (copy accounting). */
bool	chanops_rx_in_pdu(const struct chanops *co);

/* Operation-frame bytes read so far, header and body (copy accounting). */
uint64_t chanops_rx_op_bytes(const struct chanops *co);

/**
 * chanops_pdu_buffer() - the answer to CHANOPS_ACT_RESERVE_PDU: the PDU's
 * body goes to @buf (its length bytes), and @pdu comes back in
 * CHANOPS_ACT_SUBMIT_PDU.
 *
 * Return: 0, CHANOPS_ERR_INVAL, CHANOPS_ERR_STATE (nothing was asked).
 */
int	chanops_pdu_buffer(struct chanops *co, void *pdu, uint8_t *buf);

/**
 * chanops_submit_blocked() - the sender could not take the PDU of a
 * CHANOPS_ACT_SUBMIT_PDU (@pdu, @invalidate as the action gave them): the
 * engine keeps it, stops reading, and submits it again after
 * chanops_resume().
 *
 * Return: 0, CHANOPS_ERR_INVAL, CHANOPS_ERR_STATE (closed, or a PDU is
 * blocked already).
 */
int	chanops_submit_blocked(struct chanops *co, void *pdu,
	    uint32_t invalidate);

/**
 * chanops_resume() - room may have appeared: ring space, sender credits.
 * Asks again for what waits on it (RESERVE_PDU, SUBMIT_PDU).
 *
 * Return: 0, CHANOPS_ERR_STATE.
 */
int	chanops_resume(struct chanops *co);

/* ---- the stream to the owner ----------------------------------------- */

/**
 * chanops_deliver() - the caller queued a fragment of a peer's PDU on the
 * stream (@first, @last: whether it begins, ends the PDU). After the last
 * one, the frames held meanwhile are released as SEND_FRAME actions.
 *
 * Return: 0, CHANOPS_ERR_STATE.
 */
int	chanops_deliver(struct chanops *co, bool first, bool last);

/**
 * chanops_send_frame() - a frame of the caller's (AREA, DRAIN): @body
 * (@len bytes, at most FRAME_OP_MAX) is copied; @fd is taken in every case
 * (passed with the frame, or closed on failure). Sent now or held behind
 * the PDU being delivered.
 *
 * Return: 0, CHANOPS_ERR_INVAL, CHANOPS_ERR_STATE, CHANOPS_ERR_NOMEM,
 * CHANOPS_ERR_HELD_FULL.
 */
int	chanops_send_frame(struct chanops *co, uint8_t type,
	    const uint8_t *body, uint32_t len, int fd);

/**
 * chanops_refuse() - refuse a frame the caller judged (an AREA_REQUEST it
 * could not serve, a CLAIM from the wrong process): an ERROR frame of
 * @status and @msg, and CHANOPS_ACT_REFUSED.
 *
 * Return: as chanops_send_frame().
 */
int	chanops_refuse(struct chanops *co, uint8_t type, int32_t status,
	    const char *msg);

/* ---- RDMA operations --------------------------------------------------- */

/**
 * chanops_rdma_done() - a work request of CHANOPS_ACT_POST_RDMA completed;
 * @ok false: it failed or was flushed. @write, if not NULL, is set to
 * whether it was an RDMA WRITE (a failed completion's opcode is not
 * defined by verbs, so the engine says). The request's COMPLETION frame goes
 * out when its last work request is done (not after chanops_abort()),
 * then more work requests may be posted.
 *
 * Return: 0, CHANOPS_ERR_INVAL (an unknown cookie), CHANOPS_ERR_NOMEM.
 */
int	chanops_rdma_done(struct chanops *co, uint64_t cookie, bool ok,
	    bool *write);

/* Whether a work request of the engine's is posted and not completed. */
bool	chanops_rdma_in_flight(const struct chanops *co);

/**
 * chanops_abort() - the connection is closing: post nothing more, answer
 * nothing more, drop held PDUs (their handles are the caller's). The
 * completions of posted work requests are still taken.
 */
void	chanops_abort(struct chanops *co);

/**
 * chanops_next_action() - take the next action.
 *
 * Return: 1 and *@out written, or 0 when none is queued.
 */
int	chanops_next_action(struct chanops *co, struct chanops_action *out);

#endif
