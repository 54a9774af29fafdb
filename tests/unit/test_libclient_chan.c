/* SPDX-License-Identifier: ISC */
/*
 * libclient's data channel: frames over a socketpair(AF_UNIX, SOCK_STREAM),
 * one end played by the test as the daemon. What the library writes is
 * read back raw and decoded with the frame codec; what it reads is built
 * raw here.
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "frame.h"
#include "libclient/smbdirect-ctl.h"

struct pair {
	int	owner;		/* the library's end */
	int	daemon;		/* the test's end */
};

static int
setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sv[2];

	if (p == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv) != 0) {
		free(p);
		return -1;
	}
	p->owner = sv[0];
	p->daemon = sv[1];
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct pair *p = *state;

	if (p->owner >= 0) {
		close(p->owner);
	}
	if (p->daemon >= 0) {
		close(p->daemon);
	}
	free(p);
	return 0;
}

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
	return n - 1;	/* the DIR's own fd */
}

/* Send a frame from the "daemon", optionally with @fd attached. */
static void
send_frame(int sock, uint8_t type, const void *body, uint32_t len, int fd)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	uint8_t hdr[FRAME_HDR_SIZE];
	struct iovec iov[2];
	struct msghdr msg;
	struct cmsghdr *cm;

	frame_hdr_encode(hdr, type, len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = len > 0 ? 2 : 1;
	if (fd >= 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &msg, 0), (ssize_t)(4 + len));
}

/* Read exactly @len bytes the library wrote, and check nothing follows. */
static void
read_all(int sock, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(sock, buf + got, len - got, 0);
		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_int_equal(recv(sock, buf, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

static void
test_pdu_round_trip(void **state)
{
	struct pair *p = *state;
	static const uint8_t pdu[] = { 0xfe, 'S', 'M', 'B', 1, 2, 3 };
	struct sdctl_frame f;
	uint8_t raw[4 + sizeof(pdu)];

	/* On the wire: a zero type byte, a 24-bit big-endian length. */
	assert_int_equal(sdctl_chan_write_pdu(p->owner, pdu, sizeof(pdu)), 0);
	read_all(p->daemon, raw, sizeof(raw));
	assert_int_equal(raw[0], 0);
	assert_int_equal(raw[1], 0);
	assert_int_equal(raw[2], 0);
	assert_int_equal(raw[3], sizeof(pdu));
	assert_memory_equal(raw + 4, pdu, sizeof(pdu));

	/* And the library reads what it writes. */
	assert_int_equal(sdctl_chan_write_pdu(p->daemon, pdu, sizeof(pdu)), 0);
	assert_int_equal(sdctl_chan_read(p->owner, 1 << 20, &f), 0);
	assert_int_equal(f.kind, SDCTL_FRAME_PDU);
	assert_int_equal(f.pdu_len, sizeof(pdu));
	assert_memory_equal(f.pdu, pdu, sizeof(pdu));
	assert_int_equal(f.area_fd, -1);
	free(f.pdu);

	assert_int_equal(sdctl_chan_write_pdu(p->owner, pdu, 0), -EINVAL);
	assert_int_equal(sdctl_chan_write_pdu(p->owner, NULL, 5), -EINVAL);
	assert_int_equal(sdctl_chan_write_pdu(p->owner, pdu, 0x1000000),
	    -EINVAL);
}

/* A PDU much larger than the socket buffer, written by another process. */
static void
test_large_pdu(void **state)
{
	struct pair *p = *state;
	const size_t len = 0xffffff;	/* the largest a frame can carry */
	struct sdctl_frame f;
	uint8_t *pdu = malloc(len);
	size_t i;
	pid_t pid;
	int st;

	assert_non_null(pdu);
	for (i = 0; i < len; i++) {
		pdu[i] = (uint8_t)(i * 7 + (i >> 16));
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(sdctl_chan_write_pdu(p->daemon, pdu, len) == 0 ? 0 : 1);
	}
	assert_int_equal(sdctl_chan_read(p->owner, len, &f), 0);
	assert_int_equal(f.kind, SDCTL_FRAME_PDU);
	assert_int_equal(f.pdu_len, len);
	assert_memory_equal(f.pdu, pdu, len);
	free(f.pdu);
	free(pdu);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_area_frame(void **state)
{
	struct pair *p = *state;
	uint8_t body[FRAME_AREA_SIZE];
	struct sdctl_frame f;
	char check[6] = "";
	void *map = NULL, *untouched = (void *)0x1;
	int memfd, before;

	memfd = memfd_create("test-area", MFD_CLOEXEC);
	assert_true(memfd >= 0);
	assert_int_equal(ftruncate(memfd, 8192), 0);
	frame_area_encode(77, 8192, body);
	send_frame(p->daemon, FRAME_AREA, body, sizeof(body), memfd);
	before = count_fds();

	assert_int_equal(sdctl_chan_read(p->owner, 4096, &f), 0);
	assert_int_equal(f.kind, SDCTL_FRAME_AREA);
	assert_true(f.area_size == 8192);
	assert_true(f.area_fd >= 0 && f.area_fd != memfd);
	assert_int_equal(count_fds(), before + 1);
	assert_true(fcntl(f.area_fd, F_GETFD) & FD_CLOEXEC);

	/* It maps, and it is the same memory. */
	assert_int_equal(sdctl_area_map(f.area_fd, 8192, &map), 0);
	memcpy((char *)map + 4096, "hello", 6);
	assert_int_equal(pread(memfd, check, 6, 4096), 6);
	assert_string_equal(check, "hello");
	assert_int_equal(munmap(map, 8192), 0);

	/* The size must be the memfd's. */
	map = untouched;
	assert_int_equal(sdctl_area_map(f.area_fd, 4096, &map), -EINVAL);
	assert_int_equal(sdctl_area_map(f.area_fd, 0, &map), -EINVAL);
	assert_ptr_equal(map, untouched);
	assert_int_equal(sdctl_area_map(-1, 8192, &map), -EBADF);
	close(f.area_fd);
	close(memfd);
}

static void
test_area_frame_without_fd(void **state)
{
	struct pair *p = *state;
	uint8_t body[FRAME_AREA_SIZE];
	struct sdctl_frame f;

	frame_area_encode(77, 8192, body);
	send_frame(p->daemon, FRAME_AREA, body, sizeof(body), -1);
	assert_int_equal(sdctl_chan_read(p->owner, 4096, &f), -EPROTO);
}

static void
test_op_frames(void **state)
{
	struct pair *p = *state;
	struct frame_completion c = { 0x1122334455667788ull, -EIO, 4096 };
	uint8_t body[FRAME_ERROR_FIXED + FRAME_ERROR_MSG_MAX];
	struct sdctl_frame f;
	char longmsg[300];
	size_t n;

	n = frame_completion_encode(&c, body);
	send_frame(p->daemon, FRAME_COMPLETION, body, (uint32_t)n, -1);
	assert_int_equal(sdctl_chan_read(p->owner, 4096, &f), 0);
	assert_int_equal(f.kind, SDCTL_FRAME_COMPLETION);
	assert_true(f.req_id == 0x1122334455667788ull);
	assert_int_equal(f.status, -EIO);
	assert_int_equal(f.bytes, 4096);
	assert_int_equal(f.area_fd, -1);
	assert_null(f.pdu);

	frame_put_le32(body, 2500);
	send_frame(p->daemon, FRAME_DRAIN, body, FRAME_DRAIN_SIZE, -1);
	assert_int_equal(sdctl_chan_read(p->owner, 4096, &f), 0);
	assert_int_equal(f.kind, SDCTL_FRAME_DRAIN);
	assert_int_equal(f.grace_ms, 2500);

	n = frame_error_encode(-EINVAL, FRAME_RDMA_READ,
	    "descriptor 3 is outside the area", body, sizeof(body));
	send_frame(p->daemon, FRAME_ERROR, body, (uint32_t)n, -1);
	assert_int_equal(sdctl_chan_read(p->owner, 4096, &f), 0);
	assert_int_equal(f.kind, SDCTL_FRAME_ERROR);
	assert_int_equal(f.status, -EINVAL);
	assert_int_equal(f.refused_type, FRAME_RDMA_READ);
	assert_string_equal(f.message, "descriptor 3 is outside the area");

	/* The longest message fits, NUL-terminated. */
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	n = frame_error_encode(-EPERM, FRAME_CLAIM, longmsg, body,
	    sizeof(body));
	send_frame(p->daemon, FRAME_ERROR, body, (uint32_t)n, -1);
	assert_int_equal(sdctl_chan_read(p->owner, 4096, &f), 0);
	assert_int_equal(strlen(f.message), FRAME_ERROR_MSG_MAX);
}

/* A descriptor riding on anything but an AREA frame is closed. */
static void
test_stray_fd_closed(void **state)
{
	struct pair *p = *state;
	struct frame_completion c = { 1, 0, 0 };
	uint8_t body[FRAME_COMPLETION_SIZE];
	struct sdctl_frame f;
	int fd, before;

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	frame_completion_encode(&c, body);
	send_frame(p->daemon, FRAME_COMPLETION, body, sizeof(body), fd);
	close(fd);
	before = count_fds();
	assert_int_equal(sdctl_chan_read(p->owner, 4096, &f), 0);
	assert_int_equal(f.kind, SDCTL_FRAME_COMPLETION);
	assert_int_equal(count_fds(), before);

	/* Also when the frame is refused. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	send_frame(p->daemon, 0x99, body, sizeof(body), fd);
	close(fd);
	assert_int_equal(sdctl_chan_read(p->owner, 4096, &f), -EPROTO);
	assert_int_equal(count_fds(), before);
}

static void
test_unknown_and_malformed(void **state)
{
	static const uint8_t types[] = {
		0x01, 0x7f, FRAME_RDMA_READ, FRAME_CLAIM, 0xc5, 0xff,
	};
	uint8_t body[64] = { 0 };
	struct sdctl_frame f;
	size_t i;

	for (i = 0; i < sizeof(types); i++) {
		struct pair *p = NULL;

		assert_int_equal(setup((void **)&p), 0);
		send_frame(p->daemon, types[i], body, 16, -1);
		assert_int_equal(sdctl_chan_read(p->owner, 4096, &f), -EPROTO);
		teardown((void **)&p);
	}
	for (i = 0; i < 4; i++) {
		static const struct {
			uint8_t		type;
			uint32_t	len;
		} bad[] = {
			{ FRAME_COMPLETION, 15 }, { FRAME_DRAIN, 8 },
			{ FRAME_AREA, 24 }, { FRAME_ERROR, 4 },
		};
		struct pair *p = NULL;

		assert_int_equal(setup((void **)&p), 0);
		send_frame(p->daemon, bad[i].type, body, bad[i].len, -1);
		assert_int_equal(sdctl_chan_read(p->owner, 4096, &f), -EPROTO);
		teardown((void **)&p);
	}
}

static void
test_sizes(void **state)
{
	struct pair *p = *state;
	uint8_t body[101] = { 0 };
	struct sdctl_frame f;

	send_frame(p->daemon, FRAME_PDU, body, 101, -1);
	assert_int_equal(sdctl_chan_read(p->owner, 100, &f), -EMSGSIZE);
	teardown(state);

	setup(state);
	p = *state;
	send_frame(p->daemon, FRAME_PDU, body, 0, -1);
	assert_int_equal(sdctl_chan_read(p->owner, 100, &f), -EPROTO);
}

static void
test_eof(void **state)
{
	struct pair *p = *state;
	uint8_t hdr[FRAME_HDR_SIZE + 3];
	struct sdctl_frame f;

	/* Nothing at all. */
	shutdown(p->daemon, SHUT_WR);
	assert_int_equal(sdctl_chan_read(p->owner, 100, &f), -EPIPE);
	teardown(state);

	/* Half a header. */
	setup(state);
	p = *state;
	frame_hdr_encode(hdr, FRAME_PDU, 10);
	assert_int_equal(send(p->daemon, hdr, 2, 0), 2);
	shutdown(p->daemon, SHUT_WR);
	assert_int_equal(sdctl_chan_read(p->owner, 100, &f), -EPIPE);
	teardown(state);

	/* A header and part of the body. */
	setup(state);
	p = *state;
	memset(hdr + FRAME_HDR_SIZE, 0xab, 3);
	assert_int_equal(send(p->daemon, hdr, sizeof(hdr), 0),
	    (ssize_t)sizeof(hdr));
	shutdown(p->daemon, SHUT_WR);
	assert_int_equal(sdctl_chan_read(p->owner, 100, &f), -EPIPE);
}

static void
test_nonblocking(void **state)
{
	struct pair *p = *state;
	static const uint8_t pdu[] = { 9, 8, 7 };
	struct sdctl_frame f;

	assert_int_equal(fcntl(p->owner, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(sdctl_chan_read(p->owner, 100, &f), -EAGAIN);
	assert_int_equal(sdctl_chan_write_pdu(p->daemon, pdu, sizeof(pdu)), 0);
	assert_int_equal(sdctl_chan_read(p->owner, 100, &f), 0);
	assert_int_equal(f.pdu_len, 3);
	free(f.pdu);
	assert_int_equal(sdctl_chan_read(p->owner, 100, &f), -EAGAIN);
}

static const struct sdctl_desc descs[3] = {
	{ 0x7f0000001000ull, 0xaa01, 4096 },
	{ 0x7f0000200000ull, 0xaa02, 8192 },
	{ 0x7f0000400000ull, 0xaa03, 512 },
};

static void
test_rdma_write_then_pdu_bytes(void **state)
{
	struct pair *p = *state;
	static const uint8_t pdu[] = { 0xfe, 'S', 'M', 'B', 0x42 };
	uint8_t raw[4 + FRAME_RDMA_FIXED + 3 * 16 + 4 + sizeof(pdu)];
	struct frame_rdma r;
	uint8_t type;
	uint32_t len;
	size_t off;

	assert_int_equal(sdctl_chan_rdma_write(p->owner, 99, 65536, descs, 3,
	    pdu, sizeof(pdu), 0xaa02), 0);
	read_all(p->daemon, raw, sizeof(raw));

	frame_hdr_decode(raw, &type, &len);
	assert_int_equal(type, FRAME_RDMA_WRITE);
	assert_int_equal(len, FRAME_RDMA_FIXED + 3 * 16);
	assert_int_equal(frame_rdma_decode(raw + 4, len, &r), 0);
	assert_true(r.req_id == 99);
	assert_true(r.area_off == 65536);
	assert_int_equal(r.flags, FRAME_WRITE_THEN_PDU);
	assert_int_equal(r.invalidate, 0xaa02);
	assert_int_equal(r.n_desc, 3);
	assert_true(r.desc[1].offset == descs[1].offset);
	assert_int_equal(r.desc[1].token, descs[1].token);
	assert_int_equal(r.desc[2].length, descs[2].length);

	/* The PDU frame follows at once. */
	off = 4 + len;
	frame_hdr_decode(raw + off, &type, &len);
	assert_int_equal(type, FRAME_PDU);
	assert_int_equal(len, sizeof(pdu));
	assert_memory_equal(raw + off + 4, pdu, sizeof(pdu));
}

static void
test_rdma_write_alone_and_read(void **state)
{
	struct pair *p = *state;
	uint8_t raw[4 + FRAME_RDMA_FIXED + 16];
	struct frame_rdma r;
	uint8_t type;
	uint32_t len;

	assert_int_equal(sdctl_chan_rdma_write(p->owner, 5, 0, descs, 1, NULL,
	    0, 0), 0);
	read_all(p->daemon, raw, sizeof(raw));
	frame_hdr_decode(raw, &type, &len);
	assert_int_equal(type, FRAME_RDMA_WRITE);
	assert_int_equal(frame_rdma_decode(raw + 4, len, &r), 0);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.invalidate, 0);

	assert_int_equal(sdctl_chan_rdma_read(p->owner, 6, 4096, descs, 1), 0);
	read_all(p->daemon, raw, sizeof(raw));
	frame_hdr_decode(raw, &type, &len);
	assert_int_equal(type, FRAME_RDMA_READ);
	assert_int_equal(frame_rdma_decode(raw + 4, len, &r), 0);
	assert_true(r.req_id == 6 && r.area_off == 4096);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.n_desc, 1);

	/* Bad counts and combinations never reach the socket. */
	assert_int_equal(sdctl_chan_rdma_read(p->owner, 1, 0, descs, 0),
	    -EINVAL);
	assert_int_equal(sdctl_chan_rdma_read(p->owner, 1, 0, descs,
	    SDCTL_MAX_DESC + 1), -EINVAL);
	assert_int_equal(sdctl_chan_rdma_read(p->owner, 1, 0, NULL, 1),
	    -EINVAL);
	assert_int_equal(sdctl_chan_rdma_write(p->owner, 1, 0, descs, 1, NULL,
	    0, 7), -EINVAL);
	assert_int_equal(sdctl_chan_rdma_write(p->owner, 1, 0, descs, 1, raw,
	    0, 0), -EINVAL);
	assert_int_equal(recv(p->daemon, raw, 1, MSG_DONTWAIT), -1);
}

static void
test_pdu_invalidate_and_area_request(void **state)
{
	struct pair *p = *state;
	static const uint8_t pdu[] = { 1, 2, 3, 4, 5, 6 };
	uint8_t raw[8 + 4 + sizeof(pdu)];
	uint8_t type;
	uint32_t len;

	assert_int_equal(sdctl_chan_write_pdu_invalidate(p->owner, pdu,
	    sizeof(pdu), 0xdeadbeef), 0);
	read_all(p->daemon, raw, sizeof(raw));
	frame_hdr_decode(raw, &type, &len);
	assert_int_equal(type, FRAME_SEND_INVALIDATE);
	assert_int_equal(len, FRAME_SEND_INVALIDATE_SIZE);
	assert_int_equal(frame_get_le32(raw + 4), 0xdeadbeef);
	frame_hdr_decode(raw + 8, &type, &len);
	assert_int_equal(type, FRAME_PDU);
	assert_int_equal(len, sizeof(pdu));
	assert_memory_equal(raw + 12, pdu, sizeof(pdu));

	assert_int_equal(sdctl_chan_write_pdu_invalidate(p->owner, pdu,
	    sizeof(pdu), 0), -EINVAL);
	assert_int_equal(sdctl_chan_write_pdu_invalidate(p->owner, pdu, 0, 1),
	    -EINVAL);

	assert_int_equal(sdctl_chan_request_area(p->owner), 0);
	read_all(p->daemon, raw, 4);
	frame_hdr_decode(raw, &type, &len);
	assert_int_equal(type, FRAME_AREA_REQUEST);
	assert_int_equal(len, 0);
}

static void
test_write_to_closed_peer(void **state)
{
	struct pair *p = *state;
	static const uint8_t pdu[] = { 1 };

	close(p->daemon);
	p->daemon = -1;
	/* -EPIPE, and no SIGPIPE kills the test. */
	assert_int_equal(sdctl_chan_write_pdu(p->owner, pdu, 1), -EPIPE);
}

static void
test_chan_connect(void **state)
{
	char dir[] = "/tmp/test-libclient-XXXXXX", path[200], longp[200];
	struct sockaddr_un sun;
	int lfd, fd = -1, afd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/1-abc.sock", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 1), 0);

	assert_int_equal(sdctl_chan_connect(path, &fd), 0);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	close(afd);
	close(fd);
	close(lfd);
	unlink(path);

	fd = -7;
	assert_int_equal(sdctl_chan_connect(path, &fd), -ENOENT);
	assert_int_equal(fd, -7);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(sdctl_chan_connect(longp, &fd), -ENAMETOOLONG);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pdu_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_large_pdu, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_area_frame, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_area_frame_without_fd,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_op_frames, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stray_fd_closed, setup,
		    teardown),
		cmocka_unit_test(test_unknown_and_malformed),
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonblocking, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rdma_write_then_pdu_bytes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rdma_write_alone_and_read,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pdu_invalidate_and_area_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_to_closed_peer,
		    setup, teardown),
		cmocka_unit_test(test_chan_connect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
