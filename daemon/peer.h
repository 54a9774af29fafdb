/* SPDX-License-Identifier: ISC */
/*
 * peer: one UNIX-socket peer of the daemon on the event loop. The control
 * channel's clients are peers (control.c); a connection's data channel is
 * meant to be one too (chan.c).
 *
 * Shaped after tmux's proc.c. Each peer has one event. Its EV_READ
 * interest follows peer_set_reading(), and its EV_WRITE interest is armed
 * only while output is queued. Both are worked out again in one place
 * (peer.c, peer_update()) after anything that could change them.
 * Reading, with the sender's credentials and with descriptors, also
 * happens in one place, peer_recv(). That function closes every
 * descriptor the caller did not ask for.
 *
 * Reading. The peer owns no input buffer. When the socket is readable it
 * calls cb->read. The owner then calls peer_recv() into memory of its own
 * (a datagram buffer, a frame header, a slot of the send ring) until it
 * returns -EAGAIN. It may also stop early and call peer_set_reading(p,
 * false).
 *
 * Writing. A message is an optional short header, which is copied, then a
 * body, which is borrowed until the message is released. A message may
 * carry one descriptor on its first byte. On a SOCK_STREAM socket, queued
 * messages are gathered into one sendmsg() and may go out in parts. A
 * message that carries a descriptor starts its own sendmsg() and ends it.
 * On SOCK_SEQPACKET and SOCK_DGRAM, each message is one whole sendmsg().
 * Each message's release function runs exactly once: when its last byte
 * has been written, or when the message is discarded.
 *
 * Re-entry. A callback (cb->read, cb->error, cb->sent, a release
 * function) may call any function here on the same peer, peer_free()
 * included. If a callback frees the peer, the peer is closed at once: its
 * socket, and its queued messages released. Its memory is freed when the
 * outermost call into the peer returns. Nothing here calls back into the
 * owner except through those callbacks. peer_queue() and
 * peer_set_reading() never do. peer_flush() runs release functions and
 * cb->sent.
 *
 * Errors are negative errno values, listed for each function. When a write
 * fails, the peer tells its owner once, through cb->error from the event
 * loop, and writes no more. The owner then frees it. Reading may still
 * work until then.
 *
 * Unless stated otherwise, pointer parameters are borrowed for the
 * duration of the call and must not be NULL.
 */
#ifndef SMBDIRECTD_PEER_H
#define SMBDIRECTD_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/event.h>

/* Longest message header peer_queue() copies. */
#define PEER_HDR_MAX	16
/*
 * Descriptors one peer_recv() can take in. More than this sets MSG_CTRUNC:
 * the kernel drops the extra descriptors, and peer_recv() closes the rest.
 */
#define PEER_RECV_FDS	16

/* peer_new() flags. */
#define PEER_PASSCRED	0x1	/* SO_PASSCRED: peer_recv() names each sender */

struct peer;

/*
 * The owner's callbacks. Each gets the peer and the @arg given to
 * peer_new().
 */
struct peer_cb {
	/*
	 * The socket is readable, or at end of file, or in error. Call
	 * peer_recv() until it returns -EAGAIN, or pause reading. Called only
	 * while reading is on. Required.
	 */
	void	(*read)(struct peer *, void *arg);
	/*
	 * A write failed with @err (a negative errno: -EPIPE, -ECONNRESET,
	 * -EMSGSIZE, ...). The peer writes no more. Its queued messages stay
	 * queued until peer_free() releases them. Called once, from the event
	 * loop. Required.
	 */
	void	(*error)(struct peer *, void *arg, int err);
	/*
	 * A write pass sent at least one byte. peer_queued() tells what is
	 * left (for backpressure). Optional (NULL).
	 */
	void	(*sent)(struct peer *, void *arg);
};

/*
 * What came with the bytes of one peer_recv().
 */
struct peer_anc {
	/*
	 * The sender of these bytes, from SCM_CREDENTIALS (needs
	 * PEER_PASSCRED). Without credentials: pid 0, uid and gid -1.
	 */
	struct ucred	 cred;
	/* The descriptor asked for (take_fd), now the caller's; or -1. */
	int		 fd;
	/* Descriptors that came and were closed: unasked, extra, truncated. */
	unsigned	 fds_closed;
	/* MSG_CTRUNC: ancillary data was lost, and every descriptor closed. */
	bool		 ctrunc;
};

/*
 * A message's release function. It runs once for each queued message.
 * @arg is what was given to peer_queue(). @written is how many of the
 * message's bytes (header included) reached the socket. @status is 0 when
 * all of them did, or -ECANCELED when peer_free() discarded the message
 * before that. From then on, the message's body is the caller's again.
 */
typedef void (*peer_release_fn)(void *arg, size_t written, int status);

/**
 * peer_new() - watch a connected UNIX socket.
 * @base: the event loop. Borrowed for the peer's life.
 * @fd: the socket: SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM, connected.
 *	Taken: the peer closes it, and so does peer_new() on failure.
 * @flags: 0 or PEER_PASSCRED.
 * @cb: the callbacks. Copied.
 * @arg: passed to every callback. Borrowed for the peer's life.
 * @out: the new peer. Written only on success.
 *
 * The peer reads its socket's SO_PEERCRED once, here (peer_cred()). It
 * starts with reading on and nothing queued. The socket's O_NONBLOCK
 * setting does not matter: every call uses MSG_DONTWAIT.
 *
 * Return: 0, or
 *	-EINVAL      @fd < 0, unknown @flags, or cb->read or cb->error NULL;
 *	-EPROTOTYPE  @fd is a socket of another type;
 *	-ENOTSOCK, -EBADF, ...  from getsockopt(SO_TYPE or SO_PEERCRED) or
 *	             setsockopt(SO_PASSCRED);
 *	-ENOMEM      out of memory, or the event cannot be added.
 */
int		 peer_new(struct event_base *base, int fd, int flags,
		    const struct peer_cb *cb, void *arg, struct peer **out);

/**
 * peer_free() - close a peer.
 * @p: the peer, or NULL (no-op). Taken.
 *
 * Closes the socket. Every queued message is released with -ECANCELED,
 * and its descriptor is closed, before this returns. Safe from any of the
 * peer's callbacks: see "Re-entry" above. After this, @p must not be used.
 */
void		 peer_free(struct peer *p);

/**
 * peer_fd() - the socket, for getsockopt() and logs.
 *
 * Return: the descriptor. The peer keeps it: do not close it, read it or
 * write it.
 */
int		 peer_fd(const struct peer *p);

/**
 * peer_cred() - the peer's credentials when it connected (SO_PEERCRED).
 *
 * Return: a pointer into @p, valid while @p lives.
 */
const struct ucred *peer_cred(const struct peer *p);

/**
 * peer_recv() - receive bytes into the caller's memory.
 * @p: the peer.
 * @buf: where the bytes go; @len bytes of it. Borrowed.
 * @take_fd: the caller accepts one descriptor. The first one that came is
 *	handed over in @anc->fd. Every other descriptor is closed.
 *	Without @take_fd, every descriptor is closed.
 * @anc: what came with the bytes. Written on success (return >= 0) only.
 *	May be NULL when @take_fd is false.
 *
 * One recvmsg(). A stream peer returns at most @len bytes. A datagram peer
 * returns the datagram's full length (MSG_TRUNC), which may be more than
 * @len; the bytes beyond @len are lost. When the control data was
 * truncated (MSG_CTRUNC), every descriptor that came is closed, even one
 * the caller asked for. @anc->ctrunc says so.
 *
 * Return: the byte count (> 0); or
 *	0            end of file. On SOCK_SEQPACKET this is also an empty
 *	             datagram: the two cannot be told apart;
 *	-EAGAIN      nothing to read now (EINTR is retried);
 *	-EINVAL      @take_fd with @anc NULL;
 *	-EBADF       the peer was freed (by a callback still running);
 *	-ECONNRESET, ...  recvmsg() failed: the socket is unusable.
 */
ssize_t		 peer_recv(struct peer *p, void *buf, size_t len,
		    bool take_fd, struct peer_anc *anc);

/*
 * peer_recv_fd() - peer_recv() on a bare stream socket @fd that is not a
 * peer (the data channel, whose events and output queue are its own):
 * the same credentials, the same descriptor rule, the same returns but
 * -EBADF.
 */
ssize_t		 peer_recv_fd(int fd, void *buf, size_t len, bool take_fd,
		    struct peer_anc *anc);

/*
 * peer_send_fd() - one sendmsg() of @iovcnt vectors on @fd, passing
 * @pass_fd (or -1) with the first byte: the one place the daemon builds
 * SCM_RIGHTS. The caller closes @pass_fd once the call returned > 0.
 * Return: bytes written (> 0), -EAGAIN (EINTR is retried), or -errno.
 */
ssize_t		 peer_send_fd(int fd, const struct iovec *iov, int iovcnt,
		    int pass_fd);

/**
 * peer_queue() - queue one message and arm EV_WRITE.
 * @p: the peer.
 * @hdr: @hdr_len (<= PEER_HDR_MAX) bytes sent first. Copied. NULL when
 *	@hdr_len is 0.
 * @data: @len bytes sent next. Borrowed until @release runs.
 * @fd: a descriptor to pass with the message's first byte (SCM_RIGHTS),
 *	or -1. Taken: closed once sent, once discarded, or on failure.
 * @release: runs once, when the message is written or discarded (see
 *	peer_release_fn). May be NULL when nothing is to be done.
 * @arg: passed to @release.
 *
 * Nothing is written here: see peer_flush(). On failure, @release does
 * not run, and @data stays the caller's.
 *
 * Return: 0, or
 *	-EINVAL      @hdr_len > PEER_HDR_MAX, or an empty message (@hdr_len
 *	             + @len == 0);
 *	-ENOMEM      out of memory;
 *	-EBADF       the peer was freed (by a callback still running);
 *	the error an earlier write failed with (cb->error): nothing more is
 *	             queued.
 */
int		 peer_queue(struct peer *p, const void *hdr, size_t hdr_len,
		    const void *data, size_t len, int fd,
		    peer_release_fn release, void *arg);

/**
 * peer_release_free() - a peer_release_fn that free()s @arg.
 *
 * For bodies allocated with malloc() and handed over whole: pass the body
 * as both @data and @arg.
 */
void		 peer_release_free(void *arg, size_t written, int status);

/**
 * peer_flush() - write now whatever the socket takes.
 * @p: the peer.
 *
 * Runs the release functions of the messages written, then cb->sent. What
 * the socket does not take waits for EV_WRITE. Called from within a write
 * pass (from a release function), it does nothing: the pass goes on with
 * what was queued meanwhile.
 *
 * Return: 0, also when the socket is full, or when a release function
 * freed @p (the caller must then no longer use @p); or
 *	-EBADF       the peer was freed (by a callback still running);
 *	-EPIPE, -ECONNRESET, -EMSGSIZE, ...  sendmsg() failed. cb->error
 *	             follows from the event loop, as for any failed write.
 */
int		 peer_flush(struct peer *p);

/**
 * peer_queued() - what is queued and not yet fully written.
 * @p: the peer.
 * @bytes: if not NULL, set to the bytes left (headers included).
 *
 * Return: the number of messages.
 */
size_t		 peer_queued(const struct peer *p, size_t *bytes);

/**
 * peer_set_reading() - turn EV_READ interest on or off.
 *
 * Off, cb->read is not called, and the socket's input waits in the kernel
 * (which pushes back on the sender).
 */
void		 peer_set_reading(struct peer *p, bool on);

/**
 * peer_events() - what the peer's event waits for now.
 *
 * Return: EV_READ and/or EV_WRITE, as event_pending() reports them. While
 * a callback of the peer runs, changes are applied only when it returns.
 */
short		 peer_events(const struct peer *p);

#endif
