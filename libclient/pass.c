/* SPDX-License-Identifier: ISC */
/*
 * pass.c: hand a data channel, with the PDUs already read from it, to
 * another process over a UNIX socket (SOCK_STREAM or SOCK_SEQPACKET).
 *
 * The message, all integers little-endian:
 *
 *	header, PASS_HDR_SIZE (280) bytes, sent in one sendmsg() that
 *	carries the data channel in SCM_RIGHTS on its first byte:
 *	   0  u32 magic      0x50434453 ("SDCP" on the wire)
 *	   4  u16 version    1
 *	   6  u16 n          PDUs that follow, 0..PASS_MAX_PDUS (64)
 *	   8  u64 conn_id
 *	  16  u32 total      sum of the lengths
 *	  20  u32 reserved   0
 *	  24  u32 len[64]    len[i] of PDU i, 1..PASS_MAX_LEN (16 MiB) for
 *	                     i < n; 0 for the unused slots
 *	then, for each PDU in order, its bytes in chunks of at most
 *	PASS_CHUNK (64 KiB), one sendmsg() per chunk.
 *
 * Why this shape: a fixed-size header lets the receiver read it with one
 * exact-length read on either socket type, and it names every length up
 * front, so the receiver can bound its allocations before it reads a
 * byte of payload. Chunking gives the same read boundaries on both types:
 * on SOCK_SEQPACKET each chunk is one record read with a buffer of exactly
 * its size (a record larger than the socket buffer could not be sent at
 * all); on SOCK_STREAM the boundaries simply do not matter.
 *
 * The receiver trusts nothing: magic, version, counts, every length, the
 * reserved words and the total are checked, exactly one descriptor must
 * arrive and it must be a stream socket; extra descriptors are closed.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "frame.h"
#include "libclient/io.h"
#include "libclient/smbdirect-ctl.h"

#define PASS_MAGIC	0x50434453u
#define PASS_VERSION	1
#define PASS_MAX_PDUS	64
#define PASS_MAX_LEN	(16u * 1024 * 1024)
#define PASS_CHUNK	(64u * 1024)
#define PASS_FIXED	24
#define PASS_HDR_SIZE	(PASS_FIXED + PASS_MAX_PDUS * 4)

/* Is @fd a socket that keeps message boundaries? */
static int
pass_is_record(int fd, bool *record)
{
	int type = 0, rc;
	socklen_t sl = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) != 0) {
		rc = -errno;
	} else if (type != SOCK_STREAM && type != SOCK_SEQPACKET) {
		rc = -EINVAL;
	} else {
		*record = type == SOCK_SEQPACKET;
		rc = 0;
	}
	return rc;
}

int
sdctl_chan_pass(int sock, int chan_fd, uint64_t conn_id,
    const uint8_t *const *pdus, const size_t *lens, unsigned n)
{
	uint8_t hdr[PASS_HDR_SIZE];
	struct iovec iov;
	uint32_t total = 0;
	size_t done, chunk;
	unsigned i;
	bool record;
	int rc;

	if (chan_fd < 0 || n > PASS_MAX_PDUS ||
	    (n > 0 && (pdus == NULL || lens == NULL))) {
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (pdus[i] == NULL || lens[i] == 0 ||
		    lens[i] > PASS_MAX_LEN) {
			rc = -EINVAL;
			goto out;
		}
		total += (uint32_t)lens[i];
	}
	rc = pass_is_record(sock, &record);
	if (rc != 0) {
		goto out;
	}
	memset(hdr, 0, sizeof(hdr));
	frame_put_le32(hdr, PASS_MAGIC);
	frame_put_le16(hdr + 4, PASS_VERSION);
	frame_put_le16(hdr + 6, (uint16_t)n);
	frame_put_le64(hdr + 8, conn_id);
	frame_put_le32(hdr + 16, total);
	for (i = 0; i < n; i++) {
		frame_put_le32(hdr + PASS_FIXED + i * 4, (uint32_t)lens[i]);
	}
	iov.iov_base = hdr;
	iov.iov_len = sizeof(hdr);
	rc = io_send_all(sock, &iov, 1, chan_fd);
	if (rc != 0) {
		goto out;
	}
	for (i = 0; i < n; i++) {
		for (done = 0; done < lens[i]; done += chunk) {
			chunk = lens[i] - done;
			if (chunk > PASS_CHUNK) {
				chunk = PASS_CHUNK;
			}
			iov.iov_base = (void *)(pdus[i] + done);
			iov.iov_len = chunk;
			rc = io_send_all(sock, &iov, 1, -1);
			if (rc != 0) {
				goto out;
			}
		}
	}
out:
	return rc;
}

static int
pass_parse_hdr(const uint8_t *hdr, struct sdctl_passed *p)
{
	uint64_t sum = 0;
	unsigned i, n;
	uint32_t len;
	int rc = -EPROTO;

	n = frame_get_le16(hdr + 6);
	if (frame_get_le32(hdr) != PASS_MAGIC ||
	    frame_get_le16(hdr + 4) != PASS_VERSION ||
	    frame_get_le32(hdr + 20) != 0 || n > PASS_MAX_PDUS) {
		goto out;
	}
	for (i = 0; i < PASS_MAX_PDUS; i++) {
		len = frame_get_le32(hdr + PASS_FIXED + i * 4);
		/* Used slots 1..PASS_MAX_LEN, unused ones 0. */
		if (i < n ? len == 0 || len > PASS_MAX_LEN : len != 0) {
			goto out;
		}
		sum += len;
	}
	if (sum != frame_get_le32(hdr + 16)) {
		goto out;
	}
	p->conn_id = frame_get_le64(hdr + 8);
	p->n = n;
	rc = 0;
out:
	return rc;
}

/* The channel must be what the daemon hands out: a UNIX stream socket. */
static int
pass_check_chan(int fd)
{
	int type = 0;
	socklen_t sl = sizeof(type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == 0 &&
	    type == SOCK_STREAM ? 0 : -EPROTO;
}

int
sdctl_chan_receive(int sock, struct sdctl_passed *out)
{
	uint8_t hdr[PASS_HDR_SIZE];
	struct sdctl_passed p;
	struct io_fds fds;
	size_t done, chunk;
	unsigned i;
	bool record;
	int rc;

	memset(&p, 0, sizeof(p));
	p.chan_fd = -1;
	io_fds_init(&fds);
	if (out == NULL) {
		rc = -EINVAL;
		goto out;
	}
	rc = pass_is_record(sock, &record);
	if (rc != 0) {
		goto out;
	}
	rc = io_recv_exact(sock, hdr, sizeof(hdr), record, false, &fds);
	if (rc != 0) {
		goto out;
	}
	p.chan_fd = io_fds_take(&fds);
	if (p.chan_fd < 0) {
		rc = -EPROTO;
		goto out;
	}
	rc = pass_parse_hdr(hdr, &p);
	if (rc != 0) {
		goto out;
	}
	rc = pass_check_chan(p.chan_fd);
	if (rc != 0) {
		goto out;
	}
	if (p.n > 0) {
		p.pdus = calloc(p.n, sizeof(*p.pdus));
		p.lens = calloc(p.n, sizeof(*p.lens));
		if (p.pdus == NULL || p.lens == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < p.n; i++) {
		p.lens[i] = frame_get_le32(hdr + PASS_FIXED + i * 4);
		p.pdus[i] = malloc(p.lens[i]);
		if (p.pdus[i] == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		for (done = 0; done < p.lens[i]; done += chunk) {
			chunk = p.lens[i] - done;
			if (chunk > PASS_CHUNK) {
				chunk = PASS_CHUNK;
			}
			/* Descriptors here are unexpected: closed below. */
			rc = io_recv_exact(sock, p.pdus[i] + done, chunk,
			    record, false, &fds);
			if (rc != 0) {
				goto out;
			}
		}
	}
	*out = p;
	p.chan_fd = -1;
	p.pdus = NULL;
	p.lens = NULL;
	p.n = 0;
out:
	io_fds_close(&fds);
	if (p.chan_fd >= 0) {
		close(p.chan_fd);
	}
	sdctl_passed_free(&p);
	return rc;
}

void
sdctl_passed_free(struct sdctl_passed *p)
{
	unsigned i;

	if (p == NULL) {
		return;
	}
	for (i = 0; p->pdus != NULL && i < p->n; i++) {
		free(p->pdus[i]);
	}
	free(p->pdus);
	free(p->lens);
	p->pdus = NULL;
	p->lens = NULL;
	p->n = 0;
}
