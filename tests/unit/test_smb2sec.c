/* SPDX-License-Identifier: ISC */
/*
 * test_smb2sec: the SMB2 test client's security against published
 * values: [MS-NLMP] 4.2.4 (NTLMv2 with User/Domain/Password) for NTOWFv2,
 * the LMv2 response, NTProofStr and the session base key; and round
 * trips that must fail when one byte changes for signing, encryption
 * and the AUTHENTICATE message's fields.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/frame.h"
#include "tests/peer/smb2sec.h"

static const uint8_t dom16[] = {	/* "Domain" in UTF-16LE */
	'D', 0, 'o', 0, 'm', 0, 'a', 0, 'i', 0, 'n', 0,
};
static const uint8_t sc[8] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};
static const uint8_t cc[8] = {
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
};
/* [MS-NLMP] 4.2.4: MsvAvNbDomainName "Domain", MsvAvNbComputerName
 * "Server", MsvAvEOL. */
static const uint8_t av[] = {
	0x02, 0x00, 0x0c, 0x00, 'D', 0, 'o', 0, 'm', 0, 'a', 0, 'i', 0, 'n', 0,
	0x01, 0x00, 0x0c, 0x00, 'S', 0, 'e', 0, 'r', 0, 'v', 0, 'e', 0, 'r', 0,
	0x00, 0x00, 0x00, 0x00,
};

static void
nlmp_vectors(void **state)
{
	static const uint8_t ntowf_want[16] = {	/* 4.2.4.1.1 */
		0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93,
		0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0, 0x2e, 0x3f,
	};
	static const uint8_t lm_want[24] = {	/* 4.2.4.2.1 */
		0x86, 0xc3, 0x50, 0x97, 0xac, 0x9c, 0xec, 0x10,
		0x25, 0x54, 0x76, 0x4a, 0x57, 0xcc, 0xcc, 0x19,
		0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
	};
	static const uint8_t proof_want[16] = {	/* 4.2.4.2.2 */
		0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96,
		0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef, 0x6a, 0x1c,
	};
	static const uint8_t key_want[16] = {	/* 4.2.4.1.2 */
		0x8d, 0xe4, 0x0c, 0xca, 0xdb, 0xc1, 0x4a, 0x82,
		0xf1, 0x5c, 0xb0, 0xad, 0x0d, 0xe9, 0x5c, 0xa3,
	};
	uint8_t ntowf[16], lm[24], key[16], *nt = NULL;
	size_t nt_len = 0;

	(void)state;
	assert_int_equal(ntlm_ntowf_v2("User", "Password", dom16,
	    sizeof(dom16), ntowf), 0);
	assert_memory_equal(ntowf, ntowf_want, 16);
	assert_int_equal(ntlm_v2_response(ntowf, sc, cc, 0, av, sizeof(av),
	    &nt, &nt_len, lm, key), 0);
	assert_memory_equal(lm, lm_want, 24);
	assert_memory_equal(nt, proof_want, 16);
	assert_memory_equal(key, key_want, 16);
	/* NTProofStr, then the temp blob: 28 bytes, the AV pairs, 4 zeros */
	assert_int_equal(nt_len, 16 + 28 + sizeof(av) + 4);
	assert_int_equal(nt[16], 1);
	assert_memory_equal(nt + 16 + 16, cc, 8);
	assert_memory_equal(nt + 16 + 28, av, sizeof(av));
	free(nt);
	/* The user name is case-insensitive, the password is not. */
	assert_int_equal(ntlm_ntowf_v2("uSER", "Password", dom16,
	    sizeof(dom16), ntowf), 0);
	assert_memory_equal(ntowf, ntowf_want, 16);
	assert_int_equal(ntlm_ntowf_v2("User", "password", dom16,
	    sizeof(dom16), ntowf), 0);
	assert_memory_not_equal(ntowf, ntowf_want, 16);
	assert_int_equal(ntlm_ntowf_v2("Us\xc3\xa9r", "Password", dom16,
	    sizeof(dom16), ntowf), -EINVAL);
}

/* A CHALLENGE_MESSAGE with @av as its target info, "Domain" as name. */
static size_t
challenge(uint8_t *b, const uint8_t *info, size_t info_len)
{
	memset(b, 0, 56);
	memcpy(b, "NTLMSSP", 8);
	frame_put_le32(b + 8, 2);
	frame_put_le16(b + 12, sizeof(dom16));
	frame_put_le16(b + 14, sizeof(dom16));
	frame_put_le32(b + 16, 56);
	frame_put_le32(b + 20, 0xe2898215);
	memcpy(b + 24, sc, 8);
	frame_put_le16(b + 40, (uint16_t)info_len);
	frame_put_le16(b + 42, (uint16_t)info_len);
	frame_put_le32(b + 44, 56 + sizeof(dom16));
	memcpy(b + 56, dom16, sizeof(dom16));
	memcpy(b + 56 + sizeof(dom16), info, info_len);
	return 56 + sizeof(dom16) + info_len;
}

static void
challenge_parse(void **state)
{
	uint8_t b[256], ts[sizeof(av) + 12];
	struct ntlm_challenge c;
	size_t n;

	(void)state;
	n = challenge(b, av, sizeof(av));
	assert_int_equal(ntlm_parse_challenge(b, n, &c), 0);
	assert_memory_equal(c.server_challenge, sc, 8);
	assert_int_equal(c.target_name_len, sizeof(dom16));
	assert_memory_equal(c.target_name, dom16, sizeof(dom16));
	assert_int_equal(c.target_info_len, sizeof(av));
	assert_false(c.have_timestamp);
	/* A timestamp pair before EOL is found. */
	memcpy(ts, av, sizeof(av) - 4);
	frame_put_le16(ts + sizeof(av) - 4, 7);
	frame_put_le16(ts + sizeof(av) - 2, 8);
	frame_put_le64(ts + sizeof(av), 0x01d9000011112222ull);
	memset(ts + sizeof(av) + 8, 0, 4);
	n = challenge(b, ts, sizeof(ts));
	assert_int_equal(ntlm_parse_challenge(b, n, &c), 0);
	assert_true(c.have_timestamp);
	assert_int_equal(c.timestamp, 0x01d9000011112222ull);
	/* Truncated, wrong type, fields past the end, no EOL: refused. */
	n = challenge(b, av, sizeof(av));
	assert_int_equal(ntlm_parse_challenge(b, 40, &c), -EPROTO);
	frame_put_le32(b + 8, 3);
	assert_int_equal(ntlm_parse_challenge(b, n, &c), -EPROTO);
	n = challenge(b, av, sizeof(av));
	frame_put_le32(b + 44, (uint32_t)n);
	assert_int_equal(ntlm_parse_challenge(b, n, &c), -EPROTO);
	n = challenge(b, av, sizeof(av) - 4);
	assert_int_equal(ntlm_parse_challenge(b, n, &c), -EPROTO);
	n = challenge(b, av, sizeof(av));
	frame_put_le16(b + 56 + sizeof(dom16) + 2, 0xfff0);
	assert_int_equal(ntlm_parse_challenge(b, n, &c), -EPROTO);
}

/* The AUTHENTICATE message carries what the vectors computed. */
static void
authenticate_fields(void **state)
{
	uint8_t b[256], key[16], *m = NULL;
	struct ntlm_challenge c;
	size_t n, len = 0;
	uint32_t off;
	uint16_t l;

	(void)state;
	n = challenge(b, av, sizeof(av));
	assert_int_equal(ntlm_parse_challenge(b, n, &c), 0);
	assert_int_equal(ntlm_authenticate(&c, "User", "Password", cc, &m,
	    &len, key), 0);
	assert_memory_equal(m, "NTLMSSP", 8);
	assert_int_equal(frame_get_le32(m + 8), 3);
	/* NtChallengeResponse: NTProofStr first; the domain is Domain. */
	l = frame_get_le16(m + 20);
	off = frame_get_le32(m + 24);
	assert_true(off + l <= len);
	assert_int_equal(l, 16 + 28 + sizeof(av) + 4);
	l = frame_get_le16(m + 28);
	off = frame_get_le32(m + 32);
	assert_int_equal(l, sizeof(dom16));
	assert_memory_equal(m + off, dom16, sizeof(dom16));
	l = frame_get_le16(m + 36);
	off = frame_get_le32(m + 40);
	assert_int_equal(l, 8);
	assert_memory_equal(m + off, "U\0s\0e\0r\0", 8);
	assert_int_equal(frame_get_le16(m + 52), 0);	/* no key exchange */
	/* No key exchange: no NEGOTIATE_KEY_EXCH in the flags. */
	assert_int_equal(frame_get_le32(m + 60) & 0x40000000u, 0);
	free(m);
}

static void
sign_verify(void **state)
{
	uint8_t key[16], k2[16], msg[200];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(msg); i++) {
		msg[i] = (uint8_t)(i * 7);
	}
	memcpy(msg, "\xfeSMB", 4);
	smb3_kdf((const uint8_t *)"0123456789abcdef", "SMB2AESCMAC", 12,
	    "SmbSign", 8, key);
	smb3_kdf((const uint8_t *)"0123456789abcdef", "SMB2AESCCM", 11,
	    "ServerIn ", 10, k2);
	assert_memory_not_equal(key, k2, 16);
	smb3_sign(key, msg, sizeof(msg));
	assert_true(frame_get_le32(msg + 16) & SMB2_FLAGS_SIGNED);
	assert_true(smb3_verify(key, msg, sizeof(msg)));
	assert_false(smb3_verify(k2, msg, sizeof(msg)));
	msg[150] ^= 1;
	assert_false(smb3_verify(key, msg, sizeof(msg)));
	msg[150] ^= 1;
	msg[SMB2_SIG_OFF] ^= 1;
	assert_false(smb3_verify(key, msg, sizeof(msg)));
}

static void
encrypt_decrypt(void **state)
{
	uint8_t key[16] = "fedcba9876543210", nonce[11] = { 1, 2, 3 };
	uint8_t msg[300], wire[300 + SMB2_TRANSFORM_LEN], out[300];
	size_t n = 0;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(msg); i++) {
		msg[i] = (uint8_t)(i ^ 0x5c);
	}
	smb3_encrypt(key, nonce, 0x1122334455667788ull, msg, sizeof(msg),
	    wire);
	assert_int_equal(wire[0], 0xfd);
	assert_int_equal(frame_get_le32(wire + 36), sizeof(msg));
	assert_int_equal(frame_get_le64(wire + 44), 0x1122334455667788ull);
	assert_memory_not_equal(wire + SMB2_TRANSFORM_LEN, msg, sizeof(msg));
	assert_int_equal(smb3_decrypt(key, wire, sizeof(wire), out, &n), 0);
	assert_int_equal(n, sizeof(msg));
	assert_memory_equal(out, msg, sizeof(msg));
	/* Ciphertext, tag or associated data (the session id) changed. */
	wire[SMB2_TRANSFORM_LEN + 10] ^= 1;
	assert_int_equal(smb3_decrypt(key, wire, sizeof(wire), out, &n),
	    -EBADMSG);
	wire[SMB2_TRANSFORM_LEN + 10] ^= 1;
	wire[5] ^= 1;
	assert_int_equal(smb3_decrypt(key, wire, sizeof(wire), out, &n),
	    -EBADMSG);
	wire[5] ^= 1;
	wire[44] ^= 1;
	assert_int_equal(smb3_decrypt(key, wire, sizeof(wire), out, &n),
	    -EBADMSG);
	wire[44] ^= 1;
	/* A size that disagrees with the message is malformed. */
	assert_int_equal(smb3_decrypt(key, wire, sizeof(wire) - 1, out, &n),
	    -EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nlmp_vectors),
		cmocka_unit_test(challenge_parse),
		cmocka_unit_test(authenticate_fields),
		cmocka_unit_test(sign_verify),
		cmocka_unit_test(encrypt_decrypt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
