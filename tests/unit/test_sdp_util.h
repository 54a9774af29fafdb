/* SPDX-License-Identifier: ISC */
/*
 * test_sdp_util.h: shared by the engine's tests (not a test itself).
 *
 * - tmem: an allocator that counts live blocks and can fail the Nth
 *   allocation, for leak checks and failmalloc loops.
 * - tlink: two engines (client and server) joined by an in-memory lossless
 *   link with RDMA semantics: a message lands only in a receive the other
 *   side posted, sends complete in order after delivery. The link plays
 *   the caller of each engine: it performs every action, checks every
 *   message on the wire against the rules of [MS-SMBD] (credits tracked
 *   from the headers alone) and checks every delivered byte.
 */
#ifndef SMBDIRECTD_TEST_SDP_UTIL_H
#define SMBDIRECTD_TEST_SDP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdp.h"

struct tmem {
	long	fail_at;	/* fail this allocation (1-based); 0: none */
	long	count;		/* allocations attempted */
	long	live;		/* blocks not freed */
	bool	failed;		/* the failure was injected */
};

void	tmem_init(struct tmem *m, struct sdp_mem *out);

#define T_CLIENT	0
#define T_SERVER	1

struct tmsg {
	uint8_t		*data;
	size_t		 len;
	bool		 neg;
	struct tmsg	*next;
};

struct tside {
	struct sdp_conn		*conn;
	struct sdp_config	 cfg;
	struct sdp_params	 params;
	int			 id;

	/* Receives this side's caller posted, oldest first (their sizes). */
	size_t		*post_size;
	unsigned	 post_head, post_count, post_cap;
	/* Messages this side sent, in flight, oldest first. */
	struct tmsg	*out_head, *out_tail;
	unsigned	 out_count;
	/* Sends posted and not yet completed; of those, delivered. */
	unsigned	 sends_posted;
	unsigned	 completions_due;
	/* Receive buffers held because of a DELIVER, oldest first. */
	struct tmsg	*held_head, *held_tail;
	unsigned	 held;

	/* PDUs this side submitted: their lengths, in order. */
	size_t		*pdu_len;
	uint64_t	 pdus_submitted, pdu_cap;
	/* Reassembly check of the PDUs arriving here. */
	uint64_t	 rx_pdu;
	size_t		 rx_off;
	uint64_t	 pdus_delivered, bytes_delivered;

	/* Wire bookkeeping, from headers only. */
	long		 wire_credits;	/* this side's send credits */
	uint64_t	 granted_total;	/* CreditsGranted it sent */
	uint64_t	 data_in;	/* data messages it received */
	uint64_t	 msgs_sent, keepalive_flags;

	bool		 negotiated, neg_sent, disconnected, graceful;
	int		 disc_reason;
	bool		 wouldblock;
	uint64_t	 writable_seen;
	uint64_t	 timer;
	bool		 blocked;
	unsigned	 max_queue_seen;
};

struct tlink {
	struct tside	 s[2];
	uint64_t	 now;
	const uint8_t	*cur;		/* message being received */
	size_t		 cur_len;
	uint64_t	 steps;
};

/*
 * Create both engines. @mem may be NULL (libc). Returns 0 or what
 * sdp_conn_new() returned; on error nothing is left allocated.
 */
int	tlink_init(struct tlink *l, const struct sdp_config *client,
	    const struct sdp_config *server, const struct sdp_mem *mem);
void	tlink_clear(struct tlink *l);

/* sdp_start() both (server first) and drain. Returns the first error. */
int	tlink_start(struct tlink *l);
/* Perform every pending action of one side. */
void	tlink_drain(struct tlink *l, int side);
/* Deliver the oldest message @from sent. Returns sdp_on_recv()'s code. */
int	tlink_deliver(struct tlink *l, int from);
/* Complete @n of @side's delivered sends. */
int	tlink_complete(struct tlink *l, int side, unsigned n);
/* Release @n of @side's held buffers. */
int	tlink_release(struct tlink *l, int side, unsigned n);
/* Submit one PDU of @len from @side. Returns sdp_send_pdu()'s code. */
int	tlink_submit(struct tlink *l, int side, size_t len, uint32_t rkey);
/* Advance the clock; fire timers that are due. */
void	tlink_advance(struct tlink *l, uint64_t ms);
/*
 * Run until nothing moves: deliver, complete, release (unless blocked),
 * drain. Returns the number of rounds that did something.
 */
uint64_t tlink_settle(struct tlink *l);

/* The bytes of PDU @idx sent by @side (a window into a fixed pattern). */
const uint8_t *tlink_pattern(int side, uint64_t idx);
/* Largest PDU the pattern covers. */
#define TLINK_PATTERN_MAX	(2u << 20)

#endif /* SMBDIRECTD_TEST_SDP_UTIL_H */
