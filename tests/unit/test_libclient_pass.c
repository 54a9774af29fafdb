/* SPDX-License-Identifier: ISC */
/*
 * libclient's hand-off of a data channel between processes: a forked
 * child receives the channel and the PDUs already read, and proves it got
 * the very socket by writing on it. Malformed hand-off messages are built
 * by hand (the format is in libclient/pass.c) and must be refused without
 * leaking a descriptor.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "libclient/smbdirect-ctl.h"
#include "proto/frame.h"

#define HDR_SIZE	280
#define MAGIC		0x50434453u

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.') {
			n++;
		}
	}
	closedir(d);
	return n - 1;
}

/* The PDUs of a hand-off: NEGOTIATE, a big one, SESSION_SETUP. */
#define N_PDUS	3
static uint8_t *pdus[N_PDUS];
static size_t lens[N_PDUS] = { 250, 200000, 1 };

static int
group_setup(void **state)
{
	size_t i, j;

	for (i = 0; i < N_PDUS; i++) {
		pdus[i] = malloc(lens[i]);
		if (pdus[i] == NULL) {
			return -1;
		}
		for (j = 0; j < lens[i]; j++) {
			pdus[i][j] = (uint8_t)(j * 13 + i);
		}
	}
	return 0;
}

static int
group_teardown(void **state)
{
	size_t i;

	for (i = 0; i < N_PDUS; i++) {
		free(pdus[i]);
	}
	return 0;
}

/* In the child: receive, check everything, answer on the channel. */
static int
child_receive(int sock)
{
	static const uint8_t hello[] = "hello from c1";
	struct sdctl_passed p;
	unsigned i;

	if (sdctl_chan_receive(sock, &p) != 0) {
		return 10;
	}
	if (p.conn_id != 0x0123456789abcdefull || p.n != N_PDUS) {
		return 11;
	}
	for (i = 0; i < N_PDUS; i++) {
		if (p.lens[i] != lens[i] ||
		    memcmp(p.pdus[i], pdus[i], lens[i]) != 0) {
			return 12 + (int)i;
		}
	}
	if (!(fcntl(p.chan_fd, F_GETFD) & FD_CLOEXEC)) {
		return 20;
	}
	if (sdctl_chan_write_pdu(p.chan_fd, hello, sizeof(hello)) != 0) {
		return 21;
	}
	sdctl_passed_free(&p);
	if (p.pdus != NULL || p.lens != NULL || p.n != 0) {
		return 22;
	}
	close(p.chan_fd);
	return 0;
}

static void
pass_to_child(int type)
{
	struct sdctl_frame f;
	int ts[2], ch[2], st;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, ts), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    ch), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ts[0]);
		close(ch[0]);
		close(ch[1]);
		_exit(child_receive(ts[1]));
	}
	close(ts[1]);
	assert_int_equal(sdctl_chan_pass(ts[0], ch[0], 0x0123456789abcdefull,
	    (const uint8_t *const *)pdus, lens, N_PDUS), 0);
	/* c2 closes its copy and goes away; c1 holds the channel now. */
	close(ch[0]);
	close(ts[0]);
	assert_int_equal(sdctl_chan_read(ch[1], 4096, &f), 0);
	assert_int_equal(f.kind, SDCTL_FRAME_PDU);
	assert_string_equal((char *)f.pdu, "hello from c1");
	free(f.pdu);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(ch[1]);
}

static void
test_pass_stream(void **state)
{
	pass_to_child(SOCK_STREAM);
}

static void
test_pass_seqpacket(void **state)
{
	pass_to_child(SOCK_SEQPACKET);
}

static void
test_pass_no_pdus(void **state)
{
	struct sdctl_passed p;
	int ts[2], ch[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    ts), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    ch), 0);
	assert_int_equal(sdctl_chan_pass(ts[0], ch[0], 9, NULL, NULL, 0), 0);
	assert_int_equal(sdctl_chan_receive(ts[1], &p), 0);
	assert_int_equal(p.n, 0);
	assert_true(p.conn_id == 9);
	assert_null(p.pdus);
	assert_true(p.chan_fd >= 0);
	sdctl_passed_free(&p);
	close(p.chan_fd);
	close(ch[0]);
	close(ch[1]);
	close(ts[0]);
	close(ts[1]);
}

static void
test_pass_invalid(void **state)
{
	const uint8_t *one[1] = { pdus[0] };
	size_t len[1];
	int ts[2], ch[2];
	uint8_t c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    ts), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    ch), 0);
	len[0] = 0;
	assert_int_equal(sdctl_chan_pass(ts[0], ch[0], 1, one, len, 1),
	    -EINVAL);
	len[0] = 16 * 1024 * 1024 + 1;
	assert_int_equal(sdctl_chan_pass(ts[0], ch[0], 1, one, len, 1),
	    -EINVAL);
	len[0] = 10;
	assert_int_equal(sdctl_chan_pass(ts[0], ch[0], 1, one, len, 65),
	    -EINVAL);
	assert_int_equal(sdctl_chan_pass(ts[0], -1, 1, one, len, 1), -EINVAL);
	assert_int_equal(sdctl_chan_pass(ts[0], ch[0], 1, NULL, len, 1),
	    -EINVAL);
	/* Nothing was sent. */
	assert_int_equal(recv(ts[1], &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	close(ch[0]);
	close(ch[1]);
	close(ts[0]);
	close(ts[1]);
}

/* A well-formed header for one PDU of @len bytes. */
static void
make_hdr(uint8_t *h, uint32_t len)
{
	memset(h, 0, HDR_SIZE);
	frame_put_le32(h, MAGIC);
	frame_put_le16(h + 4, 1);
	frame_put_le16(h + 6, 1);
	frame_put_le64(h + 8, 77);
	frame_put_le32(h + 16, len);
	frame_put_le32(h + 24, len);
}

/* Send @h with @nfd descriptors, then @body_len bytes of PDU. */
static void
send_raw(int sock, const uint8_t *h, size_t hlen, const int *fds, int nfd,
    size_t body_len)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	uint8_t body[64];
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *cm;

	iov.iov_base = (void *)h;
	iov.iov_len = hlen;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfd > 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfd);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfd);
	}
	assert_int_equal(sendmsg(sock, &msg, 0), (ssize_t)hlen);
	if (body_len > 0) {
		memset(body, 0x33, sizeof(body));
		assert_true(body_len <= sizeof(body));
		assert_int_equal(send(sock, body, body_len, 0),
		    (ssize_t)body_len);
	}
}

static void
test_extra_fds_closed(void **state)
{
	struct sdctl_passed p;
	uint8_t h[HDR_SIZE];
	int ts[2], ch[2], fds[3], before;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    ts), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    ch), 0);
	fds[0] = ch[0];
	fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fds[2] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	make_hdr(h, 8);
	send_raw(ts[0], h, sizeof(h), fds, 3, 8);
	close(fds[1]);
	close(fds[2]);
	before = count_fds();
	assert_int_equal(sdctl_chan_receive(ts[1], &p), 0);
	/* Only the channel stayed. */
	assert_int_equal(count_fds(), before + 1);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.lens[0], 8);
	assert_int_equal(p.pdus[0][7], 0x33);
	sdctl_passed_free(&p);
	close(p.chan_fd);
	close(ch[0]);
	close(ch[1]);
	close(ts[0]);
	close(ts[1]);
}

static void
test_malformed(void **state)
{
	enum { BAD_MAGIC, BAD_VERSION, BAD_N, LEN_ZERO, LEN_HUGE, SLOT_USED,
	    BAD_TOTAL, RESERVED, NO_FD, NOT_STREAM, SHORT_HDR, SHORT_BODY,
	    N_CASES };
	struct sdctl_passed p, untouched;
	uint8_t h[HDR_SIZE];
	int ts[2], ch[2], fds[1], dg[2], before, i, rc, want;

	memset(&untouched, 0x5a, sizeof(untouched));
	for (i = 0; i < N_CASES; i++) {
		int type = i == SHORT_HDR ? SOCK_SEQPACKET : SOCK_STREAM;
		size_t hlen = sizeof(h), body = 8;

		assert_int_equal(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0,
		    ts), 0);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM |
		    SOCK_CLOEXEC, 0, ch), 0);
		assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM |
		    SOCK_CLOEXEC, 0, dg), 0);
		make_hdr(h, 8);
		fds[0] = ch[0];
		want = -EPROTO;
		switch (i) {
		case BAD_MAGIC:
			h[0] ^= 1;
			break;
		case BAD_VERSION:
			frame_put_le16(h + 4, 2);
			break;
		case BAD_N:
			frame_put_le16(h + 6, 65);
			break;
		case LEN_ZERO:
			frame_put_le32(h + 24, 0);
			frame_put_le32(h + 16, 0);
			break;
		case LEN_HUGE:
			frame_put_le32(h + 24, 16 * 1024 * 1024 + 1);
			frame_put_le32(h + 16, 16 * 1024 * 1024 + 1);
			break;
		case SLOT_USED:
			frame_put_le32(h + 28, 8);
			frame_put_le32(h + 16, 16);
			break;
		case BAD_TOTAL:
			frame_put_le32(h + 16, 9);
			break;
		case RESERVED:
			frame_put_le32(h + 20, 1);
			break;
		case NO_FD:
			break;
		case NOT_STREAM:
			fds[0] = dg[0];
			break;
		case SHORT_HDR:
			hlen = HDR_SIZE - 1;
			body = 0;
			break;
		case SHORT_BODY:
			body = 7;
			want = -EPIPE;
			break;
		}
		send_raw(ts[0], h, hlen, fds, i == NO_FD ? 0 : 1, body);
		shutdown(ts[0], SHUT_WR);
		before = count_fds();
		p = untouched;
		rc = sdctl_chan_receive(ts[1], &p);
		if (rc != want) {
			fail_msg("case %d: got %d, want %d", i, rc, want);
		}
		assert_memory_equal(&p, &untouched, sizeof(p));
		assert_int_equal(count_fds(), before);
		close(ts[0]);
		close(ts[1]);
		close(ch[0]);
		close(ch[1]);
		close(dg[0]);
		close(dg[1]);
	}
}

static void
test_sender_closed(void **state)
{
	struct sdctl_passed p;
	int ts[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    ts), 0);
	close(ts[0]);
	assert_int_equal(sdctl_chan_receive(ts[1], &p), -EPIPE);
	close(ts[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_stream),
		cmocka_unit_test(test_pass_seqpacket),
		cmocka_unit_test(test_pass_no_pdus),
		cmocka_unit_test(test_pass_invalid),
		cmocka_unit_test(test_extra_fds_closed),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_sender_closed),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
