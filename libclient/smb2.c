/* SPDX-License-Identifier: ISC */
/*
 * smb2.c: the small part of SMB2 ([MS-SMB2]) an smbd needs before it knows
 * who owns a client: the NEGOTIATE request's ClientGuid (2.2.3) and the
 * channel information of READ (2.2.19) and WRITE (2.2.21) requests.
 *
 * The input comes straight from the network. Every offset is checked
 * against the extent of the command it belongs to (up to NextCommand, or
 * the end of the PDU) before a byte behind it is read, and all arithmetic
 * is done in size_t after those checks, so nothing can wrap.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "frame.h"
#include "libclient/smbdirect-ctl.h"

#define SMB2_HDR_SIZE		64
#define SMB2_FLAGS_SERVER_TO_REDIR	0x00000001u

#define SMB2_NEGOTIATE		0x0000
#define SMB2_READ		0x0008
#define SMB2_WRITE		0x0009

#define SMB2_NEGOTIATE_SIZE	36	/* StructureSize, fixed part */
#define SMB2_NEGOTIATE_GUID	12
#define SMB2_RW_SIZE		49	/* StructureSize */
#define SMB2_RW_FIXED		48	/* fixed fields before Buffer */
#define SMB2_DESC_SIZE		16	/* Buffer Descriptor V1 */

/*
 * Validate the sync header at @pdu + @off and find where its command ends.
 * Return: 0 with *cmd and *end (exclusive, <= @len), or -EPROTO.
 */
static int
smb2_hdr(const uint8_t *pdu, size_t len, size_t off, uint16_t *cmd,
    size_t *end)
{
	const uint8_t *h;
	uint32_t next;
	int rc = -EPROTO;

	if (pdu == NULL || off > len || len - off < SMB2_HDR_SIZE) {
		goto out;
	}
	h = pdu + off;
	if (h[0] != 0xfe || h[1] != 'S' || h[2] != 'M' || h[3] != 'B' ||
	    frame_get_le16(h + 4) != SMB2_HDR_SIZE ||
	    (frame_get_le32(h + 16) & SMB2_FLAGS_SERVER_TO_REDIR) != 0) {
		goto out;
	}
	next = frame_get_le32(h + 20);
	/* Compounded commands are 8-byte aligned ([MS-SMB2] 2.2.1). */
	if (next != 0 && (next < SMB2_HDR_SIZE || (next & 7) != 0 ||
	    next > len - off)) {
		goto out;
	}
	*end = next != 0 ? off + next : len;
	*cmd = frame_get_le16(h + 12);
	rc = 0;
out:
	return rc;
}

int
sdctl_smb2_client_guid(const uint8_t *pdu, size_t len, uint8_t guid[16])
{
	const uint8_t *b;
	uint16_t cmd, count;
	size_t end, avail;
	int rc;

	rc = smb2_hdr(pdu, len, 0, &cmd, &end);
	if (rc != 0) {
		goto out;
	}
	rc = -EPROTO;
	if (cmd != SMB2_NEGOTIATE || guid == NULL) {
		goto out;
	}
	avail = end - SMB2_HDR_SIZE;
	if (avail < SMB2_NEGOTIATE_SIZE) {
		goto out;
	}
	b = pdu + SMB2_HDR_SIZE;
	count = frame_get_le16(b + 2);
	/* A server fails DialectCount 0 with STATUS_INVALID_PARAMETER. */
	if (frame_get_le16(b) != SMB2_NEGOTIATE_SIZE || count == 0 ||
	    (avail - SMB2_NEGOTIATE_SIZE) / 2 < count) {
		goto out;
	}
	memcpy(guid, b + SMB2_NEGOTIATE_GUID, 16);
	rc = 0;
out:
	return rc;
}

/*
 * Parse the Buffer Descriptor V1 list at [@ci, @ci + @ci_len) of the
 * command at @pdu + @off that ends at @end.
 */
static int
smb2_channel_info(const uint8_t *pdu, size_t off, size_t end, size_t ci,
    size_t ci_len, uint32_t max_rw, struct sdctl_smb2_rw *rw)
{
	const uint8_t *d;
	uint64_t total = 0;
	unsigned i, n;
	int rc = -EPROTO;

	/* Not inside the fixed fields, and wholly inside the command. */
	if (ci_len == 0 || ci < SMB2_HDR_SIZE + SMB2_RW_FIXED ||
	    ci > end - off || ci_len > end - off - ci ||
	    ci_len % SMB2_DESC_SIZE != 0) {
		goto out;
	}
	n = (unsigned)(ci_len / SMB2_DESC_SIZE);
	if (n > SDCTL_MAX_DESC) {
		rc = -ERANGE;
		goto out;
	}
	for (i = 0; i < n; i++) {
		d = pdu + off + ci + (size_t)i * SMB2_DESC_SIZE;
		rw->desc[i].offset = frame_get_le64(d);
		rw->desc[i].token = frame_get_le32(d + 8);
		rw->desc[i].length = frame_get_le32(d + 12);
		if (rw->desc[i].length == 0) {
			goto out;
		}
		total += rw->desc[i].length;
	}
	if (total > max_rw) {
		rc = -E2BIG;
		goto out;
	}
	rw->n_desc = n;
	rw->desc_total = total;
	rc = 0;
out:
	return rc;
}

int
sdctl_smb2_rw_parse(const uint8_t *pdu, size_t len, size_t off,
    uint32_t max_rw, struct sdctl_smb2_rw *out)
{
	struct sdctl_smb2_rw rw;
	const uint8_t *b;
	uint16_t cmd, ci, ci_len, data_off = 0;
	size_t end;
	int rc;

	memset(&rw, 0, sizeof(rw));
	rc = smb2_hdr(pdu, len, off, &cmd, &end);
	if (rc != 0) {
		goto out;
	}
	rc = -EPROTO;
	if ((cmd != SMB2_READ && cmd != SMB2_WRITE) || out == NULL ||
	    end - off - SMB2_HDR_SIZE < SMB2_RW_FIXED) {
		goto out;
	}
	b = pdu + off + SMB2_HDR_SIZE;
	if (frame_get_le16(b) != SMB2_RW_SIZE) {
		goto out;
	}
	rw.command = cmd;
	rw.length = frame_get_le32(b + 4);
	rw.offset = frame_get_le64(b + 8);
	if (cmd == SMB2_READ) {
		/* After the 16-byte FileId and the u32 MinimumCount. */
		rw.channel = frame_get_le32(b + 36);
		rw.remaining_bytes = frame_get_le32(b + 40);
		ci = frame_get_le16(b + 44);
		ci_len = frame_get_le16(b + 46);
	} else {
		data_off = frame_get_le16(b + 2);
		rw.channel = frame_get_le32(b + 32);
		rw.remaining_bytes = frame_get_le32(b + 36);
		ci = frame_get_le16(b + 40);
		ci_len = frame_get_le16(b + 42);
	}
	switch (rw.channel) {
	case SMB2_CHANNEL_NONE:
		/* Channel info is ignored without a channel. */
		if (cmd == SMB2_WRITE && rw.length > 0) {
			if (data_off < SMB2_HDR_SIZE + SMB2_RW_FIXED ||
			    data_off > end - off ||
			    rw.length > end - off - data_off ||
			    off + data_off > UINT32_MAX) {
				goto out;
			}
			rw.data_offset = (uint32_t)(off + data_off);
			rw.data_length = rw.length;
		}
		break;
	case SMB2_CHANNEL_RDMA_V1:
	case SMB2_CHANNEL_RDMA_V1_INVALIDATE:
		rc = smb2_channel_info(pdu, off, end, ci, ci_len, max_rw, &rw);
		if (rc != 0) {
			goto out;
		}
		break;
	default:
		/* RDMA_TRANSFORM and anything newer: not ours to parse. */
		goto out;
	}
	*out = rw;
	rc = 0;
out:
	return rc;
}
