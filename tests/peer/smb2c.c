/* SPDX-License-Identifier: ISC */
/*
 * smb2c.c: see smb2c.h. Layouts are [MS-SMB2] 2.2.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/frame.h"
#include "smb2c.h"
#include "smb2sec.h"

#define HDR		64
#define STATUS_OK	0x00000000u
#define STATUS_PENDING	0x00000103u
#define STATUS_MORE_PROCESSING_REQUIRED 0xc0000016u
#define SMB2_FLAGS_ASYNC 0x00000002u

/* Replace the transformed response *q by its plaintext. */
static int
decrypt_pdu(struct smb2c *s, struct peer_pdu **q)
{
	struct peer_pdu *p;
	size_t n = 0;
	int rc;

	if (!s->keys || !s->encrypt) {
		snprintf(s->err, sizeof(s->err), "an encrypted response in a "
		    "session that did not ask for encryption");
		return -EPROTO;
	}
	p = malloc(sizeof(*p) + (*q)->len);
	if (p == NULL) {
		return -ENOMEM;
	}
	rc = smb3_decrypt(s->dec_key, (*q)->data, (*q)->len, p->data, &n);
	if (rc != 0) {
		snprintf(s->err, sizeof(s->err), "a response that does not "
		    "decrypt (%s)", rc == -EBADMSG ? "bad tag" : "malformed");
		free(p);
		return rc;
	}
	p->next = NULL;
	p->len = n;
	free(*q);
	*q = p;
	s->decrypted++;
	return 0;
}

/*
 * In a signed session every successful response must be signed, and
 * correctly; an error response may come unsigned (smbd answers a request
 * whose own signature failed with an unsigned ACCESS_DENIED).
 */
static int
check_signature(struct smb2c *s, const struct peer_pdu *q, uint16_t cmd,
    uint32_t status)
{
	bool signed_ = (frame_get_le32(q->data + 16) & SMB2_FLAGS_SIGNED) != 0;

	if (!s->keys || s->encrypt || cmd == SMB2_NEGOTIATE ||
	    (cmd == SMB2_SESSION_SETUP && status != STATUS_OK)) {
		return 0;
	}
	if (signed_) {
		if (!smb3_verify(s->sign_key, q->data, q->len)) {
			snprintf(s->err, sizeof(s->err), "the response to "
			    "command %u has a wrong signature", cmd);
			return -EBADMSG;
		}
		s->verified++;
		return 0;
	}
	if (s->sign && status == STATUS_OK) {
		snprintf(s->err, sizeof(s->err), "an unsigned response to "
		    "command %u in a signed session", cmd);
		return -EBADMSG;
	}
	return 0;
}

static void
header(struct smb2c *s, uint8_t *b, uint16_t cmd, uint16_t charge)
{
	memset(b, 0, HDR);
	b[0] = 0xfe;
	b[1] = 'S';
	b[2] = 'M';
	b[3] = 'B';
	frame_put_le16(b + 4, 64);
	frame_put_le16(b + 6, charge);
	frame_put_le16(b + 12, cmd);
	frame_put_le16(b + 14, 64);		/* CreditRequest */
	frame_put_le64(b + 24, s->msg_id);
	frame_put_le32(b + 36, s->tree_id);
	frame_put_le64(b + 40, s->session_id);
	s->msg_id += charge > 0 ? charge : 1;
}

/*
 * Send @req, signed or encrypted once the session has keys, and wait for
 * the final response to it: interim responses (STATUS_PENDING, async)
 * are counted and skipped. Decrypts a transformed response, checks the
 * response header (ProtocolId, response flag, command, MessageId) and
 * the signature of a signed one, and returns its status in @status; the
 * caller frees *out.
 */
static int
transact(struct smb2c *s, uint8_t *req, size_t len, struct peer_pdu **out,
    uint32_t *status)
{
	struct peer_pdu *q = NULL;
	uint64_t mid = frame_get_le64(req + 24);
	uint16_t cmd = frame_get_le16(req + 12);
	bool secure = s->keys && cmd != SMB2_NEGOTIATE &&
	    cmd != SMB2_SESSION_SETUP;
	uint8_t *wire = NULL;
	uint32_t flags;
	int rc;

	if (secure && s->encrypt) {
		uint8_t nonce[11] = { 0 };

		wire = malloc(len + SMB2_TRANSFORM_LEN);
		if (wire == NULL) {
			return -ENOMEM;
		}
		s->nonce++;
		frame_put_le64(nonce, s->nonce);
		smb3_encrypt(s->enc_key, nonce, s->session_id, req, len, wire);
		rc = peer_send(s->p, wire, len + SMB2_TRANSFORM_LEN);
		free(wire);
	} else {
		if (secure && s->sign) {
			smb3_sign(s->sign_key, req, len);
			if (s->forge) {
				req[SMB2_SIG_OFF + 3] ^= 0x5a;
				s->forge = false;
			}
		}
		rc = peer_send(s->p, req, len);
	}
	if (rc != 0) {
		snprintf(s->err, sizeof(s->err), "send: %s", strerror(-rc));
		return rc;
	}
	for (;;) {
		rc = peer_recv(s->p, &q);
		if (rc != 0) {
			snprintf(s->err, sizeof(s->err), "no response to "
			    "command %u: %s", cmd, s->p->why[0] != '\0' ?
			    s->p->why : strerror(-rc));
			return rc;
		}
		if (q->len >= 4 && q->data[0] == 0xfd) {
			rc = decrypt_pdu(s, &q);
			if (rc != 0) {
				free(q);
				return rc;
			}
		} else if (secure && s->encrypt) {
			snprintf(s->err, sizeof(s->err), "an unencrypted "
			    "response to an encrypted command %u", cmd);
			free(q);
			return -EPROTO;
		}
		if (q->len < HDR + 2 || memcmp(q->data, "\xfeSMB", 4) != 0 ||
		    !(frame_get_le32(q->data + 16) & 1) ||
		    frame_get_le16(q->data + 12) != cmd ||
		    frame_get_le64(q->data + 24) != mid) {
			snprintf(s->err, sizeof(s->err), "bad response to "
			    "command %u (%zu bytes)", cmd, q->len);
			free(q);
			return -EPROTO;
		}
		*status = frame_get_le32(q->data + 8);
		flags = frame_get_le32(q->data + 16);
		if (*status == STATUS_PENDING && (flags & SMB2_FLAGS_ASYNC)) {
			s->interim++;
			free(q);
			continue;
		}
		break;
	}
	s->last_status = *status;
	rc = check_signature(s, q, cmd, *status);
	if (rc != 0) {
		free(q);
		return rc;
	}
	*out = q;
	return 0;
}

int
smb2c_init(struct smb2c *s, struct peer *p, size_t buf_len)
{
	memset(s, 0, sizeof(*s));
	s->p = p;
	s->buf_len = buf_len;
	memset(s->fid, 0x11, sizeof(s->fid));	/* mini-smbd's implied file */
	s->buf = aligned_alloc(4096, (buf_len + 4095) & ~(size_t)4095);
	if (s->buf == NULL) {
		return -ENOMEM;
	}
	s->mr = ibv_reg_mr(p->pd, s->buf, buf_len, IBV_ACCESS_LOCAL_WRITE |
	    IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE |
	    IBV_ACCESS_MW_BIND);
	if (s->mr == NULL) {
		/* Devices without memory windows refuse MW_BIND. */
		s->mr = ibv_reg_mr(p->pd, s->buf, buf_len,
		    IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
		    IBV_ACCESS_REMOTE_WRITE);
	} else {
		s->mw = ibv_alloc_mw(p->pd, IBV_MW_TYPE_2);
	}
	if (s->mr == NULL) {
		return -errno;
	}
	return 0;
}

void
smb2c_fini(struct smb2c *s)
{
	if (s->io_mr != NULL) {
		ibv_dereg_mr(s->io_mr);
	}
	if (s->mw != NULL) {
		ibv_dealloc_mw(s->mw);
	}
	if (s->mr != NULL) {
		ibv_dereg_mr(s->mr);
	}
	free(s->buf);
}

/*
 * SMB 3.1.1's negotiate contexts ([MS-SMB2] 2.2.3.1), 8-byte aligned from
 * the header, into zeroed @b: preauth integrity with SHA-512 and a fresh
 * salt, and AES-128-CCM as the only cipher.
 */
static size_t
negotiate_contexts(uint8_t *b, size_t off)
{
	off = (off + 7) & ~(size_t)7;
	frame_put_le16(b + off, 1);		/* PREAUTH_INTEGRITY */
	frame_put_le16(b + off + 2, 38);
	frame_put_le16(b + off + 8, 1);		/* HashAlgorithmCount */
	frame_put_le16(b + off + 10, 32);	/* SaltLength */
	frame_put_le16(b + off + 12, 1);	/* SHA-512 */
	if (getentropy(b + off + 14, 32) != 0) {
		memset(b + off + 14, 0x5c, 32);
	}
	off = (off + 8 + 38 + 7) & ~(size_t)7;
	frame_put_le16(b + off, 2);		/* ENCRYPTION */
	frame_put_le16(b + off + 2, 4);
	frame_put_le16(b + off + 8, 1);		/* CipherCount */
	frame_put_le16(b + off + 10, 1);	/* AES-128-CCM */
	return off + 8 + 4;
}

/* The server's contexts: SHA-512 preauth is required, a cipher noted. */
static int
negotiate_response_contexts(struct smb2c *s, const struct peer_pdu *q)
{
	uint32_t off = frame_get_le32(q->data + HDR + 60);
	unsigned n = frame_get_le16(q->data + HDR + 6), i;
	bool preauth = false;

	for (i = 0; i < n; i++) {
		uint16_t type, len;

		off = (off + 7) & ~7u;
		if (off > q->len || q->len - off < 8) {
			break;
		}
		type = frame_get_le16(q->data + off);
		len = frame_get_le16(q->data + off + 2);
		if (len > q->len - off - 8) {
			break;
		}
		if (type == 1 && len >= 6 &&
		    frame_get_le16(q->data + off + 12) == 1) {
			preauth = true;
		} else if (type == 2 && len >= 4) {
			s->cipher = frame_get_le16(q->data + off + 10);
		}
		off += 8 + len;
	}
	if (!preauth) {
		snprintf(s->err, sizeof(s->err), "NEGOTIATE 3.1.1: no SHA-512 "
		    "preauth integrity context in the response");
		return -EPROTO;
	}
	return 0;
}

int
smb2c_negotiate(struct smb2c *s, const uint8_t guid[16])
{
	uint8_t b[256];		/* 172 bytes with the contexts */
	struct peer_pdu *q = NULL;
	size_t len = HDR + 36 + 4;
	uint32_t st;
	int rc;

	memset(b, 0, sizeof(b));	/* padding before contexts included */
	header(s, b, SMB2_NEGOTIATE, 0);
	frame_put_le16(b + HDR, 36);		/* StructureSize */
	frame_put_le16(b + HDR + 2, s->smb311 ? 3 : 2);	/* DialectCount */
	/* SecurityMode: signing enabled, and required on request */
	frame_put_le16(b + HDR + 4, s->sign ? 3 : 1);
	/* Capabilities: SMB2_GLOBAL_CAP_ENCRYPTION on request */
	frame_put_le32(b + HDR + 8, s->encrypt ? 0x40 : 0);
	memcpy(b + HDR + 12, guid, 16);	/* ClientGuid */
	frame_put_le16(b + HDR + 36, 0x0300);
	frame_put_le16(b + HDR + 38, 0x0302);
	if (s->smb311) {
		frame_put_le16(b + HDR + 40, 0x0311);
		len = negotiate_contexts(b, HDR + 36 + 6);
		/* NegotiateContextOffset and Count */
		frame_put_le32(b + HDR + 28, (uint32_t)((HDR + 36 + 6 + 7) &
		    ~7u));
		frame_put_le16(b + HDR + 32, 2);
		/* The preauth hash starts with 64 zero bytes. */
		memset(s->preauth, 0, sizeof(s->preauth));
		smb3_preauth_update(s->preauth, b, len);
	}
	rc = transact(s, b, len, &q, &st);
	if (rc != 0) {
		return rc;
	}
	if (st != STATUS_OK || q->len < HDR + 65) {
		snprintf(s->err, sizeof(s->err), "NEGOTIATE: status %#x, %zu "
		    "bytes", st, q->len);
		rc = -EPROTO;
	} else {
		s->dialect = frame_get_le16(q->data + HDR + 4);
		s->max_rw = frame_get_le32(q->data + HDR
		    + 32);	/* MaxReadSize */
		if (s->dialect == 0x0311) {
			smb3_preauth_update(s->preauth, q->data, q->len);
			rc = negotiate_response_contexts(s, q);
		}
	}
	free(q);
	return rc;
}

int
smb2c_session_setup(struct smb2c *s)
{
	uint8_t b[HDR + 25];
	struct peer_pdu *q = NULL;
	uint32_t st;
	int rc;

	header(s, b, SMB2_SESSION_SETUP, 1);
	memset(b + HDR, 0, 25);
	frame_put_le16(b + HDR, 25);
	b[HDR + 3] = 1;			/* SecurityMode */
	frame_put_le16(b + HDR + 12, HDR + 24);	/* SecurityBufferOffset */
	rc = transact(s, b, sizeof(b), &q, &st);
	if (rc != 0) {
		return rc;
	}
	if (st != STATUS_OK) {
		snprintf(s->err, sizeof(s->err), "SESSION_SETUP: status %#x",
		    st);
		rc = -EACCES;
	} else {
		s->session_id = frame_get_le64(q->data + 40);
	}
	free(q);
	return rc;
}

/*
 * One SESSION_SETUP leg carrying @blob; the status and the response's
 * security buffer (in *q, which the caller frees) come back.
 */
static int
session_setup_leg(struct smb2c *s, const uint8_t *blob, size_t blob_len,
    struct peer_pdu **q, uint32_t *st, const uint8_t **sec, size_t *sec_len)
{
	uint8_t *b = malloc(HDR + 24 + blob_len);
	uint16_t off, n;
	int rc;

	if (b == NULL) {
		return -ENOMEM;
	}
	header(s, b, SMB2_SESSION_SETUP, 1);
	memset(b + HDR, 0, 24);
	frame_put_le16(b + HDR, 25);
	b[HDR + 3] = s->sign ? 2 : 1;		/* SecurityMode */
	frame_put_le16(b + HDR + 12, HDR + 24);	/* SecurityBufferOffset */
	frame_put_le16(b + HDR + 14, (uint16_t)blob_len);
	memcpy(b + HDR + 24, blob, blob_len);
	if (s->dialect == 0x0311) {
		smb3_preauth_update(s->sess_preauth, b, HDR + 24 + blob_len);
	}
	rc = transact(s, b, HDR + 24 + blob_len, q, st);
	free(b);
	if (rc != 0) {
		return rc;
	}
	/* Every response but the final one goes into the session's hash. */
	if (s->dialect == 0x0311 && *st == STATUS_MORE_PROCESSING_REQUIRED) {
		smb3_preauth_update(s->sess_preauth, (*q)->data, (*q)->len);
	}
	off = frame_get_le16((*q)->data + HDR + 4);
	n = frame_get_le16((*q)->data + HDR + 6);
	if ((*q)->len < HDR + 8 || off > (*q)->len || n > (*q)->len - off) {
		snprintf(s->err, sizeof(s->err), "SESSION_SETUP: security "
		    "buffer out of range");
		free(*q);
		*q = NULL;
		return -EPROTO;
	}
	*sec = (*q)->data + off;
	*sec_len = n;
	return 0;
}

/*
 * SESSION_SETUP with NTLMSSP (raw, not wrapped in SPNEGO: smbd's SPNEGO
 * falls back to a mechanism whose magic the token carries) and an NTLMv2
 * response; the session key gives the SMB 3.0.x signing and encryption
 * keys ([MS-SMB2] 3.3.5.5.3), and the final response's signature is
 * checked with them.
 */
int
smb2c_session_setup_ntlm(struct smb2c *s, const char *user,
    const char *password)
{
	uint8_t neg[NTLM_NEGOTIATE_LEN], cc[8], key[16], *auth = NULL;
	struct ntlm_challenge c;
	struct peer_pdu *q = NULL;
	const uint8_t *sec;
	size_t sec_len, auth_len = 0;
	uint32_t st;
	int rc;

	memcpy(s->sess_preauth, s->preauth, sizeof(s->preauth));
	rc = session_setup_leg(s, neg, ntlm_negotiate(neg), &q, &st, &sec,
	    &sec_len);
	if (rc != 0) {
		return rc;
	}
	if (st != STATUS_MORE_PROCESSING_REQUIRED ||
	    ntlm_parse_challenge(sec, sec_len, &c) != 0) {
		snprintf(s->err, sizeof(s->err), "SESSION_SETUP 1: status "
		    "%#x, %zu bytes of security buffer", st, sec_len);
		free(q);
		return -EACCES;
	}
	s->session_id = frame_get_le64(q->data + 40);
	if (getentropy(cc, sizeof(cc)) != 0) {
		free(q);
		return -errno;
	}
	rc = ntlm_authenticate(&c, user, password, cc, &auth, &auth_len, key);
	free(q);	/* c pointed into it: done with c */
	q = NULL;
	if (rc != 0) {
		snprintf(s->err, sizeof(s->err), "NTLMSSP: %s", strerror(-rc));
		return rc;
	}
	rc = session_setup_leg(s, auth, auth_len, &q, &st, &sec, &sec_len);
	free(auth);
	if (rc != 0) {
		return rc;
	}
	if (st != STATUS_OK) {
		snprintf(s->err, sizeof(s->err), "SESSION_SETUP 2: status %#x",
		    st);
		free(q);
		return -EACCES;
	}
	if (s->dialect == 0x0311) {
		/* [MS-SMB2] 3.3.5.5.3: the session's preauth hash is the
		 * context. AES-CMAC signing (no SIGNING_CAPABILITIES sent). */
		smb3_kdf(key, "SMBSigningKey", 14, (const char *)s->sess_preauth,
		    64, s->sign_key);
		smb3_kdf(key, "SMBC2SCipherKey", 16,
		    (const char *)s->sess_preauth, 64, s->enc_key);
		smb3_kdf(key, "SMBS2CCipherKey", 16,
		    (const char *)s->sess_preauth, 64, s->dec_key);
		if (s->encrypt && s->cipher != 1) {
			snprintf(s->err, sizeof(s->err), "encryption asked, "
			    "but the server chose cipher %u", s->cipher);
			free(q);
			return -EPROTO;
		}
	} else {
		smb3_kdf(key, "SMB2AESCMAC", 12, "SmbSign", 8, s->sign_key);
		smb3_kdf(key, "SMB2AESCCM", 11, "ServerIn ", 10, s->enc_key);
		smb3_kdf(key, "SMB2AESCCM", 11, "ServerOut", 10, s->dec_key);
	}
	s->keys = true;
	if (frame_get_le32(q->data + 16) & SMB2_FLAGS_SIGNED) {
		if (!smb3_verify(s->sign_key, q->data, q->len)) {
			snprintf(s->err, sizeof(s->err), "SESSION_SETUP: the "
			    "final response's signature does not verify "
			    "with the derived key");
			free(q);
			return -EBADMSG;
		}
		s->verified++;
	} else if (s->sign) {
		snprintf(s->err, sizeof(s->err), "SESSION_SETUP: the final "
		    "response of a signed session is not signed");
		free(q);
		return -EBADMSG;
	}
	free(q);
	return 0;
}

/* CREATE @name (overwrite or create) for reading and writing. */
int
smb2c_create(struct smb2c *s, const char *name)
{
	uint8_t b[HDR + 56 + 2 * 128];
	struct peer_pdu *q = NULL;
	size_t n = strlen(name), i;
	uint32_t st;
	int rc;

	if (n == 0 || n > 128) {
		return -ENAMETOOLONG;
	}
	header(s, b, SMB2_CREATE, 1);
	memset(b + HDR, 0, 56);
	frame_put_le16(b + HDR, 57);
	frame_put_le32(b + HDR + 4, 2);		/* Impersonation */
	frame_put_le32(b + HDR + 24, 0x0012019f);	/* GENERIC rw */
	frame_put_le32(b + HDR + 28, 0x80);	/* FILE_ATTRIBUTE_NORMAL */
	frame_put_le32(b + HDR + 32, 7);		/* share everything */
	frame_put_le32(b + HDR + 36, 5);		/* FILE_OVERWRITE_IF */
	frame_put_le32(b + HDR + 40, 0x40);	/* FILE_NON_DIRECTORY_FILE */
	frame_put_le16(b + HDR + 44, HDR + 56);	/* NameOffset */
	frame_put_le16(b + HDR + 46, (uint16_t)(2 * n));
	for (i = 0; i < n; i++) {
		frame_put_le16(b + HDR + 56 + 2 * i, (uint8_t)name[i]);
	}
	rc = transact(s, b, HDR + 56 + 2 * n, &q, &st);
	if (rc != 0) {
		return rc;
	}
	if (st != STATUS_OK || q->len < HDR + 88) {
		snprintf(s->err, sizeof(s->err), "CREATE %s: status %#x", name,
		    st);
		free(q);
		return -EIO;
	}
	memcpy(s->fid, q->data + HDR + 64, 16);
	free(q);
	return 0;
}

int
smb2c_close(struct smb2c *s)
{
	uint8_t b[HDR + 24];
	struct peer_pdu *q = NULL;
	uint32_t st;
	int rc;

	header(s, b, SMB2_CLOSE, 1);
	memset(b + HDR, 0, 24);
	frame_put_le16(b + HDR, 24);
	memcpy(b + HDR + 8, s->fid, 16);
	rc = transact(s, b, sizeof(b), &q, &st);
	if (rc != 0) {
		return rc;
	}
	free(q);
	if (st != STATUS_OK) {
		snprintf(s->err, sizeof(s->err), "CLOSE: status %#x", st);
		return -EIO;
	}
	return 0;
}

int
smb2c_tree_connect(struct smb2c *s, const char *unc)
{
	uint8_t b[HDR + 8 + 512];
	struct peer_pdu *q = NULL;
	size_t n = strlen(unc), i;
	uint32_t st;
	int rc;

	if (n > 250) {
		return -ENAMETOOLONG;
	}
	header(s, b, SMB2_TREE_CONNECT, 1);
	memset(b + HDR, 0, 8);
	frame_put_le16(b + HDR, 9);
	frame_put_le16(b + HDR + 4, HDR + 8);	/* PathOffset */
	frame_put_le16(b + HDR + 6, (uint16_t)(n * 2));
	for (i = 0; i < n; i++) {
		frame_put_le16(b + HDR + 8 + i * 2, (uint8_t)unc[i]);
	}
	rc = transact(s, b, HDR + 8 + n * 2, &q, &st);
	if (rc != 0) {
		return rc;
	}
	if (st != STATUS_OK) {
		snprintf(s->err, sizeof(s->err), "TREE_CONNECT: status %#x",
		    st);
		rc = -ENOENT;
	} else {
		s->tree_id = frame_get_le32(q->data + 36);
	}
	free(q);
	return rc;
}

/* FSCTL_QUERY_NETWORK_INTERFACE_INFO: count the RDMA-capable entries. */
int
smb2c_query_interfaces(struct smb2c *s, unsigned *n_rdma, char *first,
    size_t len)
{
	uint8_t b[HDR + 57];
	struct peer_pdu *q = NULL;
	uint32_t st, off, cnt, next, pos;
	unsigned n = 0;
	int rc;

	header(s, b, SMB2_IOCTL, 1);
	memset(b + HDR, 0, 57);
	frame_put_le16(b + HDR, 57);
	frame_put_le32(b + HDR + 4, 0x001401fc);	/* CtlCode */
	memset(b + HDR + 8, 0xff, 16);	/* FileId: none */
	frame_put_le32(b + HDR + 24, HDR + 56);	/* InputOffset */
	frame_put_le32(b + HDR + 36, HDR + 56);	/* OutputOffset */
	frame_put_le32(b + HDR + 44, 65536);	/* MaxOutputResponse */
	frame_put_le32(b + HDR + 48, 1);		/* Flags: IS_FSCTL */
	rc = transact(s, b, sizeof(b), &q, &st);
	if (rc != 0) {
		return rc;
	}
	if (st != STATUS_OK || q->len < HDR + 48) {
		snprintf(s->err, sizeof(s->err), "IOCTL: status %#x", st);
		free(q);
		return -EPROTO;
	}
	off = frame_get_le32(q->data + HDR + 32);	/* OutputOffset */
	cnt = frame_get_le32(q->data + HDR + 36);	/* OutputCount */
	if (off > q->len || cnt > q->len - off) {
		free(q);
		snprintf(s->err, sizeof(s->err), "IOCTL: output out of range");
		return -EPROTO;
	}
	first[0] = '\0';
	for (pos = 0; pos + 152 <= cnt; pos += next) {
		const uint8_t *e = q->data + off + pos;

		if (frame_get_le32(e + 8) & 0x2) {	/* RDMA_CAPABLE */
			if (n == 0 && frame_get_le16(e + 24) == 0x2) {
				snprintf(first, len, "%u.%u.%u.%u", e[28],
				    e[29], e[30], e[31]);
			}
			n++;
		}
		next = frame_get_le32(e);
		if (next == 0) {
			break;
		}
		if (next < 152) {
			free(q);
			snprintf(s->err, sizeof(s->err), "IOCTL: bad Next");
			return -EPROTO;
		}
	}
	free(q);
	*n_rdma = n;
	return 0;
}

/*
 * The token for one request: the MR's for RDMA_V1; for RDMA_V1_INVALIDATE
 * a freshly bound window or a fresh MR, since the server invalidates it.
 */
static int
io_token(struct smb2c *s, enum smb2c_channel ch, size_t len, uint32_t *tok)
{
	if (ch == SMB2C_RDMA_V1) {
		*tok = s->mr->rkey;
		return 0;
	}
	if (s->mw != NULL) {
		/*
		 * A type 2 window is bound by a work request on the QP, with
		 * a fresh key each time ([IBTA] 10.6.7.2.2); the server's SEND
		 * with Invalidate unbinds it.
		 */
		struct ibv_send_wr wr, *bad = NULL;

		memset(&wr, 0, sizeof(wr));
		wr.wr_id = PEER_WRID_BIND;
		wr.opcode = IBV_WR_BIND_MW;
		wr.bind_mw.mw = s->mw;
		wr.bind_mw.rkey = ibv_inc_rkey(s->mw->rkey);
		wr.bind_mw.bind_info.mr = s->mr;
		wr.bind_mw.bind_info.addr = (uintptr_t)s->buf;
		wr.bind_mw.bind_info.length = len;
		wr.bind_mw.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_READ |
		    IBV_ACCESS_REMOTE_WRITE;
		if (ibv_post_send(s->p->id->qp, &wr, &bad) != 0) {
			snprintf(s->err, sizeof(s->err), "binding a memory "
			    "window: %s", strerror(errno));
			return -errno;
		}
		/*
		 * The provider names the window by its current key in the
		 * next bind (librxe passes mw->rkey to the kernel), so keep
		 * the window's idea of its key up to date.
		 */
		s->mw_rkey = wr.bind_mw.rkey;
		s->mw->rkey = s->mw_rkey;
		*tok = s->mw_rkey;
		return 0;
	}
	if (s->io_mr != NULL) {
		ibv_dereg_mr(s->io_mr);
	}
	s->io_mr = ibv_reg_mr(s->p->pd, s->buf, len, IBV_ACCESS_LOCAL_WRITE |
	    IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
	if (s->io_mr == NULL) {
		return -errno;
	}
	*tok = s->io_mr->rkey;
	return 0;
}

/* Channel info at @ci: one descriptor, or a broken list on request. */
static size_t
channel_info(struct smb2c *s, uint8_t *ci, uint32_t len, uint32_t tok,
    enum smb2c_bad bad)
{
	uint64_t addr = (uintptr_t)s->buf;
	unsigned i, n = 1;

	switch (bad) {
	case SMB2C_BAD_BEYOND:
		addr += s->buf_len;	/* right past the region */
		break;
	case SMB2C_BAD_TOKEN:
		tok ^= 0x5a5a5a00;
		break;
	case SMB2C_BAD_TOTAL:
		len = s->max_rw + 4096;
		break;
	case SMB2C_BAD_COUNT:
		n = 64;
		break;
	case SMB2C_BAD_NONE:
		break;
	}
	for (i = 0; i < n; i++) {
		uint32_t piece = n > 1 ? (len / n > 0 ? len / n : 1) : len;

		frame_put_le64(ci + i * 16, addr + (uint64_t)i * piece);
		frame_put_le32(ci + i * 16 + 8, tok);
		frame_put_le32(ci + i * 16 + 12, piece);
	}
	return (size_t)n * 16;
}

static int
check_invalidated(struct smb2c *s, enum smb2c_channel ch, uint32_t tok,
    uint32_t before)
{
	if (ch != SMB2C_RDMA_V1_INVALIDATE) {
		return 0;
	}
	/*
	 * Not every provider reports IBV_WC_WITH_INV (libsiw never sets
	 * wc_flags); the daemon counts its sends with invalidate instead. A
	 * provider that does report it must report our token.
	 */
	if (s->p->n_invalidated == before) {
		return 0;
	}
	if (s->p->last_invalidated != tok) {
		snprintf(s->err, sizeof(s->err), "the response did not "
		    "invalidate token %#x (last %#x)", tok,
		    s->p->last_invalidated);
		return -EPROTO;
	}
	s->invalidated++;
	return 0;
}

int
smb2c_write(struct smb2c *s, uint64_t off, const uint8_t *data, uint32_t len,
    enum smb2c_channel ch, enum smb2c_bad bad)
{
	size_t ci_len = ch == SMB2C_INLINE ? 0 : 64 * 16;
	uint8_t *b = malloc(HDR + 48 + (ch == SMB2C_INLINE ? len : ci_len));
	struct peer_pdu *q = NULL;
	uint32_t st, tok = 0, before = (uint32_t)s->p->n_invalidated;
	size_t n;
	int rc;

	if (b == NULL) {
		return -ENOMEM;
	}
	header(s, b, SMB2_WRITE, (uint16_t)((len + 65535) / 65536));
	memset(b + HDR, 0, 48);
	frame_put_le16(b + HDR, 49);
	frame_put_le16(b + HDR + 2, HDR + 48);		/* DataOffset */
	frame_put_le64(b + HDR + 8, off);			/* Offset */
	memcpy(b + HDR + 16, s->fid, 16);		/* FileId */
	if (ch == SMB2C_INLINE) {
		frame_put_le32(b + HDR + 4, len);		/* Length */
		memcpy(b + HDR + 48, data, len);
		n = HDR + 48 + len;
	} else {
		if (len > s->buf_len) {
			free(b);
			return -EMSGSIZE;
		}
		memcpy(s->buf, data, len);
		rc = io_token(s, ch, len, &tok);
		if (rc != 0) {
			free(b);
			return rc;
		}
		frame_put_le32(b + HDR + 4,
		    0);		/* Length: the data goes by RDMA */
		frame_put_le32(b + HDR + 32, ch);		/* Channel */
		frame_put_le32(b + HDR + 36, len);	/* RemainingBytes */
		ci_len = channel_info(s, b + HDR + 48, len, tok, bad);
		frame_put_le16(b + HDR + 40,
		    HDR + 48);	/* WriteChannelInfoOffset */
		frame_put_le16(b + HDR + 42, (uint16_t)ci_len);
		n = HDR + 48 + ci_len;
	}
	rc = transact(s, b, n, &q, &st);
	free(b);
	if (rc != 0) {
		return rc;
	}
	if (st != STATUS_OK || q->len < HDR + 16 ||
	    frame_get_le32(q->data + HDR + 4) != len) {
		snprintf(s->err, sizeof(s->err), "WRITE at %llu: status %#x, "
		    "count %u of %u", (unsigned long long)off, st,
		    q->len >= HDR + 8 ? frame_get_le32(q->data + HDR + 4) : 0,
		    len);
		free(q);
		return -EIO;
	}
	free(q);
	if (ch != SMB2C_INLINE) {
		s->rdma_bytes += len;
	}
	return check_invalidated(s, ch, tok, before);
}

int
smb2c_read(struct smb2c *s, uint64_t off, uint8_t *data, uint32_t len,
    enum smb2c_channel ch, enum smb2c_bad bad)
{
	uint8_t b[HDR + 48 + 64 * 16];
	struct peer_pdu *q = NULL;
	uint32_t st, tok = 0, dlen, doff, before =
	    (uint32_t)s->p->n_invalidated;
	size_t n, ci_len = 0;
	int rc;

	header(s, b, SMB2_READ, (uint16_t)((len + 65535) / 65536));
	memset(b + HDR, 0, 49);
	frame_put_le16(b + HDR, 49);
	b[HDR + 2] = 0x50;			/* Padding */
	frame_put_le32(b + HDR + 4, len);			/* Length */
	frame_put_le64(b + HDR + 8, off);			/* Offset */
	memcpy(b + HDR + 16, s->fid, 16);		/* FileId */
	frame_put_le32(b + HDR + 32,
	    1);			/* MinimumCount */
	if (ch != SMB2C_INLINE) {
		if (len > s->buf_len) {
			return -EMSGSIZE;
		}
		memset(s->buf, 0, len);
		rc = io_token(s, ch, len, &tok);
		if (rc != 0) {
			return rc;
		}
		frame_put_le32(b + HDR + 36, ch);		/* Channel */
		ci_len = channel_info(s, b + HDR + 48, len, tok, bad);
		frame_put_le16(b + HDR + 44,
		    HDR + 48);	/* ReadChannelInfoOffset */
		frame_put_le16(b + HDR + 46, (uint16_t)ci_len);
	}
	n = HDR + 48 + (ci_len > 0 ? ci_len : 1);
	rc = transact(s, b, n, &q, &st);
	if (rc != 0) {
		return rc;
	}
	if (st != STATUS_OK || q->len < HDR + 16) {
		snprintf(s->err, sizeof(s->err), "READ at %llu: status %#x",
		    (unsigned long long)off, st);
		free(q);
		return -EIO;
	}
	doff = q->data[HDR + 2];
	dlen = frame_get_le32(q->data + HDR + 4);
	if (ch == SMB2C_INLINE) {
		if (dlen != len || doff > q->len || dlen > q->len - doff) {
			snprintf(s->err, sizeof(s->err), "READ at %llu: %u "
			    "inline bytes of %u", (unsigned long long)off,
			    dlen, len);
			free(q);
			return -EIO;
		}
		memcpy(data, q->data + doff, len);
	} else {
		/* The data came by RDMA WRITE, before the response. */
		if (dlen != 0 || frame_get_le32(q->data + HDR + 8) != len) {
			snprintf(s->err, sizeof(s->err), "READ at %llu: "
			    "DataLength %u DataRemaining %u, want 0 and %u",
			    (unsigned long long)off, dlen,
			    frame_get_le32(q->data + HDR + 8), len);
			free(q);
			return -EIO;
		}
		memcpy(data, s->buf, len);
		s->rdma_bytes += len;
	}
	free(q);
	return check_invalidated(s, ch, tok, before);
}
