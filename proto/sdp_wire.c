/* SPDX-License-Identifier: ISC */
/*
 * sdp_wire.c: [MS-SMBD] 2.2 message layouts, little-endian, byte by byte.
 *
 * Encoders write fields verbatim and decoders read them verbatim: policy
 * (which values are acceptable) lives in the engine and in
 * sdp_data_hdr_check(), so a test peer can put any value on the wire.
 * Reserved fields and padding are always written as zero and ignored on
 * read. Nothing here assumes the buffer is aligned.
 */
#include "config.h"

#include <string.h>

#include "frame.h"
#include "sdp.h"

int
sdp_neg_req_encode(const struct sdp_neg_req *r, uint8_t *buf, size_t len)
{
	if (len < SDP_NEG_REQ_SIZE) {
		return SDP_ERR_BUFSIZE;
	}
	frame_put_le16(buf + 0, r->min_version);
	frame_put_le16(buf + 2, r->max_version);
	frame_put_le16(buf + 4, 0);
	frame_put_le16(buf + 6, r->credits_requested);
	frame_put_le32(buf + 8, r->preferred_send_size);
	frame_put_le32(buf + 12, r->max_receive_size);
	frame_put_le32(buf + 16, r->max_fragmented_size);
	return SDP_NEG_REQ_SIZE;
}

int
sdp_neg_req_decode(const uint8_t *buf, size_t len, struct sdp_neg_req *out)
{
	if (len < SDP_NEG_REQ_SIZE) {
		return SDP_ERR_NEG_SHORT;
	}
	out->min_version = frame_get_le16(buf + 0);
	out->max_version = frame_get_le16(buf + 2);
	out->credits_requested = frame_get_le16(buf + 6);
	out->preferred_send_size = frame_get_le32(buf + 8);
	out->max_receive_size = frame_get_le32(buf + 12);
	out->max_fragmented_size = frame_get_le32(buf + 16);
	return 0;
}

int
sdp_neg_resp_encode(const struct sdp_neg_resp *r, uint8_t *buf, size_t len)
{
	if (len < SDP_NEG_RESP_SIZE) {
		return SDP_ERR_BUFSIZE;
	}
	frame_put_le16(buf + 0, r->min_version);
	frame_put_le16(buf + 2, r->max_version);
	frame_put_le16(buf + 4, r->negotiated_version);
	frame_put_le16(buf + 6, 0);
	frame_put_le16(buf + 8, r->credits_requested);
	frame_put_le16(buf + 10, r->credits_granted);
	frame_put_le32(buf + 12, r->status);
	frame_put_le32(buf + 16, r->max_read_write_size);
	frame_put_le32(buf + 20, r->preferred_send_size);
	frame_put_le32(buf + 24, r->max_receive_size);
	frame_put_le32(buf + 28, r->max_fragmented_size);
	return SDP_NEG_RESP_SIZE;
}

int
sdp_neg_resp_decode(const uint8_t *buf, size_t len, struct sdp_neg_resp *out)
{
	if (len < SDP_NEG_RESP_SIZE) {
		return SDP_ERR_NEG_SHORT;
	}
	out->min_version = frame_get_le16(buf + 0);
	out->max_version = frame_get_le16(buf + 2);
	out->negotiated_version = frame_get_le16(buf + 4);
	out->credits_requested = frame_get_le16(buf + 8);
	out->credits_granted = frame_get_le16(buf + 10);
	out->status = frame_get_le32(buf + 12);
	out->max_read_write_size = frame_get_le32(buf + 16);
	out->preferred_send_size = frame_get_le32(buf + 20);
	out->max_receive_size = frame_get_le32(buf + 24);
	out->max_fragmented_size = frame_get_le32(buf + 28);
	return 0;
}

int
sdp_data_hdr_encode(const struct sdp_data_hdr *h, uint8_t *buf, size_t len)
{
	size_t n = SDP_DATA_HDR_SIZE;

	/* With payload, the padding up to DataOffset belongs to the header. */
	if (h->data_length > 0 && h->data_offset > SDP_DATA_HDR_SIZE) {
		n = h->data_offset;
	}
	if (len < n) {
		return SDP_ERR_BUFSIZE;
	}
	frame_put_le16(buf + 0, h->credits_requested);
	frame_put_le16(buf + 2, h->credits_granted);
	frame_put_le16(buf + 4, h->flags);
	frame_put_le16(buf + 6, 0);
	frame_put_le32(buf + 8, h->remaining_data_length);
	frame_put_le32(buf + 12, h->data_offset);
	frame_put_le32(buf + 16, h->data_length);
	memset(buf + SDP_DATA_HDR_SIZE, 0, n - SDP_DATA_HDR_SIZE);
	return (int)n;
}

int
sdp_data_hdr_decode(const uint8_t *buf, size_t len, struct sdp_data_hdr *out)
{
	if (len < SDP_DATA_HDR_SIZE) {
		return SDP_ERR_RX_SHORT;
	}
	out->credits_requested = frame_get_le16(buf + 0);
	out->credits_granted = frame_get_le16(buf + 2);
	out->flags = frame_get_le16(buf + 4);
	out->remaining_data_length = frame_get_le32(buf + 8);
	out->data_offset = frame_get_le32(buf + 12);
	out->data_length = frame_get_le32(buf + 16);
	return 0;
}

int
sdp_data_hdr_check(const struct sdp_data_hdr *h, size_t msg_len,
    uint32_t max_frag)
{
	/* 64-bit sums: two u32 fields cannot overflow them. */
	uint64_t end = (uint64_t)h->data_offset + h->data_length;
	uint64_t total = (uint64_t)h->data_length + h->remaining_data_length;
	int rc = 0;

	if (h->credits_requested == 0) {
		rc = SDP_ERR_RX_CREDITS_REQUESTED;
	} else if (h->data_offset % 8 != 0) {
		rc = SDP_ERR_RX_DATA_OFFSET_ALIGN;
	} else if (h->data_length > 0 &&
	    h->data_offset < SDP_DATA_HDR_SIZE) {
		/* Not in the spec's list, but such payload would be header. */
		rc = SDP_ERR_RX_DATA_OFFSET_HEADER;
	} else if (end > msg_len) {
		rc = SDP_ERR_RX_DATA_BEYOND;
	} else if (total > max_frag) {
		rc = SDP_ERR_RX_FRAGMENTED_SIZE;
	}
	return rc;
}
