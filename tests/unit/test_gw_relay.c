/* SPDX-License-Identifier: ISC */
/*
 * gateway/relay.c's relay_run(), driven whole in one process: relay_run()
 * runs in a thread; the test plays the daemon on the data channel (a UNIX
 * listener relay_run() connects to) and the SMB server on a TCP listener.
 * It covers what the Linux cifs client never sends, so the test bed cannot
 * reach it: compound requests with RDMA channels, signed requests that ask
 * for one, signed and encrypted messages that must pass untouched; plain
 * RDMA READ and WRITE are the baseline.
 *
 * The fake client's registered memory is one array, cmem: a Buffer
 * Descriptor V1 offset is CMEM_BASE plus an index into it. The daemon's
 * RDMA is a copy between cmem and the area, a memfd both sides map.
 *
 * Every expected PDU is built here from [MS-SMB2] 2.2, never with
 * gateway/gwsmb2.c. Every read from a socket is bounded by poll() and
 * every write by SO_SNDTIMEO, so a relay that stalls fails the test
 * instead of hanging it. Buffers live in struct bed, so a failed
 * assertion leaks nothing.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "frame.h"
#include "gateway/relay.h"

#define CONN_ID		7
#define MAX_RW		65536u		/* relay_run()'s max_rw: a slot */
#define AREA_SIZE	(2 * MAX_RW)	/* two slots, the least it takes */
#define MAX_FRAG	(1u << 20)
#define PDU_MAX		(3 * MAX_RW)	/* largest PDU either side sees */
#define CMEM_BASE	0x7f3a00000000ull
#define CMEM_SIZE	(1u << 20)
#define SENTINEL	0xa7		/* client READ buffers, before */
#define WAIT_MS		5000		/* for what must come */
#define QUIET_MS	200		/* for what must not */
#define MAX_CMDS	8

/* [MS-SMB2] 2.2.1.2, 2.2.19-2.2.22, 2.2.2, 2.2.28 */
#define SMB2_HDR		64
#define SMB2_READ		0x0008
#define SMB2_WRITE		0x0009
#define SMB2_ECHO		0x000d
#define SMB2_FLAG_RESPONSE	0x00000001u
#define SMB2_FLAG_RELATED	0x00000004u
#define SMB2_FLAG_SIGNED	0x00000008u
#define STATUS_NOT_SUPPORTED	0xc00000bbu
#define CH_NONE			0
#define CH_RDMA			1	/* SMB2_CHANNEL_RDMA_V1 */
#define CH_RDMA_INV		2	/* SMB2_CHANNEL_RDMA_V1_INVALIDATE */
#define RW_FIXED		48	/* READ/WRITE request fixed body */
#define TREE_ID			0x00000011u
#define SESSION_ID		0x0000a1b2c3d4e5f6ull

/*
 * One relay under test and both its peers. Sockets are -1 when closed;
 * running says relay_run()'s thread has not been joined (and then the bed
 * must outlive it: the thread uses cf and st).
 */
struct bed {
	char			 dir[64];
	char			 path[96];	/* the data channel */
	char			 port[8];
	int			 lsn;		/* data channel listener */
	int			 tcp_lsn;	/* the backend's listener */
	int			 chan;		/* the daemon's end */
	int			 be;		/* the backend's end */
	int			 memfd;
	uint8_t			*area;		/* MAP_SHARED, AREA_SIZE */
	uint8_t			*cmem;		/* the client's memory */
	uint8_t			*rx_chan;	/* the last PDU for the client */
	size_t			 rx_chan_len;
	uint8_t			*rx_be;		/* the last PDU the backend got */
	uint8_t			*piece;		/* scratch: one command */
	uint8_t			*data;		/* scratch: payload */
	uint8_t			*ch[4];		/* scratch: chains */
	struct relay_conf	 cf;
	struct gw_stats		 st;		/* relay_run() updates it */
	pthread_t		 thr;
	bool			 running;
	int			 relay_rc;
};

/* An SMB2 sync header's variable fields. */
struct hdr {
	uint16_t	command;
	uint16_t	charge;
	uint16_t	credits;	/* CreditRequest or CreditResponse */
	uint32_t	status;
	uint32_t	flags;
	uint64_t	msg_id;
};

/* A READ or WRITE of a scenario; a WRITE's data is its descriptors'. */
struct cmd {
	uint16_t		command;
	uint32_t		channel;
	uint64_t		msg_id;
	bool			related;
	unsigned		n_desc;
	struct frame_desc	desc[4];
	uint32_t		got;	/* READ: bytes the server returns */
};

/* A compound being built: where each command is, and its own length. */
struct chain {
	uint8_t		*buf;
	size_t		 len;
	unsigned	 n;
	size_t		 off[MAX_CMDS];
	size_t		 plen[MAX_CMDS];
};

/* What the daemon side read from the data channel. */
struct ev {
	uint8_t			type;	/* FRAME_PDU, _RDMA_READ, _RDMA_WRITE */
	struct frame_rdma	op;
	bool			has_pdu; /* in b->rx_chan */
	uint32_t		inval;	/* the PDU's invalidate token */
};

/* ------------------------------------------------------------------ */
/* Sockets                                                            */
/* ------------------------------------------------------------------ */

static bool
readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

static void
recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		assert_true(readable(fd, WAIT_MS));
		n = recv(fd, p, len, 0);
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void
send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static int
accept_within(int lsn)
{
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };
	int fd;

	assert_true(readable(lsn, WAIT_MS));
	fd = accept4(lsn, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)), 0);
	return fd;
}

/* ------------------------------------------------------------------ */
/* SMB2                                                               */
/* ------------------------------------------------------------------ */

static void
put_hdr(uint8_t *p, const struct hdr *h)
{
	memset(p, 0, SMB2_HDR);
	p[0] = 0xfe;
	p[1] = 'S';
	p[2] = 'M';
	p[3] = 'B';
	frame_put_le16(p + 4, SMB2_HDR);
	frame_put_le16(p + 6, h->charge);
	frame_put_le32(p + 8, h->status);
	frame_put_le16(p + 12, h->command);
	frame_put_le16(p + 14, h->credits);
	frame_put_le32(p + 16, h->flags);
	frame_put_le64(p + 24, h->msg_id);
	frame_put_le32(p + 36, TREE_ID);
	frame_put_le64(p + 40, SESSION_ID);
	if (h->flags & SMB2_FLAG_SIGNED) {
		memset(p + 48, (int)(0x5a ^ h->msg_id), 16);
	}
}

static uint64_t
file_off(uint64_t msg_id)
{
	return msg_id * 0x10000 + 0x1234;
}

static uint32_t
desc_total(const struct frame_desc *d, unsigned n)
{
	uint32_t t = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		t += d[i].length;
	}
	return t;
}

static void
put_descs(uint8_t *p, const struct frame_desc *d, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		frame_put_le64(p + i * 16, d[i].offset);
		frame_put_le32(p + i * 16 + 8, d[i].token);
		frame_put_le32(p + i * 16 + 12, d[i].length);
	}
}

/* A READ request; without descriptors, plain with its one Buffer byte. */
static size_t
mk_read_req(uint8_t *p, const struct hdr *h, uint32_t length,
    uint32_t channel, const struct frame_desc *d, unsigned n)
{
	uint8_t *b = p + SMB2_HDR;

	put_hdr(p, h);
	memset(b, 0, RW_FIXED + 1);
	frame_put_le16(b, 49);
	b[2] = 0x50;				/* Padding */
	frame_put_le32(b + 4, length);
	frame_put_le64(b + 8, file_off(h->msg_id));
	memset(b + 16, 0x3c, 16);		/* FileId */
	frame_put_le32(b + 32, 1);		/* MinimumCount */
	frame_put_le32(b + 36, channel);
	if (n == 0) {
		return SMB2_HDR + RW_FIXED + 1;
	}
	frame_put_le16(b + 44, SMB2_HDR + RW_FIXED);
	frame_put_le16(b + 46, (uint16_t)(n * 16));
	put_descs(b + RW_FIXED, d, n);
	return SMB2_HDR + RW_FIXED + n * 16;
}

/*
 * A WRITE request as a client sends it for RDMA: Length 0, the size in
 * RemainingBytes, the descriptors as channel info.
 */
static size_t
mk_write_rdma(uint8_t *p, const struct hdr *h, uint32_t channel,
    const struct frame_desc *d, unsigned n)
{
	uint8_t *b = p + SMB2_HDR;

	put_hdr(p, h);
	memset(b, 0, RW_FIXED);
	frame_put_le16(b, 49);
	frame_put_le64(b + 8, file_off(h->msg_id));
	memset(b + 16, 0x3d, 16);		/* FileId */
	frame_put_le32(b + 32, channel);
	frame_put_le32(b + 36, desc_total(d, n));
	frame_put_le16(b + 40, SMB2_HDR + RW_FIXED);
	frame_put_le16(b + 42, (uint16_t)(n * 16));
	frame_put_le32(b + 44, 1);		/* WRITE_THROUGH */
	put_descs(b + RW_FIXED, d, n);
	return SMB2_HDR + RW_FIXED + n * 16;
}

/* The same WRITE with its data inline. */
static size_t
mk_write_plain(uint8_t *p, const struct hdr *h, const uint8_t *data,
    uint32_t len)
{
	uint8_t *b = p + SMB2_HDR;

	put_hdr(p, h);
	memset(b, 0, RW_FIXED);
	frame_put_le16(b, 49);
	frame_put_le16(b + 2, SMB2_HDR + RW_FIXED);	/* DataOffset */
	frame_put_le32(b + 4, len);
	frame_put_le64(b + 8, file_off(h->msg_id));
	memset(b + 16, 0x3d, 16);
	frame_put_le32(b + 44, 1);
	memcpy(b + RW_FIXED, data, len);
	return SMB2_HDR + RW_FIXED + len;
}

static size_t
mk_write_resp(uint8_t *p, const struct hdr *h, uint32_t count)
{
	uint8_t *b = p + SMB2_HDR;

	put_hdr(p, h);
	memset(b, 0, 16);
	frame_put_le16(b, 17);
	frame_put_le32(b + 4, count);
	return SMB2_HDR + 16;
}

/* A READ response: @len bytes at DataOffset 0x50, and DataRemaining. */
static size_t
mk_read_resp(uint8_t *p, const struct hdr *h, const uint8_t *data,
    uint32_t len, uint32_t remaining)
{
	uint8_t *b = p + SMB2_HDR;

	put_hdr(p, h);
	memset(b, 0, 16);
	frame_put_le16(b, 17);
	b[2] = SMB2_HDR + 16;
	frame_put_le32(b + 4, len);
	frame_put_le32(b + 8, remaining);
	if (len > 0) {
		memcpy(b + 16, data, len);
	}
	return SMB2_HDR + 16 + len;
}

static size_t
mk_echo(uint8_t *p, const struct hdr *h)
{
	put_hdr(p, h);
	memset(p + SMB2_HDR, 0, 4);
	frame_put_le16(p + SMB2_HDR, 4);
	return SMB2_HDR + 4;
}

/* An ERROR response with no error data: its one ErrorData byte. */
static size_t
mk_error(uint8_t *p, const struct hdr *h)
{
	put_hdr(p, h);
	memset(p + SMB2_HDR, 0, 9);
	frame_put_le16(p + SMB2_HDR, 9);
	return SMB2_HDR + 9;
}

static void
chain_init(struct chain *c, uint8_t *buf)
{
	memset(c, 0, sizeof(*c));
	c->buf = buf;
}

/* Append a command, padding the previous one to 8 bytes. */
static void
chain_add(struct chain *c, const uint8_t *piece, size_t plen)
{
	size_t pad;

	assert_true(c->n < MAX_CMDS);
	if (c->n > 0) {
		pad = (8 - c->len % 8) % 8;
		memset(c->buf + c->len, 0, pad);
		c->len += pad;
		frame_put_le32(c->buf + c->off[c->n - 1] + 20,
		    (uint32_t)(c->len - c->off[c->n - 1]));
	}
	assert_true(c->len + plen <= PDU_MAX);
	memcpy(c->buf + c->len, piece, plen);
	frame_put_le32(c->buf + c->len + 20, 0);
	c->off[c->n] = c->len;
	c->plen[c->n] = plen;
	c->n++;
	c->len += plen;
}

/*
 * @got must be @want command by command: the same bytes (NextCommand
 * aside), NextCommand 8-aligned and inside the PDU, only zeros between a
 * command's end and the next, nothing after the last.
 */
static void
chain_check(const uint8_t *got, size_t glen, const struct chain *want)
{
	uint8_t h[SMB2_HDR], wh[SMB2_HDR];
	size_t off = 0, clen, j;
	uint32_t next;
	unsigned i;

	for (i = 0; i < want->n; i++) {
		assert_true(glen - off >= SMB2_HDR);
		next = frame_get_le32(got + off + 20);
		if (i + 1 < want->n) {
			assert_int_not_equal(next, 0);
			assert_int_equal(next % 8, 0);
			assert_true(next <= glen - off);
			clen = next;
		} else {
			assert_int_equal(next, 0);
			clen = glen - off;
			assert_int_equal(clen, want->plen[i]);
		}
		assert_true(clen >= want->plen[i]);
		memcpy(h, got + off, SMB2_HDR);
		frame_put_le32(h + 20, 0);
		memcpy(wh, want->buf + want->off[i], SMB2_HDR);
		frame_put_le32(wh + 20, 0);
		assert_memory_equal(h, wh, SMB2_HDR);
		assert_memory_equal(got + off + SMB2_HDR,
		    want->buf + want->off[i] + SMB2_HDR,
		    want->plen[i] - SMB2_HDR);
		for (j = want->plen[i]; j < clen; j++) {
			assert_int_equal(got[off + j], 0);
		}
		off += clen;
	}
}

/* ------------------------------------------------------------------ */
/* The client's memory                                                */
/* ------------------------------------------------------------------ */

static void
pattern(uint8_t *p, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		p[i] = (uint8_t)(seed * 37 + i * 7 + (i >> 9));
	}
}

static uint8_t *
cmem_at(struct bed *b, uint64_t addr, uint32_t len)
{
	assert_true(addr >= CMEM_BASE);
	assert_true(addr - CMEM_BASE <= CMEM_SIZE);
	assert_true(len <= CMEM_SIZE - (addr - CMEM_BASE));
	return b->cmem + (addr - CMEM_BASE);
}

/* Scatter @len bytes over the descriptors. */
static void
scatter(struct bed *b, const struct frame_desc *d, unsigned n,
    const uint8_t *src, uint32_t len)
{
	uint32_t k;
	unsigned i;

	for (i = 0; i < n && len > 0; i++) {
		k = d[i].length < len ? d[i].length : len;
		memcpy(cmem_at(b, d[i].offset, k), src, k);
		src += k;
		len -= k;
	}
}

/* The client's buffers for @k: WRITE data, or sentinels for a READ. */
static void
client_prepare(struct bed *b, const struct cmd *k)
{
	uint32_t total = desc_total(k->desc, k->n_desc);
	unsigned i;

	if (k->command == SMB2_WRITE) {
		pattern(b->data, total, k->msg_id);
		scatter(b, k->desc, k->n_desc, b->data, total);
		return;
	}
	for (i = 0; i < k->n_desc; i++) {
		memset(cmem_at(b, k->desc[i].offset, k->desc[i].length),
		    SENTINEL, k->desc[i].length);
	}
}

/* A READ's data landed in the client's buffers, and nothing else did. */
static void
client_check_read(struct bed *b, const struct cmd *k)
{
	const uint8_t *p;
	uint32_t done = 0, n, j;
	unsigned i;

	pattern(b->data, k->got, k->msg_id + 1000);
	for (i = 0; i < k->n_desc; i++) {
		p = cmem_at(b, k->desc[i].offset, k->desc[i].length);
		n = k->got - done < k->desc[i].length ? k->got - done :
		    k->desc[i].length;
		assert_memory_equal(p, b->data + done, n);
		for (j = n; j < k->desc[i].length; j++) {
			assert_int_equal(p[j], SENTINEL);
		}
		done += n;
	}
	assert_int_equal(done, k->got);
}

/* The daemon's RDMA: between cmem and the area. Return the bytes moved. */
static uint32_t
rdma_do(struct bed *b, const struct frame_rdma *op, bool to_client)
{
	uint64_t a = op->area_off;
	uint32_t total = 0;
	uint8_t *c;
	unsigned i;

	for (i = 0; i < op->n_desc; i++) {
		const struct frame_desc *d = &op->desc[i];

		c = cmem_at(b, d->offset, d->length);
		assert_true(a <= AREA_SIZE && d->length <= AREA_SIZE - a);
		if (to_client) {
			memcpy(c, b->area + a, d->length);
		} else {
			memcpy(b->area + a, c, d->length);
		}
		a += d->length;
		total += d->length;
	}
	return total;
}

/* ------------------------------------------------------------------ */
/* The daemon's side of the data channel                              */
/* ------------------------------------------------------------------ */

static void
send_frame(struct bed *b, uint8_t type, const void *body, uint32_t len)
{
	uint8_t hdr[FRAME_HDR_SIZE];

	frame_hdr_encode(hdr, type, len);
	send_all(b->chan, hdr, sizeof(hdr));
	if (len > 0) {
		send_all(b->chan, body, len);
	}
}

/* A PDU from the client. */
static void
client_send(struct bed *b, const uint8_t *pdu, size_t len)
{
	send_frame(b, FRAME_PDU, pdu, (uint32_t)len);
}

static void
send_completion(struct bed *b, uint64_t req_id, int32_t status,
    uint32_t bytes)
{
	struct frame_completion c = {
		.req_id = req_id, .status = status, .bytes = bytes,
	};
	uint8_t body[FRAME_COMPLETION_SIZE];

	send_frame(b, FRAME_COMPLETION, body,
	    (uint32_t)frame_completion_encode(&c, body));
}

/* The AREA frame: the memfd rides on its first byte. */
static void
send_area(struct bed *b)
{
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	uint8_t frame[FRAME_HDR_SIZE + FRAME_AREA_SIZE];
	struct iovec iov = { .iov_base = frame, .iov_len = sizeof(frame) };
	struct msghdr msg;
	struct cmsghdr *cm;

	frame_hdr_encode(frame, FRAME_AREA, FRAME_AREA_SIZE);
	frame_area_encode(CONN_ID, AREA_SIZE, frame + FRAME_HDR_SIZE);
	memset(&cbuf, 0, sizeof(cbuf));
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &b->memfd, sizeof(int));
	assert_int_equal(sendmsg(b->chan, &msg, MSG_NOSIGNAL),
	    (ssize_t)sizeof(frame));
}

/* A PDU frame's body, into b->rx_chan. */
static void
chan_pdu_body(struct bed *b, uint32_t len, struct ev *ev)
{
	assert_true(len > 0 && len <= PDU_MAX);
	recv_all(b->chan, b->rx_chan, len);
	b->rx_chan_len = len;
	ev->has_pdu = true;
}

/* The PDU frame that must come next. */
static void
chan_pdu(struct bed *b, struct ev *ev)
{
	uint8_t hdr[FRAME_HDR_SIZE], type;
	uint32_t len;

	recv_all(b->chan, hdr, sizeof(hdr));
	frame_hdr_decode(hdr, &type, &len);
	assert_int_equal(type, FRAME_PDU);
	chan_pdu_body(b, len, ev);
}

/*
 * The relay's next request to the daemon: a PDU for the client (after a
 * SEND_INVALIDATE, with its token), or an RDMA operation (an RDMA WRITE
 * with the PDU that follows it).
 */
static void
chan_next(struct bed *b, struct ev *ev)
{
	uint8_t hdr[FRAME_HDR_SIZE], body[FRAME_RDMA_FIXED +
	    FRAME_MAX_DESC * 16], type;
	uint32_t len;

	memset(ev, 0, sizeof(*ev));
	recv_all(b->chan, hdr, sizeof(hdr));
	frame_hdr_decode(hdr, &type, &len);
	switch (type) {
	case FRAME_PDU:
		chan_pdu_body(b, len, ev);
		break;
	case FRAME_SEND_INVALIDATE:
		assert_int_equal(len, FRAME_SEND_INVALIDATE_SIZE);
		recv_all(b->chan, body, len);
		assert_int_equal(frame_u32_decode(body, len, &ev->inval), 0);
		assert_int_not_equal(ev->inval, 0);
		chan_pdu(b, ev);
		type = FRAME_PDU;
		break;
	case FRAME_RDMA_READ:
	case FRAME_RDMA_WRITE:
		assert_true(len <= sizeof(body));
		recv_all(b->chan, body, len);
		assert_int_equal(frame_rdma_decode(body, len, &ev->op), 0);
		if (ev->op.flags & FRAME_WRITE_THEN_PDU) {
			assert_int_equal(type, FRAME_RDMA_WRITE);
			ev->inval = ev->op.invalidate;
			chan_pdu(b, ev);
		} else {
			assert_int_equal(ev->op.invalidate, 0);
		}
		break;
	default:
		fail_msg("unexpected frame type %#x from the relay", type);
	}
	ev->type = type;
}

/* ------------------------------------------------------------------ */
/* The backend                                                        */
/* ------------------------------------------------------------------ */

/* One PDU the backend got (Direct TCP framing), into b->rx_be. */
static size_t
be_recv(struct bed *b)
{
	uint8_t h[4];
	size_t len;

	recv_all(b->be, h, sizeof(h));
	assert_int_equal(h[0], 0);
	len = (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	assert_true(len > 0 && len <= PDU_MAX);
	recv_all(b->be, b->rx_be, len);
	return len;
}

static void
be_send(struct bed *b, const uint8_t *pdu, size_t len)
{
	uint8_t h[4] = { 0, (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	    (uint8_t)len };

	send_all(b->be, h, sizeof(h));
	send_all(b->be, pdu, len);
}

/* ------------------------------------------------------------------ */
/* The bed                                                            */
/* ------------------------------------------------------------------ */

static void *
relay_main(void *arg)
{
	struct bed *b = arg;

	b->relay_rc = relay_run(&b->cf, b->path, CONN_ID, MAX_RW, MAX_FRAG,
	    MAX_FRAG, &b->st);
	return NULL;
}

static int
relay_join(struct bed *b)
{
	struct timespec ts;
	int rc;

	if (!b->running) {
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	rc = pthread_timedjoin_np(b->thr, NULL, &ts);
	if (rc == 0) {
		b->running = false;
	}
	return rc;
}

static int
setup(void **state)
{
	struct bed *b = calloc(1, sizeof(*b));
	unsigned i;

	if (b == NULL) {
		return -1;
	}
	*state = b;
	b->lsn = b->tcp_lsn = b->chan = b->be = b->memfd = -1;
	b->cmem = calloc(1, CMEM_SIZE);
	b->rx_chan = malloc(PDU_MAX);
	b->rx_be = malloc(PDU_MAX);
	b->piece = malloc(PDU_MAX);
	b->data = malloc(PDU_MAX);
	for (i = 0; i < 4; i++) {
		b->ch[i] = malloc(PDU_MAX);
	}
	return b->cmem != NULL && b->rx_chan != NULL && b->rx_be != NULL &&
	    b->piece != NULL && b->data != NULL && b->ch[0] != NULL &&
	    b->ch[1] != NULL && b->ch[2] != NULL && b->ch[3] != NULL ? 0 : -1;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int
teardown(void **state)
{
	struct bed *b = *state;
	unsigned i;

	/*
	 * Either end closing makes the relay end; closing the listeners
	 * resets connections not yet accepted.
	 */
	close_fd(&b->lsn);
	close_fd(&b->tcp_lsn);
	close_fd(&b->chan);
	close_fd(&b->be);
	if (relay_join(b) != 0) {
		print_error("relay_run() did not return; leaving it\n");
		return -1;
	}
	close_fd(&b->memfd);
	if (b->area != NULL) {
		munmap(b->area, AREA_SIZE);
	}
	if (b->path[0] != '\0') {
		unlink(b->path);
	}
	if (b->dir[0] != '\0') {
		rmdir(b->dir);
	}
	for (i = 0; i < 4; i++) {
		free(b->ch[i]);
	}
	free(b->data);
	free(b->piece);
	free(b->rx_be);
	free(b->rx_chan);
	free(b->cmem);
	free(b);
	return 0;
}

/* Start relay_run() and take it through the area hand-out. */
static void
bed_start(struct bed *b)
{
	struct sockaddr_un sun;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	uint8_t hdr[FRAME_HDR_SIZE], type;
	uint32_t len;
	void *map;

	strcpy(b->dir, "/tmp/test_gw_relay.XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	snprintf(b->path, sizeof(b->path), "%s/chan", b->dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, b->path);
	b->lsn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(b->lsn >= 0);
	assert_int_equal(bind(b->lsn, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	assert_int_equal(listen(b->lsn, 1), 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	b->tcp_lsn = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(b->tcp_lsn >= 0);
	assert_int_equal(bind(b->tcp_lsn, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_int_equal(listen(b->tcp_lsn, 1), 0);
	assert_int_equal(getsockname(b->tcp_lsn, (struct sockaddr *)&sin,
	    &sl), 0);
	snprintf(b->port, sizeof(b->port), "%u", ntohs(sin.sin_port));
	b->cf.backend_host = "127.0.0.1";
	b->cf.backend_port = b->port;
	b->cf.connect_timeout_ms = WAIT_MS;

	b->memfd = memfd_create("test_gw_relay-area", MFD_CLOEXEC);
	assert_true(b->memfd >= 0);
	assert_int_equal(ftruncate(b->memfd, AREA_SIZE), 0);
	map = mmap(NULL, AREA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    b->memfd, 0);
	assert_true(map != MAP_FAILED);
	b->area = map;

	assert_int_equal(pthread_create(&b->thr, NULL, relay_main, b), 0);
	b->running = true;
	b->chan = accept_within(b->lsn);
	b->be = accept_within(b->tcp_lsn);

	recv_all(b->chan, hdr, sizeof(hdr));
	frame_hdr_decode(hdr, &type, &len);
	assert_int_equal(type, FRAME_AREA_REQUEST);
	assert_int_equal(len, 0);
	send_area(b);
}

/*
 * Nothing left over on either side; the daemon closes the channel, and
 * the relay must close the backend connection and return 0.
 */
static void
bed_finish(struct bed *b)
{
	uint8_t c;

	assert_false(readable(b->chan, QUIET_MS));
	assert_false(readable(b->be, QUIET_MS));
	close_fd(&b->chan);
	assert_true(readable(b->be, WAIT_MS));
	assert_int_equal(recv(b->be, &c, 1, 0), 0);
	assert_int_equal(relay_join(b), 0);
	assert_int_equal(b->relay_rc, 0);
}

#define STAT(f)	{ #f, offsetof(struct gw_stats, f) }
#define COPY(k)	{ "copied[" #k "]", offsetof(struct gw_stats, \
		    copied[GW_COPY_##k]) }

/* Every counter, including those relay_run() must leave alone. */
static void
stats_check(const struct gw_stats *got, const struct gw_stats *want)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} f[] = {
		STAT(connections_total), STAT(connections_active),
		STAT(connections_failed), STAT(pdus_to_backend),
		STAT(pdus_to_client), STAT(bytes_to_backend),
		STAT(bytes_to_client), STAT(rdma_read_ops),
		STAT(rdma_read_bytes), STAT(rdma_write_ops),
		STAT(rdma_write_bytes), COPY(PAYLOAD_RECV_TO_AREA),
		COPY(PAYLOAD_SEND_FROM_AREA), COPY(PAYLOAD_MEMCPY),
		COPY(PDU_MEMCPY), STAT(compound_requests),
		STAT(refused_signed_rdma), STAT(passthrough_encrypted),
	};
	uint64_t g, w;
	unsigned i, bad = 0;

	_Static_assert(sizeof(f) / sizeof(f[0]) * sizeof(uint64_t) ==
	    sizeof(struct gw_stats), "every counter is checked");
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		memcpy(&g, (const uint8_t *)got + f[i].off, sizeof(g));
		memcpy(&w, (const uint8_t *)want + f[i].off, sizeof(w));
		if (g != w) {
			print_error("%s: %llu, want %llu\n", f[i].name,
			    (unsigned long long)g, (unsigned long long)w);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

#undef COPY
#undef STAT

/* ------------------------------------------------------------------ */
/* Scenarios                                                          */
/* ------------------------------------------------------------------ */

static struct hdr
req_hdr(const struct cmd *k)
{
	struct hdr h = {
		.command = k->command, .charge = 1, .credits = 32,
		.flags = k->related ? SMB2_FLAG_RELATED : 0,
		.msg_id = k->msg_id,
	};

	return h;
}

static struct hdr
resp_hdr(const struct cmd *k)
{
	struct hdr h = req_hdr(k);

	h.flags |= SMB2_FLAG_RESPONSE;
	h.credits = (uint16_t)(k->msg_id % 7 + 1);
	return h;
}

/* What the client sends for @k. */
static void
add_request(struct bed *b, const struct cmd *k, struct chain *c)
{
	struct hdr h = req_hdr(k);
	size_t len;

	if (k->command == SMB2_WRITE) {
		len = mk_write_rdma(b->piece, &h, k->channel, k->desc,
		    k->n_desc);
	} else {
		len = mk_read_req(b->piece, &h, desc_total(k->desc,
		    k->n_desc), k->channel, k->desc, k->n_desc);
	}
	chain_add(c, b->piece, len);
}

/* What the backend must get for it: plain, WRITE data inline. */
static void
add_backend_request(struct bed *b, const struct cmd *k, struct chain *c)
{
	struct hdr h = req_hdr(k);
	uint32_t total = desc_total(k->desc, k->n_desc);
	size_t len;

	if (k->command == SMB2_WRITE) {
		pattern(b->data, total, k->msg_id);
		len = mk_write_plain(b->piece, &h, b->data, total);
	} else {
		len = mk_read_req(b->piece, &h, total, CH_NONE, NULL, 0);
	}
	chain_add(c, b->piece, len);
}

/*
 * A response to @k: the backend's (a READ's data inline), or with @client
 * what the client must get ([MS-SMB2] 3.3.5.12: READ data by RDMA).
 */
static void
add_response(struct bed *b, const struct cmd *k, struct chain *c,
    bool client)
{
	struct hdr h = resp_hdr(k);
	size_t len;

	if (k->command == SMB2_WRITE) {
		len = mk_write_resp(b->piece, &h, desc_total(k->desc,
		    k->n_desc));
	} else if (client) {
		len = mk_read_resp(b->piece, &h, NULL, 0, k->got);
	} else {
		pattern(b->data, k->got, k->msg_id + 1000);
		len = mk_read_resp(b->piece, &h, b->data, k->got, 0);
	}
	chain_add(c, b->piece, len);
}

static unsigned
find_cmd(const struct cmd *cmds, unsigned n, uint32_t token)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (cmds[i].desc[0].token == token) {
			return i;
		}
	}
	fail_msg("an RDMA operation for unknown token %#x", token);
	return 0;
}

/* An RDMA READ for WRITE @k: its descriptors, whole. */
static void
check_pull(const struct ev *ev, const struct cmd *k)
{
	unsigned i;

	assert_int_equal(ev->type, FRAME_RDMA_READ);
	assert_int_equal(k->command, SMB2_WRITE);
	assert_int_equal(ev->op.n_desc, k->n_desc);
	for (i = 0; i < k->n_desc; i++) {
		assert_int_equal(ev->op.desc[i].offset, k->desc[i].offset);
		assert_int_equal(ev->op.desc[i].token, k->desc[i].token);
		assert_int_equal(ev->op.desc[i].length, k->desc[i].length);
	}
}

/* An RDMA WRITE for READ @k: its descriptors, cut to what was read. */
static void
check_push(const struct ev *ev, const struct cmd *k)
{
	uint32_t left = k->got, n;
	unsigned i;

	assert_int_equal(ev->type, FRAME_RDMA_WRITE);
	assert_int_equal(k->command, SMB2_READ);
	for (i = 0; i < k->n_desc && left > 0; i++) {
		n = k->desc[i].length < left ? k->desc[i].length : left;
		assert_true(i < ev->op.n_desc);
		assert_int_equal(ev->op.desc[i].offset, k->desc[i].offset);
		assert_int_equal(ev->op.desc[i].token, k->desc[i].token);
		assert_int_equal(ev->op.desc[i].length, n);
		left -= n;
	}
	assert_int_equal(ev->op.n_desc, i);
}

/*
 * The SMB2 bytes relay.c copies with memcpy() (relay.h, pdu_memcpy), in
 * [MS-SMB2] sizes: a response's head, read before the relay knows what
 * the response is; the header and fixed body of a plain WRITE, from the
 * client's RDMA WRITE; the header of a rewritten READ response or of an
 * ERROR standing in for a refused command (copied once when the request
 * is refused, again when the answer is built); the fields of a stand-in
 * ECHO.
 */
#define COPY_HEAD	(SMB2_HDR + 16)
#define COPY_WRITE_REQ	(SMB2_HDR + RW_FIXED)
#define COPY_HDR	SMB2_HDR
#define COPY_ECHO	(8 + 2 + 8)	/* ProtocolId..CreditCharge,
					   CreditRequest, MessageId */
#define READ_RESP_RDMA	(SMB2_HDR + 16)	/* a READ response, data by RDMA */
#define ERROR_RESP	(SMB2_HDR + 9)

#define WANT_COPY(w, k)	((w)->copied[GW_COPY_##k])

static void
want_offload(const struct cmd *cmds, unsigned n, struct gw_stats *want)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (cmds[i].command == SMB2_WRITE) {
			uint32_t t = desc_total(cmds[i].desc, cmds[i].n_desc);

			want->rdma_read_ops++;
			want->rdma_read_bytes += t;
			WANT_COPY(want, PAYLOAD_SEND_FROM_AREA) += t;
			WANT_COPY(want, PDU_MEMCPY) += COPY_WRITE_REQ;
		} else {
			want->rdma_write_ops++;
			want->rdma_write_bytes += cmds[i].got;
			/* Streamed into the area, or copied from a compound. */
			if (n == 1) {
				WANT_COPY(want, PAYLOAD_RECV_TO_AREA) +=
				    cmds[i].got;
			} else {
				WANT_COPY(want, PAYLOAD_MEMCPY) += cmds[i].got;
			}
		}
	}
	if (n > 1) {
		want->compound_requests++;
	}
}

/*
 * The pdu_memcpy of relaying @resp, the backend's response to @cmds: a
 * single READ response streams (its header rewritten); anything else is
 * read whole after its head, and rebuilt, every command copied, if a
 * command needs rewriting (a READ's data went by RDMA, a WRITE asked for
 * invalidation).
 */
static uint64_t
want_response_copies(const struct cmd *cmds, unsigned n,
    const struct chain *resp)
{
	uint64_t w = 0;
	unsigned i, rewrite = 0;

	if (n == 1 && cmds[0].command == SMB2_READ) {
		return COPY_HDR;
	}
	if (resp->len >= COPY_HEAD) {
		w += COPY_HEAD;
	}
	for (i = 0; i < n; i++) {
		if (cmds[i].command == SMB2_READ ||
		    cmds[i].channel == CH_RDMA_INV) {
			rewrite++;
		}
	}
	if (rewrite == 0) {
		return w;
	}
	for (i = 0; i < n; i++) {
		if (cmds[i].command == SMB2_READ) {
			w += COPY_HDR + READ_RESP_RDMA;
		} else {
			/* As it came, NextCommand's padding included. */
			w += (i + 1 < n ? resp->off[i + 1] : resp->len) -
			    resp->off[i];
		}
	}
	return w;
}

/*
 * One request of @n commands (a compound when @n > 1) through the relay
 * and back: the client's WRITE data is pulled with the client's
 * descriptors, the backend gets the plain request, READ data is pushed to
 * the client's descriptors before the response, which is rewritten and
 * sent with the invalidate token asked for. At most one command asks for
 * RDMA_V1_INVALIDATE: a response carries one token.
 */
static void
run_chain(struct bed *b, const struct cmd *cmds, unsigned n,
    struct gw_stats *want)
{
	struct chain req, be_req, resp, cl_resp;
	bool done[MAX_CMDS] = { false };
	unsigned i, pulls = 0, pushes = 0, nw = 0, nr = 0;
	uint32_t inval = 0;
	struct ev ev;
	size_t blen;

	assert_true(n <= MAX_CMDS);
	chain_init(&req, b->ch[0]);
	chain_init(&be_req, b->ch[1]);
	chain_init(&resp, b->ch[2]);
	chain_init(&cl_resp, b->ch[3]);
	for (i = 0; i < n; i++) {
		client_prepare(b, &cmds[i]);
		add_request(b, &cmds[i], &req);
		add_backend_request(b, &cmds[i], &be_req);
		add_response(b, &cmds[i], &resp, false);
		add_response(b, &cmds[i], &cl_resp, true);
		if (cmds[i].command == SMB2_WRITE) {
			nw++;
		} else {
			nr++;
		}
		if (cmds[i].channel == CH_RDMA_INV) {
			inval = cmds[i].desc[0].token;
		}
	}
	want_offload(cmds, n, want);
	WANT_COPY(want, PDU_MEMCPY) += want_response_copies(cmds, n, &resp);

	client_send(b, req.buf, req.len);
	for (pulls = 0; pulls < nw; pulls++) {
		chan_next(b, &ev);
		assert_int_equal(ev.type, FRAME_RDMA_READ);
		i = find_cmd(cmds, n, ev.op.desc[0].token);
		assert_false(done[i]);
		done[i] = true;
		check_pull(&ev, &cmds[i]);
		send_completion(b, ev.op.req_id, 0, rdma_do(b, &ev.op, false));
	}
	blen = be_recv(b);
	chain_check(b->rx_be, blen, &be_req);
	want->pdus_to_backend++;
	want->bytes_to_backend += blen;

	be_send(b, resp.buf, resp.len);
	/* The RDMA WRITEs come first; the response with or after the last. */
	do {
		chan_next(b, &ev);
		if (ev.type == FRAME_RDMA_WRITE) {
			i = find_cmd(cmds, n, ev.op.desc[0].token);
			assert_false(done[i]);
			done[i] = true;
			check_push(&ev, &cmds[i]);
			assert_int_equal(rdma_do(b, &ev.op, true),
			    cmds[i].got);
			send_completion(b, ev.op.req_id, 0, cmds[i].got);
			pushes++;
		} else {
			assert_int_equal(ev.type, FRAME_PDU);
		}
	} while (!ev.has_pdu);
	assert_int_equal(pushes, nr);
	assert_int_equal(ev.inval, inval);
	chain_check(b->rx_chan, b->rx_chan_len, &cl_resp);
	want->pdus_to_client++;
	want->bytes_to_client += b->rx_chan_len;
	for (i = 0; i < n; i++) {
		if (cmds[i].command == SMB2_READ) {
			client_check_read(b, &cmds[i]);
		}
	}
}

/* Descriptors at cmem offsets (CMEM_BASE + @at). */
#define DESC(at, tok, len) \
	{ .offset = CMEM_BASE + (at), .token = (tok), .length = (len) }

/* ------------------------------------------------------------------ */
/* Tests                                                              */
/* ------------------------------------------------------------------ */

/*
 * Client WRITEs by RDMA: over two buffers, a whole slot with invalidate,
 * four odd-sized buffers; three WRITEs through two slots.
 */
static void
test_rdma_write(void **state)
{
	struct bed *b = *state;
	static const struct cmd w1 = {
		.command = SMB2_WRITE, .channel = CH_RDMA, .msg_id = 5,
		.n_desc = 2, .desc = { DESC(0x0, 0x1001, 3000),
		DESC(0x2000, 0x1002, 2000) },
	};
	static const struct cmd w2 = {
		.command = SMB2_WRITE, .channel = CH_RDMA_INV, .msg_id = 6,
		.n_desc = 1, .desc = { DESC(0x8000, 0x1101, MAX_RW) },
	};
	static const struct cmd w3 = {
		.command = SMB2_WRITE, .channel = CH_RDMA, .msg_id = 7,
		.n_desc = 4, .desc = { DESC(0x30000, 0x1201, 1),
		DESC(0x30100, 0x1202, 511), DESC(0x31000, 0x1203, 4096),
		DESC(0x40000, 0x1204, 100) },
	};
	struct gw_stats want;

	memset(&want, 0, sizeof(want));
	bed_start(b);
	run_chain(b, &w1, 1, &want);
	run_chain(b, &w2, 1, &want);
	run_chain(b, &w3, 1, &want);
	bed_finish(b);
	stats_check(&b->st, &want);
}

/* A client READ by RDMA: whole, and short with invalidate. */
static void
test_rdma_read(void **state)
{
	struct bed *b = *state;
	static const struct cmd r1 = {
		.command = SMB2_READ, .channel = CH_RDMA, .msg_id = 9,
		.n_desc = 2, .desc = { DESC(0x0, 0x2001, 4096),
		DESC(0x10000, 0x2002, 4096) }, .got = 8192,
	};
	/* End of file: 7000 of 10000 bytes; the descriptors are cut. */
	static const struct cmd r2 = {
		.command = SMB2_READ, .channel = CH_RDMA_INV, .msg_id = 10,
		.n_desc = 3, .desc = { DESC(0x20000, 0x2101, 6000),
		DESC(0x30000, 0x2102, 3000), DESC(0x38000, 0x2103, 1000) },
		.got = 7000,
	};
	struct gw_stats want;

	memset(&want, 0, sizeof(want));
	bed_start(b);
	run_chain(b, &r1, 1, &want);
	run_chain(b, &r2, 1, &want);
	bed_finish(b);
	stats_check(&b->st, &want);
}

/* An RDMA WRITE for one of @r, with its READ response: checked, done. */
static unsigned
push_one(struct bed *b, const struct cmd *r, unsigned n, bool *done,
    struct frame_rdma *op, struct gw_stats *want)
{
	struct chain cl;
	struct ev ev;
	unsigned k;

	chan_next(b, &ev);
	assert_int_equal(ev.type, FRAME_RDMA_WRITE);
	k = find_cmd(r, n, ev.op.desc[0].token);
	assert_false(done[k]);
	done[k] = true;
	check_push(&ev, &r[k]);
	assert_true(ev.has_pdu);
	assert_int_equal(ev.inval, r[k].channel == CH_RDMA_INV ?
	    r[k].desc[0].token : 0);
	chain_init(&cl, b->ch[3]);
	add_response(b, &r[k], &cl, true);
	chain_check(b->rx_chan, b->rx_chan_len, &cl);
	want->pdus_to_client++;
	want->bytes_to_client += b->rx_chan_len;
	assert_int_equal(rdma_do(b, &ev.op, true), r[k].got);
	*op = ev.op;
	return k;
}

static bool
overlap(const struct frame_rdma *a, uint32_t alen, const struct frame_rdma *b,
    uint32_t blen)
{
	return a->area_off < b->area_off + blen &&
	    b->area_off < a->area_off + alen;
}

/*
 * Three READs answered at once with a two-slot area: the third waits for
 * a completion, and no area bytes are reused while an RDMA WRITE from
 * them is in flight.
 */
static void
test_rdma_read_slots(void **state)
{
	struct bed *b = *state;
	static const struct cmd r[3] = {
		{ .command = SMB2_READ, .channel = CH_RDMA, .msg_id = 20,
		  .n_desc = 1, .desc = { DESC(0x0, 0x3001, MAX_RW) },
		  .got = MAX_RW },
		{ .command = SMB2_READ, .channel = CH_RDMA_INV, .msg_id = 21,
		  .n_desc = 2, .desc = { DESC(0x20000, 0x3101, 6000),
		  DESC(0x28000, 0x3102, 4000) }, .got = 7000 },
		{ .command = SMB2_READ, .channel = CH_RDMA, .msg_id = 22,
		  .n_desc = 1, .desc = { DESC(0x40000, 0x3201, 1500) },
		  .got = 1200 },
	};
	struct frame_rdma op[3];
	unsigned k[3], i;
	bool done[3] = { false };
	struct gw_stats want;
	struct chain c;
	size_t len;

	memset(&want, 0, sizeof(want));
	bed_start(b);
	for (i = 0; i < 3; i++) {
		want_offload(&r[i], 1, &want);
		client_prepare(b, &r[i]);
		chain_init(&c, b->ch[0]);
		add_request(b, &r[i], &c);
		client_send(b, c.buf, c.len);
		len = be_recv(b);
		chain_init(&c, b->ch[1]);
		add_backend_request(b, &r[i], &c);
		chain_check(b->rx_be, len, &c);
		want.pdus_to_backend++;
		want.bytes_to_backend += len;
	}
	for (i = 0; i < 3; i++) {
		chain_init(&c, b->ch[2]);
		add_response(b, &r[i], &c, false);
		WANT_COPY(&want, PDU_MEMCPY) += want_response_copies(&r[i], 1,
		    &c);
		be_send(b, c.buf, c.len);
	}
	k[0] = push_one(b, r, 3, done, &op[0], &want);
	k[1] = push_one(b, r, 3, done, &op[1], &want);
	assert_false(overlap(&op[0], r[k[0]].got, &op[1], r[k[1]].got));
	/* Both slots are in flight: the third must wait for one. */
	assert_false(readable(b->chan, QUIET_MS));
	send_completion(b, op[0].req_id, 0, r[k[0]].got);
	k[2] = push_one(b, r, 3, done, &op[2], &want);
	assert_false(overlap(&op[1], r[k[1]].got, &op[2], r[k[2]].got));
	send_completion(b, op[1].req_id, 0, r[k[1]].got);
	send_completion(b, op[2].req_id, 0, r[k[2]].got);
	for (i = 0; i < 3; i++) {
		client_check_read(b, &r[i]);
	}
	bed_finish(b);
	stats_check(&b->st, &want);
}

/*
 * A compound WRITE (RDMA) + READ (RDMA, invalidate) + READ (RDMA, two
 * buffers, short), the READs related.
 */
static void
test_compound_write_read_read(void **state)
{
	struct bed *b = *state;
	static const struct cmd cmds[3] = {
		{ .command = SMB2_WRITE, .channel = CH_RDMA, .msg_id = 30,
		  .n_desc = 2, .desc = { DESC(0x0, 0x4001, 3000),
		  DESC(0x1000, 0x4002, 1500) } },
		{ .command = SMB2_READ, .channel = CH_RDMA_INV, .msg_id = 31,
		  .related = true, .n_desc = 1,
		  .desc = { DESC(0x10000, 0x4101, 4096) }, .got = 4096 },
		{ .command = SMB2_READ, .channel = CH_RDMA, .msg_id = 32,
		  .related = true, .n_desc = 2,
		  .desc = { DESC(0x20000, 0x4201, 2048),
		  DESC(0x30000, 0x4202, 2048) }, .got = 3000 },
	};
	struct gw_stats want;

	memset(&want, 0, sizeof(want));
	bed_start(b);
	run_chain(b, cmds, 3, &want);
	bed_finish(b);
	stats_check(&b->st, &want);
}

/*
 * A compound READ (RDMA) + WRITE (RDMA, invalidate): a stripped READ
 * that is not last, a WRITE with data that is; then two READs.
 */
static void
test_compound_read_write(void **state)
{
	struct bed *b = *state;
	static const struct cmd rw[2] = {
		{ .command = SMB2_READ, .channel = CH_RDMA, .msg_id = 40,
		  .n_desc = 1, .desc = { DESC(0x0, 0x5001, 2000) },
		  .got = 2000 },
		{ .command = SMB2_WRITE, .channel = CH_RDMA_INV, .msg_id = 41,
		  .n_desc = 1, .desc = { DESC(0x10000, 0x5101, 1001) } },
	};
	static const struct cmd rr[2] = {
		{ .command = SMB2_READ, .channel = CH_RDMA, .msg_id = 42,
		  .n_desc = 1, .desc = { DESC(0x20000, 0x5201, MAX_RW) },
		  .got = 40000 },
		{ .command = SMB2_READ, .channel = CH_RDMA, .msg_id = 43,
		  .n_desc = 1, .desc = { DESC(0x40000, 0x5301, 777) },
		  .got = 777 },
	};
	struct gw_stats want;

	memset(&want, 0, sizeof(want));
	bed_start(b);
	run_chain(b, rw, 2, &want);
	run_chain(b, rr, 2, &want);
	bed_finish(b);
	stats_check(&b->st, &want);
}

static uint64_t
copied_now(struct bed *b, enum gw_copy k)
{
	return __atomic_load_n(&b->st.copied[k], __ATOMIC_RELAXED);
}

/*
 * The copy counters, by hand: a compound of two RDMA READs costs the
 * second copy of its data (socket to buffer, buffer to area), a single
 * READ streams into the area, and a WRITE goes from the area. The
 * down thread counts before it writes the response, so each count is
 * visible once the response is.
 */
static void
test_copies_counted(void **state)
{
	struct bed *b = *state;
	static const struct cmd rr[2] = {
		{ .command = SMB2_READ, .channel = CH_RDMA, .msg_id = 90,
		  .n_desc = 1, .desc = { DESC(0x0, 0x7001, 4096) },
		  .got = 4096 },
		{ .command = SMB2_READ, .channel = CH_RDMA, .msg_id = 91,
		  .related = true, .n_desc = 1,
		  .desc = { DESC(0x10000, 0x7101, 1000) }, .got = 1000 },
	};
	static const struct cmd r1 = {
		.command = SMB2_READ, .channel = CH_RDMA, .msg_id = 92,
		.n_desc = 1, .desc = { DESC(0x20000, 0x7201, 3000) },
		.got = 2500,
	};
	static const struct cmd w1 = {
		.command = SMB2_WRITE, .channel = CH_RDMA, .msg_id = 93,
		.n_desc = 1, .desc = { DESC(0x30000, 0x7301, 3000) },
	};
	struct gw_stats want;

	memset(&want, 0, sizeof(want));
	bed_start(b);
	run_chain(b, rr, 2, &want);
	/* Both READs' data copied into the area: 4096 + 1000. */
	assert_int_equal(copied_now(b, GW_COPY_PAYLOAD_MEMCPY), 5096);
	assert_int_equal(copied_now(b, GW_COPY_PAYLOAD_RECV_TO_AREA), 0);
	/* The head, then per READ its header and the rewritten response. */
	assert_int_equal(copied_now(b, GW_COPY_PDU_MEMCPY),
	    80 + 2 * (64 + 80));
	run_chain(b, &r1, 1, &want);
	assert_int_equal(copied_now(b, GW_COPY_PAYLOAD_MEMCPY), 5096);
	assert_int_equal(copied_now(b, GW_COPY_PAYLOAD_RECV_TO_AREA), 2500);
	assert_int_equal(copied_now(b, GW_COPY_PDU_MEMCPY), 368 + 64);
	run_chain(b, &w1, 1, &want);
	bed_finish(b);
	/* The plain WRITE's 112-byte header; its response's 80-byte head. */
	assert_int_equal(b->st.copied[GW_COPY_PDU_MEMCPY], 432 + 112 + 80);
	assert_int_equal(b->st.copied[GW_COPY_PAYLOAD_SEND_FROM_AREA], 3000);
	stats_check(&b->st, &want);
}

/* The ECHO that stands in for @req: its MessageId and credits. */
static void
check_echo(const uint8_t *e, size_t len, const struct hdr *req)
{
	static const uint8_t zero[16];

	assert_int_equal(len, SMB2_HDR + 4);
	assert_memory_equal(e, "\xfeSMB", 4);
	assert_int_equal(frame_get_le16(e + 4), SMB2_HDR);
	assert_int_equal(frame_get_le16(e + 6), req->charge);
	assert_int_equal(frame_get_le16(e + 12), SMB2_ECHO);
	assert_int_equal(frame_get_le16(e + 14), req->credits);
	/* Unsigned, not a response, no signature. */
	assert_int_equal(frame_get_le32(e + 16) & (SMB2_FLAG_RESPONSE |
	    SMB2_FLAG_SIGNED), 0);
	assert_int_equal(frame_get_le64(e + 24), req->msg_id);
	assert_memory_equal(e + 48, zero, 16);
	assert_int_equal(frame_get_le16(e + SMB2_HDR), 4);
}

/*
 * Signed requests asking for RDMA channels: refused with
 * STATUS_NOT_SUPPORTED per command, ECHOs with the same MessageIds sent in
 * their place, the client's memory left alone; then the relay still
 * offloads unsigned requests.
 */
static void
test_signed_rdma_refused(void **state)
{
	struct bed *b = *state;
	static const struct cmd sr = {
		.command = SMB2_READ, .channel = CH_RDMA, .msg_id = 50,
		.n_desc = 1, .desc = { DESC(0x0, 0x6001, 8192) },
	};
	static const struct cmd sc[2] = {
		{ .command = SMB2_WRITE, .channel = CH_RDMA_INV, .msg_id = 51,
		  .n_desc = 1, .desc = { DESC(0x10000, 0x6101, 5000) } },
		{ .command = SMB2_READ, .channel = CH_RDMA, .msg_id = 52,
		  .related = true, .n_desc = 1,
		  .desc = { DESC(0x20000, 0x6201, 3000) } },
	};
	static const struct cmd after[2] = {
		{ .command = SMB2_WRITE, .channel = CH_RDMA, .msg_id = 53,
		  .n_desc = 1, .desc = { DESC(0x30000, 0x6301, 2500) } },
		{ .command = SMB2_READ, .channel = CH_RDMA_INV, .msg_id = 54,
		  .n_desc = 1, .desc = { DESC(0x40000, 0x6401, 2500) },
		  .got = 2500 },
	};
	struct hdr h, eh;
	struct chain c, e;
	struct gw_stats want;
	struct ev ev;
	size_t len, off;

	memset(&want, 0, sizeof(want));
	memset(b->cmem, 0x5c, CMEM_SIZE);
	bed_start(b);

	/* One signed READ: an ECHO goes instead, the client gets an error. */
	h = req_hdr(&sr);
	h.flags |= SMB2_FLAG_SIGNED;
	h.charge = 2;
	h.credits = 9;
	len = mk_read_req(b->piece, &h, 8192, sr.channel, sr.desc,
	    sr.n_desc);
	client_send(b, b->piece, len);
	/* The request's header kept, an ECHO made from it. */
	WANT_COPY(&want, PDU_MEMCPY) += COPY_HDR + COPY_ECHO;
	len = be_recv(b);
	check_echo(b->rx_be, len, &h);
	assert_int_equal(frame_get_le32(b->rx_be + 20), 0);
	assert_false(readable(b->chan, QUIET_MS));	/* no RDMA */
	want.pdus_to_backend++;
	want.bytes_to_backend += len;
	eh = (struct hdr){ .command = SMB2_ECHO, .charge = 2, .credits = 7,
	    .flags = SMB2_FLAG_RESPONSE, .msg_id = sr.msg_id };
	len = mk_echo(b->piece, &eh);
	be_send(b, b->piece, len);
	/* Shorter than a head: read whole; the ERROR built and copied out. */
	assert_true(len < COPY_HEAD);
	WANT_COPY(&want, PDU_MEMCPY) += COPY_HDR + ERROR_RESP;
	chan_next(b, &ev);
	assert_int_equal(ev.type, FRAME_PDU);
	assert_int_equal(ev.inval, 0);
	h.status = STATUS_NOT_SUPPORTED;
	h.flags = SMB2_FLAG_RESPONSE;
	h.credits = 7;			/* what the server granted */
	chain_init(&e, b->ch[3]);
	chain_add(&e, b->piece, mk_error(b->piece, &h));
	chain_check(b->rx_chan, b->rx_chan_len, &e);
	want.pdus_to_client++;
	want.bytes_to_client += b->rx_chan_len;
	want.refused_signed_rdma++;

	/* A signed compound WRITE (invalidate) + READ: both refused. */
	chain_init(&c, b->ch[0]);
	h = req_hdr(&sc[0]);
	h.flags |= SMB2_FLAG_SIGNED;
	chain_add(&c, b->piece, mk_write_rdma(b->piece, &h, sc[0].channel,
	    sc[0].desc, sc[0].n_desc));
	h = req_hdr(&sc[1]);
	h.flags |= SMB2_FLAG_SIGNED;
	chain_add(&c, b->piece, mk_read_req(b->piece, &h, 3000,
	    sc[1].channel, sc[1].desc, sc[1].n_desc));
	client_send(b, c.buf, c.len);
	WANT_COPY(&want, PDU_MEMCPY) += 2 * (COPY_HDR + COPY_ECHO);
	len = be_recv(b);
	off = frame_get_le32(b->rx_be + 20);
	assert_true(off >= SMB2_HDR + 4 && off % 8 == 0 && off < len);
	h = req_hdr(&sc[0]);
	check_echo(b->rx_be, SMB2_HDR + 4, &h);
	h = req_hdr(&sc[1]);
	assert_int_equal(frame_get_le32(b->rx_be + off + 20), 0);
	check_echo(b->rx_be + off, len - off, &h);
	assert_false(readable(b->chan, QUIET_MS));
	want.pdus_to_backend++;
	want.bytes_to_backend += len;

	chain_init(&c, b->ch[2]);
	eh = (struct hdr){ .command = SMB2_ECHO, .charge = 1, .credits = 2,
	    .flags = SMB2_FLAG_RESPONSE, .msg_id = sc[0].msg_id };
	chain_add(&c, b->piece, mk_echo(b->piece, &eh));
	eh.credits = 5;
	eh.msg_id = sc[1].msg_id;
	chain_add(&c, b->piece, mk_echo(b->piece, &eh));
	be_send(b, c.buf, c.len);
	assert_true(c.len >= COPY_HEAD);
	WANT_COPY(&want, PDU_MEMCPY) += COPY_HEAD + 2 * (COPY_HDR +
	    ERROR_RESP);
	chan_next(b, &ev);
	assert_int_equal(ev.type, FRAME_PDU);
	/* The client asked the server to invalidate: it still must. */
	assert_int_equal(ev.inval, sc[0].desc[0].token);
	chain_init(&e, b->ch[3]);
	h = req_hdr(&sc[0]);
	h.status = STATUS_NOT_SUPPORTED;
	h.flags = SMB2_FLAG_RESPONSE;
	h.credits = 2;
	chain_add(&e, b->piece, mk_error(b->piece, &h));
	h = req_hdr(&sc[1]);
	h.status = STATUS_NOT_SUPPORTED;
	h.flags = SMB2_FLAG_RESPONSE | SMB2_FLAG_RELATED;
	h.credits = 5;
	chain_add(&e, b->piece, mk_error(b->piece, &h));
	chain_check(b->rx_chan, b->rx_chan_len, &e);
	want.pdus_to_client++;
	want.bytes_to_client += b->rx_chan_len;
	want.refused_signed_rdma++;

	/* Nobody touched the client's buffers. */
	for (off = 0; off < CMEM_SIZE && b->cmem[off] == 0x5c; off++) {
	}
	assert_int_equal(off, CMEM_SIZE);

	run_chain(b, after, 2, &want);
	bed_finish(b);
	stats_check(&b->st, &want);
}

/*
 * Signed requests without RDMA channels, their signed responses, and
 * encrypted messages both ways go through byte for byte; so does what is
 * not SMB2 at all.
 */
static void
test_passthrough(void **state)
{
	struct bed *b = *state;
	struct hdr h;
	struct chain c;
	struct gw_stats want;
	struct ev ev;
	uint8_t *msg[2];
	size_t mlen[2], len;
	unsigned i, k;

	memset(&want, 0, sizeof(want));
	bed_start(b);
	msg[0] = b->ch[0];
	msg[1] = b->ch[1];

	/* Signed READ, no channel; a signed response with data. */
	h = (struct hdr){ .command = SMB2_READ, .charge = 1, .credits = 4,
	    .flags = SMB2_FLAG_SIGNED, .msg_id = 60 };
	mlen[0] = mk_read_req(msg[0], &h, 3000, CH_NONE, NULL, 0);
	h.flags |= SMB2_FLAG_RESPONSE;
	pattern(b->data, 3000, 60);
	mlen[1] = mk_read_resp(msg[1], &h, b->data, 3000, 0);
	for (k = 0; k < 5; k++) {
		switch (k) {
		case 1:
			/* Signed WRITE with its data inline. */
			h = (struct hdr){ .command = SMB2_WRITE, .charge = 1,
			    .credits = 4, .flags = SMB2_FLAG_SIGNED,
			    .msg_id = 61 };
			pattern(b->data, 2000, 61);
			mlen[0] = mk_write_plain(msg[0], &h, b->data, 2000);
			h.flags |= SMB2_FLAG_RESPONSE;
			mlen[1] = mk_write_resp(msg[1], &h, 2000);
			break;
		case 2:
			/* A signed compound of two plain READs. */
			chain_init(&c, msg[0]);
			for (i = 0; i < 2; i++) {
				h = (struct hdr){ .command = SMB2_READ,
				    .charge = 1, .credits = 4,
				    .flags = SMB2_FLAG_SIGNED |
				    (i > 0 ? SMB2_FLAG_RELATED : 0),
				    .msg_id = 62 + i };
				chain_add(&c, b->piece, mk_read_req(b->piece,
				    &h, 100, CH_NONE, NULL, 0));
			}
			mlen[0] = c.len;
			chain_init(&c, msg[1]);
			for (i = 0; i < 2; i++) {
				h = (struct hdr){ .command = SMB2_READ,
				    .charge = 1, .credits = 4,
				    .flags = SMB2_FLAG_SIGNED |
				    SMB2_FLAG_RESPONSE |
				    (i > 0 ? SMB2_FLAG_RELATED : 0),
				    .msg_id = 62 + i };
				pattern(b->data, 100, 62 + i);
				chain_add(&c, b->piece, mk_read_resp(b->piece,
				    &h, b->data, 100, 0));
			}
			mlen[1] = c.len;
			break;
		case 3:
			/* Encrypted: a TRANSFORM header, then ciphertext. */
			for (i = 0; i < 2; i++) {
				mlen[i] = i == 0 ? 52 + 300 : 52 + 3000;
				pattern(msg[i], mlen[i], 70 + i);
				memcpy(msg[i], "\xfdSMB", 4);
				frame_put_le32(msg[i] + 36,
				    (uint32_t)(mlen[i] - 52));
				frame_put_le16(msg[i] + 42, 1);
				want.passthrough_encrypted++;
			}
			break;
		case 4:
			/* Not SMB2 (an SMB1 header); after the encrypted. */
			for (i = 0; i < 2; i++) {
				mlen[i] = i == 0 ? 70 : 90;
				pattern(msg[i], mlen[i], 80 + i);
				memcpy(msg[i], "\xffSMB", 4);
			}
			break;
		}
		client_send(b, msg[0], mlen[0]);
		len = be_recv(b);
		assert_int_equal(len, mlen[0]);
		assert_memory_equal(b->rx_be, msg[0], len);
		want.pdus_to_backend++;
		want.bytes_to_backend += len;
		be_send(b, msg[1], mlen[1]);
		/* Its head copied, nothing else: it goes as it came. */
		assert_true(mlen[1] >= COPY_HEAD);
		WANT_COPY(&want, PDU_MEMCPY) += COPY_HEAD;
		chan_next(b, &ev);
		assert_int_equal(ev.type, FRAME_PDU);
		assert_int_equal(ev.inval, 0);
		assert_int_equal(b->rx_chan_len, mlen[1]);
		assert_memory_equal(b->rx_chan, msg[1], mlen[1]);
		want.pdus_to_client++;
		want.bytes_to_client += mlen[1];
	}
	bed_finish(b);
	stats_check(&b->st, &want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rdma_write, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rdma_read, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rdma_read_slots, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_compound_write_read_read,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_compound_read_write,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_signed_rdma_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_passthrough, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_copies_counted, setup,
		    teardown),
	};

	/* The relay writes to sockets the test closes. */
	signal(SIGPIPE, SIG_IGN);
	/* relay_run() logs to syslog; keep its lines with the test's. */
	openlog("test_gw_relay", LOG_PERROR, LOG_USER);
	setlogmask(LOG_UPTO(LOG_INFO));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
