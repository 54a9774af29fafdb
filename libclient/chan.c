/* SPDX-License-Identifier: ISC */
/*
 * chan.c: the owner's side of a data channel (frame.h has the frames).
 *
 * Reads take one frame at a time, header then body, and never read past
 * it: the socket may be handed to another process (sdctl_chan_pass())
 * between two frames, and whatever this process had buffered would be
 * lost to the next owner.
 *
 * Writes put a whole frame, or a frame pair that must stay adjacent (an
 * RDMA WRITE and the PDU that follows it; SEND_INVALIDATE and its PDU),
 * into one sendmsg() so that, on a socket with a single writer at a time,
 * nothing can come between them.
 *
 * After any error other than -EAGAIN from sdctl_chan_read(), the stream
 * position is unknown: the caller closes the channel.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "frame.h"
#include "libclient/chan.h"
#include "libclient/io.h"
#include "libclient/smbdirect-ctl.h"

_Static_assert(SDCTL_MAX_DESC == FRAME_MAX_DESC,
    "the public descriptor limit is the frame's");

/* The largest operation body the daemon sends (FRAME_ERROR). */
#define CHAN_OP_MAX	(FRAME_ERROR_FIXED + FRAME_ERROR_MSG_MAX)

int
sdctl_chan_connect(const char *path, int *out)
{
	int fd;

	if (path == NULL || out == NULL) {
		return -EINVAL;
	}
	fd = io_connect_unix(path, SOCK_STREAM);
	if (fd < 0) {
		return fd;
	}
	*out = fd;
	return 0;
}

/* Check an operation frame's length against its type before reading it. */
static int
chan_op_len_ok(uint8_t type, uint32_t len)
{
	switch (type) {
	case FRAME_AREA:
		return len == FRAME_AREA_SIZE;
	case FRAME_COMPLETION:
		return len == FRAME_COMPLETION_SIZE;
	case FRAME_DRAIN:
		return len == FRAME_DRAIN_SIZE;
	case FRAME_ERROR:
		return len >= FRAME_ERROR_FIXED && len <= CHAN_OP_MAX;
	default:
		return 0;
	}
}

static int
chan_decode_op(uint8_t type, const uint8_t *body, uint32_t len,
    struct io_fds *fds, struct sdctl_frame *f)
{
	struct frame_completion c;
	uint64_t conn_id, size;
	int rc;

	switch (type) {
	case FRAME_AREA:
		rc = frame_area_decode(body, len, &conn_id, &size);
		if (rc != 0 || size == 0 || fds->n == 0) {
			rc = -EPROTO;
			break;
		}
		f->kind = SDCTL_FRAME_AREA;
		f->area_fd = io_fds_take(fds);
		f->area_size = size;
		break;
	case FRAME_COMPLETION:
		rc = frame_completion_decode(body, len, &c);
		if (rc != 0) {
			rc = -EPROTO;
			break;
		}
		f->kind = SDCTL_FRAME_COMPLETION;
		f->req_id = c.req_id;
		f->status = c.status;
		f->bytes = c.bytes;
		break;
	case FRAME_DRAIN:
		rc = frame_u32_decode(body, len, &f->grace_ms);
		if (rc != 0) {
			rc = -EPROTO;
			break;
		}
		f->kind = SDCTL_FRAME_DRAIN;
		break;
	case FRAME_ERROR:
		rc = frame_error_decode(body, len, &f->status,
		    &f->refused_type, f->message, sizeof(f->message));
		if (rc != 0) {
			rc = -EPROTO;
			break;
		}
		f->kind = SDCTL_FRAME_ERROR;
		break;
	default:
		rc = -EPROTO;
		break;
	}
	return rc;
}

int
sdctl_chan_read(int fd, size_t max_pdu, struct sdctl_frame *out)
{
	uint8_t hdr[FRAME_HDR_SIZE], op[CHAN_OP_MAX];
	struct sdctl_frame f;
	struct io_fds fds;
	uint8_t *pdu = NULL;
	uint8_t type;
	uint32_t len;
	int rc;

	io_fds_init(&fds);
	memset(&f, 0, sizeof(f));
	f.area_fd = -1;
	if (out == NULL) {
		rc = -EINVAL;
		goto out;
	}
	rc = io_recv_exact(fd, hdr, sizeof(hdr), false, true, &fds);
	if (rc != 0) {
		goto out;
	}
	frame_hdr_decode(hdr, &type, &len);
	if (type == FRAME_PDU) {
		if (len == 0) {
			rc = -EPROTO;
			goto out;
		}
		if (len > max_pdu) {
			rc = -EMSGSIZE;
			goto out;
		}
		pdu = malloc(len);
		if (pdu == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		rc = io_recv_exact(fd, pdu, len, false, false, &fds);
		if (rc != 0) {
			goto out;
		}
		f.kind = SDCTL_FRAME_PDU;
		f.pdu = pdu;
		f.pdu_len = len;
		pdu = NULL;
	} else {
		if (!chan_op_len_ok(type, len)) {
			rc = -EPROTO;
			goto out;
		}
		rc = io_recv_exact(fd, op, len, false, false, &fds);
		if (rc != 0) {
			goto out;
		}
		rc = chan_decode_op(type, op, len, &fds, &f);
		if (rc != 0) {
			goto out;
		}
	}
	*out = f;
out:
	/* Only an AREA frame keeps a descriptor; any other is closed. */
	io_fds_close(&fds);
	free(pdu);
	return rc;
}

static int
chan_check_pdu(const void *pdu, size_t len)
{
	return pdu != NULL && len > 0 && len <= FRAME_MAX_BODY;
}

int
sdctl_chan_write_pdu(int fd, const void *pdu, size_t len)
{
	uint8_t hdr[FRAME_HDR_SIZE];
	struct iovec iov[2];
	int rc = -EINVAL;

	if (chan_check_pdu(pdu, len)) {
		frame_hdr_encode(hdr, FRAME_PDU, (uint32_t)len);
		iov[0].iov_base = hdr;
		iov[0].iov_len = sizeof(hdr);
		iov[1].iov_base = (void *)pdu;
		iov[1].iov_len = len;
		rc = io_send_all(fd, iov, 2, -1);
	}
	return rc;
}

int
sdctl_chan_request_area(int fd)
{
	uint8_t hdr[FRAME_HDR_SIZE];
	struct iovec iov;

	frame_hdr_encode(hdr, FRAME_AREA_REQUEST, 0);
	iov.iov_base = hdr;
	iov.iov_len = sizeof(hdr);
	return io_send_all(fd, &iov, 1, -1);
}

/*
 * The whole CLAIM frame goes out in one sendmsg(), so the daemon sees a
 * single sender's credentials on all of its bytes.
 */
int
chan_write_claim(int fd, uint64_t conn_id)
{
	uint8_t buf[FRAME_HDR_SIZE + FRAME_CLAIM_SIZE];
	struct iovec iov;

	frame_hdr_encode(buf, FRAME_CLAIM, FRAME_CLAIM_SIZE);
	frame_put_le64(buf + FRAME_HDR_SIZE, conn_id);
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	return io_send_all(fd, &iov, 1, -1);
}

int
sdctl_area_map(int area_fd, uint64_t size, void **out)
{
	struct stat st;
	void *p;
	int rc;

	if (out == NULL || size == 0 || size > SIZE_MAX) {
		rc = -EINVAL;
		goto out;
	}
	if (fstat(area_fd, &st) != 0) {
		rc = -errno;
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size != size) {
		rc = -EINVAL;
		goto out;
	}
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    area_fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	*out = p;
	rc = 0;
out:
	return rc;
}

static int
chan_fill_rdma(struct frame_rdma *r, uint64_t req_id, uint64_t area_off,
    const struct sdctl_desc *desc, unsigned n)
{
	unsigned i;
	int rc = -EINVAL;

	if (desc == NULL || n == 0 || n > SDCTL_MAX_DESC) {
		goto out;
	}
	memset(r, 0, sizeof(*r));
	r->req_id = req_id;
	r->area_off = area_off;
	r->n_desc = (uint16_t)n;
	for (i = 0; i < n; i++) {
		r->desc[i].offset = desc[i].offset;
		r->desc[i].token = desc[i].token;
		r->desc[i].length = desc[i].length;
	}
	rc = 0;
out:
	return rc;
}

int
sdctl_chan_rdma_read(int fd, uint64_t req_id, uint64_t area_off,
    const struct sdctl_desc *desc, unsigned n)
{
	uint8_t hdr[FRAME_HDR_SIZE];
	uint8_t body[FRAME_RDMA_FIXED + FRAME_MAX_DESC * 16];
	struct frame_rdma r;
	struct iovec iov[2];
	size_t len;
	int rc;

	rc = chan_fill_rdma(&r, req_id, area_off, desc, n);
	if (rc == 0) {
		len = frame_rdma_encode(&r, body);
		frame_hdr_encode(hdr, FRAME_RDMA_READ, (uint32_t)len);
		iov[0].iov_base = hdr;
		iov[0].iov_len = sizeof(hdr);
		iov[1].iov_base = body;
		iov[1].iov_len = len;
		rc = io_send_all(fd, iov, 2, -1);
	}
	return rc;
}

int
sdctl_chan_rdma_write(int fd, uint64_t req_id, uint64_t area_off,
    const struct sdctl_desc *desc, unsigned n, const void *pdu,
    size_t pdu_len, uint32_t invalidate)
{
	uint8_t hdr[FRAME_HDR_SIZE], pdu_hdr[FRAME_HDR_SIZE];
	uint8_t body[FRAME_RDMA_FIXED + FRAME_MAX_DESC * 16];
	struct frame_rdma r;
	struct iovec iov[4];
	size_t len;
	int rc, iovcnt = 2;

	rc = chan_fill_rdma(&r, req_id, area_off, desc, n);
	if (rc != 0) {
		goto out;
	}
	/* An invalidate token only means something with a PDU. */
	if (pdu != NULL ? !chan_check_pdu(pdu, pdu_len) :
	    pdu_len != 0 || invalidate != 0) {
		rc = -EINVAL;
		goto out;
	}
	if (pdu != NULL) {
		r.flags = FRAME_WRITE_THEN_PDU;
		r.invalidate = invalidate;
	}
	len = frame_rdma_encode(&r, body);
	frame_hdr_encode(hdr, FRAME_RDMA_WRITE, (uint32_t)len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = body;
	iov[1].iov_len = len;
	if (pdu != NULL) {
		frame_hdr_encode(pdu_hdr, FRAME_PDU, (uint32_t)pdu_len);
		iov[2].iov_base = pdu_hdr;
		iov[2].iov_len = sizeof(pdu_hdr);
		iov[3].iov_base = (void *)pdu;
		iov[3].iov_len = pdu_len;
		iovcnt = 4;
	}
	rc = io_send_all(fd, iov, iovcnt, -1);
out:
	return rc;
}

int
sdctl_chan_write_pdu_invalidate(int fd, const void *pdu, size_t len,
    uint32_t invalidate)
{
	uint8_t buf[FRAME_HDR_SIZE + FRAME_SEND_INVALIDATE_SIZE];
	uint8_t pdu_hdr[FRAME_HDR_SIZE];
	struct iovec iov[3];
	int rc = -EINVAL;

	if (!chan_check_pdu(pdu, len) || invalidate == 0) {
		goto out;
	}
	frame_hdr_encode(buf, FRAME_SEND_INVALIDATE,
	    FRAME_SEND_INVALIDATE_SIZE);
	frame_put_le32(buf + FRAME_HDR_SIZE, invalidate);
	frame_hdr_encode(pdu_hdr, FRAME_PDU, (uint32_t)len);
	iov[0].iov_base = buf;
	iov[0].iov_len = sizeof(buf);
	iov[1].iov_base = pdu_hdr;
	iov[1].iov_len = sizeof(pdu_hdr);
	iov[2].iov_base = (void *)pdu;
	iov[2].iov_len = len;
	rc = io_send_all(fd, iov, 3, -1);
out:
	return rc;
}
