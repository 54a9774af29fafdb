/* SPDX-License-Identifier: ISC */
/*
 * smb2c: the SMB2 client side of sdpeer: just enough SMB2 to negotiate
 * with a chosen ClientGuid, set up a session and a tree, query network
 * interfaces, and READ and WRITE with RDMA_V1 and RDMA_V1_INVALIDATE
 * channels over client buffers registered for remote access. Against
 * mini-smbd the session is anonymous and the file implied; against a
 * real smbd the session is NTLMv2-authenticated, requests are signed or
 * encrypted on request (smb2sec.h), and a CREATE opens the file.
 */
#ifndef SMBDIRECTD_SMB2C_H
#define SMBDIRECTD_SMB2C_H

#include <stdbool.h>
#include <stdint.h>

#include "peer.h"

#define SMB2_NEGOTIATE		0x0000
#define SMB2_SESSION_SETUP	0x0001
#define SMB2_TREE_CONNECT	0x0003
#define SMB2_CREATE		0x0005
#define SMB2_CLOSE		0x0006
#define SMB2_READ		0x0008
#define SMB2_WRITE		0x0009
#define SMB2_IOCTL		0x000b

enum smb2c_channel {
	SMB2C_INLINE = 0,		/* data in the PDU */
	SMB2C_RDMA_V1 = 1,
	SMB2C_RDMA_V1_INVALIDATE = 2,
};

/* Ways to break a request's buffer descriptors (misbehaviour tests). */
enum smb2c_bad {
	SMB2C_BAD_NONE = 0,
	SMB2C_BAD_BEYOND,	/* a descriptor past the registered region */
	SMB2C_BAD_TOKEN,	/* a token nobody registered */
	SMB2C_BAD_TOTAL,	/* more than MaxReadWriteSize in all */
	SMB2C_BAD_COUNT,	/* more descriptors than anyone accepts */
};

/*
 * The client's registered I/O buffer. With RDMA_V1_INVALIDATE the server
 * invalidates the token it was given, so each request gets a fresh one:
 * a type 2 memory window bound over the buffer where the device has them
 * (rxe), else a fresh memory region (siw invalidates those).
 */
struct smb2c {
	struct peer	*p;
	uint64_t	 msg_id;
	uint64_t	 session_id;
	uint32_t	 tree_id;
	uint8_t		*buf;
	size_t		 buf_len;
	struct ibv_mr	*mr;		/* remote read/write, for RDMA_V1 */
	struct ibv_mw	*mw;		/* type 2, or NULL */
	uint32_t	 mw_rkey;	/* its current key */
	struct ibv_mr	*io_mr;		/* per-request MR, or NULL */
	uint32_t	 max_rw;	/* negotiated MaxReadWriteSize */
	uint16_t	 dialect;
	uint64_t	 invalidated;	/* responses that invalidated a token */
	uint64_t	 rdma_bytes;
	uint8_t		 fid[16];	/* FileId of the open (CREATE) */
	bool		 sign;		/* require signing; sign requests */
	bool		 encrypt;	/* encrypt requests (AES-128-CCM) */
	bool		 keys;		/* session keys derived */
	bool		 forge;		/* the next signature is wrong */
	bool		 smb311;	/* offer 3.1.1, with its contexts */
	uint16_t	 cipher;	/* 3.1.1: the server's choice */
	uint8_t		 preauth[64];	/* 3.1.1: the connection's hash */
	uint8_t		 sess_preauth[64];	/* and the session's */
	uint8_t		 sign_key[16];
	uint8_t		 enc_key[16];	/* ServerIn: client to server */
	uint8_t		 dec_key[16];	/* ServerOut */
	uint64_t	 nonce;
	uint64_t	 interim;	/* STATUS_PENDING responses seen */
	uint64_t	 verified;	/* responses whose signature checked */
	uint64_t	 decrypted;	/* responses decrypted */
	uint32_t	 last_status;	/* of the last final response */
	char		 err[256];
};

int	smb2c_init(struct smb2c *, struct peer *, size_t buf_len);
void	smb2c_fini(struct smb2c *);
int	smb2c_negotiate(struct smb2c *, const uint8_t guid[16]);
int	smb2c_session_setup(struct smb2c *);
int	smb2c_session_setup_ntlm(struct smb2c *, const char *user,
	    const char *password);
int	smb2c_tree_connect(struct smb2c *, const char *unc);
int	smb2c_create(struct smb2c *, const char *name);
int	smb2c_close(struct smb2c *);
int	smb2c_query_interfaces(struct smb2c *, unsigned *n_rdma,
	    char *first_addr, size_t len);
int	smb2c_write(struct smb2c *, uint64_t off, const uint8_t *data,
	    uint32_t len, enum smb2c_channel, enum smb2c_bad);
int	smb2c_read(struct smb2c *, uint64_t off, uint8_t *data, uint32_t len,
	    enum smb2c_channel, enum smb2c_bad);

#endif
