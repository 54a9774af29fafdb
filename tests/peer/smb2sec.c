/* SPDX-License-Identifier: ISC */
/*
 * smb2sec.c: see smb2sec.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/ccm.h>
#include <nettle/cmac.h>
#include <nettle/hmac.h>
#include <nettle/md4.h>
#include <nettle/sha2.h>

#include "proto/frame.h"
#include "smb2sec.h"

/* [MS-NLMP] 2.2.2.5 */
#define NTLM_UNICODE		0x00000001u
#define NTLM_REQUEST_TARGET	0x00000004u
#define NTLM_SIGN		0x00000010u
#define NTLM_NTLM		0x00000200u
#define NTLM_ALWAYS_SIGN	0x00008000u
#define NTLM_ESS		0x00080000u	/* extended session security */
#define NTLM_128		0x20000000u
#define NTLM_56			0x80000000u
#define NTLM_OURS		(NTLM_UNICODE | NTLM_REQUEST_TARGET | \
	NTLM_SIGN | NTLM_NTLM | NTLM_ALWAYS_SIGN | NTLM_ESS | NTLM_128 | \
	NTLM_56)

#define AV_EOL			0
#define AV_TIMESTAMP		7

static const uint8_t ntlm_sig[8] = "NTLMSSP";	/* with its NUL */

size_t
ntlm_negotiate(uint8_t out[NTLM_NEGOTIATE_LEN])
{
	memset(out, 0, NTLM_NEGOTIATE_LEN);
	memcpy(out, ntlm_sig, 8);
	frame_put_le32(out + 8, 1);		/* MessageType */
	frame_put_le32(out + 12, NTLM_OURS);
	/* DomainNameFields and WorkstationFields: empty */
	return NTLM_NEGOTIATE_LEN;
}

/* A (Len, MaxLen, Offset) field at @f that must lie inside @len. */
static int
field(const uint8_t *b, size_t len, size_t f, const uint8_t **p, size_t *n)
{
	uint16_t l = frame_get_le16(b + f);
	uint32_t o = frame_get_le32(b + f + 4);

	if (o > len || l > len - o) {
		return -EPROTO;
	}
	*p = l > 0 ? b + o : NULL;
	*n = l;
	return 0;
}

int
ntlm_parse_challenge(const uint8_t *b, size_t len, struct ntlm_challenge *c)
{
	size_t pos;

	memset(c, 0, sizeof(*c));
	if (len < 48 || memcmp(b, ntlm_sig, 8) != 0 ||
	    frame_get_le32(b + 8) != 2) {
		return -EPROTO;
	}
	c->flags = frame_get_le32(b + 20);
	memcpy(c->server_challenge, b + 24, 8);
	if (field(b, len, 12, &c->target_name, &c->target_name_len) != 0 ||
	    field(b, len, 40, &c->target_info, &c->target_info_len) != 0) {
		return -EPROTO;
	}
	/* AV pairs ([MS-NLMP] 2.2.2.1): id, length, value; EOL ends them. */
	for (pos = 0; pos + 4 <= c->target_info_len;) {
		uint16_t id = frame_get_le16(c->target_info + pos);
		uint16_t n = frame_get_le16(c->target_info + pos + 2);

		if (n > c->target_info_len - pos - 4) {
			return -EPROTO;
		}
		if (id == AV_EOL) {
			return 0;
		}
		if (id == AV_TIMESTAMP && n == 8) {
			c->timestamp = frame_get_le64(c->target_info + pos + 4);
			c->have_timestamp = true;
		}
		pos += 4 + (size_t)n;
	}
	return -EPROTO;		/* no MsvAvEOL */
}

/* ASCII @s as UTF-16LE into @out (2 * strlen bytes), upper-cased on ask. */
static int
utf16(const char *s, bool upper, uint8_t *out)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x80) {
			return -EINVAL;
		}
		if (upper && ch >= 'a' && ch <= 'z') {
			ch = (unsigned char)(ch - 'a' + 'A');
		}
		out[2 * i] = ch;
		out[2 * i + 1] = 0;
	}
	return 0;
}

int
ntlm_ntowf_v2(const char *user, const char *password, const uint8_t *dom,
    size_t dom_len, uint8_t out[16])
{
	size_t ul = strlen(user), pl = strlen(password);
	uint8_t *u = malloc(2 * ul + 1), *pw = malloc(2 * pl + 1);
	uint8_t nt_hash[MD4_DIGEST_SIZE];
	struct md4_ctx md4;
	struct hmac_md5_ctx h;
	int rc = -ENOMEM;

	if (u == NULL || pw == NULL) {
		goto out;
	}
	rc = -EINVAL;
	if (utf16(user, true, u) != 0 || utf16(password, false, pw) != 0) {
		goto out;
	}
	md4_init(&md4);
	md4_update(&md4, 2 * pl, pw);
	md4_digest(&md4, sizeof(nt_hash), nt_hash);
	hmac_md5_set_key(&h, sizeof(nt_hash), nt_hash);
	hmac_md5_update(&h, 2 * ul, u);
	hmac_md5_update(&h, dom_len, dom);
	hmac_md5_digest(&h, 16, out);
	rc = 0;
out:
	free(u);
	free(pw);
	return rc;
}

int
ntlm_v2_response(const uint8_t ntowf[16], const uint8_t sc[8],
    const uint8_t cc[8], uint64_t filetime, const uint8_t *av, size_t av_len,
    uint8_t **nt, size_t *nt_len, uint8_t lm[24], uint8_t key[16])
{
	/* NTProofStr, then the "temp" blob of [MS-NLMP] 3.3.2 */
	size_t temp_len = 28 + av_len + 4;
	uint8_t *r = calloc(1, 16 + temp_len), *t;
	struct hmac_md5_ctx h;

	if (r == NULL) {
		return -ENOMEM;
	}
	t = r + 16;
	t[0] = 1;				/* RespType */
	t[1] = 1;				/* HiRespType */
	frame_put_le64(t + 8, filetime);
	memcpy(t + 16, cc, 8);
	memcpy(t + 28, av, av_len);
	hmac_md5_set_key(&h, 16, ntowf);
	hmac_md5_update(&h, 8, sc);
	hmac_md5_update(&h, temp_len, t);
	hmac_md5_digest(&h, 16, r);
	hmac_md5_set_key(&h, 16, ntowf);
	hmac_md5_update(&h, 16, r);
	hmac_md5_digest(&h, 16, key);		/* SessionBaseKey */
	hmac_md5_set_key(&h, 16, ntowf);	/* LMv2 */
	hmac_md5_update(&h, 8, sc);
	hmac_md5_update(&h, 8, cc);
	hmac_md5_digest(&h, 16, lm);
	memcpy(lm + 16, cc, 8);
	*nt = r;
	*nt_len = 16 + temp_len;
	return 0;
}

/* Put a (Len, MaxLen, Offset) field at @f and the bytes at *@pos. */
static void
put_field(uint8_t *b, size_t f, const uint8_t *p, size_t n, size_t *pos)
{
	frame_put_le16(b + f, (uint16_t)n);
	frame_put_le16(b + f + 2, (uint16_t)n);
	frame_put_le32(b + f + 4, (uint32_t)*pos);
	if (n > 0) {
		memcpy(b + *pos, p, n);
	}
	*pos += n;
}

int
ntlm_authenticate(const struct ntlm_challenge *c, const char *user,
    const char *password, const uint8_t cc[8], uint8_t **out,
    size_t *out_len, uint8_t key[16])
{
	static const char ws[] = "SDPEER";
	uint8_t ntowf[16], lm[24], u[2 * 64], w[2 * sizeof(ws)];
	uint8_t *nt = NULL, *b;
	size_t nt_len = 0, ul = strlen(user), pos = 64;
	uint64_t ft;
	int rc;

	if (ul > 64 || c->target_name_len > 512 ||
	    utf16(user, false, u) != 0) {
		return -EINVAL;
	}
	(void)utf16(ws, false, w);
	rc = ntlm_ntowf_v2(user, password, c->target_name,
	    c->target_name_len, ntowf);
	if (rc != 0) {
		return rc;
	}
	/* FILETIME: 100 ns since 1601; the server's own if it gave one. */
	ft = c->have_timestamp ? c->timestamp :
	    ((uint64_t)time(NULL) + 11644473600ull) * 10000000ull;
	rc = ntlm_v2_response(ntowf, c->server_challenge, cc, ft,
	    c->target_info, c->target_info_len, &nt, &nt_len, lm, key);
	if (rc != 0) {
		return rc;
	}
	/* With a server timestamp the LM response is Z(24) (3.1.5.1.2). */
	if (c->have_timestamp) {
		memset(lm, 0, sizeof(lm));
	}
	b = calloc(1, 64 + sizeof(lm) + nt_len + c->target_name_len +
	    2 * ul + sizeof(w));
	if (b == NULL) {
		free(nt);
		return -ENOMEM;
	}
	memcpy(b, ntlm_sig, 8);
	frame_put_le32(b + 8, 3);		/* MessageType */
	put_field(b, 12, lm, sizeof(lm), &pos);
	put_field(b, 20, nt, nt_len, &pos);
	put_field(b, 28, c->target_name, c->target_name_len, &pos);
	put_field(b, 36, u, 2 * ul, &pos);
	put_field(b, 44, w, 2 * (sizeof(ws) - 1), &pos);
	put_field(b, 52, NULL, 0, &pos);	/* no key exchange */
	frame_put_le32(b + 60, NTLM_OURS & c->flags);
	free(nt);
	*out = b;
	*out_len = pos;
	return 0;
}

void
smb3_kdf(const uint8_t key[16], const char *label, size_t label_len,
    const char *context, size_t context_len, uint8_t out[16])
{
	static const uint8_t one[4] = { 0, 0, 0, 1 };
	static const uint8_t zero = 0;
	static const uint8_t bits[4] = { 0, 0, 0, 128 };	/* L */
	uint8_t d[SHA256_DIGEST_SIZE];
	struct hmac_sha256_ctx h;

	hmac_sha256_set_key(&h, 16, key);
	hmac_sha256_update(&h, sizeof(one), one);
	hmac_sha256_update(&h, label_len, (const uint8_t *)label);
	hmac_sha256_update(&h, 1, &zero);
	hmac_sha256_update(&h, context_len, (const uint8_t *)context);
	hmac_sha256_update(&h, sizeof(bits), bits);
	hmac_sha256_digest(&h, sizeof(d), d);
	memcpy(out, d, 16);
}

void
smb3_preauth_update(uint8_t h[64], const uint8_t *msg, size_t len)
{
	struct sha512_ctx c;

	sha512_init(&c);
	sha512_update(&c, 64, h);
	sha512_update(&c, len, msg);
	sha512_digest(&c, 64, h);
}

static void
cmac(const uint8_t key[16], const uint8_t *msg, size_t len, uint8_t out[16])
{
	static const uint8_t zeros[16];
	struct cmac_aes128_ctx c;

	/* The signature field counts as zeros. */
	cmac_aes128_set_key(&c, key);
	cmac_aes128_update(&c, SMB2_SIG_OFF, msg);
	cmac_aes128_update(&c, 16, zeros);
	cmac_aes128_update(&c, len - SMB2_SIG_OFF - 16, msg + SMB2_SIG_OFF
	    + 16);
	cmac_aes128_digest(&c, 16, out);
}

void
smb3_sign(const uint8_t key[16], uint8_t *msg, size_t len)
{
	uint8_t sig[16];

	frame_put_le32(msg + 16, frame_get_le32(msg + 16) | SMB2_FLAGS_SIGNED);
	cmac(key, msg, len, sig);
	memcpy(msg + SMB2_SIG_OFF, sig, 16);
}

bool
smb3_verify(const uint8_t key[16], const uint8_t *msg, size_t len)
{
	uint8_t sig[16], diff = 0;
	unsigned i;

	if (len < 64) {
		return false;
	}
	cmac(key, msg, len, sig);
	for (i = 0; i < 16; i++) {
		diff |= sig[i] ^ msg[SMB2_SIG_OFF + i];
	}
	return diff == 0;
}

void
smb3_encrypt(const uint8_t key[16], const uint8_t nonce[11], uint64_t sid,
    const uint8_t *msg, size_t len, uint8_t *out)
{
	struct ccm_aes128_ctx c;

	memset(out, 0, SMB2_TRANSFORM_LEN);
	out[0] = 0xfd;
	memcpy(out + 1, "SMB", 3);
	memcpy(out + 20, nonce, 11);
	frame_put_le32(out + 36, (uint32_t)len);	/* OriginalMessageSize */
	frame_put_le16(out + 42, 1);	/* Flags: encrypted (AES-128-CCM) */
	frame_put_le64(out + 44, sid);
	ccm_aes128_set_key(&c, key);
	ccm_aes128_set_nonce(&c, 11, out + 20, 32, len, 16);
	ccm_aes128_update(&c, 32, out + 20);	/* AAD: Nonce to SessionId */
	ccm_aes128_encrypt(&c, len, out + SMB2_TRANSFORM_LEN, msg);
	ccm_aes128_digest(&c, 16, out + 4);	/* Signature */
}

int
smb3_decrypt(const uint8_t key[16], const uint8_t *in, size_t in_len,
    uint8_t *out, size_t *out_len)
{
	struct ccm_aes128_ctx c;
	uint8_t tag[16], diff = 0;
	uint32_t n;
	unsigned i;

	if (in_len < SMB2_TRANSFORM_LEN || in[0] != 0xfd ||
	    memcmp(in + 1, "SMB", 3) != 0) {
		return -EPROTO;
	}
	n = frame_get_le32(in + 36);
	if (n != in_len - SMB2_TRANSFORM_LEN) {
		return -EPROTO;
	}
	ccm_aes128_set_key(&c, key);
	ccm_aes128_set_nonce(&c, 11, in + 20, 32, n, 16);
	ccm_aes128_update(&c, 32, in + 20);
	ccm_aes128_decrypt(&c, n, out, in + SMB2_TRANSFORM_LEN);
	ccm_aes128_digest(&c, 16, tag);
	for (i = 0; i < 16; i++) {
		diff |= tag[i] ^ in[4 + i];
	}
	if (diff != 0) {
		return -EBADMSG;
	}
	*out_len = n;
	return 0;
}
