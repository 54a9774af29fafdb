/*
 * chan: a connection's data channel, the UNIX stream socket an smbd reads
 * and writes SMB2 PDUs on, framed as on SMB2 Direct TCP (docs/PROTOCOL.md).
 *
 * Toward the smbd, PDUs go out straight from the receive buffers they
 * arrived in (writev), so an inline PDU is copied once, into the socket.
 * From the smbd, PDUs are read straight into the registered send ring, so
 * again one copy. Both directions push back: a full socket holds receive
 * buffers, which stops credit grants; a full ring or a blocked engine stops
 * reading the socket.
 */
#ifndef SMBDIRECTD_CHAN_H
#define SMBDIRECTD_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "frame.h"

struct rconn;
struct rxbuf;
struct txpdu;

/*
 * One outbound piece: an optional frame header, then data, which is a
 * slice of a held receive buffer (rx != NULL, released when written) or
 * bytes the daemon made (own != NULL, freed when written).
 */
struct chanseg {
	uint8_t		 hdr[4];
	uint8_t		 hdr_len;
	const uint8_t	*data;
	uint32_t	 len;
	uint32_t	 done;		/* of hdr_len + len */
	struct rxbuf	*rx;
	uint8_t		*own;
	int		 fd;		/* to pass with SCM_RIGHTS, or -1 */
};

/*
 * An operation frame that waits for the end of the PDU being delivered:
 * frames never go between the fragments of a PDU on the stream.
 */
struct chanheld {
	struct chanheld	*next;
	uint8_t		*body;
	uint32_t	 len;
	int		 fd;
	uint8_t		 type;
};

struct chan {
	struct rconn	*c;
	int		 listen_fd;	/* the one-shot socket, or -1 */
	char		 path[256];	/* its path until someone connects */
	int		 fd;		/* the data channel, or -1 */
	pid_t		 peer_pid;	/* who connected (SO_PEERCRED) */
	struct event	*listen_ev;
	struct event	*read_ev;
	struct event	*write_ev;

	/* Outbound ring of segments; bounded by receive credits. */
	struct chanseg	*out;
	unsigned	 out_cap;
	unsigned	 out_head;
	unsigned	 out_n;
	size_t		 out_bytes;
	bool		 upper_blocked;	/* told the engine to stop granting */
	bool		 in_pdu;	/* a PDU's first fragment is queued,
					   its last not yet */
	struct chanheld	*held;		/* operation frames held meanwhile */
	struct chanheld	**held_tail;
	unsigned	 n_held;

	/* Inbound: the frame being read. */
	uint8_t		 ihdr[4];
	unsigned	 ihdr_got;
	uint32_t	 ilen;		/* body length from the header */
	uint32_t	 igot;
	struct txpdu	*ipdu;		/* PDU body goes to the send ring */
	uint8_t		*ibuf;
	uint8_t		 op[FRAME_OP_MAX];	/* an operation frame's body */
	uint8_t		 op_type;
	pid_t		 frame_pid;	/* sender of this frame, 0: mixed */
	struct txpdu	*pending;	/* read, but the engine would block */
	bool		 read_paused;
	bool		 eof;
};

void	chan_init(struct chan *, struct rconn *);
int	chan_listen(struct chan *, const char *dir, uint64_t conn_id);
void	chan_close(struct chan *);
int	chan_deliver(struct chan *, struct rxbuf *, const uint8_t *data,
	    uint32_t len, uint32_t pdu_len, bool first, bool last);
int	chan_send_op(struct chan *, uint8_t type, uint8_t *body,
	    uint32_t len, int fd);
void	chan_resume_read(struct chan *);
void	chan_read_now(struct chan *);
bool	chan_connected(const struct chan *);
size_t	chan_out_bytes(const struct chan *);

#endif
