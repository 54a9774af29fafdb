/* SPDX-License-Identifier: ISC */
/*
 * mini-smbd-smb2: the few SMB2 responses mini-smbd sends ([MS-SMB2] 2.2),
 * as pure functions: bytes in, bytes out, no I/O. The prefix is msmb2_
 * ("mini-smbd SMB2"). libsmbdirect-ctl parses what an smbd needs before
 * it knows who owns a client (ClientGuid, READ/WRITE channel info); these
 * are the rest, and a real smbd already has them.
 *
 * Every encoder writes a whole response PDU (the 64-byte SMB2 header and
 * the body) into @out, which must hold the size named next to it, and
 * returns the PDU's length. All integers on the wire are little-endian.
 */
#ifndef MINI_SMBD_SMB2_H
#define MINI_SMBD_SMB2_H

#include <stddef.h>
#include <stdint.h>

#include "libclient/smbdirect-ctl.h"

#define MSMB2_HDR_LEN			64

#define SMB2_NEGOTIATE			0x0000
#define SMB2_SESSION_SETUP		0x0001
#define SMB2_LOGOFF			0x0002
#define SMB2_TREE_CONNECT		0x0003
#define SMB2_TREE_DISCONNECT		0x0004
#define SMB2_READ			0x0008
#define SMB2_WRITE			0x0009
#define SMB2_IOCTL			0x000b
#define SMB2_CANCEL			0x000c
#define SMB2_ECHO			0x000d

#define STATUS_SUCCESS			0x00000000u
#define STATUS_INVALID_PARAMETER	0xc000000du
#define STATUS_END_OF_FILE		0xc0000011u
#define STATUS_BUFFER_TOO_SMALL		0xc0000023u
#define STATUS_DISK_FULL		0xc000007fu
#define STATUS_NOT_SUPPORTED		0xc00000bbu

#define FSCTL_QUERY_NETWORK_INTERFACE_INFO	0x001401fcu

/* The request header fields a response echoes or acts on. */
struct msmb2_hdr {
	uint16_t	credit_charge;
	uint16_t	command;
	uint16_t	credit_request;
	uint32_t	flags;
	uint32_t	next_command;	/* non-zero: a compound */
	uint64_t	message_id;
	uint32_t	process_id;	/* "Reserved" in sync requests */
	uint32_t	tree_id;
	uint64_t	session_id;
};

/*
 * msmb2_parse() - the SMB2 header of a request.
 * Return: 0; -EPROTO (shorter than a header, not 0xFE 'SMB', StructureSize
 * not 64, or a response).
 */
int	msmb2_parse(const uint8_t *pdu, size_t len, struct msmb2_hdr *out);

/*
 * msmb2_pick_dialect() - the dialect to answer a NEGOTIATE request with:
 * 3.0.2 if offered, else 3.0. SMB Direct needs 3.0 or later, and 3.1.1
 * needs negotiate contexts this example does not build.
 * Return: 0; -ENOTSUP (neither offered); -EPROTO (malformed).
 */
int	msmb2_pick_dialect(const uint8_t *pdu, size_t len, uint16_t *dialect);

/* An error response: the 9-byte error body, no error data. */
#define MSMB2_ERROR_LEN		(MSMB2_HDR_LEN + 9)
size_t	msmb2_error(const struct msmb2_hdr *req, uint32_t status,
	    uint8_t *out);

/* NEGOTIATE: @max_rw as MaxTransact/Read/WriteSize, no security buffer. */
#define MSMB2_NEGOTIATE_LEN	(MSMB2_HDR_LEN + 65)
size_t	msmb2_negotiate(const struct msmb2_hdr *req, uint16_t dialect,
	    const uint8_t server_guid[16], uint32_t max_rw, uint64_t filetime,
	    uint8_t *out);

/* SESSION_SETUP: success, no security buffer, the new @session_id. */
#define MSMB2_SESSION_SETUP_LEN	(MSMB2_HDR_LEN + 9)
size_t	msmb2_session_setup(const struct msmb2_hdr *req, uint64_t session_id,
	    uint8_t *out);

/* TREE_CONNECT: success, a disk share, @tree_id. */
#define MSMB2_TREE_CONNECT_LEN	(MSMB2_HDR_LEN + 16)
size_t	msmb2_tree_connect(const struct msmb2_hdr *req, uint32_t tree_id,
	    uint8_t *out);

/* ECHO, LOGOFF, TREE_DISCONNECT: success with the 4-byte body. */
#define MSMB2_EMPTY_LEN		(MSMB2_HDR_LEN + 4)
size_t	msmb2_empty(const struct msmb2_hdr *req, uint8_t *out);

/* The fields of an IOCTL request a response needs. */
struct msmb2_ioctl {
	uint32_t	ctl_code;
	uint8_t		file_id[16];
	uint32_t	max_output;	/* MaxOutputResponse */
};

/*
 * msmb2_ioctl_parse() - an IOCTL request.
 * Return: 0; -EPROTO (not an IOCTL of StructureSize 57, or truncated).
 */
int	msmb2_ioctl_parse(const uint8_t *pdu, size_t len,
	    struct msmb2_ioctl *out);

/*
 * IOCTL response header and fixed part; the caller puts @output_len bytes
 * of output at MSMB2_IOCTL_OUTPUT_OFF (8-aligned, right after the fixed
 * part: InputCount is 0). The PDU is MSMB2_IOCTL_OUTPUT_OFF + @output_len
 * long, or + 1 (the 1-byte Buffer) when @output_len is 0.
 */
#define MSMB2_IOCTL_OUTPUT_OFF	(MSMB2_HDR_LEN + 48)
size_t	msmb2_ioctl(const struct msmb2_hdr *req, const struct msmb2_ioctl *io,
	    uint32_t output_len, uint8_t *out);

/*
 * READ response. Inline (@data_len > 0): the caller puts the data at
 * MSMB2_READ_DATA_OFF; the PDU is MSMB2_READ_DATA_OFF + @data_len long.
 * Over RDMA: @data_len 0 and @remaining the bytes the RDMA WRITEs carried
 * ([MS-SMB2] 2.2.20: DataRemaining is "the data being sent on the
 * Channel"); the PDU is MSMB2_READ_DATA_OFF + 1 (the 1-byte Buffer).
 */
#define MSMB2_READ_DATA_OFF	(MSMB2_HDR_LEN + 16)
size_t	msmb2_read(const struct msmb2_hdr *req, uint32_t data_len,
	    uint32_t remaining, uint8_t *out);

/* WRITE response: @count bytes written. */
#define MSMB2_WRITE_LEN		(MSMB2_HDR_LEN + 16)
size_t	msmb2_write(const struct msmb2_hdr *req, uint32_t count,
	    uint8_t *out);

/*
 * msmb2_trim_desc() - the first @bytes of a descriptor list: copies @in to
 * @out (room for @n), shortening or dropping descriptors past @bytes.
 * Return: how many descriptors @out holds (0 if @bytes is 0).
 */
unsigned	msmb2_trim_desc(const struct sdctl_desc *in, unsigned n,
		    uint64_t bytes, struct sdctl_desc *out);

#endif
