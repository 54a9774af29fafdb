/* SPDX-License-Identifier: ISC */
/*
 * gwsmb2: the SMB2 the gateway reads and rewrites ([MS-SMB2] 2.2): compound
 * chains, READ/WRITE requests with RDMA channels turned into plain ones,
 * READ responses turned into RDMA ones, and the error responses the
 * gateway answers itself. Pure functions: no I/O, no allocation.
 */
#ifndef SMBDIRECTD_GWSMB2_H
#define SMBDIRECTD_GWSMB2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define GW_HDR			64
#define GW_MAX_CHAIN		32
#define GW_CMD_ECHO		0x000d
#define GW_CMD_READ		0x0008
#define GW_CMD_WRITE		0x0009
#define GW_FLAG_RESPONSE	0x00000001u
#define GW_FLAG_ASYNC		0x00000002u
#define GW_FLAG_RELATED		0x00000004u
#define GW_FLAG_SIGNED		0x00000008u
#define GW_STATUS_PENDING	0x00000103u
#define GW_STATUS_NOT_SUPPORTED	0xc00000bbu
/* A rewritten WRITE request: header and fixed body, data follows. */
#define GW_WRITE_REQ_LEN	(GW_HDR + 48)
/*
 * A READ response for data sent by RDMA: header and the 16-byte body, no
 * Buffer byte. The Linux client counts the RDMA bytes as read and would
 * leave a pad byte in the stream, corrupting the next response (Windows
 * and ksmbd send 80 bytes as well).
 */
#define GW_READ_RESP_RDMA_LEN	(GW_HDR + 16)
/* An error response: header and the 9-byte ERROR body. */
#define GW_ERROR_RESP_LEN	(GW_HDR + 9)
/* An ECHO request (StructureSize 4). */
#define GW_ECHO_REQ_LEN		(GW_HDR + 4)

/* One command of a compound chain. */
struct gw_cmd {
	size_t		off;		/* of its header in the PDU */
	size_t		len;		/* up to the next one (or the end) */
	uint16_t	command;
	uint16_t	credit_charge;
	uint32_t	flags;
	uint32_t	status;		/* responses */
	uint64_t	msg_id;
};

struct gw_chain {
	struct gw_cmd	cmd[GW_MAX_CHAIN];
	unsigned	n;
	bool		encrypted;	/* a TRANSFORM header: opaque */
};

/*
 * gw_chain_parse() - split a PDU into its commands.
 * Return: 0; -EPROTO for anything malformed (the caller then relays the
 * PDU untouched and lets the SMB server judge it); -E2BIG for chains
 * longer than GW_MAX_CHAIN. An encrypted PDU (TRANSFORM header) returns 0
 * with encrypted set and no commands.
 */
int	gw_chain_parse(const uint8_t *pdu, size_t len, struct gw_chain *out);

/*
 * gw_read_req_strip() - make a READ request with an RDMA channel plain:
 * Channel, RemainingBytes and the channel info fields become 0 and the
 * channel info bytes are zeroed. In place; the command keeps its length.
 */
void	gw_read_req_strip(uint8_t *cmd, size_t len);

/*
 * gw_write_req_plain() - the header and fixed body of a plain WRITE of
 * @data_len bytes that follow at DataOffset 112, from the RDMA WRITE
 * request at @cmd. NextCommand is 0; the caller sets it in a chain.
 * Return: the bytes copied from @cmd (GW_WRITE_REQ_LEN), for the copy
 * counters (relay.h).
 */
size_t	gw_write_req_plain(const uint8_t *cmd, uint32_t data_len,
	    uint8_t out[GW_WRITE_REQ_LEN]);

/*
 * gw_read_resp_rdma() - the READ response the client gets when the data
 * went by RDMA WRITE ([MS-SMB2] 3.3.5.12): the backend's header, DataOffset
 * 0x50, DataLength 0, DataRemaining @bytes. NextCommand is 0.
 * Return: the bytes copied from @resp_hdr (GW_HDR).
 */
size_t	gw_read_resp_rdma(const uint8_t *resp_hdr, uint32_t bytes,
	    uint8_t out[GW_READ_RESP_RDMA_LEN]);

/* A READ response's data: offset from its header and length. */
int	gw_read_resp_data(const uint8_t *cmd, size_t len, uint32_t *off,
	    uint32_t *n);

/*
 * gw_echo_for() - an ECHO with the MessageId, CreditCharge and
 * CreditRequest of the request at @req, unsigned and outside any session,
 * so that the SMB server still sees (and grants credits for) that id.
 * Return: the bytes copied from @req (GW_ECHO_COPIED).
 */
#define GW_ECHO_COPIED	18	/* ProtocolId..CreditCharge, CreditRequest,
				   MessageId */
size_t	gw_echo_for(const uint8_t *req, uint8_t out[GW_ECHO_REQ_LEN]);

/*
 * gw_error_resp() - an error response to @req_hdr's command with @status,
 * granting @credits (taken from the SMB server's answer to the ECHO).
 * Return: the bytes copied from @req_hdr (GW_HDR).
 */
size_t	gw_error_resp(const uint8_t *req_hdr, uint32_t status,
	    uint16_t credits, uint8_t out[GW_ERROR_RESP_LEN]);

/* Set a command's NextCommand field. */
void	gw_set_next(uint8_t *hdr, uint32_t next);

#endif
