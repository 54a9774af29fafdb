/* SPDX-License-Identifier: ISC */
/*
 * smb2sec: the security an SMB2 test client needs to talk to a real smbd:
 * an NTLMSSP exchange with an NTLMv2 response ([MS-NLMP] 3.3.2) for a
 * session key, the SMB 3.0.x key derivation ([MS-SMB2] 3.1.4.2), AES-CMAC
 * signing (3.1.4.1) and AES-128-CCM encryption under a transform header
 * (3.1.4.3, 2.2.41), for SMB 3.0.x and for 3.1.1 with its SHA-512
 * preauth integrity hash (3.2.5.2). The primitives are nettle's.
 *
 * Pure functions over caller buffers; names are ASCII (the test client
 * needs nothing else), and a name that is not is refused.
 */
#ifndef SMBDIRECTD_SMB2SEC_H
#define SMBDIRECTD_SMB2SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NTLM_NEGOTIATE_LEN	32
#define SMB2_TRANSFORM_LEN	52
#define SMB2_SIG_OFF		48	/* Signature in the SMB2 header */
#define SMB2_FLAGS_SIGNED	0x00000008u

/* What the client needs of a CHALLENGE_MESSAGE ([MS-NLMP] 2.2.1.2). */
struct ntlm_challenge {
	uint32_t	 flags;
	uint8_t		 server_challenge[8];
	const uint8_t	*target_name;		/* UTF-16LE, in the message */
	size_t		 target_name_len;
	const uint8_t	*target_info;		/* AV pairs, in the message */
	size_t		 target_info_len;
	uint64_t	 timestamp;		/* MsvAvTimestamp, if any */
	bool		 have_timestamp;
};

/* NEGOTIATE_MESSAGE: NTLMv2 with extended session security, no key
 * exchange (the session key is then the session base key). */
size_t	ntlm_negotiate(uint8_t out[NTLM_NEGOTIATE_LEN]);

/* Parse a CHALLENGE_MESSAGE; -EPROTO if it is not one or overflows. */
int	ntlm_parse_challenge(const uint8_t *, size_t, struct ntlm_challenge *);

/* NTOWFv2 ([MS-NLMP] 3.3.2): HMAC-MD5 keyed by MD4(password) over
 * UPPER(user) || domain, in UTF-16LE. -EINVAL for a non-ASCII name. */
int	ntlm_ntowf_v2(const char *user, const char *password,
	    const uint8_t *domain16, size_t domain16_len, uint8_t out[16]);

/*
 * The NTLMv2 and LMv2 responses and the session base key for @ntowf,
 * the server and client challenges, a FILETIME and the AV pairs. *nt is
 * allocated (free it); -ENOMEM.
 */
int	ntlm_v2_response(const uint8_t ntowf[16], const uint8_t sc[8],
	    const uint8_t cc[8], uint64_t filetime, const uint8_t *av,
	    size_t av_len, uint8_t **nt, size_t *nt_len, uint8_t lm[24],
	    uint8_t session_base_key[16]);

/*
 * AUTHENTICATE_MESSAGE for @c as @user/@password in the challenge's
 * target domain, with client challenge @cc; *out allocated. Returns the
 * session key in @key. -EINVAL, -ENOMEM.
 */
int	ntlm_authenticate(const struct ntlm_challenge *c, const char *user,
	    const char *password, const uint8_t cc[8], uint8_t **out,
	    size_t *out_len, uint8_t key[16]);

/* SP800-108 counter-mode KDF with HMAC-SHA256, L = 128 ([MS-SMB2]
 * 3.1.4.2); @label and @context include their terminating NUL. */
void	smb3_kdf(const uint8_t key[16], const char *label, size_t label_len,
	    const char *context, size_t context_len, uint8_t out[16]);

/* SMB 3.1.1 preauth integrity: @h = SHA-512(@h || @msg). */
void	smb3_preauth_update(uint8_t h[64], const uint8_t *msg, size_t len);

/* Set SMB2_FLAGS_SIGNED and write the AES-CMAC signature of @msg. */
void	smb3_sign(const uint8_t key[16], uint8_t *msg, size_t len);

/* Whether @msg (flagged signed) carries its correct signature. */
bool	smb3_verify(const uint8_t key[16], const uint8_t *msg, size_t len);

/*
 * Encrypt @msg for session @sid under a transform header into @out
 * (len + SMB2_TRANSFORM_LEN bytes), with the 11-byte CCM @nonce.
 */
void	smb3_encrypt(const uint8_t key[16], const uint8_t nonce[11],
	    uint64_t sid, const uint8_t *msg, size_t len, uint8_t *out);

/*
 * Decrypt a transformed message into @out (in_len - SMB2_TRANSFORM_LEN
 * bytes at most); *out_len gets its size. -EPROTO for a malformed
 * header, -EBADMSG when the tag does not verify.
 */
int	smb3_decrypt(const uint8_t key[16], const uint8_t *in, size_t in_len,
	    uint8_t *out, size_t *out_len);

#endif
