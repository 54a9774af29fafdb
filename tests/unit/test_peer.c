/* SPDX-License-Identifier: ISC */
/*
 * test_peer: daemon/peer.c over real socket pairs and a real event loop.
 *
 * What must hold: peer_recv() names the sender of the bytes it returns;
 * every descriptor that arrives is handed over or closed (this process's
 * open descriptors are counted in /proc/self/fd); EV_WRITE is armed only
 * while output is queued (event_pending, through peer_events()); a passed
 * descriptor reaches the other end with its message; and a peer freed
 * from its own callback is released exactly once (ASan watches the rest).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "daemon/peer.h"

#define N_MSGS	64

struct fixture {
	struct event_base	*base;
	int			 sv[2];		/* the peer's, ours */
	struct peer		*p;
	int			 fds_before;
	/* Callback records. */
	unsigned		 reads;
	unsigned		 errors;
	int			 last_error;
	unsigned		 sents;
	unsigned		 released[N_MSGS];
	int			 status[N_MSGS];
	size_t			 written[N_MSGS];
	unsigned		 free_at;	/* nth release frees p */
	unsigned		 n_released;
	bool			 free_in_read;
};

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.') {
			n++;
		}
	}
	closedir(d);
	return n;
}

static bool
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void
on_read(struct peer *p, void *arg)
{
	struct fixture *f = arg;

	f->reads++;
	if (f->free_in_read) {
		peer_free(p);
		f->p = NULL;
		/* The peer is closed, but its memory lives until we return. */
		assert_int_equal(peer_recv(p, NULL, 0, false, NULL), -EBADF);
	}
}

static void
on_error(struct peer *p, void *arg, int err)
{
	struct fixture *f = arg;

	f->errors++;
	f->last_error = err;
}

static void
on_sent(struct peer *p, void *arg)
{
	struct fixture *f = arg;

	f->sents++;
}

static const struct peer_cb cbs = {
	.read = on_read,
	.error = on_error,
	.sent = on_sent,
};

static struct fixture *g_f;

/* Message i's release; its arg is the index. */
static void
on_release(void *arg, size_t written, int status)
{
	unsigned i = (unsigned)(uintptr_t)arg;

	assert_true(i < N_MSGS);
	g_f->released[i]++;
	g_f->status[i] = status;
	g_f->written[i] = written;
	g_f->n_released++;
	if (g_f->n_released == g_f->free_at) {
		peer_free(g_f->p);
		g_f->p = NULL;
	}
}

static int
setup_type(void **state, int type, int flags)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->fds_before = count_fds();
	f->base = event_base_new();
	assert_non_null(f->base);
	assert_int_equal(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, f->sv),
	    0);
	assert_int_equal(peer_new(f->base, f->sv[0], flags, &cbs, f, &f->p),
	    0);
	g_f = f;
	*state = f;
	return 0;
}

static int
setup_seqpacket(void **state)
{
	return setup_type(state, SOCK_SEQPACKET, PEER_PASSCRED);
}

static int
setup_stream(void **state)
{
	return setup_type(state, SOCK_STREAM, PEER_PASSCRED);
}

static int
setup_seqpacket_nocred(void **state)
{
	return setup_type(state, SOCK_SEQPACKET, 0);
}

/* Everything opened is closed again: the peer's socket included. */
static int
teardown(void **state)
{
	struct fixture *f = *state;

	peer_free(f->p);
	if (f->sv[1] != -1) {
		close(f->sv[1]);
	}
	event_base_free(f->base);
	assert_int_equal(count_fds(), f->fds_before);
	free(f);
	g_f = NULL;
	return 0;
}

/* Send @len bytes with @nfd descriptors (SCM_RIGHTS) from our end. */
static void
send_fds(int s, const void *buf, size_t len, const int *fds, size_t nfd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * (PEER_RECV_FDS + 8))];
	} cbuf;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf,
	    .iov_len = len };
	struct msghdr msg;
	struct cmsghdr *cm;

	assert_true(nfd <= PEER_RECV_FDS + 8);
	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfd > 0) {
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfd);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfd);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfd);
	}
	assert_int_equal(sendmsg(s, &msg, 0), (ssize_t)len);
}

/*
 * One pass of the loop. EVLOOP_NONBLOCK alone would go on while anything
 * is active, and a socket at end of file always is.
 */
static void
loop_once(struct fixture *f)
{
	assert_int_not_equal(event_base_loop(f->base,
	    EVLOOP_ONCE | EVLOOP_NONBLOCK), -1);
}

/* ---------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------- */

static void
credentials_name_the_sender(void **state)
{
	struct fixture *f = *state;
	struct peer_anc anc;
	char buf[16];
	pid_t child;
	int st;

	/* The connector: SO_PEERCRED, taken once by peer_new(). */
	assert_int_equal(peer_cred(f->p)->pid, getpid());
	assert_int_equal(peer_cred(f->p)->uid, getuid());

	send_fds(f->sv[1], "me", 2, NULL, 0);
	assert_int_equal(peer_recv(f->p, buf, sizeof(buf), false, &anc), 2);
	assert_memory_equal(buf, "me", 2);
	assert_int_equal(anc.cred.pid, getpid());
	assert_int_equal(anc.cred.uid, getuid());
	assert_int_equal(anc.cred.gid, getgid());
	assert_int_equal(anc.fd, -1);
	assert_int_equal(anc.fds_closed, 0);
	assert_false(anc.ctrunc);

	/* Another process writes on the same socket: the bytes name it. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		_exit(send(f->sv[1], "kid", 3, 0) == 3 ? 0 : 1);
	}
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(peer_recv(f->p, buf, sizeof(buf), false, &anc), 3);
	assert_int_equal(anc.cred.pid, child);

	assert_int_equal(peer_recv(f->p, buf, sizeof(buf), false, &anc),
	    -EAGAIN);
}

static void
no_credentials_without_passcred(void **state)
{
	struct fixture *f = *state;
	struct peer_anc anc;
	char buf[4];

	send_fds(f->sv[1], "x", 1, NULL, 0);
	assert_int_equal(peer_recv(f->p, buf, sizeof(buf), false, &anc), 1);
	assert_int_equal(anc.cred.pid, 0);
	assert_int_equal(anc.cred.uid, (uid_t)-1);
	assert_int_equal(anc.cred.gid, (gid_t)-1);
}

static void
datagram_length_is_whole(void **state)
{
	struct fixture *f = *state;
	char big[100], buf[10];

	memset(big, 'a', sizeof(big));
	send_fds(f->sv[1], big, sizeof(big), NULL, 0);
	/* MSG_TRUNC: the caller learns the datagram was too long. */
	assert_int_equal(peer_recv(f->p, buf, sizeof(buf), false, NULL),
	    (ssize_t)sizeof(big));
	/* An empty datagram reads as end of file, as documented. */
	send_fds(f->sv[1], "", 0, NULL, 0);
	assert_int_equal(peer_recv(f->p, buf, sizeof(buf), false, NULL), 0);
	assert_int_equal(peer_recv(f->p, buf, sizeof(buf), true, NULL),
	    -EINVAL);
}

static void
stray_fds_are_closed(void **state)
{
	struct fixture *f = *state;
	struct peer_anc anc;
	int pfd[2], base, three[3];
	char buf[8];

	base = count_fds();
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	send_fds(f->sv[1], "fd", 2, pfd, 2);
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(count_fds(), base);

	/* Nobody asked for a descriptor: both are closed. */
	assert_int_equal(peer_recv(f->p, buf, sizeof(buf), false, &anc), 2);
	assert_int_equal(anc.fd, -1);
	assert_int_equal(anc.fds_closed, 2);
	assert_int_equal(count_fds(), base);
	/* They came in on the lowest free numbers, the pipe's: closed. */
	assert_false(fd_open(pfd[0]));
	assert_false(fd_open(pfd[1]));

	/* One asked for, three sent: the first is handed over. */
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	three[0] = pfd[1];
	three[1] = pfd[0];
	three[2] = pfd[0];
	send_fds(f->sv[1], "f3", 2, three, 3);
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(peer_recv(f->p, buf, sizeof(buf), true, &anc), 2);
	assert_true(anc.fd >= 0);
	assert_int_equal(anc.fds_closed, 2);
	assert_int_equal(count_fds(), base + 1);
	/* It is the pipe's write end, and close-on-exec. */
	assert_int_equal(fcntl(anc.fd, F_GETFD), FD_CLOEXEC);
	assert_int_equal(fcntl(anc.fd, F_GETFL) & O_ACCMODE, O_WRONLY);
	close(anc.fd);
	assert_int_equal(count_fds(), base);
}

static void
truncated_control_closes_all(void **state)
{
	struct fixture *f = *state;
	struct peer_anc anc;
	int fds[PEER_RECV_FDS + 4], base, fd;
	size_t i;
	char buf[8];

	base = count_fds();
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (i = 0; i < PEER_RECV_FDS + 4; i++) {
		fds[i] = fd;
	}
	send_fds(f->sv[1], "many", 4, fds, PEER_RECV_FDS + 4);
	close(fd);
	assert_int_equal(peer_recv(f->p, buf, sizeof(buf), true, &anc), 4);
	assert_true(anc.ctrunc);
	assert_int_equal(anc.fd, -1);
	assert_true(anc.fds_closed > 0);
	assert_int_equal(count_fds(), base);
}

/* The loop calls cb->read; a peer freed there lives until it returns. */
static void
free_inside_read(void **state)
{
	struct fixture *f = *state;

	f->free_in_read = true;
	send_fds(f->sv[1], "r", 1, NULL, 0);
	loop_once(f);
	assert_int_equal(f->reads, 1);
	assert_null(f->p);
}

/* ---------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------- */

static void
write_interest_follows_queue(void **state)
{
	struct fixture *f = *state;
	char msg[N_MSGS][8], buf[64];
	size_t bytes;
	unsigned i, got = 0, rounds;
	int small = 1;
	ssize_t n;

	/* The smallest send buffer: a few datagrams fill it. */
	assert_int_equal(setsockopt(peer_fd(f->p), SOL_SOCKET, SO_SNDBUF,
	    &small, sizeof(small)), 0);
	assert_int_equal(peer_events(f->p), EV_READ);
	snprintf(msg[0], sizeof(msg[0]), "m%02u", 0u);
	assert_int_equal(peer_queue(f->p, NULL, 0, msg[0], 3, -1, on_release,
	    (void *)(uintptr_t)0), 0);
	/* Queued, not written: EV_WRITE is armed, nothing released. */
	assert_int_equal(peer_events(f->p), EV_READ | EV_WRITE);
	assert_int_equal(peer_queued(f->p, &bytes), 1);
	assert_int_equal(bytes, 3);
	assert_int_equal(f->n_released, 0);
	loop_once(f);
	assert_int_equal(f->released[0], 1);
	assert_int_equal(f->status[0], 0);
	assert_int_equal(f->written[0], 3);
	assert_int_equal(f->sents, 1);
	assert_int_equal(peer_queued(f->p, NULL), 0);
	assert_int_equal(peer_events(f->p), EV_READ);
	assert_int_equal(recv(f->sv[1], buf, sizeof(buf), 0), 3);

	/*
	 * More than the socket takes (a socketpair's queue holds
	 * max_dgram_qlen datagrams): the rest waits for EV_WRITE.
	 */
	for (i = 1; i < N_MSGS; i++) {
		snprintf(msg[i], sizeof(msg[i]), "m%02u", i);
		assert_int_equal(peer_queue(f->p, "h", 1, msg[i], 3, -1,
		    on_release, (void *)(uintptr_t)i), 0);
	}
	assert_int_equal(peer_flush(f->p), 0);
	assert_true(peer_queued(f->p, NULL) > 0);
	assert_true(f->n_released < N_MSGS);
	assert_int_equal(peer_events(f->p), EV_READ | EV_WRITE);

	/* The other end reads; the loop writes the rest, in order. */
	for (rounds = 0; got < N_MSGS - 1 && rounds < 1000; rounds++) {
		while ((n = recv(f->sv[1], buf, sizeof(buf),
		    MSG_DONTWAIT)) > 0) {
			assert_int_equal(n, 4);
			snprintf(msg[0], sizeof(msg[0]), "hm%02u", got + 1);
			assert_memory_equal(buf, msg[0], 4);
			got++;
		}
		loop_once(f);
	}
	assert_int_equal(got, N_MSGS - 1);
	for (i = 1; i < N_MSGS; i++) {
		assert_int_equal(f->released[i], 1);
		assert_int_equal(f->status[i], 0);
		assert_int_equal(f->written[i], 4);
	}
	assert_int_equal(peer_queued(f->p, &bytes), 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(peer_events(f->p), EV_READ);

	/* Reading off: no interest at all. */
	peer_set_reading(f->p, false);
	assert_int_equal(peer_events(f->p), 0);
	peer_set_reading(f->p, true);
	assert_int_equal(peer_events(f->p), EV_READ);
}

/*
 * A stream peer: A, then B carrying a descriptor, then C. The descriptor
 * arrives with the recvmsg() that returns B's first byte, and the peer's
 * own copy is closed once sent.
 */
static void
passed_fd_arrives(void **state)
{
	struct fixture *f = *state;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	char in[64], c;
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *cm;
	size_t off = 0, fd_at = 0;
	int pfd[2], got = -1, base;
	ssize_t n;

	base = count_fds();
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	assert_int_equal(peer_queue(f->p, "A:", 2, "aaaa", 4, -1, on_release,
	    (void *)(uintptr_t)0), 0);
	assert_int_equal(peer_queue(f->p, "B:", 2, "bbbb", 4, pfd[1],
	    on_release, (void *)(uintptr_t)1), 0);
	assert_int_equal(peer_queue(f->p, NULL, 0, "C:cccc", 6, -1,
	    on_release, (void *)(uintptr_t)2), 0);
	assert_int_equal(peer_flush(f->p), 0);
	assert_int_equal(f->n_released, 3);
	assert_int_equal(peer_events(f->p), EV_READ);
	/* The peer closed the write end it took: the socket holds it now. */
	assert_false(fd_open(pfd[1]));

	while (off < 18) {
		iov.iov_base = in + off;
		iov.iov_len = sizeof(in) - off;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		n = recvmsg(f->sv[1], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		assert_true(n > 0);
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_type == SCM_RIGHTS) {
				assert_int_equal(got, -1);
				assert_int_equal(cm->cmsg_len,
				    CMSG_LEN(sizeof(int)));
				memcpy(&got, CMSG_DATA(cm), sizeof(int));
				/* B starts at 6: this read must hold it. */
				assert_true(off <= 6 &&
				    6 < off + (size_t)n);
				fd_at = off;
			}
		}
		off += (size_t)n;
	}
	assert_int_equal(off, 18);
	assert_memory_equal(in, "A:aaaaB:bbbbC:cccc", 18);
	assert_true(got >= 0);
	assert_true(fd_at <= 6);
	/* It is the pipe's write end. */
	assert_int_equal(write(got, "!", 1), 1);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	assert_int_equal(c, '!');
	close(got);
	close(pfd[0]);
	assert_int_equal(count_fds(), base);
}

/* A datagram peer passes the descriptor in the datagram it goes with. */
static void
passed_fd_datagram(void **state)
{
	struct fixture *f = *state;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct peer_anc anc;
	struct peer *q = NULL;
	char buf[8];

	assert_true(fd >= 0);
	/* The other end as a peer too, to read with peer_recv(). */
	assert_int_equal(peer_new(f->base, f->sv[1], 0, &cbs, f, &q), 0);
	f->sv[1] = -1;
	assert_int_equal(peer_queue(f->p, NULL, 0, "one", 3, -1, NULL, NULL),
	    0);
	assert_int_equal(peer_queue(f->p, NULL, 0, "two", 3, fd, NULL, NULL),
	    0);
	assert_int_equal(peer_flush(f->p), 0);
	assert_int_equal(peer_recv(q, buf, sizeof(buf), true, &anc), 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(anc.fd, -1);
	assert_int_equal(peer_recv(q, buf, sizeof(buf), true, &anc), 3);
	assert_memory_equal(buf, "two", 3);
	assert_true(anc.fd >= 0);
	assert_int_equal(fcntl(anc.fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	close(anc.fd);
	peer_free(q);
}

static void
free_inside_release(void **state)
{
	struct fixture *f = *state;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	unsigned i;

	assert_true(fd >= 0);
	f->free_at = 2;
	for (i = 0; i < 4; i++) {
		assert_int_equal(peer_queue(f->p, NULL, 0, "xy", 2,
		    i == 3 ? fd : -1, on_release, (void *)(uintptr_t)i), 0);
	}
	/* The second release frees the peer in the middle of the pass. */
	assert_int_equal(peer_flush(f->p), 0);
	assert_null(f->p);
	for (i = 0; i < 4; i++) {
		assert_int_equal(f->released[i], 1);
	}
	/* The first pass wrote 0-2 whole; 3 and its descriptor waited. */
	assert_int_equal(f->status[0], 0);
	assert_int_equal(f->status[1], 0);
	assert_int_equal(f->status[2], 0);
	assert_int_equal(f->written[2], 2);
	assert_int_equal(f->status[3], -ECANCELED);
	assert_int_equal(f->written[3], 0);
	/* The unsent message's descriptor is closed (teardown counts). */
}

static void
write_error_reported_once(void **state)
{
	struct fixture *f = *state;
	int rc;

	close(f->sv[1]);
	f->sv[1] = -1;
	assert_int_equal(peer_queue(f->p, NULL, 0, "lost", 4, -1, on_release,
	    (void *)(uintptr_t)0), 0);
	rc = peer_flush(f->p);
	assert_int_equal(rc, -EPIPE);
	/* Reported from the loop, not from inside the caller's call. */
	assert_int_equal(f->errors, 0);
	loop_once(f);
	assert_int_equal(f->errors, 1);
	assert_int_equal(f->last_error, rc);
	/* Queued still, but nothing more to write: no EV_WRITE. */
	assert_int_equal(peer_queued(f->p, NULL), 1);
	assert_int_equal(peer_events(f->p) & EV_WRITE, 0);
	loop_once(f);
	assert_int_equal(f->errors, 1);
	assert_int_equal(peer_queue(f->p, NULL, 0, "more", 4, -1, NULL, NULL),
	    rc);
	assert_int_equal(f->released[0], 0);
	peer_free(f->p);
	f->p = NULL;
	assert_int_equal(f->released[0], 1);
	assert_int_equal(f->status[0], -ECANCELED);
}

static void
bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct peer *q = (struct peer *)&q;
	int pfd[2], fd;

	assert_int_equal(peer_queue(f->p, "0123456789abcdefg",
	    PEER_HDR_MAX + 1, "x", 1, -1, NULL, NULL), -EINVAL);
	assert_int_equal(peer_queue(f->p, NULL, 0, "", 0, -1, NULL, NULL),
	    -EINVAL);
	/* A failed queue still takes the descriptor. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(peer_queue(f->p, NULL, 0, "", 0, fd, NULL, NULL),
	    -EINVAL);
	assert_false(fd_open(fd));
	/* Not a socket: refused, and closed. */
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	assert_int_equal(peer_new(f->base, pfd[0], 0, &cbs, f, &q),
	    -ENOTSOCK);
	assert_ptr_equal(q, (struct peer *)&q);
	assert_false(fd_open(pfd[0]));
	close(pfd[1]);
	assert_int_equal(peer_new(f->base, -1, 0, &cbs, f, &q), -EINVAL);
	peer_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(credentials_name_the_sender,
		    setup_seqpacket, teardown),
		cmocka_unit_test_setup_teardown(credentials_name_the_sender,
		    setup_stream, teardown),
		cmocka_unit_test_setup_teardown(
		    no_credentials_without_passcred, setup_seqpacket_nocred,
		    teardown),
		cmocka_unit_test_setup_teardown(datagram_length_is_whole,
		    setup_seqpacket, teardown),
		cmocka_unit_test_setup_teardown(stray_fds_are_closed,
		    setup_seqpacket, teardown),
		cmocka_unit_test_setup_teardown(stray_fds_are_closed,
		    setup_stream, teardown),
		cmocka_unit_test_setup_teardown(truncated_control_closes_all,
		    setup_seqpacket, teardown),
		cmocka_unit_test_setup_teardown(free_inside_read,
		    setup_seqpacket, teardown),
		cmocka_unit_test_setup_teardown(write_interest_follows_queue,
		    setup_seqpacket, teardown),
		cmocka_unit_test_setup_teardown(passed_fd_arrives,
		    setup_stream, teardown),
		cmocka_unit_test_setup_teardown(passed_fd_datagram,
		    setup_seqpacket, teardown),
		cmocka_unit_test_setup_teardown(free_inside_release,
		    setup_stream, teardown),
		cmocka_unit_test_setup_teardown(write_error_reported_once,
		    setup_seqpacket, teardown),
		cmocka_unit_test_setup_teardown(bad_arguments,
		    setup_seqpacket, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
