/* SPDX-License-Identifier: ISC */
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

	/*
	 * Inbound: where bytes go is the data channel engine's to say
	 * (chanops_rx_want()); reading is armed while it wants some.
	 */
	bool		 reading;
	bool		 eof;
};

void	chan_init(struct chan *, struct rconn *);
int	chan_listen(struct chan *, const char *dir, uint64_t conn_id);
void	chan_close(struct chan *);
int	chan_deliver(struct chan *, struct rxbuf *, const uint8_t *data,
	    uint32_t len, uint32_t pdu_len, bool first, bool last);
int	chan_queue_frame(struct chan *, uint8_t type, uint8_t *body,
	    uint32_t len, int fd);
void	chan_update_read(struct chan *);
void	chan_read_now(struct chan *);
bool	chan_connected(const struct chan *);
size_t	chan_out_bytes(const struct chan *);

#endif
