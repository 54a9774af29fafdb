/* SPDX-License-Identifier: ISC */
/*
 * rdma_smoke: the smallest end-to-end proof that the test bed's RDMA works.
 *
 * A server and a client connect through RDMA CM, exchange SEND messages,
 * and the client does an RDMA WRITE into, and an RDMA READ out of, a buffer
 * the server registered. Every byte is checked on both sides.
 *
 *   server: rdma_smoke -s -a ADDR [-p PORT] [-n BYTES]
 *   client: rdma_smoke -c ADDR    [-p PORT] [-n BYTES]
 *
 * Exchange (all SENDs carry a struct smoke_msg):
 *   server -> client  SMOKE_DESC   {addr, rkey, len} of its buffer
 *   client            RDMA WRITE   pattern A into buffer[0, len/2)
 *   client            RDMA READ    buffer[len/2, len), checks pattern B
 *   client -> server  SMOKE_DONE   {bytes written, bytes read}
 *   server            checks buffer[0, len/2) against pattern A
 *   server -> client  SMOKE_OK
 *
 * Both sides print one result line, "smoke: ok ..." or "smoke: FAIL ...",
 * and exit 0 only when every check passed.
 *
 * Completions are waited for on a completion channel rather than by
 * spinning: the test bed runs both ends on 2 emulated CPUs.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#define SMOKE_TIMEOUT_MS	20000
#define SMOKE_DEFAULT_PORT	"7471"
#define SMOKE_DEFAULT_LEN	(4u << 20)

enum smoke_type {
	SMOKE_DESC = 0x534d4b31,
	SMOKE_DONE,
	SMOKE_OK,
};

struct smoke_msg {
	uint32_t type;
	uint32_t rkey;
	uint64_t addr;
	uint64_t len;
	uint64_t written;
	uint64_t read;
};

/*
 * One side of the exchange. The send and receive slots are separate so a
 * posted receive is never overwritten by an outgoing message.
 */
struct smoke {
	struct rdma_event_channel *ech;
	struct rdma_cm_id *listen_id;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_comp_channel *cch;
	struct ibv_cq *cq;
	struct ibv_mr *msg_mr;
	struct ibv_mr *buf_mr;
	struct smoke_msg msgs[2];	/* [0] receive, [1] send */
	uint8_t *buf;
	size_t len;
};

static const char *progname = "rdma_smoke";

static void
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "smoke: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static uint8_t
pattern(char which, size_t i)
{
	uint32_t x = (uint32_t)i * 2654435761u + (which == 'A' ? 17 : 91);

	return (uint8_t)(x ^ (x >> 13) ^ (x >> 24));
}

static struct rdma_cm_event *
wait_cm(struct smoke *s, enum rdma_cm_event_type want)
{
	struct rdma_cm_event *ev = NULL;
	struct pollfd pfd = { .fd = s->ech->fd, .events = POLLIN };
	int rc;

	rc = poll(&pfd, 1, SMOKE_TIMEOUT_MS);
	if (rc <= 0) {
		fail("timed out waiting for %s", rdma_event_str(want));
	}
	if (rdma_get_cm_event(s->ech, &ev) != 0) {
		fail("rdma_get_cm_event: %s", strerror(errno));
	}
	if (ev->event != want) {
		fail("expected %s, got %s (status %d)", rdma_event_str(want),
		    rdma_event_str(ev->event), ev->status);
	}
	return ev;
}

static void
wait_wc(struct smoke *s, enum ibv_wc_opcode want, struct ibv_wc *out)
{
	struct ibv_cq *cq = NULL;
	void *ctx = NULL;
	struct ibv_wc wc;
	struct pollfd pfd = { .fd = s->cch->fd, .events = POLLIN };
	int n;

	for (;;) {
		n = ibv_poll_cq(s->cq, 1, &wc);
		if (n < 0) {
			fail("ibv_poll_cq failed");
		}
		if (n == 1) {
			break;
		}
		if (poll(&pfd, 1, SMOKE_TIMEOUT_MS) <= 0) {
			fail("timed out waiting for completion %d", want);
		}
		if (ibv_get_cq_event(s->cch, &cq, &ctx) != 0) {
			fail("ibv_get_cq_event: %s", strerror(errno));
		}
		ibv_ack_cq_events(cq, 1);
		if (ibv_req_notify_cq(cq, 0) != 0) {
			fail("ibv_req_notify_cq failed");
		}
	}
	if (wc.status != IBV_WC_SUCCESS) {
		fail("completion %d: %s", wc.opcode,
		    ibv_wc_status_str(wc.status));
	}
	if (wc.opcode != want) {
		fail("expected completion opcode %d, got %d", want, wc.opcode);
	}
	if (out != NULL) {
		*out = wc;
	}
}

static void
post_recv(struct smoke *s)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)&s->msgs[0],
		.length = sizeof(s->msgs[0]),
		.lkey = s->msg_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad = NULL;

	if (ibv_post_recv(s->id->qp, &wr, &bad) != 0) {
		fail("ibv_post_recv: %s", strerror(errno));
	}
}

static void
send_msg(struct smoke *s, const struct smoke_msg *m)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)&s->msgs[1],
		.length = sizeof(s->msgs[1]),
		.lkey = s->msg_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 2, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_send_wr *bad = NULL;

	s->msgs[1] = *m;
	if (ibv_post_send(s->id->qp, &wr, &bad) != 0) {
		fail("ibv_post_send(SEND): %s", strerror(errno));
	}
	wait_wc(s, IBV_WC_SEND, NULL);
}

static void
recv_msg(struct smoke *s, uint32_t type, struct smoke_msg *out)
{
	struct ibv_wc wc;

	wait_wc(s, IBV_WC_RECV, &wc);
	if (wc.byte_len != sizeof(*out)) {
		fail("received %u bytes, expected %zu", wc.byte_len,
		    sizeof(*out));
	}
	*out = s->msgs[0];
	if (out->type != type) {
		fail("received message type %#x, expected %#x", out->type,
		    type);
	}
}

static void
rdma_op(struct smoke *s, enum ibv_wr_opcode op, size_t off, size_t len,
    uint64_t raddr, uint32_t rkey)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(s->buf + off),
		.length = (uint32_t)len,
		.lkey = s->buf_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 3, .sg_list = &sge, .num_sge = 1,
		.opcode = op, .send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_send_wr *bad = NULL;

	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	if (ibv_post_send(s->id->qp, &wr, &bad) != 0) {
		fail("ibv_post_send(%s): %s",
		    op == IBV_WR_RDMA_WRITE ? "RDMA WRITE" : "RDMA READ",
		    strerror(errno));
	}
	wait_wc(s, op == IBV_WR_RDMA_WRITE ? IBV_WC_RDMA_WRITE :
	    IBV_WC_RDMA_READ, NULL);
}

/* Creates PD, CQ, QP and MRs on s->id, which RDMA CM has bound to a device. */
static void
setup_qp(struct smoke *s, int remote_access)
{
	struct ibv_qp_init_attr qpa;
	int access = IBV_ACCESS_LOCAL_WRITE;

	s->pd = ibv_alloc_pd(s->id->verbs);
	s->cch = ibv_create_comp_channel(s->id->verbs);
	if (s->pd == NULL || s->cch == NULL) {
		fail("ibv_alloc_pd/ibv_create_comp_channel: %s",
		    strerror(errno));
	}
	s->cq = ibv_create_cq(s->id->verbs, 16, NULL, s->cch, 0);
	if (s->cq == NULL || ibv_req_notify_cq(s->cq, 0) != 0) {
		fail("ibv_create_cq: %s", strerror(errno));
	}
	memset(&qpa, 0, sizeof(qpa));
	qpa.send_cq = s->cq;
	qpa.recv_cq = s->cq;
	qpa.qp_type = IBV_QPT_RC;
	qpa.cap.max_send_wr = 4;
	qpa.cap.max_recv_wr = 4;
	qpa.cap.max_send_sge = 1;
	qpa.cap.max_recv_sge = 1;
	if (rdma_create_qp(s->id, s->pd, &qpa) != 0) {
		fail("rdma_create_qp: %s", strerror(errno));
	}
	s->msg_mr = ibv_reg_mr(s->pd, s->msgs, sizeof(s->msgs),
	    IBV_ACCESS_LOCAL_WRITE);
	if (remote_access) {
		access |= IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE;
	}
	s->buf_mr = ibv_reg_mr(s->pd, s->buf, s->len, access);
	if (s->msg_mr == NULL || s->buf_mr == NULL) {
		fail("ibv_reg_mr: %s", strerror(errno));
	}
	post_recv(s);
}

static const char *
transport_name(struct ibv_context *ctx)
{
	switch (ctx->device->transport_type) {
	case IBV_TRANSPORT_IWARP:
		return "iwarp";
	case IBV_TRANSPORT_IB:
		return "ib/roce";
	default:
		return "unknown";
	}
}

static struct rdma_addrinfo *
resolve(const char *addr, const char *port, int passive)
{
	struct rdma_addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_port_space = RDMA_PS_TCP;
	if (passive) {
		hints.ai_flags = RAI_PASSIVE;
	}
	if (rdma_getaddrinfo(addr, port, &hints, &res) != 0) {
		fail("rdma_getaddrinfo(%s:%s): %s", addr, port,
		    strerror(errno));
	}
	return res;
}

static void
run_server(struct smoke *s, const char *addr, const char *port)
{
	struct rdma_addrinfo *ai = resolve(addr, port, 1);
	struct rdma_conn_param cp;
	struct rdma_cm_event *ev;
	struct smoke_msg m;
	size_t half = s->len / 2, i;

	if (rdma_create_id(s->ech, &s->listen_id, NULL, RDMA_PS_TCP) != 0 ||
	    rdma_bind_addr(s->listen_id, ai->ai_src_addr) != 0 ||
	    rdma_listen(s->listen_id, 1) != 0) {
		fail("listen on %s:%s: %s", addr, port, strerror(errno));
	}
	rdma_freeaddrinfo(ai);
	printf("smoke: server listening on %s:%s\n", addr, port);
	fflush(stdout);

	ev = wait_cm(s, RDMA_CM_EVENT_CONNECT_REQUEST);
	s->id = ev->id;
	rdma_ack_cm_event(ev);

	for (i = 0; i < half; i++) {
		s->buf[half + i] = pattern('B', i);
	}
	setup_qp(s, 1);
	memset(&cp, 0, sizeof(cp));
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	if (rdma_accept(s->id, &cp) != 0) {
		fail("rdma_accept: %s", strerror(errno));
	}
	rdma_ack_cm_event(wait_cm(s, RDMA_CM_EVENT_ESTABLISHED));

	memset(&m, 0, sizeof(m));
	m.type = SMOKE_DESC;
	m.addr = (uintptr_t)s->buf;
	m.rkey = s->buf_mr->rkey;
	m.len = s->len;
	send_msg(s, &m);

	recv_msg(s, SMOKE_DONE, &m);
	if (m.written != half || m.read != half) {
		fail("client reports %" PRIu64 " written, %" PRIu64
		    " read, expected %zu each", m.written, m.read, half);
	}
	for (i = 0; i < half; i++) {
		if (s->buf[i] != pattern('A', i)) {
			fail("server byte %zu is %#x, expected %#x", i,
			    s->buf[i], pattern('A', i));
		}
	}
	memset(&m, 0, sizeof(m));
	m.type = SMOKE_OK;
	send_msg(s, &m);
	rdma_ack_cm_event(wait_cm(s, RDMA_CM_EVENT_DISCONNECTED));
	printf("smoke: ok server device=%s transport=%s rdma_written=%zu "
	    "verified=%zu\n", ibv_get_device_name(s->id->verbs->device),
	    transport_name(s->id->verbs), half, half);
}

static void
run_client(struct smoke *s, const char *addr, const char *port)
{
	struct rdma_addrinfo *ai = resolve(addr, port, 0);
	struct rdma_conn_param cp;
	struct smoke_msg desc, m;
	size_t half = s->len / 2, i;

	if (rdma_create_id(s->ech, &s->id, NULL, RDMA_PS_TCP) != 0) {
		fail("rdma_create_id: %s", strerror(errno));
	}
	if (rdma_resolve_addr(s->id, NULL, ai->ai_dst_addr, 5000) != 0) {
		fail("rdma_resolve_addr: %s", strerror(errno));
	}
	rdma_freeaddrinfo(ai);
	rdma_ack_cm_event(wait_cm(s, RDMA_CM_EVENT_ADDR_RESOLVED));
	if (rdma_resolve_route(s->id, 5000) != 0) {
		fail("rdma_resolve_route: %s", strerror(errno));
	}
	rdma_ack_cm_event(wait_cm(s, RDMA_CM_EVENT_ROUTE_RESOLVED));

	for (i = 0; i < half; i++) {
		s->buf[i] = pattern('A', i);
	}
	setup_qp(s, 0);
	memset(&cp, 0, sizeof(cp));
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	cp.retry_count = 7;
	if (rdma_connect(s->id, &cp) != 0) {
		fail("rdma_connect: %s", strerror(errno));
	}
	rdma_ack_cm_event(wait_cm(s, RDMA_CM_EVENT_ESTABLISHED));

	recv_msg(s, SMOKE_DESC, &desc);
	post_recv(s);
	if (desc.len != s->len) {
		fail("server buffer is %" PRIu64 " bytes, expected %zu",
		    desc.len, s->len);
	}
	rdma_op(s, IBV_WR_RDMA_WRITE, 0, half, desc.addr, desc.rkey);
	memset(s->buf + half, 0, half);
	rdma_op(s, IBV_WR_RDMA_READ, half, half, desc.addr + half, desc.rkey);
	for (i = 0; i < half; i++) {
		if (s->buf[half + i] != pattern('B', i)) {
			fail("client read byte %zu is %#x, expected %#x", i,
			    s->buf[half + i], pattern('B', i));
		}
	}
	memset(&m, 0, sizeof(m));
	m.type = SMOKE_DONE;
	m.written = half;
	m.read = half;
	send_msg(s, &m);
	recv_msg(s, SMOKE_OK, &m);
	printf("smoke: ok client device=%s transport=%s sends=4 "
	    "rdma_write_bytes=%zu rdma_read_bytes=%zu verified=%zu\n",
	    ibv_get_device_name(s->id->verbs->device),
	    transport_name(s->id->verbs), half, half, half);
	rdma_disconnect(s->id);
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s -s -a ADDR [-p PORT] [-n BYTES]\n"
	    "       %s -c ADDR [-p PORT] [-n BYTES]\n", progname, progname);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct smoke s;
	const char *addr = NULL, *port = SMOKE_DEFAULT_PORT;
	int server = 0, ch;
	char *end = NULL;
	unsigned long long n;

	memset(&s, 0, sizeof(s));
	s.len = SMOKE_DEFAULT_LEN;
	while ((ch = getopt(argc, argv, "sa:c:p:n:")) != -1) {
		switch (ch) {
		case 's':
			server = 1;
			break;
		case 'a':
		case 'c':
			addr = optarg;
			break;
		case 'p':
			port = optarg;
			break;
		case 'n':
			errno = 0;
			n = strtoull(optarg, &end, 0);
			if (errno != 0 || *end != '\0' || n < 2 ||
			    n > (1ull << 30) || n % 2 != 0) {
				fprintf(stderr, "%s: -n: want an even byte "
				    "count from 2 to 1 GiB, got '%s'\n",
				    progname, optarg);
				exit(2);
			}
			s.len = (size_t)n;
			break;
		default:
			usage();
		}
	}
	if (addr == NULL || optind != argc) {
		usage();
	}
	s.buf = calloc(1, s.len);
	s.ech = rdma_create_event_channel();
	if (s.buf == NULL || s.ech == NULL) {
		fail("setup: %s", strerror(errno));
	}
	if (server) {
		run_server(&s, addr, port);
	} else {
		run_client(&s, addr, port);
	}
	fflush(stdout);

	rdma_destroy_qp(s.id);
	ibv_dereg_mr(s.buf_mr);
	ibv_dereg_mr(s.msg_mr);
	ibv_destroy_cq(s.cq);
	ibv_destroy_comp_channel(s.cch);
	ibv_dealloc_pd(s.pd);
	rdma_destroy_id(s.id);
	if (s.listen_id != NULL) {
		rdma_destroy_id(s.listen_id);
	}
	rdma_destroy_event_channel(s.ech);
	free(s.buf);
	return 0;
}
