/* SPDX-License-Identifier: ISC */
/*
 * libsmbdirect-ctl: the library an smbd (or the gateway, or smbdirectctl)
 * links to talk to smbdirectd.
 *
 * It covers:
 *  - the control client: connect (or adopt an inherited fd), register as
 *    master, owner or admin, typed requests and replies, and events read
 *    from a non-blocking fd that fits any event loop (poll, libevent,
 *    Samba's tevent);
 *  - the data channel: framed SMB2 PDUs, the shared-memory area, RDMA READ
 *    and WRITE requests and their completions, send with invalidate, drain
 *    notices;
 *  - passing a data channel, with the PDUs already read from it, to
 *    another process (SCM_RIGHTS), and the claim that completes a hand-off;
 *  - parsers for the small part of SMB2 an smbd needs before it knows which
 *    process owns a client: the NEGOTIATE ClientGuid, and READ/WRITE
 *    channel information;
 *  - the NETWORK_INTERFACE_INFO entries that answer
 *    FSCTL_QUERY_NETWORK_INTERFACE_INFO with the daemon's RDMA interfaces.
 *
 * Conventions. Every function returns 0 (or a documented non-negative
 * value) or a negative errno value; out parameters are written only on
 * success. The library never prints, never exits, keeps no global state
 * and starts no threads. Every pointer parameter is borrowed for the call
 * unless it says "takes"; every fd parameter that says "takes" is closed by
 * the call on failure too. Functions that talk to the daemon block until
 * the reply arrives or the handle's timeout (default 10 s) passes.
 *
 * The wire formats are in docs/PROTOCOL.md.
 */
#ifndef SMBDIRECT_CTL_H
#define SMBDIRECT_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SDCTL_DEFAULT_SOCKET	"/run/smbdirectd/control"

/* ------------------------------------------------------------------ */
/* Types shared by requests, replies and events                       */
/* ------------------------------------------------------------------ */

enum sdctl_role {
	SDCTL_ROLE_MASTER = 1,
	SDCTL_ROLE_OWNER = 2,
	SDCTL_ROLE_ADMIN = 3,
};

enum sdctl_transport {
	SDCTL_TRANSPORT_UNKNOWN = 0,
	SDCTL_TRANSPORT_IWARP = 1,
	SDCTL_TRANSPORT_ROCE = 2,
	SDCTL_TRANSPORT_IB = 3,
};

enum sdctl_conn_state {
	SDCTL_STATE_UNKNOWN = 0,
	SDCTL_STATE_NEGOTIATING = 1,
	SDCTL_STATE_WAIT_MASTER = 2,
	SDCTL_STATE_WAIT_CHANNEL = 3,
	SDCTL_STATE_ACTIVE = 4,
	SDCTL_STATE_DRAINING = 5,
	SDCTL_STATE_CLOSING = 6,
};

enum sdctl_event_kind {
	SDCTL_EVENT_NEW_CONNECTION = 1,
	SDCTL_EVENT_CONNECTION_CLOSED = 2,
	SDCTL_EVENT_DRAIN_REQUESTED = 3,
	SDCTL_EVENT_OWNER_CHANGED = 4,
};

/* Negotiated SMB Direct parameters of one connection. */
struct sdctl_params {
	uint32_t	version;		/* 0x0100 */
	uint32_t	max_send_size;
	uint32_t	max_receive_size;
	uint32_t	max_fragmented_size;	 /* largest PDU it accepts */
	uint32_t	peer_max_fragmented_size;/* largest PDU you may send */
	uint32_t	max_read_write_size;
	uint32_t	ird;
	uint32_t	ord;
	uint32_t	receive_credit_max;
	uint32_t	send_credit_target;
};

struct sdctl_credits {
	uint32_t	send_available;
	uint32_t	send_target;
	uint32_t	receive_posted;
	uint32_t	receive_target;
	uint32_t	receive_held;
	uint64_t	granted_total;
	uint64_t	credit_waits;
};

/*
 * One series of a count the daemon labels: @label is a stable token
 * (smbdirectd(8) lists them), @value its count. The daemon sends every
 * label of such a count, 0 included; beyond SDCTL_MAX_COUNTS of them,
 * the rest are dropped.
 */
#define SDCTL_MAX_COUNTS	8

struct sdctl_count {
	char		label[32];
	uint64_t	value;
};

struct sdctl_counters {
	uint64_t	bytes_in;
	uint64_t	bytes_out;
	uint64_t	messages_in;
	uint64_t	messages_out;
	uint64_t	pdus_in;
	uint64_t	pdus_out;
	uint64_t	rdma_read_bytes;
	uint64_t	rdma_read_ops;
	uint64_t	rdma_write_bytes;
	uint64_t	rdma_write_ops;
	uint64_t	keepalives_sent;
	/*
	 * Bytes copied, by kind: "pdu_to_owner", "pdu_from_owner", "memcpy",
	 * "op_frames" (docs/PROTOCOL.md, "Copy accounting").
	 */
	struct sdctl_count	copied_bytes[SDCTL_MAX_COUNTS];
	unsigned		n_copied_bytes;
};

struct sdctl_mr_usage {
	uint32_t	count;
	uint64_t	bytes;
	uint64_t	area_bytes;
	uint32_t	limit;
};

struct sdctl_conn {
	uint64_t		id;
	char			peer[64];	/* "10.0.0.2:40123" */
	char			local[64];
	enum sdctl_transport	transport;
	enum sdctl_conn_state	state;
	char			device[64];
	uint32_t		owner_pid;	/* 0: nobody yet */
	struct sdctl_params	params;
	struct sdctl_credits	credits;
	struct sdctl_counters	counters;
	struct sdctl_mr_usage	mr;
	uint64_t		age_ms;
	uint64_t		idle_ms;
};

struct sdctl_listener {
	char			address[80];	/* "10.0.0.1:5445" */
	enum sdctl_transport	transport;
	char			device[64];
};

struct sdctl_device_port {
	uint32_t	port;
	char		state[16];
	char		netdev[32];
};

#define SDCTL_MAX_PORTS	4

struct sdctl_device {
	char			name[64];
	enum sdctl_transport	transport;
	uint32_t		max_sge;
	uint32_t		max_qp_rd_atom;
	uint32_t		max_mr;
	struct sdctl_device_port ports[SDCTL_MAX_PORTS];
	unsigned		n_ports;
};

/* struct sdctl_status and its arrays: free with sdctl_status_free(). */
struct sdctl_status {
	char			 version[32];
	uint64_t		 uptime_ms;
	struct sdctl_listener	*listeners;
	size_t			 n_listeners;
	struct sdctl_device	*devices;
	size_t			 n_devices;
	bool			 draining;
	uint32_t		 master_pid;
	uint32_t		 connections_active;
	uint64_t		 connections_total;
	uint64_t		 connections_refused;
	uint32_t		 control_clients;
	uint32_t		 max_connections;
	struct sdctl_counters	 totals;
	/* The most connections open at once, by transport ("iwarp", ...). */
	struct sdctl_count	 connections_peak[SDCTL_MAX_COUNTS];
	unsigned		 n_connections_peak;
};

/* One RDMA listener, as FSCTL_QUERY_NETWORK_INTERFACE_INFO needs it. */
struct sdctl_iface {
	char			address[48];	/* numeric IP, no port */
	uint32_t		port;
	uint32_t		if_index;
	uint64_t		link_speed_bps;
	enum sdctl_transport	transport;
	char			device[64];
	bool			ipv6;
};

struct sdctl_event {
	enum sdctl_event_kind	kind;
	union {
		struct {
			struct sdctl_conn conn;
			char		  socket_path[256];
			uint32_t	  connect_timeout_ms;
		} new_connection;
		struct {
			uint64_t	conn_id;
			char		reason[48];	/* stable token */
			char		message[200];
			uint32_t	owner_pid;
		} connection_closed;
		struct {
			uint64_t	conn_id;	/* 0: daemon-wide */
			uint32_t	grace_ms;
		} drain_requested;
		struct {
			uint64_t	conn_id;
			uint32_t	old_pid;
			uint32_t	new_pid;
		} owner_changed;
	} u;
};

/* ------------------------------------------------------------------ */
/* The control client                                                 */
/* ------------------------------------------------------------------ */

struct sdctl;

/**
 * sdctl_connect() - connect to the daemon's control socket.
 * @path: the socket path; NULL means SDCTL_DEFAULT_SOCKET.
 * @out:  the new handle; free it with sdctl_close().
 *
 * Return: 0, -ENAMETOOLONG, -ENOMEM, or the connect() error (-ENOENT and
 * -ECONNREFUSED when no daemon runs there, -EACCES).
 */
int	sdctl_connect(const char *path, struct sdctl **out);

/**
 * sdctl_adopt() - use an already connected control socket.
 * @fd:  takes: a SOCK_SEQPACKET socket connected to the daemon, such as the
 *       master's end of the socketpair whose other end it passed to
 *       `smbdirectd --control-fd=N`.
 * @out: the new handle.
 *
 * Return: 0, -ENOTSOCK or -EPROTOTYPE (not a SOCK_SEQPACKET socket),
 * -ENOMEM.
 */
int	sdctl_adopt(int fd, struct sdctl **out);

/**
 * sdctl_close() - close the handle and its socket.
 * @ctl: takes; NULL is a no-op. Events not yet read are dropped.
 */
void	sdctl_close(struct sdctl *ctl);

/**
 * sdctl_fd() - the fd to watch for events.
 * @ctl: the handle.
 *
 * The fd is non-blocking. When it is readable, call sdctl_next_event()
 * until it returns 0. Requests may read events that arrive before their
 * reply and keep them inside: after any request, call sdctl_next_event()
 * until it returns 0 before waiting on the fd again.
 *
 * Return: the fd; it stays the handle's.
 */
int	sdctl_fd(const struct sdctl *ctl);

/**
 * sdctl_set_timeout() - how long requests wait for their reply.
 * @ctl:        the handle.
 * @timeout_ms: milliseconds; 0 waits forever.
 */
void	sdctl_set_timeout(struct sdctl *ctl, unsigned timeout_ms);

/**
 * sdctl_last_error() - the daemon's message for the last failed request.
 * @ctl: the handle.
 *
 * Return: a string owned by the handle, valid until its next request; ""
 * if the last request succeeded or failed locally.
 */
const char *sdctl_last_error(const struct sdctl *ctl);

/**
 * sdctl_register() - take a role on this control connection.
 * @ctl:       the handle.
 * @role:      SDCTL_ROLE_MASTER, _OWNER or _ADMIN.
 * @name:      free text for the daemon's logs; may be NULL.
 * @read_only: if not NULL, set to whether the daemon granted a read-only
 *             admin role.
 *
 * Return: 0; the daemon's refusal: -EACCES (the [access] lists do not
 * allow your uid/gid), -EBUSY (a master is already registered), -EALREADY
 * (this handle already has a role), -EINVAL; or a transport error: -EPIPE
 * (the daemon closed the socket), -ETIMEDOUT, -EPROTO (a malformed reply).
 */
int	sdctl_register(struct sdctl *ctl, enum sdctl_role role,
	    const char *name, bool *read_only);

/**
 * sdctl_subscribe() - choose the events this handle receives.
 * @ctl:   the handle.
 * @kinds: event kinds; NULL (with @n 0) means every kind the role may see.
 * @n:     how many.
 *
 * A master always receives SDCTL_EVENT_NEW_CONNECTION.
 *
 * Return: 0, -EPERM (a kind the role may not see), transport errors as
 * for sdctl_register().
 */
int	sdctl_subscribe(struct sdctl *ctl, const enum sdctl_event_kind *kinds,
	    size_t n);

/**
 * sdctl_next_event() - take the next event, without blocking.
 * @ctl: the handle.
 * @out: the event.
 *
 * Return: 1 with an event, 0 when none is waiting, -EPIPE when the daemon
 * closed the socket, -EPROTO for a malformed message, -ENOBUFS (once, then
 * the queued events follow) when events were dropped because more than
 * 1024 arrived during requests: resync with sdctl_list_connections().
 */
int	sdctl_next_event(struct sdctl *ctl, struct sdctl_event *out);

/**
 * sdctl_status() - the daemon's status.
 * @ctl: the handle (any role).
 * @out: filled on success; free its arrays with sdctl_status_free().
 *
 * Return: 0, -ENOMEM, -EPERM (no role), transport errors.
 */
int	sdctl_status(struct sdctl *ctl, struct sdctl_status *out);

/**
 * sdctl_status_free() - free the arrays of a status.
 * @st: the status; its pointers are reset. NULL is a no-op.
 */
void	sdctl_status_free(struct sdctl_status *st);

/**
 * sdctl_list_connections() - every connection.
 * @ctl:   the handle (master or admin).
 * @out:   a malloc()ed array the caller frees with free(); NULL when empty.
 * @n_out: its length.
 *
 * Return: 0, -ENOMEM, -EPERM, transport errors.
 */
int	sdctl_list_connections(struct sdctl *ctl, struct sdctl_conn **out,
	    size_t *n_out);

/**
 * sdctl_get_connection() - one connection.
 * @ctl: the handle (master, admin, or the owner of that connection).
 * @id:  the connection id.
 * @out: filled on success.
 *
 * Return: 0, -ENOENT (no such connection), -EPERM, transport errors.
 */
int	sdctl_get_connection(struct sdctl *ctl, uint64_t id,
	    struct sdctl_conn *out);

/**
 * sdctl_list_interfaces() - the daemon's RDMA listeners.
 * @ctl:   the handle (any role).
 * @out:   a malloc()ed array the caller frees with free(); NULL when empty.
 * @n_out: its length.
 *
 * Return: 0, -ENOMEM, transport errors.
 */
int	sdctl_list_interfaces(struct sdctl *ctl, struct sdctl_iface **out,
	    size_t *n_out);

/**
 * sdctl_hand_off() - announce that you pass a connection to another process.
 * @ctl:    the handle of the current owner (its kernel credentials are what
 *          the daemon checks).
 * @id:     the connection.
 * @to_pid: the process that will hold the data channel.
 *
 * Call it before passing the fd (sdctl_chan_pass()).
 *
 * Return: 0, -ENOENT (no such connection, or closed), -EPERM (you do not
 * hold it), -EAGAIN (no data channel yet), -EINVAL, transport errors.
 */
int	sdctl_hand_off(struct sdctl *ctl, uint64_t id, pid_t to_pid);

/**
 * sdctl_claim() - complete a hand-off: become the connection's owner.
 * @ctl:     the handle of the new owner.
 * @chan_fd: borrows: the data channel you received.
 * @id:      the connection.
 *
 * Writes a CLAIM frame on the data channel (the kernel stamps it with your
 * pid, which proves you hold the socket), waits (at most 2 s) until the
 * daemon has read it, then sends the Claim request.
 *
 * Return: 0; -EPERM (the connection was not handed to you), -EACCES (the
 * daemon saw no claim frame from you), -EALREADY (already yours), -ENOENT
 * (no such connection, or closed); the errors of writing the frame;
 * transport errors.
 */
int	sdctl_claim(struct sdctl *ctl, int chan_fd, uint64_t id);

/**
 * sdctl_drain() - drain the daemon (@id 0) or one connection.
 * @ctl:      an admin (not read-only) or master handle.
 * @id:       0 for daemon-wide: refuse new connections; otherwise the
 *            connection whose owner is told to finish.
 * @grace_ms: for one connection: disconnect after this long; 0 uses the
 *            daemon's drain_grace.
 *
 * Return: 0, -ENOENT, -ESHUTDOWN (already closing), -EPERM, transport
 * errors.
 */
int	sdctl_drain(struct sdctl *ctl, uint64_t id, uint32_t grace_ms);

/**
 * sdctl_undrain() - accept new connections again.
 * @ctl: an admin (not read-only) or master handle.
 *
 * Return: 0, -EPERM, transport errors.
 */
int	sdctl_undrain(struct sdctl *ctl);

/**
 * sdctl_kill() - disconnect a connection now.
 * @ctl: an admin (not read-only) or master handle.
 * @id:  the connection.
 *
 * Return: 0, -ENOENT, -ESHUTDOWN, -EPERM, transport errors.
 */
int	sdctl_kill(struct sdctl *ctl, uint64_t id);

/**
 * sdctl_metrics() - the daemon's metrics in Prometheus text format.
 * @ctl: an admin or master handle.
 * @out: a malloc()ed NUL-terminated string the caller frees with free().
 *
 * Return: 0, -ENOMEM, -EPERM, transport errors.
 */
int	sdctl_metrics(struct sdctl *ctl, char **out);

/* Names for enums, for logs and output: static strings, never NULL. */
const char *sdctl_transport_name(enum sdctl_transport t);
const char *sdctl_state_name(enum sdctl_conn_state s);

/* ------------------------------------------------------------------ */
/* The data channel                                                   */
/* ------------------------------------------------------------------ */

/*
 * The data channel is a UNIX stream socket. SMB2 PDUs are framed as on
 * SMB2 Direct TCP; the daemon's operation frames are interleaved with them
 * (docs/PROTOCOL.md). A caller that owns the socket reads it with
 * sdctl_chan_read(), which returns either a PDU or an operation frame.
 */

/**
 * sdctl_chan_connect() - connect to a NewConnection event's socket path.
 * @path: the event's socket_path.
 * @out:  the connected fd (blocking, close-on-exec); the caller owns it.
 *
 * Return: 0, -ENAMETOOLONG, or the socket()/connect() error (-ENOENT or
 * -ECONNREFUSED when someone else connected first or it timed out).
 */
int	sdctl_chan_connect(const char *path, int *out);

enum sdctl_frame_kind {
	SDCTL_FRAME_PDU = 1,		/* an SMB2 PDU from the client */
	SDCTL_FRAME_AREA,		/* the area: .area_fd, .area_size */
	SDCTL_FRAME_COMPLETION,		/* an RDMA operation finished */
	SDCTL_FRAME_DRAIN,		/* finish up; closing after grace */
	SDCTL_FRAME_ERROR,		/* the daemon refused a frame */
};

/* What sdctl_chan_read() read. */
struct sdctl_frame {
	enum sdctl_frame_kind	kind;
	/* SDCTL_FRAME_PDU: the PDU, malloc()ed, the caller frees it. */
	uint8_t			*pdu;
	size_t			 pdu_len;
	/* SDCTL_FRAME_AREA: an fd the caller owns, and the area's size. */
	int			 area_fd;
	uint64_t		 area_size;
	/* SDCTL_FRAME_COMPLETION */
	uint64_t		 req_id;
	int32_t			 status;	/* 0 or a negative errno */
	uint32_t		 bytes;
	/* SDCTL_FRAME_DRAIN */
	uint32_t		 grace_ms;
	/* SDCTL_FRAME_ERROR: status above, and the refused frame type. */
	uint8_t			 refused_type;
	char			 message[201];
};

/**
 * sdctl_chan_read() - read one frame (blocking on a blocking fd).
 * @fd:      borrows: the data channel.
 * @max_pdu: the largest PDU accepted (e.g. the connection's
 *           max_fragmented_size); a larger one is -EMSGSIZE.
 * @out:     the frame; the caller owns out->pdu and out->area_fd.
 *
 * Return: 0; -EPIPE on end of file; -EMSGSIZE; -EPROTO (an unknown or
 * malformed frame); -ENOMEM; other read errors. On a non-blocking fd with
 * nothing to read it returns -EAGAIN and consumes nothing; once a frame's
 * first byte is read it waits (poll) for the rest. After any error other
 * than -EAGAIN the stream is out of step: close the channel.
 */
int	sdctl_chan_read(int fd, size_t max_pdu, struct sdctl_frame *out);

/**
 * sdctl_chan_write_pdu() - write one PDU with its 4-byte frame header.
 * @fd:  borrows: the data channel (blocking).
 * @pdu: the PDU bytes.
 * @len: 1..0xFFFFFF.
 *
 * Return: 0, -EINVAL (bad length), or the write error (-EPIPE).
 */
int	sdctl_chan_write_pdu(int fd, const void *pdu, size_t len);

/**
 * sdctl_chan_request_area() - ask the daemon for the shared-memory area.
 * @fd: borrows: the data channel.
 *
 * The daemon answers with an SDCTL_FRAME_AREA frame, read with
 * sdctl_chan_read(); map it with sdctl_area_map().
 *
 * Return: 0, or the write error.
 */
int	sdctl_chan_request_area(int fd);

/**
 * sdctl_area_map() - map the area an SDCTL_FRAME_AREA frame carried.
 * @area_fd: borrows: the frame's area_fd (the caller closes it after).
 * @size:    the frame's area_size.
 * @out:     the mapping (MAP_SHARED, read-write); munmap() it when done.
 *
 * Return: 0, -EINVAL (size 0 or not the memfd's size), or the mmap error.
 */
int	sdctl_area_map(int area_fd, uint64_t size, void **out);

/* One SMB Direct Buffer Descriptor V1, as the client sent it. */
struct sdctl_desc {
	uint64_t	offset;
	uint32_t	token;
	uint32_t	length;
};

#define SDCTL_MAX_DESC		16
#define SDCTL_RDMA_THEN_PDU	0x1u

/**
 * sdctl_chan_rdma_read() - RDMA READ client memory into the area.
 * @fd:       borrows: the data channel.
 * @req_id:   your id, echoed in the completion.
 * @area_off: where the payload goes in the area.
 * @desc:     the client's descriptors, in order (1..SDCTL_MAX_DESC).
 * @n:        how many.
 *
 * The daemon answers with an SDCTL_FRAME_COMPLETION frame once all the
 * data is in the area.
 *
 * Return: 0, -EINVAL (bad @n), or the write error.
 */
int	sdctl_chan_rdma_read(int fd, uint64_t req_id, uint64_t area_off,
	    const struct sdctl_desc *desc, unsigned n);

/**
 * sdctl_chan_rdma_write() - RDMA WRITE area bytes to client memory.
 * @fd:         borrows: the data channel.
 * @req_id:     your id, echoed in the completion.
 * @area_off:   where the payload is in the area.
 * @desc:       the client's descriptors, in order (1..SDCTL_MAX_DESC).
 * @n:          how many.
 * @pdu:        if not NULL, a PDU (the SMB2 READ response) the daemon
 *              sends right after the writes, on the same queue pair,
 *              without waiting for them to complete (RC ordering delivers
 *              the data first).
 * @pdu_len:    its length.
 * @invalidate: with @pdu, a token the client asked to be invalidated
 *              (SMB2_CHANNEL_RDMA_V1_INVALIDATE): the PDU goes as SEND
 *              with invalidate; 0 for none (and always 0 without @pdu).
 *
 * Return: 0, -EINVAL, or the write error.
 */
int	sdctl_chan_rdma_write(int fd, uint64_t req_id, uint64_t area_off,
	    const struct sdctl_desc *desc, unsigned n, const void *pdu,
	    size_t pdu_len, uint32_t invalidate);

/**
 * sdctl_chan_write_pdu_invalidate() - send a PDU with remote invalidate.
 * @fd:         borrows: the data channel.
 * @pdu:        the PDU (e.g. an SMB2 WRITE response after an RDMA READ).
 * @len:        its length.
 * @invalidate: the token to invalidate (non-zero).
 *
 * Return: 0, -EINVAL, or the write error.
 */
int	sdctl_chan_write_pdu_invalidate(int fd, const void *pdu, size_t len,
	    uint32_t invalidate);

/* ------------------------------------------------------------------ */
/* Passing a data channel to another process                          */
/* ------------------------------------------------------------------ */

/*
 * The owner that receives the channel must see the PDUs the sender
 * already read from it, in order, before anything else on the socket.
 */

/**
 * sdctl_chan_pass() - send a data channel and the PDUs already read.
 * @sock:    borrows: a UNIX socket to the receiving process.
 * @chan_fd: borrows: the data channel (the caller still closes its copy).
 * @conn_id: the connection id (from NewConnection).
 * @pdus:    the PDUs already read, in order.
 * @lens:    their lengths.
 * @n:       how many (0..64).
 *
 * Return: 0, -EINVAL, or the send error.
 */
int	sdctl_chan_pass(int sock, int chan_fd, uint64_t conn_id,
	    const uint8_t *const *pdus, const size_t *lens, unsigned n);

/* What sdctl_chan_receive() received. */
struct sdctl_passed {
	int		 chan_fd;	/* the caller owns it */
	uint64_t	 conn_id;
	uint8_t		**pdus;		/* malloc()ed, each and the array */
	size_t		*lens;
	unsigned	 n;
};

/**
 * sdctl_chan_receive() - receive what sdctl_chan_pass() sent.
 * @sock: borrows: the UNIX socket from the sender.
 * @out:  filled on success; free with sdctl_passed_free() (which does not
 *        close chan_fd).
 *
 * Descriptors beyond the one expected are closed.
 *
 * Return: 0, -EPIPE (the sender closed), -EPROTO (malformed), -ENOMEM, or
 * the receive error.
 */
int	sdctl_chan_receive(int sock, struct sdctl_passed *out);

/**
 * sdctl_passed_free() - free the PDUs of a struct sdctl_passed.
 * @p: its arrays are freed and reset; chan_fd is left alone.
 */
void	sdctl_passed_free(struct sdctl_passed *p);

/* ------------------------------------------------------------------ */
/* SMB2 parsers                                                       */
/* ------------------------------------------------------------------ */

#define SMB2_CHANNEL_NONE		0
#define SMB2_CHANNEL_RDMA_V1		1
#define SMB2_CHANNEL_RDMA_V1_INVALIDATE	2

/**
 * sdctl_smb2_client_guid() - the ClientGuid of an SMB2 NEGOTIATE request.
 * @pdu:  one SMB2 PDU (without the 4-byte frame header).
 * @len:  its length.
 * @guid: 16 bytes, written on success.
 *
 * Accepts only a well-formed SMB2 NEGOTIATE request (protocol id
 * 0xFE 'S' 'M' 'B', StructureSize 64, command 0, not a response, request
 * StructureSize 36, DialectCount within the PDU). Never reads past @len.
 *
 * Return: 0; -EPROTO (not an SMB2 NEGOTIATE request, or truncated).
 */
int	sdctl_smb2_client_guid(const uint8_t *pdu, size_t len,
	    uint8_t guid[16]);

/* The channel information of an SMB2 READ or WRITE request. */
struct sdctl_smb2_rw {
	uint16_t		command;	/* 8 READ, 9 WRITE */
	uint32_t		channel;	/* SMB2_CHANNEL_* */
	uint32_t		length;		/* READ Length or WRITE Length */
	uint64_t		offset;		/* file offset */
	uint32_t		remaining_bytes;
	struct sdctl_desc	desc[SDCTL_MAX_DESC];
	unsigned		n_desc;
	uint64_t		desc_total;	/* sum of descriptor lengths */
	/* WRITE with no channel: where the data is, from @pdu itself. */
	uint32_t		data_offset;
	uint32_t		data_length;
};

/**
 * sdctl_smb2_rw_parse() - parse the SMB2 READ or WRITE at @pdu + @off.
 * @pdu:   the whole SMB2 PDU (a compound is fine).
 * @len:   its length.
 * @off:   where this command's SMB2 header starts (0 for the first;
 *         NextCommand offsets for the others).
 * @max_rw: the connection's max_read_write_size: descriptor totals above it
 *          are -E2BIG.
 * @out:   written on success.
 *
 * Validates the header (a non-zero NextCommand must be 8-aligned and
 * inside @len), the request StructureSize (49), and the channel info:
 * offset and length inside the command and past its fixed fields, a whole
 * number of 16-byte descriptors, 1..SDCTL_MAX_DESC of them, none of
 * length 0. Without a channel, a WRITE's data must lie inside the command.
 *
 * Return: 0; -EPROTO (malformed or not READ/WRITE), -E2BIG (descriptor total
 * above @max_rw), -ERANGE (more than SDCTL_MAX_DESC descriptors).
 */
int	sdctl_smb2_rw_parse(const uint8_t *pdu, size_t len, size_t off,
	    uint32_t max_rw, struct sdctl_smb2_rw *out);

/**
 * sdctl_network_interface_info() - encode FSCTL_QUERY_NETWORK_INTERFACE_INFO
 * output ([MS-SMB2] 2.2.32.5) for the daemon's RDMA interfaces.
 * @ifs:    the interfaces (from sdctl_list_interfaces()).
 * @n:      how many.
 * @buf:    the output buffer.
 * @buflen: its size; 152 bytes per entry are needed.
 * @out_len: the bytes written.
 *
 * One entry per distinct address (a daemon listening on one address on
 * two ports yields one entry). Each has Capability RDMA_CAPABLE (0x2), the
 * interface index and link speed, and a SOCKADDR_STORAGE (IPv4 or IPv6)
 * with the address and port 0; Next chains the entries, 0 on the last.
 * Wildcard listeners (0.0.0.0, ::) and interface index 0 get no entry
 * ([MS-SMB2] 3.3.5.15.11).
 *
 * Return: 0, -ENOSPC (@buflen too small), -EINVAL (@n 0, a bad address,
 * or no entry left).
 */
int	sdctl_network_interface_info(const struct sdctl_iface *ifs, size_t n,
	    uint8_t *buf, size_t buflen, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif
