/* SPDX-License-Identifier: ISC */
/*
 * sdpeer: a scriptable SMB Direct client for smbdirectd's tests.
 *
 *   sdpeer [options] ADDR
 *
 * It connects over RDMA CM, negotiates with configurable parameters, and
 * then runs one scenario: echo PDUs of given sizes through the daemon and
 * the test master (which echoes them back), or one scripted misbehaviour
 * that the daemon must answer by ending the connection. Every connection
 * prints one JSON line with what happened; the exit status is 0 only when
 * every connection met its expectation.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"
#include "proto/frame.h"
#include "smb2c.h"

/*
 * Misbehaviours. Each is one row of misbehaviours[] (below): its
 * --misbehave NAME, its line of the usage text, the phase of the exchange
 * where it acts, and the action that does it. Each phase is one point in
 * the code, which runs the chosen row's action if the row is of that
 * phase; the phase also says how the server must answer. A new
 * misbehaviour is one row, plus an action if no existing one fits.
 */
struct mb_ctx;

/* In the order of the exchange. */
enum mb_phase {
	/*
	 * The negotiate request. Before connecting (and before the
	 * configuration is validated), the action edits the engine's
	 * configuration so that the request says what no client should.
	 * The server must end the connection during negotiation.
	 */
	MB_NEG_REQUEST,
	/*
	 * Connecting. The action says whether the engine starts, that is
	 * whether the negotiate request is sent at all. The server must end
	 * the connection during negotiation.
	 */
	MB_CONNECT,
	/*
	 * After negotiation (not in --smb2 mode). The action sends what the
	 * engine never would, or changes how the peer keeps credits; the
	 * server must then end the connection within --wait, unless the
	 * action ended it itself.
	 */
	MB_AFTER_NEG,
};

/* One misbehaviour; names are unique within misbehaviours[]. */
struct misbehaviour {
	const char	*name;		/* --misbehave NAME */
	const char	*help;		/* its line of the usage text */
	enum mb_phase	 phase;		/* where act runs */
	int		(*act)(struct mb_ctx *);
};

struct opts {
	const char	*addr;
	const char	*port;
	size_t		*sizes;
	unsigned	 n_sizes;
	unsigned	 repeat;
	unsigned	 depth;
	unsigned	 parallel;
	unsigned	 hold_ms;
	unsigned	 wait_ms;
	const struct misbehaviour *mb;		/* NULL: behave */
	bool		 expect_reject;
	bool		 disconnect_mid;	/* quit after half the PDUs */
	struct peer	 tmpl;			/* configuration to copy */

	/* SMB2 mode. */
	bool		 smb2;
	uint8_t		 guid[16];
	uint64_t	 io_total;		/* bytes to write, then read */
	uint32_t	 io_size;
	const char	*channel;		/* inline rdma rdma-inv mixed */
	enum smb2c_bad	 bad;
	bool		 query_ifaces;
	uint64_t	 seed;			/* of the I/O pattern */
	const char	*user;			/* NTLMv2 as USER%PASS */
	const char	*share;			/* UNC of the tree */
	const char	*file;			/* CREATE this and use it */
	bool		 sign;
	bool		 encrypt;
	bool		 refusals;		/* --expect-refusals */
	bool		 smb302;		/* offer 3.0 and 3.0.2 only */
};

static int
parse_num(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s) {
		return -1;
	}
	if (*end == 'K' || *end == 'k') {
		v <<= 10;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		v <<= 20;
		end++;
	}
	if (*end != '\0') {
		return -1;
	}
	*out = v;
	return 0;
}

static unsigned
num_arg(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
	uint64_t v;

	if (parse_num(s, &v) != 0 || v < lo || v > hi) {
		fprintf(stderr, "sdpeer: %s: want %llu..%llu, got '%s'\n", opt,
		    (unsigned long long)lo, (unsigned long long)hi, s);
		exit(2);
	}
	return (unsigned)v;
}

static void
parse_sizes(struct opts *o, const char *list)
{
	char *dup = strdup(list), *tok, *save = NULL;
	uint64_t v;

	if (dup == NULL) {
		exit(1);
	}
	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (parse_num(tok, &v) != 0 || v == 0 || v > (16u << 20)) {
			fprintf(stderr, "sdpeer: --echo: bad size '%s'\n", tok);
			exit(2);
		}
		o->sizes = realloc(o->sizes, sizeof(*o->sizes) *
		    (o->n_sizes + 1));
		if (o->sizes == NULL) {
			exit(1);
		}
		o->sizes[o->n_sizes++] = (size_t)v;
	}
	free(dup);
}

/*
 * Fill a test PDU. From 112 bytes on it is a well-formed SMB2 WRITE
 * request carrying the rest as data, so that Wireshark decodes captures of
 * it cleanly; smaller PDUs are a plain pattern. Either way the bytes depend
 * on @seq, so a PDU delivered twice or out of order is caught.
 */
static void
pdu_fill(uint8_t *b, size_t len, uint64_t seq)
{
	size_t i, start = 0;

	if (len >= 112) {
		memset(b, 0, 112);
		b[0] = 0xfe;
		b[1] = 'S';
		b[2] = 'M';
		b[3] = 'B';
		frame_put_le16(b + 4, 64);		/* StructureSize */
		frame_put_le16(b + 6, 1);		/* CreditCharge */
		frame_put_le16(b + 12, 9);		/* WRITE */
		frame_put_le16(b + 14, 1);		/* CreditRequest */
		frame_put_le64(b + 24, seq);		/* MessageId */
		frame_put_le16(b + 64,
		    49);		/* WRITE StructureSize */
		frame_put_le16(b + 66, 112);		/* DataOffset */
		frame_put_le32(b + 68, (uint32_t)(len - 112));	/* Length */
		frame_put_le64(b + 72, seq * 4096);	/* Offset */
		start = 112;
	}
	for (i = start; i < len; i++) {
		uint32_t x = (uint32_t)(i * 2654435761u) ^ (uint32_t)seq;

		b[i] = (uint8_t)(x >> 13 ^ x);
	}
}

static void
print_result(unsigned idx, const struct peer *p, const char *result,
    const char *detail)
{
	struct sdp_params sp;
	bool have = p->sdp != NULL && sdp_get_params(p->sdp, &sp) == 0;

	printf("{\"conn\":%u,\"transport\":\"%s\",\"result\":\"%s\"", idx,
	    peer_transport(p), result);
	if (have) {
		printf(",\"negotiated\":{\"version\":%u,\"max_send_size\":%u,"
		    "\"max_receive_size\":%u,\"max_fragmented_size\":%u,"
		    "\"peer_max_fragmented_size\":%u,"
		    "\"max_read_write_size\":%u,\"credits_requested\":%u,"
		    "\"credits_granted\":%u}", sp.version, sp.max_send_size,
		    sp.max_receive_size, sp.max_fragmented_size,
		    sp.peer_max_fragmented_size, sp.max_read_write_size,
		    sp.peer_credits_requested, sp.initial_send_credits);
	}
	printf(",\"pdus_sent\":%" PRIu64 ",\"pdus_received\":%" PRIu64
	    ",\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%" PRIu64,
	    p->pdus_sent, p->pdus_received, p->bytes_sent, p->bytes_received);
	printf(",\"disconnected\":%s,\"rejected\":%s",
	    p->disconnected ? "true" : "false",
	    p->rejected ? "true" : "false");
	if (p->disconnect_reason != 0) {
		printf(",\"engine_reason\":\"%s\"",
		    sdp_error_name(p->disconnect_reason));
	}
	printf(",\"why\":\"%s\",\"detail\":\"%s\"}\n", p->why,
	    detail != NULL ? detail : "");
	fflush(stdout);
}

/* A data transfer header, written by hand for the misbehaviours. */
static size_t
raw_data(uint8_t *b, uint16_t credits_req, uint16_t granted,
    uint32_t remaining, uint32_t data_len)
{
	memset(b, 0, 24);
	frame_put_le16(b, credits_req);
	frame_put_le16(b + 2, granted);
	frame_put_le32(b + 8, remaining);
	frame_put_le32(b + 12, data_len > 0 ? 24 : 0);
	frame_put_le32(b + 16, data_len);
	return 24;
}

static int
echo(const struct opts *o, struct peer *p, const char **detail)
{
	uint64_t seq = 0, rseq = 0;
	size_t total = (size_t)o->n_sizes * o->repeat, sent = 0, got = 0;
	size_t stop = o->disconnect_mid ? total / 2 : total;
	struct peer_pdu *q = NULL;
	uint8_t *buf = NULL, *want = NULL;
	size_t max = 0, i;
	int rc = 0;

	for (i = 0; i < o->n_sizes; i++) {
		max = o->sizes[i] > max ? o->sizes[i] : max;
	}
	buf = malloc(max);
	want = malloc(max);
	if (buf == NULL || want == NULL) {
		*detail = "out of memory";
		rc = -ENOMEM;
		goto out;
	}
	while (got < stop) {
		while (sent < stop && sent - got < o->depth) {
			size_t len = o->sizes[sent % o->n_sizes];

			pdu_fill(buf, len, seq++);
			rc = peer_send(p, buf, len);
			if (rc != 0) {
				*detail = "sending a PDU failed";
				goto out;
			}
			sent++;
		}
		rc = peer_recv(p, &q);
		if (rc != 0) {
			*detail = rc == -ETIMEDOUT ? "timed out waiting for an "
			    "echoed PDU" : "connection ended before all PDUs "
			    "came back";
			goto out;
		}
		{
			size_t len = o->sizes[got % o->n_sizes];

			pdu_fill(want, len, rseq++);
			if (q->len != len) {
				fprintf(stderr, "sdpeer: PDU %zu came back with "
				    "%zu bytes, sent %zu\n", got, q->len, len);
				*detail = "echoed PDU has the wrong length";
				rc = -EPROTO;
				goto out;
			}
			for (i = 0; i < len; i++) {
				if (q->data[i] != want[i]) {
					fprintf(stderr, "sdpeer: PDU %zu of %zu "
					    "bytes differs at byte %zu\n", got,
					    len, i);
					*detail = "echoed PDU differs";
					rc = -EPROTO;
					goto out;
				}
			}
		}
		free(q);
		q = NULL;
		got++;
	}
out:
	free(q);
	free(buf);
	free(want);
	return rc;
}

/*
 * What an action works on. Each phase fills in its own fields and leaves
 * the others zero: MB_NEG_REQUEST cfg; MB_CONNECT start_engine (true
 * until the action says otherwise); MB_AFTER_NEG p, sp (the negotiated
 * parameters) and m (zeroed scratch of sp.max_send_size + 64 KiB). An
 * MB_AFTER_NEG action that ends the connection itself sets ended and
 * detail. Actions return 0 or a negative errno; those of the phases before
 * negotiation cannot fail and return 0.
 */
struct mb_ctx {
	struct sdp_config	*cfg;		/* borrowed */
	bool			 start_engine;
	struct peer		*p;		/* borrowed */
	struct sdp_params	 sp;
	uint8_t			*m;		/* borrowed */
	bool			 ended;
	const char		*detail;
};

static int
mb_bad_version(struct mb_ctx *x)
{
	x->cfg->min_version = 0x0200;
	x->cfg->max_version = 0x0300;
	return 0;
}

static int
mb_credits_zero(struct mb_ctx *x)
{
	x->cfg->override.mask |= SDP_OVR_CREDITS_REQUESTED;
	x->cfg->override.credits_requested = 0;
	return 0;
}

static int
mb_frag_small(struct mb_ctx *x)
{
	x->cfg->override.mask |= SDP_OVR_MAX_FRAGMENTED_SIZE;
	x->cfg->override.max_fragmented_size = 131071;
	return 0;
}

static int
mb_neg_timeout(struct mb_ctx *x)
{
	x->start_engine = false;
	return 0;
}

static int
mb_short_msg(struct mb_ctx *x)
{
	raw_data(x->m, 1, 0, 0, 0);
	return peer_send_raw(x->p, x->m, 12);
}

static int
mb_oversize(struct mb_ctx *x)
{
	/* One message past what the server said it can receive. */
	size_t n = (size_t)x->sp.max_send_size + 1024;

	raw_data(x->m, 1, 0, 0, (uint32_t)(n - 24));
	return peer_send_raw(x->p, x->m, n);
}

static int
mb_frag_overflow(struct mb_ctx *x)
{
	raw_data(x->m, 1, 0, x->sp.peer_max_fragmented_size, 100);
	return peer_send_raw(x->p, x->m, 124);
}

/*
 * Messages that grant the server nothing, and our engine frozen so that it
 * grants nothing either: the server can re-grant only with the send
 * credits it already holds, which run out. (A burst of our credits plus a
 * few races its re-grants: it cannot tell a message sent before its grant
 * arrived from one sent after.) Paced so that it has judged each message
 * before the next arrives, this stream goes beyond all it ever granted,
 * and the first message that does lands in its spare receive.
 */
static int
mb_no_credit(struct mb_ctx *x)
{
	struct peer *p = x->p;
	unsigned i;
	int rc = 0;

	p->frozen = true;
	raw_data(x->m, 1, 0, 0, 0);
	for (i = 0; i < 4096 && rc == 0 && !p->disconnected; i++) {
		rc = peer_send_raw(p, x->m, 20);
		while (rc == -ENOBUFS && !p->disconnected) {
			peer_run_once(p, 10);
			rc = peer_send_raw(p, x->m, 20);
		}
		usleep(10000);
		peer_run_once(p, 0);
	}
	if (p->disconnected) {
		rc = 0;
	}
	return rc;
}

/* Keep every receive buffer: the server's credits run dry. */
static int
mb_stall(struct mb_ctx *x)
{
	struct peer *p = x->p;
	unsigned i;
	int rc = 0;

	p->no_release = true;
	for (i = 0; i < 512 && rc == 0 && !p->disconnected; i++) {
		uint8_t pdu[200];

		pdu_fill(pdu, sizeof(pdu), i);
		rc = peer_send(p, pdu, sizeof(pdu));
	}
	if (p->disconnected) {
		rc = 0;
	}
	return rc;
}

/* The first fragment of a 64 KiB PDU, then hang up. */
static int
mb_mid_pdu(struct mb_ctx *x)
{
	int rc;

	raw_data(x->m, 1, 0, 64u << 10, 1000);
	rc = peer_send_raw(x->p, x->m, 1024);
	if (rc == 0) {
		peer_run_once(x->p, 200);
		peer_disconnect(x->p);
		x->ended = true;
		x->detail = "disconnected mid-PDU";
	}
	return rc;
}

/* The usage text lists these in this order. */
static const struct misbehaviour misbehaviours[] = {
	{ "bad-version", "offer versions 0x0200-0x0300, without 0x0100",
	    MB_NEG_REQUEST, mb_bad_version },
	{ "credits-zero", "CreditsRequested 0 in the negotiate request",
	    MB_NEG_REQUEST, mb_credits_zero },
	{ "frag-small", "MaxFragmentedSize 131071 in the negotiate request",
	    MB_NEG_REQUEST, mb_frag_small },
	{ "short-msg", "a 12-byte message, shorter than 20 bytes",
	    MB_AFTER_NEG, mb_short_msg },
	{ "oversize", "a message 1 KiB over the negotiated send size",
	    MB_AFTER_NEG, mb_oversize },
	{ "frag-overflow", "a fragment announcing more than MaxFragmentedSize",
	    MB_AFTER_NEG, mb_frag_overflow },
	{ "no-credit", "send more messages than the server granted credits",
	    MB_AFTER_NEG, mb_no_credit },
	{ "neg-timeout", "connect, then never send the negotiate request",
	    MB_CONNECT, mb_neg_timeout },
	{ "stall", "keep every receive: the server's credits run dry",
	    MB_AFTER_NEG, mb_stall },
	{ "mid-pdu", "disconnect after the first fragment of a 64 KiB PDU",
	    MB_AFTER_NEG, mb_mid_pdu },
};

#define N_MISBEHAVIOURS (sizeof(misbehaviours) / sizeof(misbehaviours[0]))

/* The row called @name, or NULL. */
static const struct misbehaviour *
mb_find(const char *name)
{
	size_t k;

	for (k = 0; k < N_MISBEHAVIOURS; k++) {
		if (strcmp(name, misbehaviours[k].name) == 0) {
			return &misbehaviours[k];
		}
	}
	return NULL;
}

/* Run @mb's action (@mb NULL: none) if it acts in @phase; else 0. */
static int
mb_at(const struct misbehaviour *mb, enum mb_phase phase, struct mb_ctx *x)
{
	if (mb == NULL || mb->phase != phase) {
		return 0;
	}
	return mb->act(x);
}

/*
 * The MB_AFTER_NEG phase. Success: the action ended the connection, or
 * the server ended it within the wait.
 */
static int
misbehave_after(const struct opts *o, struct peer *p, const char **detail)
{
	struct mb_ctx x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.p = p;
	sdp_get_params(p->sdp, &x.sp);
	x.m = calloc(1, x.sp.max_send_size + (64u << 10));
	if (x.m == NULL) {
		return -ENOMEM;
	}
	rc = mb_at(o->mb, MB_AFTER_NEG, &x);
	free(x.m);
	if (rc != 0) {
		*detail = "could not send the misbehaving message";
		return rc;
	}
	if (x.ended) {
		*detail = x.detail;
		return 0;
	}
	if (peer_wait_disconnect(p, o->wait_ms) != 0) {
		*detail = "the server did not end the connection";
		return -ETIMEDOUT;
	}
	return 0;
}

/*
 * The byte at offset OFF of a run's data. It depends on the run's seed
 * too, so a server that did not store what this run wrote (a broken write
 * path, a file left from an earlier run) cannot pass the read-back.
 */
static uint8_t
io_byte(uint64_t seed, uint64_t off)
{
	uint64_t x = (off + seed) * 0x9e3779b97f4a7c15ull;

	return (uint8_t)(x >> 56 ^ off ^ seed);
}

static enum smb2c_channel
pick_channel(const char *ch, uint64_t i)
{
	if (strcmp(ch, "inline") == 0) {
		return SMB2C_INLINE;
	}
	if (strcmp(ch, "rdma") == 0) {
		return SMB2C_RDMA_V1;
	}
	if (strcmp(ch, "rdma-inv") == 0) {
		return SMB2C_RDMA_V1_INVALIDATE;
	}
	/* mixed: inline, RDMA_V1 and RDMA_V1_INVALIDATE in turn */
	return (enum smb2c_channel)(i % 3);
}

/* Anonymous (mini-smbd), or NTLMv2 as --user USER%PASS. */
static int
session_setup(const struct opts *o, struct smb2c *s)
{
	char user[128];
	const char *pct;

	if (o->user == NULL) {
		return smb2c_session_setup(s);
	}
	pct = strchr(o->user, '%');
	if (pct == NULL || (size_t)(pct - o->user) >= sizeof(user)) {
		snprintf(s->err, sizeof(s->err), "--user wants USER%%PASS");
		return -EINVAL;
	}
	memcpy(user, o->user, (size_t)(pct - o->user));
	user[pct - o->user] = '\0';
	return smb2c_session_setup_ntlm(s, user, pct + 1);
}

static bool
all_zero(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (b[i] != 0) {
			return false;
		}
	}
	return true;
}

/* Whether the request (result @rc) failed with status @want; else why. */
static bool
refused(const struct opts *o, const struct smb2c *s, int rc, uint32_t want,
    const char *cmd, char *detail, size_t dlen)
{
	if (rc != 0 && s->last_status == want) {
		return true;
	}
	snprintf(detail, dlen, "a %s with an RDMA channel%s was not refused "
	    "with %#x: %.200s", cmd, o->encrypt ? " (encrypted)" :
	    " and a wrong signature", want, rc == 0 ? "it succeeded" : s->err);
	return false;
}

/*
 * What a signed or an encrypted session must refuse before any RDMA
 * moves, after the file holds the pattern: signed, a READ and a WRITE
 * with an RDMA_V1 channel whose signature is wrong (ACCESS_DENIED,
 * [MS-SMB2] 3.3.5.2.4); encrypted, a READ and a WRITE with an RDMA
 * channel at all (INVALID_PARAMETER: the payload would travel in clear,
 * and no RDMA transform is negotiated). The refused READ must leave the
 * client's buffer as it was (zeros), and the file must still hold the
 * pattern afterwards (read back inline, through the same session).
 */
static int
refusals(const struct opts *o, struct smb2c *s, uint8_t *data, uint32_t io,
    char *detail, size_t dlen)
{
	const uint32_t want = o->encrypt ? 0xc000000du : 0xc0000022u;
	uint32_t len = io < 65536 ? io : 65536, k;
	int rc;

	if (!o->sign && !o->encrypt) {
		snprintf(detail, dlen, "--expect-refusals needs --sign or "
		    "--encrypt");
		return -EINVAL;
	}
	if (o->io_total < len) {
		len = (uint32_t)o->io_total;
	}
	s->forge = !o->encrypt;
	rc = smb2c_read(s, 0, data, len, SMB2C_RDMA_V1, SMB2C_BAD_NONE);
	if (!refused(o, s, rc, want, "READ", detail, dlen)) {
		return -EPROTO;
	}
	if (!all_zero(s->buf, len)) {
		snprintf(detail, dlen, "the refused READ wrote into the "
		    "client's buffer");
		return -EPROTO;
	}
	for (k = 0; k < len; k++) {
		data[k] = (uint8_t)~io_byte(o->seed, k);
	}
	s->forge = !o->encrypt;
	rc = smb2c_write(s, 0, data, len, SMB2C_RDMA_V1, SMB2C_BAD_NONE);
	if (!refused(o, s, rc, want, "WRITE", detail, dlen)) {
		return -EPROTO;
	}
	rc = smb2c_read(s, 0, data, len, SMB2C_INLINE, SMB2C_BAD_NONE);
	if (rc != 0) {
		snprintf(detail, dlen, "reading back after the refusals: %s",
		    s->err);
		return rc;
	}
	for (k = 0; k < len; k++) {
		if (data[k] != io_byte(o->seed, k)) {
			snprintf(detail, dlen, "the refused WRITE changed the "
			    "file at byte %u", k);
			return -EPROTO;
		}
	}
	printf("{\"refusals\":{\"status\":\"%#x\",\"bytes\":%u}}\n", want,
	    len);
	return 0;
}

/*
 * The SMB2 scenario: set up, optionally query interfaces, write io_total
 * bytes and read them back, comparing every byte; or break one request's
 * descriptors and expect the server to end the connection.
 */
static int
smb2_session(const struct opts *o, struct peer *p, unsigned idx)
{
	struct smb2c s;
	uint8_t *data = NULL;
	char ifaddr[64] = "", detail[320] = "";
	unsigned n_if = 0;
	uint64_t off, i, t0, t1, t2;
	uint32_t len, io = o->io_size;
	enum smb2c_channel ch;
	int rc;

	rc = smb2c_init(&s, p, io + 4096);
	s.sign = o->sign;
	s.encrypt = o->encrypt;
	s.smb311 = o->user != NULL && !o->smb302;
	if (rc == 0) {
		rc = smb2c_negotiate(&s, o->guid);
	}
	if (rc == 0) {
		rc = session_setup(o, &s);
	}
	if (rc == 0) {
		rc = smb2c_tree_connect(&s, o->share != NULL ? o->share :
		    "\\\\server\\share");
	}
	if (rc == 0 && o->file != NULL) {
		rc = smb2c_create(&s, o->file);
	}
	if (rc == 0 && o->query_ifaces) {
		rc = smb2c_query_interfaces(&s, &n_if, ifaddr, sizeof(ifaddr));
	}
	if (rc != 0) {
		snprintf(detail, sizeof(detail), "setup: %s", s.err);
		goto out;
	}
	if (io > s.max_rw) {
		io = s.max_rw;
	}
	data = malloc(io);
	if (data == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (o->bad != SMB2C_BAD_NONE) {
		for (i = 0; i < io; i++) {
			data[i] = io_byte(o->seed, i);
		}
		rc = smb2c_write(&s, 0, data, io, SMB2C_RDMA_V1, o->bad);
		if (rc == 0) {
			snprintf(detail, sizeof(detail), "the server accepted "
			    "broken descriptors");
			rc = -EPROTO;
			goto out;
		}
		if (peer_wait_disconnect(p, o->wait_ms) != 0) {
			snprintf(detail, sizeof(detail), "the server did not "
			    "end the connection");
			rc = -ETIMEDOUT;
			goto out;
		}
		snprintf(detail, sizeof(detail), "the server ended it: %s",
		    p->why);
		rc = 0;
		goto out;
	}
	t0 = peer_now();
	for (off = 0, i = 0; off < o->io_total; off += len, i++) {
		uint64_t k;

		len = o->io_total - off < io ? (uint32_t)(o->io_total - off) :
		    io;
		for (k = 0; k < len; k++) {
			data[k] = io_byte(o->seed, off + k);
		}
		ch = pick_channel(o->channel, i);
		rc = smb2c_write(&s, off, data, len, ch, SMB2C_BAD_NONE);
		if (rc != 0) {
			snprintf(detail, sizeof(detail), "%s", s.err);
			goto out;
		}
	}
	t1 = peer_now();
	for (off = 0, i = 0; off < o->io_total; off += len, i++) {
		uint64_t k;

		len = o->io_total - off < io ? (uint32_t)(o->io_total - off) :
		    io;
		ch = pick_channel(o->channel, i + 1);
		rc = smb2c_read(&s, off, data, len, ch, SMB2C_BAD_NONE);
		if (rc != 0) {
			snprintf(detail, sizeof(detail), "%s", s.err);
			goto out;
		}
		for (k = 0; k < len; k++) {
			if (data[k] != io_byte(o->seed, off + k)) {
				snprintf(detail, sizeof(detail), "read back "
				    "byte %llu differs",
				    (unsigned long long)(off + k));
				rc = -EIO;
				goto out;
			}
		}
	}
	t2 = peer_now();
	if (o->refusals) {
		rc = refusals(o, &s, data, io, detail, sizeof(detail));
		if (rc != 0) {
			goto out;
		}
	}
	if (o->file != NULL) {
		rc = smb2c_close(&s);
		if (rc != 0) {
			snprintf(detail, sizeof(detail), "%s", s.err);
			goto out;
		}
	}
	snprintf(detail, sizeof(detail), "dialect %#x, max_rw %u, "
	    "interfaces %u (%s)", s.dialect, s.max_rw, n_if, ifaddr);
	printf("{\"conn\":%u,\"security\":{\"signed\":%s,"
	    "\"encrypted\":%s,\"responses_verified\":%llu,"
	    "\"responses_decrypted\":%llu,\"interim\":%llu}}\n", idx,
	    o->sign ? "true" : "false", o->encrypt ? "true" : "false",
	    (unsigned long long)s.verified, (unsigned long long)s.decrypted,
	    (unsigned long long)s.interim);
	printf("{\"conn\":%u,\"smb2\":{\"seed\":%llu,"
	    "\"written\":%llu,\"read\":%llu,"
	    "\"rdma_bytes\":%llu,\"invalidated\":%llu,\"rdma_interfaces\":%u,"
	    "\"write_ms\":%llu,\"read_ms\":%llu,\"write_MBps\":%.1f,"
	    "\"read_MBps\":%.1f,\"write_MiBps\":%.2f,\"read_MiBps\":%.2f}}\n",
	    idx, (unsigned long long)o->seed,
	    (unsigned long long)o->io_total,
	    (unsigned long long)o->io_total,
	    (unsigned long long)s.rdma_bytes,
	    (unsigned long long)s.invalidated, n_if,
	    (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1),
	    t1 > t0 ? o->io_total / 1e3 / (double)(t1 - t0) : 0.0,
	    t2 > t1 ? o->io_total / 1e3 / (double)(t2 - t1) : 0.0,
	    t1 > t0 ? o->io_total * 1e3 / 1048576.0 / (double)(t1 - t0) :
	    0.0,
	    t2 > t1 ? o->io_total * 1e3 / 1048576.0 / (double)(t2 - t1) :
	    0.0);
out:
	free(data);
	smb2c_fini(&s);
	print_result(idx, p, rc == 0 ? "ok" : "fail", detail);
	return rc == 0 ? 0 : 1;
}

/*
 * [MS-SMBD] 2.1: iWARP listens on 5445, IB and RoCE on 445. Runs in the
 * process that will connect: librdmacm's device state must not be
 * opened before a fork.
 */
static const char *
default_port(const char *addr)
{
	struct rdma_addrinfo hints, *ai = NULL;
	struct rdma_cm_id *probe = NULL;
	const char *port = "445";

	memset(&hints, 0, sizeof(hints));
	hints.ai_port_space = RDMA_PS_TCP;
	if (rdma_getaddrinfo(addr, NULL, &hints, &ai) == 0 &&
	    rdma_create_id(NULL, &probe, NULL, RDMA_PS_TCP) == 0) {
		if (rdma_resolve_addr(probe, NULL, ai->ai_dst_addr, 2000) == 0 &&
		    probe->verbs != NULL &&
		    probe->verbs->device->transport_type ==
		    IBV_TRANSPORT_IWARP) {
			port = "5445";
		}
		rdma_destroy_id(probe);
	}
	if (ai != NULL) {
		rdma_freeaddrinfo(ai);
	}
	return port;
}

static int
one_connection(const struct opts *o, unsigned idx)
{
	struct peer p = o->tmpl;
	const char *detail = NULL;
	struct mb_ctx x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.start_engine = true;
	(void)mb_at(o->mb, MB_CONNECT, &x);
	rc = peer_connect(&p, o->addr, o->port != NULL ? o->port :
	    default_port(o->addr), x.start_engine);
	if (o->expect_reject) {
		if (rc != 0 && p.rejected) {
			print_result(idx, &p, "ok", "refused as expected");
			rc = 0;
		} else {
			print_result(idx, &p, "fail", rc == 0 ? "the server "
			    "accepted the connection" : "failed, but not by "
			    "a refusal");
			rc = 1;
		}
		goto out;
	}
	if (rc != 0) {
		print_result(idx, &p, "fail", "connect failed");
		rc = 1;
		goto out;
	}
	if (o->mb != NULL && o->mb->phase < MB_AFTER_NEG) {
		/* The server must end it during negotiation. */
		if (peer_wait_disconnect(&p, o->wait_ms) != 0 || p.negotiated) {
			print_result(idx, &p, "fail", p.negotiated ?
			    "the server accepted a bad negotiate request" :
			    "the server did not end the connection");
			rc = 1;
		} else {
			print_result(idx, &p, "ok", "the server ended it");
			rc = 0;
		}
		goto out;
	}
	if (peer_wait_negotiated(&p) != 0) {
		print_result(idx, &p, "fail", "negotiation failed");
		rc = 1;
		goto out;
	}
	if (o->smb2) {
		rc = smb2_session(o, &p, idx);
		goto out;
	}
	if (o->mb != NULL) {
		rc = misbehave_after(o, &p, &detail);
		print_result(idx, &p, rc == 0 ? "ok" : "fail", detail);
		rc = rc == 0 ? 0 : 1;
		goto out;
	}
	if (o->n_sizes > 0) {
		rc = echo(o, &p, &detail);
		if (rc != 0) {
			print_result(idx, &p, "fail", detail);
			rc = 1;
			goto out;
		}
	}
	if (o->hold_ms > 0) {
		uint64_t end = peer_now() + o->hold_ms;

		while (peer_now() < end && !p.disconnected) {
			peer_run_once(&p, 100);
		}
	}
	if (p.disconnected) {
		print_result(idx, &p, "fail", "the server disconnected");
		rc = 1;
		goto out;
	}
	peer_disconnect(&p);
	peer_wait_disconnect(&p, 2000);
	print_result(idx, &p, "ok", o->disconnect_mid ? "disconnected "
	    "halfway" : NULL);
	rc = 0;
out:
	peer_destroy(&p);
	return rc;
}

static void
usage(void)
{
	size_t k;

	fprintf(stderr,
	    "usage: sdpeer [options] ADDR\n"
	    "  -p, --port PORT          server port (default: 5445 on iWARP,"
	    " else 445)\n"
	    "      --credits N          CreditsRequested (send credit "
	    "target)\n"
	    "      --recv-credits N     receive credits at most\n"
	    "      --max-send N         PreferredSendSize\n"
	    "      --max-recv N         MaxReceiveSize\n"
	    "      --max-frag N         MaxFragmentedSize\n"
	    "      --min-version V      lowest version offered (e.g. 0x100)\n"
	    "      --max-version V      highest version offered\n"
	    "      --echo SIZES         send PDUs of these sizes (1,4K,1M), "
	    "expect each back\n"
	    "      --repeat N           run the echo list N times\n"
	    "      --depth N            PDUs in flight at once\n"
	    "      --misbehave NAME     one of these; the server must end the "
	    "connection:\n");
	for (k = 0; k < N_MISBEHAVIOURS; k++) {
		fprintf(stderr, "        %-18s %s\n", misbehaviours[k].name,
		    misbehaviours[k].help);
	}
	fprintf(stderr,
	    "      --expect-reject      the server must refuse the "
	    "connection\n"
	    "      --disconnect-mid     disconnect halfway through the echo "
	    "list\n"
	    "      --parallel N         N connections, one process each\n"
	    "      --hold MS            stay connected MS after the script\n"
	    "      --wait MS            how long to wait for the server "
	    "(default 30000)\n"
	    "  SMB2 (with the mini-smbd example as the server):\n"
	    "      --smb2               NEGOTIATE, SESSION_SETUP, TREE_CONNECT\n"
	    "      --guid HEX32         ClientGuid to negotiate with\n"
	    "      --query-interfaces   FSCTL_QUERY_NETWORK_INTERFACE_INFO\n"
	    "      --seed N             the I/O pattern's seed (default: new "
	    "each run; printed)\n"
	    "      --write-read BYTES   write BYTES, read them back, compare\n"
	    "      --io-size BYTES      per request (default 1M)\n"
	    "      --channel CH         inline, rdma, rdma-inv or mixed\n"
	    "      --bad-desc KIND      one WRITE with broken descriptors: "
	    "beyond,\n"
	    "                           token, total or count; the server "
	    "must disconnect\n"
	    "  SMB2 with a real smbd:\n"
	    "      --user USER%%PASS     NTLMv2 session; offers SMB 3.1.1 "
	    "(preauth\n"
	    "                           integrity) as well as 3.0 and 3.0.2\n"
	    "      --smb302             offer 3.0 and 3.0.2 only\n"
	    "      --share UNC          tree to connect (default "
	    "\\\\server\\share)\n"
	    "      --file NAME          CREATE NAME and do the I/O on it\n"
	    "      --sign               require signing, sign every request\n"
	    "      --encrypt            encrypt every request (AES-128-CCM)\n"
	    "      --expect-refusals    then: with --sign, a READ and a WRITE "
	    "with an\n"
	    "                           RDMA channel and a wrong signature "
	    "must fail\n"
	    "                           with ACCESS_DENIED; with --encrypt, "
	    "any RDMA\n"
	    "                           channel with INVALID_PARAMETER; no "
	    "byte moves\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "credits", required_argument, NULL, 1 },
		{ "recv-credits", required_argument, NULL, 2 },
		{ "max-send", required_argument, NULL, 3 },
		{ "max-recv", required_argument, NULL, 4 },
		{ "max-frag", required_argument, NULL, 5 },
		{ "min-version", required_argument, NULL, 6 },
		{ "max-version", required_argument, NULL, 7 },
		{ "echo", required_argument, NULL, 8 },
		{ "repeat", required_argument, NULL, 9 },
		{ "depth", required_argument, NULL, 10 },
		{ "misbehave", required_argument, NULL, 11 },
		{ "expect-reject", no_argument, NULL, 12 },
		{ "parallel", required_argument, NULL, 13 },
		{ "hold", required_argument, NULL, 14 },
		{ "wait", required_argument, NULL, 15 },
		{ "disconnect-mid", no_argument, NULL, 16 },
		{ "smb2", no_argument, NULL, 17 },
		{ "guid", required_argument, NULL, 18 },
		{ "write-read", required_argument, NULL, 19 },
		{ "io-size", required_argument, NULL, 20 },
		{ "channel", required_argument, NULL, 21 },
		{ "bad-desc", required_argument, NULL, 22 },
		{ "query-interfaces", no_argument, NULL, 23 },
		{ "seed", required_argument, NULL, 24 },
		{ "user", required_argument, NULL, 25 },
		{ "share", required_argument, NULL, 26 },
		{ "file", required_argument, NULL, 27 },
		{ "sign", no_argument, NULL, 28 },
		{ "encrypt", no_argument, NULL, 29 },
		{ "expect-refusals", no_argument, NULL, 30 },
		{ "smb302", no_argument, NULL, 31 },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	struct sdp_config *c;
	const struct misbehaviour *mb;
	struct mb_ctx x;
	unsigned i, fails = 0;
	size_t k;
	int ch, status, rc;
	pid_t pid;

	memset(&o, 0, sizeof(o));
	peer_init(&o.tmpl);
	c = &o.tmpl.cfg;
	o.repeat = 1;
	o.depth = 1;
	o.parallel = 1;
	o.wait_ms = 30000;
	o.io_size = 1u << 20;
	o.channel = "rdma";
	memcpy(o.guid, "sdpeer-guid-0001", 16);
	/* A new pattern every run unless --seed replays one (printed). */
	o.seed = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
	while ((ch = getopt_long(argc, argv, "p:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			o.port = optarg;
			break;
		case 1:
			c->send_credit_target = (uint16_t)num_arg("--credits",
			    optarg, 1, 255);
			break;
		case 2:
			c->recv_credit_max = (uint16_t)num_arg("--recv-credits",
			    optarg, 3, 255);
			if (c->recv_credit_initial > c->recv_credit_max) {
				c->recv_credit_initial = c->recv_credit_max;
			}
			break;
		case 3:
			c->max_send_size = num_arg("--max-send", optarg, 128,
			    1u << 20);
			break;
		case 4:
			c->max_receive_size = num_arg("--max-recv", optarg, 128,
			    1u << 20);
			break;
		case 5:
			c->max_fragmented_size = num_arg("--max-frag", optarg,
			    131072, 16u << 20);
			break;
		case 6:
			c->min_version = (uint16_t)num_arg("--min-version",
			    optarg, 0, 0xffff);
			break;
		case 7:
			c->max_version = (uint16_t)num_arg("--max-version",
			    optarg, 0, 0xffff);
			break;
		case 8:
			parse_sizes(&o, optarg);
			break;
		case 9:
			o.repeat = num_arg("--repeat", optarg, 1, 1000000);
			break;
		case 10:
			o.depth = num_arg("--depth", optarg, 1, 32);
			break;
		case 11:
			/*
			 * As before the table: an unknown NAME is an error
			 * only while no earlier --misbehave named a known one.
			 */
			mb = mb_find(optarg);
			if (mb != NULL) {
				o.mb = mb;
			}
			if (o.mb == NULL) {
				fprintf(stderr, "sdpeer: unknown misbehaviour "
				    "'%s'\n", optarg);
				usage();
			}
			break;
		case 12:
			o.expect_reject = true;
			break;
		case 13:
			o.parallel = num_arg("--parallel", optarg, 1, 1024);
			break;
		case 14:
			o.hold_ms = num_arg("--hold", optarg, 0, 3600000);
			break;
		case 15:
			o.wait_ms = num_arg("--wait", optarg, 100, 3600000);
			break;
		case 16:
			o.disconnect_mid = true;
			break;
		case 17:
			o.smb2 = true;
			break;
		case 18:
			if (strlen(optarg) != 32) {
				fprintf(stderr, "sdpeer: --guid: want 32 hex "
				    "digits\n");
				return 2;
			}
			for (k = 0; k < 16; k++) {
				unsigned v;

				if (sscanf(optarg + k * 2, "%2x", &v) != 1) {
					fprintf(stderr, "sdpeer: --guid: bad "
					    "hex\n");
					return 2;
				}
				o.guid[k] = (uint8_t)v;
			}
			break;
		case 19:
			{
				uint64_t v;

				if (parse_num(optarg, &v) != 0) {
					fprintf(stderr, "sdpeer: --write-read: "
					    "bad size\n");
					return 2;
				}
				o.io_total = v;
			}
			break;
		case 20:
			o.io_size = num_arg("--io-size", optarg, 1, 8u << 20);
			break;
		case 21:
			if (strcmp(optarg, "inline") != 0 &&
			    strcmp(optarg, "rdma") != 0 &&
			    strcmp(optarg, "rdma-inv") != 0 &&
			    strcmp(optarg, "mixed") != 0) {
				fprintf(stderr, "sdpeer: --channel: inline, "
				    "rdma, rdma-inv or mixed\n");
				return 2;
			}
			o.channel = optarg;
			break;
		case 22:
			if (strcmp(optarg, "beyond") == 0) {
				o.bad = SMB2C_BAD_BEYOND;
			} else if (strcmp(optarg, "token") == 0) {
				o.bad = SMB2C_BAD_TOKEN;
			} else if (strcmp(optarg, "total") == 0) {
				o.bad = SMB2C_BAD_TOTAL;
			} else if (strcmp(optarg, "count") == 0) {
				o.bad = SMB2C_BAD_COUNT;
			} else {
				fprintf(stderr, "sdpeer: --bad-desc: beyond, "
				    "token, total or count\n");
				return 2;
			}
			break;
		case 23:
			o.query_ifaces = true;
			break;
		case 24:
			o.seed = strtoull(optarg, NULL, 0);
			break;
		case 25:
			o.user = optarg;
			break;
		case 26:
			o.share = optarg;
			break;
		case 27:
			o.file = optarg;
			break;
		case 28:
			o.sign = true;
			break;
		case 29:
			o.encrypt = true;
			break;
		case 30:
			o.refusals = true;
			break;
		case 31:
			o.smb302 = true;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc) {
		usage();
	}
	o.addr = argv[optind];
	memset(&x, 0, sizeof(x));
	x.cfg = c;
	(void)mb_at(o.mb, MB_NEG_REQUEST, &x);
	o.tmpl.timeout_ms = o.wait_ms;
	if (sdp_config_validate(c) != 0) {
		fprintf(stderr, "sdpeer: engine configuration: %s\n",
		    sdp_strerror(sdp_config_validate(c)));
		free(o.sizes);
		return 2;
	}
	if (o.parallel == 1) {
		rc = one_connection(&o, 0);
		free(o.sizes);
		return rc;
	}
	for (i = 0; i < o.parallel; i++) {
		pid = fork();
		if (pid < 0) {
			perror("sdpeer: fork");
			free(o.sizes);
			return 1;
		}
		if (pid == 0) {
			rc = one_connection(&o, i);
			free(o.sizes);
			exit(rc);
		}
	}
	for (i = 0; i < o.parallel; i++) {
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fails++;
		}
	}
	fprintf(stderr, "sdpeer: %u of %u connections met expectations\n",
	    o.parallel - fails, o.parallel);
	free(o.sizes);
	return fails == 0 ? 0 : 1;
}
