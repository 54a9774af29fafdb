/* SPDX-License-Identifier: ISC */
/*
 * mini-smbd-smb2.c: see mini-smbd-smb2.h. Layouts are [MS-SMB2] 2.2; the
 * offsets in the comments count from the start of each structure.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "examples/mini-smbd-smb2.h"
#include "proto/frame.h"

#define SMB2_FLAGS_SERVER_TO_REDIR	0x00000001u
#define SMB2_SHARE_TYPE_DISK		0x01
#define FILE_ALL_ACCESS			0x001f01ffu

int
msmb2_parse(const uint8_t *pdu, size_t len, struct msmb2_hdr *out)
{
	if (len < MSMB2_HDR_LEN || memcmp(pdu, "\xfeSMB", 4) != 0 ||
	    frame_get_le16(pdu + 4) != MSMB2_HDR_LEN ||
	    (frame_get_le32(pdu + 16) & SMB2_FLAGS_SERVER_TO_REDIR) != 0) {
		return -EPROTO;
	}
	out->credit_charge = frame_get_le16(pdu + 6);
	out->command = frame_get_le16(pdu + 12);
	out->credit_request = frame_get_le16(pdu + 14);
	out->flags = frame_get_le32(pdu + 16);
	out->next_command = frame_get_le32(pdu + 20);
	out->message_id = frame_get_le64(pdu + 24);
	out->process_id = frame_get_le32(pdu + 32);
	out->tree_id = frame_get_le32(pdu + 36);
	out->session_id = frame_get_le64(pdu + 40);
	return 0;
}

/*
 * The response header: the request's MessageId, ids and CreditCharge
 * echoed, and as many credits as the client asked for (at least one, so
 * it can always send again). A real server bounds the client's credit
 * window ([MS-SMB2] 3.3.1.2); a transport example need not.
 */
static void
rsp_header(const struct msmb2_hdr *req, uint32_t status, uint8_t *out)
{
	memset(out, 0, MSMB2_HDR_LEN);
	memcpy(out, "\xfeSMB", 4);
	frame_put_le16(out + 4, MSMB2_HDR_LEN);
	frame_put_le16(out + 6, req->credit_charge);
	frame_put_le32(out + 8, status);
	frame_put_le16(out + 12, req->command);
	frame_put_le16(out + 14, req->credit_request > 0 ? req->credit_request : 1);
	frame_put_le32(out + 16, SMB2_FLAGS_SERVER_TO_REDIR);
	frame_put_le64(out + 24, req->message_id);
	frame_put_le32(out + 32, req->process_id);
	frame_put_le32(out + 36, req->tree_id);
	frame_put_le64(out + 40, req->session_id);
}

int
msmb2_pick_dialect(const uint8_t *pdu, size_t len, uint16_t *dialect)
{
	const uint8_t *b = pdu + MSMB2_HDR_LEN;
	uint16_t count, d, best = 0;
	unsigned i;

	/* StructureSize 36, DialectCount at 2, Dialects at 36. */
	if (len < MSMB2_HDR_LEN + 36 || frame_get_le16(b) != 36) {
		return -EPROTO;
	}
	count = frame_get_le16(b + 2);
	if (count == 0 || len - MSMB2_HDR_LEN - 36 < (size_t)count * 2) {
		return -EPROTO;
	}
	for (i = 0; i < count; i++) {
		d = frame_get_le16(b + 36 + i * 2);
		if ((d == 0x0300 || d == 0x0302) && d > best) {
			best = d;
		}
	}
	if (best == 0) {
		return -ENOTSUP;
	}
	*dialect = best;
	return 0;
}

size_t
msmb2_error(const struct msmb2_hdr *req, uint32_t status, uint8_t *out)
{
	uint8_t *b = out + MSMB2_HDR_LEN;

	rsp_header(req, status, out);
	/*
	 * StructureSize 9, ErrorContextCount 0, ByteCount 0, and the one
	 * byte of ErrorData the spec requires when ByteCount is 0.
	 */
	memset(b, 0, 9);
	frame_put_le16(b, 9);
	return MSMB2_ERROR_LEN;
}

size_t
msmb2_negotiate(const struct msmb2_hdr *req, uint16_t dialect,
    const uint8_t server_guid[16], uint32_t max_rw, uint64_t filetime,
    uint8_t *out)
{
	uint8_t *b = out + MSMB2_HDR_LEN;

	rsp_header(req, STATUS_SUCCESS, out);
	memset(b, 0, 65);
	frame_put_le16(b, 65);			/* StructureSize */
	frame_put_le16(b + 2, 0x0001);		/* SecurityMode: signing enabled */
	frame_put_le16(b + 4, dialect);		/* DialectRevision */
	memcpy(b + 8, server_guid, 16);	/* ServerGuid */
	/*
	 * Capabilities 0. A real server also sets MULTI_CHANNEL (0x08):
	 * Windows asks FSCTL_QUERY_NETWORK_INTERFACE_INFO only then.
	 */
	frame_put_le32(b + 28, max_rw);		/* MaxTransactSize */
	frame_put_le32(b + 32, max_rw);		/* MaxReadSize */
	frame_put_le32(b + 36, max_rw);		/* MaxWriteSize */
	frame_put_le64(b + 40, filetime);	/* SystemTime */
	/* ServerStartTime 0; the empty security buffer where it would be. */
	frame_put_le16(b + 56, MSMB2_HDR_LEN + 64);
	return MSMB2_NEGOTIATE_LEN;
}

size_t
msmb2_session_setup(const struct msmb2_hdr *req, uint64_t session_id,
    uint8_t *out)
{
	struct msmb2_hdr h = *req;
	uint8_t *b = out + MSMB2_HDR_LEN;

	h.session_id = session_id;
	rsp_header(&h, STATUS_SUCCESS, out);
	memset(b, 0, 9);
	frame_put_le16(b, 9);			/* StructureSize */
	frame_put_le16(b + 4, MSMB2_HDR_LEN + 8);	/* SecurityBufferOffset */
	return MSMB2_SESSION_SETUP_LEN;
}

size_t
msmb2_tree_connect(const struct msmb2_hdr *req, uint32_t tree_id,
    uint8_t *out)
{
	struct msmb2_hdr h = *req;
	uint8_t *b = out + MSMB2_HDR_LEN;

	h.tree_id = tree_id;
	rsp_header(&h, STATUS_SUCCESS, out);
	memset(b, 0, 16);
	frame_put_le16(b, 16);			/* StructureSize */
	b[2] = SMB2_SHARE_TYPE_DISK;
	frame_put_le32(b + 12, FILE_ALL_ACCESS);	/* MaximalAccess */
	return MSMB2_TREE_CONNECT_LEN;
}

size_t
msmb2_empty(const struct msmb2_hdr *req, uint8_t *out)
{
	uint8_t *b = out + MSMB2_HDR_LEN;

	rsp_header(req, STATUS_SUCCESS, out);
	frame_put_le16(b, 4);			/* StructureSize */
	frame_put_le16(b + 2, 0);
	return MSMB2_EMPTY_LEN;
}

int
msmb2_ioctl_parse(const uint8_t *pdu, size_t len, struct msmb2_ioctl *out)
{
	const uint8_t *b = pdu + MSMB2_HDR_LEN;

	/* 56 fixed bytes; Buffer may be empty when there is no input. */
	if (len < MSMB2_HDR_LEN + 56 || frame_get_le16(pdu + 12) != SMB2_IOCTL ||
	    frame_get_le16(b) != 57) {
		return -EPROTO;
	}
	out->ctl_code = frame_get_le32(b + 4);
	memcpy(out->file_id, b + 8, 16);
	out->max_output = frame_get_le32(b + 44);
	return 0;
}

size_t
msmb2_ioctl(const struct msmb2_hdr *req, const struct msmb2_ioctl *io,
    uint32_t output_len, uint8_t *out)
{
	uint8_t *b = out + MSMB2_HDR_LEN;

	rsp_header(req, STATUS_SUCCESS, out);
	memset(b, 0, 48);
	frame_put_le16(b, 49);			/* StructureSize */
	frame_put_le32(b + 4, io->ctl_code);
	memcpy(b + 8, io->file_id, 16);
	/*
	 * [MS-SMB2] 3.3.5.15.11: InputOffset at the Buffer, InputCount 0,
	 * OutputOffset = InputOffset + InputCount rounded up to 8, Flags 0.
	 */
	frame_put_le32(b + 24, MSMB2_IOCTL_OUTPUT_OFF);
	frame_put_le32(b + 32, MSMB2_IOCTL_OUTPUT_OFF);
	frame_put_le32(b + 36, output_len);
	if (output_len == 0) {
		out[MSMB2_IOCTL_OUTPUT_OFF] = 0;	/* Buffer: 1 byte */
		return MSMB2_IOCTL_OUTPUT_OFF + 1;
	}
	return MSMB2_IOCTL_OUTPUT_OFF + output_len;
}

size_t
msmb2_read(const struct msmb2_hdr *req, uint32_t data_len,
    uint32_t remaining, uint8_t *out)
{
	uint8_t *b = out + MSMB2_HDR_LEN;

	rsp_header(req, STATUS_SUCCESS, out);
	memset(b, 0, 16);
	frame_put_le16(b, 17);			/* StructureSize */
	b[2] = MSMB2_READ_DATA_OFF;	/* DataOffset */
	frame_put_le32(b + 4, data_len);		/* DataLength */
	frame_put_le32(b + 8, remaining);	/* DataRemaining */
	if (data_len == 0) {
		/*
		 * No Buffer byte when the data went by RDMA: the Linux
		 * client (fs/smb/client, cifs_readv_receive) counts the RDMA
		 * bytes as read and would leave a pad byte in the stream,
		 * where it corrupts the next response. Windows and ksmbd
		 * send these 80 bytes too.
		 */
		return MSMB2_READ_DATA_OFF;
	}
	return MSMB2_READ_DATA_OFF + data_len;
}

size_t
msmb2_write(const struct msmb2_hdr *req, uint32_t count, uint8_t *out)
{
	uint8_t *b = out + MSMB2_HDR_LEN;

	rsp_header(req, STATUS_SUCCESS, out);
	/* StructureSize says 17; the structure has 16 bytes and no Buffer. */
	memset(b, 0, 16);
	frame_put_le16(b, 17);
	frame_put_le32(b + 4, count);		/* Count */
	return MSMB2_WRITE_LEN;
}

unsigned
msmb2_trim_desc(const struct sdctl_desc *in, unsigned n, uint64_t bytes,
    struct sdctl_desc *out)
{
	unsigned i;

	for (i = 0; i < n && bytes > 0; i++) {
		out[i] = in[i];
		if (out[i].length > bytes) {
			out[i].length = (uint32_t)bytes;
		}
		bytes -= out[i].length;
	}
	return i;
}
