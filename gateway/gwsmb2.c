/* SPDX-License-Identifier: ISC */
/*
 * gwsmb2.c: see gwsmb2.h. Offsets are [MS-SMB2] 2.2.1 (the sync header),
 * 2.2.19-2.2.22 (READ and WRITE), 2.2.2 (ERROR), 2.2.28 (ECHO).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "gwsmb2.h"

void
gw_set_next(uint8_t *hdr, uint32_t next)
{
	frame_put_le32(hdr + 20, next);
}

int
gw_chain_parse(const uint8_t *pdu, size_t len, struct gw_chain *out)
{
	struct gw_chain c;
	size_t off = 0;
	uint32_t next;

	memset(&c, 0, sizeof(c));
	if (len >= 4 && pdu[0] == 0xfd && pdu[1] == 'S' && pdu[2] == 'M' &&
	    pdu[3] == 'B') {
		c.encrypted = true;
		*out = c;
		return 0;
	}
	for (;;) {
		const uint8_t *h = pdu + off;
		struct gw_cmd *k;

		if (len - off < GW_HDR || h[0] != 0xfe || h[1] != 'S' ||
		    h[2] != 'M' || h[3] != 'B' || frame_get_le16(h + 4) != GW_HDR) {
			return -EPROTO;
		}
		if (c.n == GW_MAX_CHAIN) {
			return -E2BIG;
		}
		k = &c.cmd[c.n++];
		k->off = off;
		k->command = frame_get_le16(h + 12);
		k->credit_charge = frame_get_le16(h + 6);
		k->status = frame_get_le32(h + 8);
		k->flags = frame_get_le32(h + 16);
		k->msg_id = frame_get_le64(h + 24);
		next = frame_get_le32(h + 20);
		if (next == 0) {
			k->len = len - off;
			break;
		}
		if (next < GW_HDR || (next & 7) != 0 || next > len - off) {
			return -EPROTO;
		}
		k->len = next;
		off += next;
	}
	*out = c;
	return 0;
}

void
gw_read_req_strip(uint8_t *cmd, size_t len)
{
	uint8_t *b = cmd + GW_HDR;
	uint16_t ci = frame_get_le16(b + 44), ci_len = frame_get_le16(b + 46);

	/* The caller parsed it, so ci..ci+ci_len lies within @len. */
	if (ci >= GW_HDR + 48 && (size_t)ci + ci_len <= len) {
		memset(cmd + ci, 0, ci_len);
	}
	frame_put_le32(b + 36, 0);	/* Channel */
	frame_put_le32(b + 40, 0);	/* RemainingBytes */
	frame_put_le16(b + 44, 0);	/* ReadChannelInfoOffset */
	frame_put_le16(b + 46, 0);	/* ReadChannelInfoLength */
}

size_t
gw_write_req_plain(const uint8_t *cmd, uint32_t data_len,
    uint8_t out[GW_WRITE_REQ_LEN])
{
	uint8_t *b = out + GW_HDR;

	memcpy(out, cmd, GW_WRITE_REQ_LEN);
	gw_set_next(out, 0);
	frame_put_le16(b + 2, GW_WRITE_REQ_LEN);	/* DataOffset */
	frame_put_le32(b + 4, data_len);		/* Length */
	frame_put_le32(b + 32, 0);		/* Channel */
	frame_put_le32(b + 36, 0);		/* RemainingBytes */
	frame_put_le16(b + 40, 0);		/* WriteChannelInfoOffset */
	frame_put_le16(b + 42, 0);		/* WriteChannelInfoLength */
	return GW_WRITE_REQ_LEN;
}

int
gw_read_resp_data(const uint8_t *cmd, size_t len, uint32_t *off,
    uint32_t *n)
{
	uint32_t o, l;

	if (len < GW_HDR + 16 || frame_get_le16(cmd + GW_HDR) != 17) {
		return -EPROTO;
	}
	o = cmd[GW_HDR + 2];
	l = frame_get_le32(cmd + GW_HDR + 4);
	if (l > 0 && (o < GW_HDR + 16 || o > len || l > len - o)) {
		return -EPROTO;
	}
	*off = o;
	*n = l;
	return 0;
}

size_t
gw_read_resp_rdma(const uint8_t *resp_hdr, uint32_t bytes,
    uint8_t out[GW_READ_RESP_RDMA_LEN])
{
	uint8_t *b = out + GW_HDR;

	memcpy(out, resp_hdr, GW_HDR);
	gw_set_next(out, 0);
	memset(b, 0, 16);
	frame_put_le16(b, 17);			/* StructureSize, as the spec says */
	b[2] = 0x50;			/* DataOffset: right after the body */
	frame_put_le32(b + 4, 0);		/* DataLength: none inline */
	frame_put_le32(b + 8, bytes);		/* DataRemaining: sent by RDMA */
	return GW_HDR;
}

size_t
gw_echo_for(const uint8_t *req, uint8_t out[GW_ECHO_REQ_LEN])
{
	memset(out, 0, GW_ECHO_REQ_LEN);
	memcpy(out, req, 8);		/* ProtocolId, size, CreditCharge */
	frame_put_le16(out + 12, GW_CMD_ECHO);
	memcpy(out + 14, req + 14, 2);	/* CreditRequest */
	memcpy(out + 24, req + 24, 8);	/* MessageId */
	frame_put_le16(out + GW_HDR, 4);		/* ECHO StructureSize */
	return GW_ECHO_COPIED;
}

size_t
gw_error_resp(const uint8_t *req_hdr, uint32_t status, uint16_t credits,
    uint8_t out[GW_ERROR_RESP_LEN])
{
	memset(out, 0, GW_ERROR_RESP_LEN);
	memcpy(out, req_hdr, GW_HDR);
	memset(out + 48, 0, 16);	/* no signature: we hold no key */
	frame_put_le32(out + 8, status);
	frame_put_le16(out + 14, credits);
	frame_put_le32(out + 16, (frame_get_le32(req_hdr + 16) & GW_FLAG_RELATED) |
	    GW_FLAG_RESPONSE);
	gw_set_next(out, 0);
	frame_put_le16(out + GW_HDR, 9);		/* ERROR StructureSize */
	return GW_HDR;
}
