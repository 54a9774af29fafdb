/* SPDX-License-Identifier: ISC */
/*
 * mini-smbd: how a Samba smbd drives smbdirectd, in one small program.
 *
 *   mini-smbd --daemon PATH --config CONF [--control-socket PATH]
 *             [--guid HEX32] [--file-size BYTES] [--owner-dir DIR] [-v]
 *
 * It runs the seed's steps literally, with the same processes Samba has:
 *
 *   master   the parent smbd. Step 0-1: starts smbdirectd with an inherited
 *            control socket (--control-fd) and registers as its master.
 *            Step 4-5: on each NewConnection event it forks a c2.
 *   c1       "the smbd that already owns the client with ClientGuid G".
 *            It exists before any RDMA client connects (forked before the
 *            master registers). Step 6-8: it takes handed-off data channels
 *            and serves SMB2 on them, one connection after another.
 *   c2       the fresh child of step 5. It reads NEGOTIATE, finds the owner
 *            of the ClientGuid, hands the channel and the PDUs it read over
 *            to c1, and exits (step 6).
 *
 * Samba finds the owner of a ClientGuid with smbXsrv_client_global and
 * passes the socket with its messaging. Here a socket per ClientGuid
 * stands in for both: c1 listens on OWNER_DIR/<guid-hex>.sock, and the
 * kernel tells c2 who listens there (SO_PEERCRED).
 *
 * stdout carries one JSON object per line for every notable event, so a
 * test can follow (all processes write whole lines with one write(2)):
 *   master: registered, c1_started, new_connection, handoff, closed,
 *           drain_requested, child_exited, daemon_exited, exiting
 *   c2:     c2_failed (why: channel, not_negotiate, no_owner, hand_off,
 *           pass)
 *   c1:     claimed, drain, done (how a connection ended, with counts)
 * Human-readable logs go to stderr.
 *
 * What the SMB2 side is not: there is no authentication (SESSION_SETUP
 * succeeds at once), no signing or encryption, no file system (one
 * in-memory file of --file-size bytes; FileId, SessionId and TreeId are
 * not checked), no compound requests (answered STATUS_NOT_SUPPORTED), and
 * no async or parallel requests: c1 answers one request at a time, and
 * serves one connection at a time (a second one for the same client waits
 * in c1's listen queue until the first ends). It is a transport example.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libclient/smbdirect-ctl.h"
#include "proto/sanexit.h"
#include "examples/mini-smbd-smb2.h"

/* The command line; read-only after main() parsed it. */
struct opts {
	const char	*daemon;
	const char	*config;
	const char	*control;	/* NULL: SDCTL_DEFAULT_SOCKET */
	char		 owner_dir[64];
	bool		 made_owner_dir;
	uint8_t		 guid[16];
	char		 guid_hex[33];
	uint64_t	 file_size;
	bool		 verbose;
};

/* c1's state across the connections it serves, one at a time. */
struct c1 {
	const struct opts *o;
	struct sdctl	*ctl;		/* owner role; opened on first use */
	uint8_t		*file;		/* the in-memory file, file_size */
	uint64_t	 next_session;
};

/* A PDU read ahead while c1 waited for an operation frame. */
struct qpdu {
	struct qpdu	*next;
	uint8_t		*pdu;
	size_t		 len;
};

/*
 * One connection c1 serves. Invariants: chan is open and c1 has claimed
 * it; area maps area_size bytes once the AREA frame came (NULL before);
 * PDUs in the queue arrived before anything still on the socket, so they
 * are always served first; at most one RDMA request is outstanding, and
 * it always uses the area from offset 0.
 */
struct conn {
	uint64_t		 id;
	int			 chan;
	struct sdctl_params	 p;
	uint8_t			*area;
	uint64_t		 area_size;
	struct qpdu		*q_head;
	struct qpdu		**q_tail;
	uint64_t		 next_req;
	uint16_t		 dialect;
	const char		*end;		/* why serving stopped */
	char			 why[160];
	uint64_t		 reads, writes, read_bytes, write_bytes;
	uint64_t		 rdma_ops;
	/*
	 * The token of the request being served if it asked for
	 * RDMA_V1_INVALIDATE. Its response invalidates it whatever its
	 * status: Linux cifs counts on the server for that and does not
	 * invalidate locally (a READ at end of file too).
	 */
	uint32_t		 inval;
};

static const char	*role = "master";
static volatile sig_atomic_t got_chld, got_term;
static sigset_t		 orig_mask;
static struct sdctl	*master_ctl;	/* children close it at once */

/* The default ClientGuid is sdpeer's, so the two meet with no flags. */
static const uint8_t	 default_guid[16] = "sdpeer-guid-0001";
static const uint8_t	 server_guid[16] = "mini-smbd-server";

static void __attribute__((format(printf, 1, 2)))
logx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mini-smbd[%d] %s: ", (int)getpid(), role);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * One JSON line on stdout. One write(2) per line: master, c1 and c2
 * share stdout, and a pipe keeps writes up to PIPE_BUF whole.
 */
static void __attribute__((format(printf, 1, 2)))
emit(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	if ((size_t)n > sizeof(line) - 2) {
		n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, (size_t)n) < 0) {
		logx("stdout: %s", strerror(errno));
	}
}

/* Strings from the daemon go into JSON; keep them plain. */
static const char *
plain(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++) {
		dst[i] = (src[i] == '"' || src[i] == '\\' ||
		    (unsigned char)src[i] < 0x20) ? '_' : src[i];
	}
	dst[i] = '\0';
	return dst;
}

static void
on_signal(int sig)
{
	if (sig == SIGCHLD) {
		got_chld = 1;
	} else {
		got_term = 1;
	}
}

/*
 * Every child starts here: it must never use the master's control
 * connection (the daemon knows it by the master's credentials), and it
 * gets default signals back.
 */
static void
child_init(const char *name)
{
	role = name;
	sdctl_close(master_ctl);
	master_ctl = NULL;
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigprocmask(SIG_SETMASK, &orig_mask, NULL);
}

/* OWNER_DIR/<guid-hex>.sock: where the owner of a ClientGuid listens. */
static int
owner_path(const struct opts *o, const char *hex, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path),
	    "%s/%s.sock", o->owner_dir, hex) >= sizeof(sun->sun_path)) {
		return -ENAMETOOLONG;
	}
	return 0;
}

static void
hex16(const uint8_t b[16], char out[33])
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		snprintf(out + i * 2, 3, "%02x", b[i]);
	}
}

/* Open a control connection and take the owner role (steps 6 and 7). */
static int
owner_connect(const struct opts *o, const char *name, struct sdctl **out)
{
	struct sdctl *ctl = NULL;
	int rc;

	rc = sdctl_connect(o->control, &ctl);
	if (rc != 0) {
		logx("control socket %s: %s", o->control != NULL ? o->control :
		    SDCTL_DEFAULT_SOCKET, strerror(-rc));
		return rc;
	}
	rc = sdctl_register(ctl, SDCTL_ROLE_OWNER, name, NULL);
	if (rc != 0) {
		logx("register as owner: %s (%s)", strerror(-rc),
		    sdctl_last_error(ctl));
		sdctl_close(ctl);
		return rc;
	}
	*out = ctl;
	return 0;
}

/* ------------------------------------------------------------------ */
/* c2: steps 5 and 6                                                  */
/* ------------------------------------------------------------------ */

static int
c2_main(const struct opts *o, const struct sdctl_event *ev)
{
	uint64_t id = ev->u.new_connection.conn.id;
	size_t max_pdu = ev->u.new_connection.conn.params.max_fragmented_size;
	const uint8_t *pdus[1];
	const char *fail = NULL;
	struct sdctl_frame f;
	struct sdctl *ctl = NULL;
	struct sockaddr_un sun;
	struct ucred cr;
	socklen_t sl = sizeof(cr);
	uint8_t *pdu = NULL, guid[16];
	size_t pdu_len = 0;
	char hex[33] = "";
	int chan = -1, owner = -1, rc;

	/*
	 * Step 5: connect to the event's one-shot socket. The daemon takes
	 * our pid from the connection (SO_PEERCRED): c2 is now the owner.
	 */
	rc = sdctl_chan_connect(ev->u.new_connection.socket_path, &chan);
	/* Step 6: the first PDU on the channel is the client's NEGOTIATE. */
	while (rc == 0 && pdu == NULL) {
		rc = sdctl_chan_read(chan, max_pdu, &f);
		if (rc == 0 && f.kind == SDCTL_FRAME_PDU) {
			pdu = f.pdu;
			pdu_len = f.pdu_len;
		}
	}
	if (rc != 0) {
		logx("conn=%" PRIu64 ": data channel: %s", id, strerror(-rc));
		fail = "channel";
		goto out;
	}
	if (sdctl_smb2_client_guid(pdu, pdu_len, guid) != 0) {
		fail = "not_negotiate";
		goto out;
	}
	/*
	 * Who owns this ClientGuid? (Samba: smbXsrv_client_global.) Nobody
	 * means a new client, which real Samba's c2 serves itself; this
	 * example closes the channel and the daemon disconnects the client.
	 */
	hex16(guid, hex);
	owner = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (owner == -1 || owner_path(o, hex, &sun) != 0 ||
	    connect(owner, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    getsockopt(owner, SOL_SOCKET, SO_PEERCRED, &cr, &sl) != 0) {
		fail = "no_owner";
		goto out;
	}
	/*
	 * Step 6, the hand-off: tell the daemon first, from our own control
	 * connection (only the current owner may), naming c1 by the pid the
	 * kernel gave us, not one anybody claims ...
	 */
	rc = owner_connect(o, "mini-smbd c2", &ctl);
	if (rc == 0) {
		rc = sdctl_hand_off(ctl, id, cr.pid);
		if (rc != 0) {
			logx("conn=%" PRIu64 ": hand-off to pid %d: %s (%s)",
			    id, (int)cr.pid, strerror(-rc),
			    sdctl_last_error(ctl));
		}
	}
	if (rc != 0) {
		fail = "hand_off";
		goto out;
	}
	/* ... then pass the channel and the PDU already read, and exit. */
	pdus[0] = pdu;
	rc = sdctl_chan_pass(owner, chan, id, pdus, &pdu_len, 1);
	if (rc != 0) {
		logx("conn=%" PRIu64 ": passing the channel: %s", id,
		    strerror(-rc));
		fail = "pass";
	}
out:
	if (fail != NULL) {
		logx("conn=%" PRIu64 ": %s %s", id, fail, hex);
		emit("{\"event\":\"c2_failed\",\"id\":%" PRIu64 ",\"pid\":%d,"
		    "\"why\":\"%s\",\"guid\":\"%s\"}", id, (int)getpid(), fail,
		    hex);
	}
	sdctl_close(ctl);
	if (owner != -1) {
		close(owner);
	}
	if (chan != -1) {
		close(chan);
	}
	free(pdu);
	return fail == NULL ? 0 : 1;
}

/* ------------------------------------------------------------------ */
/* c1: steps 6 (claim), 7 and 8                                       */
/* ------------------------------------------------------------------ */

static void
q_push(struct conn *c, uint8_t *pdu, size_t len)
{
	struct qpdu *q = malloc(sizeof(*q));

	if (q == NULL) {
		/* Losing a request would hang the client: give up instead. */
		logx("out of memory");
		_exit(1);
	}
	q->next = NULL;
	q->pdu = pdu;
	q->len = len;
	*c->q_tail = q;
	c->q_tail = &q->next;
}

/* Record why serving stops; returns @rc so callers can return it. */
static int __attribute__((format(printf, 4, 5)))
conn_stop(struct conn *c, const char *end, int rc, const char *fmt, ...)
{
	va_list ap;

	c->end = end;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	logx("conn=%" PRIu64 ": %s: %s", c->id, end, c->why);
	return rc;
}

/*
 * Read frames until one of @kind arrives (for a COMPLETION: the one for
 * @req). PDUs that arrive meanwhile wait in the queue; the client may
 * well send its next request before the daemon reports a completion.
 */
static int
wait_frame(struct conn *c, enum sdctl_frame_kind kind, uint64_t req,
    struct sdctl_frame *out)
{
	struct sdctl_frame f;
	int rc;

	for (;;) {
		rc = sdctl_chan_read(c->chan, c->p.max_fragmented_size, &f);
		if (rc == -EPIPE) {
			return conn_stop(c, "eof", rc, "the daemon closed the "
			    "data channel");
		}
		if (rc != 0) {
			return conn_stop(c, "error", rc, "data channel read: "
			    "%s", strerror(-rc));
		}
		switch (f.kind) {
		case SDCTL_FRAME_PDU:
			if (kind == SDCTL_FRAME_PDU) {
				*out = f;
				return 0;
			}
			q_push(c, f.pdu, f.pdu_len);
			break;
		case SDCTL_FRAME_DRAIN:
			/* Finish up: the daemon closes after the grace. */
			logx("conn=%" PRIu64 ": drain, %u ms left", c->id,
			    f.grace_ms);
			emit("{\"event\":\"drain\",\"id\":%" PRIu64 ","
			    "\"pid\":%d,\"grace_ms\":%u}", c->id,
			    (int)getpid(), f.grace_ms);
			break;
		case SDCTL_FRAME_ERROR:
			return conn_stop(c, "error", -EPROTO, "the daemon "
			    "refused frame %#x: %s (%s)", f.refused_type,
			    f.message, strerror(-f.status));
		case SDCTL_FRAME_AREA:
			if (kind == SDCTL_FRAME_AREA) {
				*out = f;
				return 0;
			}
			close(f.area_fd);
			return conn_stop(c, "error", -EPROTO, "unexpected "
			    "AREA");
		case SDCTL_FRAME_COMPLETION:
			if (kind == SDCTL_FRAME_COMPLETION && f.req_id == req) {
				*out = f;
				return 0;
			}
			return conn_stop(c, "error", -EPROTO, "completion for "
			    "request %" PRIu64 ", none outstanding", f.req_id);
		}
	}
}

/*
 * Step 8: one RDMA operation's completion. A negative status: the client's
 * descriptors were bad (token, address), the RDMA operation failed and
 * the daemon is tearing the connection down; or the daemon refused the
 * request before posting it (a bug here). Either way c1 closes.
 */
static int
wait_rdma(struct conn *c, uint64_t req, const char *what)
{
	struct sdctl_frame f;
	int rc;

	rc = wait_frame(c, SDCTL_FRAME_COMPLETION, req, &f);
	if (rc == 0 && f.status != 0) {
		rc = conn_stop(c, "rdma_failed", f.status, "RDMA %s request "
		    "%" PRIu64 ": %s", what, req, strerror(-f.status));
	}
	if (rc == 0) {
		c->rdma_ops++;
	}
	return rc;
}

static int
send_pdu(struct conn *c, const uint8_t *pdu, size_t len, uint32_t inval)
{
	int rc;

	if (inval != 0) {
		rc = sdctl_chan_write_pdu_invalidate(c->chan, pdu, len, inval);
	} else {
		rc = sdctl_chan_write_pdu(c->chan, pdu, len);
	}
	if (rc != 0) {
		return conn_stop(c, rc == -EPIPE ? "eof" : "error", rc,
		    "writing a response: %s", strerror(-rc));
	}
	return 0;
}

static int
send_error(struct conn *c, const struct msmb2_hdr *h, uint32_t status)
{
	uint8_t rsp[MSMB2_ERROR_LEN];

	return send_pdu(c, rsp, msmb2_error(h, status, rsp), c->inval);
}

/* Seed step 3: the RDMA interfaces, as FSCTL_QUERY_NETWORK_INTERFACE_INFO. */
static int
do_ioctl(struct c1 *s, struct conn *c, const struct msmb2_hdr *h,
    const uint8_t *pdu, size_t len)
{
	struct msmb2_ioctl io;
	struct sdctl_iface *ifs = NULL;
	size_t n = 0, out_len = 0;
	uint8_t *rsp = NULL;
	uint32_t status = STATUS_SUCCESS;
	int rc;

	if (msmb2_ioctl_parse(pdu, len, &io) != 0) {
		return send_error(c, h, STATUS_INVALID_PARAMETER);
	}
	if (io.ctl_code != FSCTL_QUERY_NETWORK_INTERFACE_INFO) {
		return send_error(c, h, STATUS_NOT_SUPPORTED);
	}
	rc = sdctl_list_interfaces(s->ctl, &ifs, &n);
	if (rc != 0) {
		logx("conn=%" PRIu64 ": list interfaces: %s", c->id,
		    strerror(-rc));
		return send_error(c, h, STATUS_NOT_SUPPORTED);
	}
	rsp = malloc(MSMB2_IOCTL_OUTPUT_OFF + 1 + n * 152);
	if (rsp == NULL) {
		free(ifs);
		return send_error(c, h, STATUS_NOT_SUPPORTED);
	}
	if (n > 0) {
		rc = sdctl_network_interface_info(ifs, n,
		    rsp + MSMB2_IOCTL_OUTPUT_OFF, n * 152, &out_len);
		if (rc != 0) {
			/* e.g. only wildcard listeners: nothing to name */
			status = STATUS_NOT_SUPPORTED;
		} else if (out_len > io.max_output) {
			status = STATUS_BUFFER_TOO_SMALL;
		}
	}
	if (status != STATUS_SUCCESS) {
		rc = send_error(c, h, status);
	} else {
		rc = send_pdu(c, rsp, msmb2_ioctl(h, &io, (uint32_t)out_len,
		    rsp), 0);
	}
	free(rsp);
	free(ifs);
	return rc;
}

/*
 * SMB2 WRITE. Inline: the data is in the PDU. Over RDMA (step 8): Length
 * is 0 and RemainingBytes is the size; the daemon RDMA READs the client's
 * buffers into the area, and the data is there once the COMPLETION came.
 */
static int
do_write(struct c1 *s, struct conn *c, const struct msmb2_hdr *h,
    const struct sdctl_smb2_rw *rw, const uint8_t *pdu, size_t len)
{
	const struct opts *o = s->o;
	struct sdctl_desc d[SDCTL_MAX_DESC];
	uint8_t rsp[MSMB2_WRITE_LEN];
	uint32_t n, inval = 0;
	unsigned nd;
	int rc;

	if (rw->channel == SMB2_CHANNEL_NONE) {
		n = rw->data_length;
		if (rw->data_offset > len || n > len - rw->data_offset) {
			return send_error(c, h, STATUS_INVALID_PARAMETER);
		}
	} else {
		n = rw->remaining_bytes;
		if (rw->length != 0 || n == 0 || n > rw->desc_total ||
		    n > c->area_size) {
			return send_error(c, h, STATUS_INVALID_PARAMETER);
		}
	}
	if (rw->offset > o->file_size || n > o->file_size - rw->offset) {
		return send_error(c, h, STATUS_DISK_FULL);
	}
	if (rw->channel == SMB2_CHANNEL_NONE) {
		memcpy(s->file + rw->offset, pdu + rw->data_offset, n);
	} else {
		nd = msmb2_trim_desc(rw->desc, rw->n_desc, n, d);
		rc = sdctl_chan_rdma_read(c->chan, ++c->next_req, 0, d, nd);
		if (rc != 0) {
			return conn_stop(c, "error", rc, "RDMA READ request: "
			    "%s", strerror(-rc));
		}
		rc = wait_rdma(c, c->next_req, "READ");
		if (rc != 0) {
			return rc;
		}
		memcpy(s->file + rw->offset, c->area, n);
		/* The client asked us to invalidate its buffer's token. */
		if (rw->channel == SMB2_CHANNEL_RDMA_V1_INVALIDATE) {
			inval = rw->desc[0].token;
		}
	}
	c->writes++;
	c->write_bytes += n;
	return send_pdu(c, rsp, msmb2_write(h, n, rsp), inval);
}

/*
 * SMB2 READ. Inline: the data goes in the response. Over RDMA (step 8):
 * the data goes into the area, the daemon RDMA WRITEs it to the client's
 * buffers and sends the response right behind the writes on the same
 * queue pair (RC ordering: the client sees the data first). The area is
 * reused only after the COMPLETION.
 */
static int
do_read(struct c1 *s, struct conn *c, const struct msmb2_hdr *h,
    const struct sdctl_smb2_rw *rw)
{
	const struct opts *o = s->o;
	struct sdctl_desc d[SDCTL_MAX_DESC];
	uint8_t *rsp = NULL;
	uint32_t n;
	size_t rlen;
	unsigned nd;
	int rc;

	if (rw->length > c->p.max_read_write_size) {
		return send_error(c, h, STATUS_INVALID_PARAMETER);
	}
	if (rw->offset >= o->file_size) {
		return send_error(c, h, STATUS_END_OF_FILE);
	}
	n = rw->length;
	if (n > o->file_size - rw->offset) {
		n = (uint32_t)(o->file_size - rw->offset);	/* short read */
	}
	if (n == 0) {
		/* [MS-SMB2] 2.2.20: zero bytes read is STATUS_END_OF_FILE. */
		return send_error(c, h, STATUS_END_OF_FILE);
	}
	if (rw->channel == SMB2_CHANNEL_NONE) {
		/* A PDU may not exceed what the client reassembles. */
		if (MSMB2_READ_DATA_OFF + (size_t)n >
		    c->p.peer_max_fragmented_size) {
			return send_error(c, h, STATUS_INVALID_PARAMETER);
		}
		rsp = malloc(MSMB2_READ_DATA_OFF + (size_t)n);
		if (rsp == NULL) {
			return send_error(c, h, STATUS_INVALID_PARAMETER);
		}
		rlen = msmb2_read(h, n, 0, rsp);
		memcpy(rsp + MSMB2_READ_DATA_OFF, s->file + rw->offset, n);
		rc = send_pdu(c, rsp, rlen, 0);
		free(rsp);
	} else {
		uint8_t r[MSMB2_READ_DATA_OFF + 1];

		if (rw->length > rw->desc_total || n > c->area_size) {
			return send_error(c, h, STATUS_INVALID_PARAMETER);
		}
		memcpy(c->area, s->file + rw->offset, n);
		nd = msmb2_trim_desc(rw->desc, rw->n_desc, n, d);
		/* DataLength 0: the data went on the channel. */
		rlen = msmb2_read(h, 0, n, r);
		rc = sdctl_chan_rdma_write(c->chan, ++c->next_req, 0, d, nd, r,
		    rlen, rw->channel == SMB2_CHANNEL_RDMA_V1_INVALIDATE ?
		    rw->desc[0].token : 0);
		if (rc != 0) {
			return conn_stop(c, "error", rc, "RDMA WRITE request: "
			    "%s", strerror(-rc));
		}
		rc = wait_rdma(c, c->next_req, "WRITE");
	}
	if (rc == 0) {
		c->reads++;
		c->read_bytes += n;
	}
	return rc;
}

static int
do_rw(struct c1 *s, struct conn *c, const struct msmb2_hdr *h,
    const uint8_t *pdu, size_t len)
{
	struct sdctl_smb2_rw rw;
	int rc;

	/*
	 * Channel info a client got wrong ends the connection: a total
	 * above MaxReadWriteSize (-E2BIG), too many descriptors (-ERANGE),
	 * a malformed request (-EPROTO). Closing the data channel makes the
	 * daemon disconnect the client.
	 */
	rc = sdctl_smb2_rw_parse(pdu, len, 0, c->p.max_read_write_size, &rw);
	if (rc != 0) {
		return conn_stop(c, rc == -E2BIG ? "exceeds_max_read_write" :
		    rc == -ERANGE ? "too_many_descriptors" :
		    "malformed_channel_info", rc, "%s request: %s",
		    h->command == SMB2_READ ? "READ" : "WRITE",
		    rc == -E2BIG ? "descriptors exceed MaxReadWriteSize" :
		    rc == -ERANGE ? "too many descriptors" : "malformed");
	}
	/* [MS-SMB2] 3.3.5.12/13: the channels each dialect allows. */
	if (rw.channel > SMB2_CHANNEL_RDMA_V1_INVALIDATE ||
	    (rw.channel == SMB2_CHANNEL_RDMA_V1_INVALIDATE &&
	    c->dialect == 0x0300)) {
		return send_error(c, h, STATUS_INVALID_PARAMETER);
	}
	c->inval = rw.channel == SMB2_CHANNEL_RDMA_V1_INVALIDATE ?
	    rw.desc[0].token : 0;
	if (h->command == SMB2_WRITE) {
		rc = do_write(s, c, h, &rw, pdu, len);
	} else {
		rc = do_read(s, c, h, &rw);
	}
	c->inval = 0;
	return rc;
}

/* FILETIME: 100 ns units since 1601-01-01. */
static uint64_t
filetime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec + UINT64_C(11644473600)) * 10000000u +
	    (uint64_t)ts.tv_nsec / 100u;
}

/* Step 7: one SMB2 request. Returns 0 to go on, negative to close. */
static int
serve_pdu(struct c1 *s, struct conn *c, const uint8_t *pdu, size_t len)
{
	uint8_t rsp[MSMB2_NEGOTIATE_LEN];	/* the longest answered here */
	struct msmb2_hdr h;
	uint16_t dialect;
	int rc;

	if (msmb2_parse(pdu, len, &h) != 0) {
		/* [MS-SMB2] 3.3.5.2.6: disconnect, no response. */
		return conn_stop(c, "refused", -EPROTO, "not an SMB2 request "
		    "(%zu bytes)", len);
	}
	if (h.next_command != 0) {
		return send_error(c, &h, STATUS_NOT_SUPPORTED);
	}
	switch (h.command) {
	case SMB2_NEGOTIATE:
		rc = msmb2_pick_dialect(pdu, len, &dialect);
		if (rc != 0) {
			return send_error(c, &h, rc == -ENOTSUP ?
			    STATUS_NOT_SUPPORTED : STATUS_INVALID_PARAMETER);
		}
		c->dialect = dialect;
		return send_pdu(c, rsp, msmb2_negotiate(&h, dialect,
		    server_guid, c->p.max_read_write_size, filetime_now(),
		    rsp), 0);
	case SMB2_SESSION_SETUP:
		/* No authentication: every session succeeds at once. */
		return send_pdu(c, rsp, msmb2_session_setup(&h,
		    ++s->next_session, rsp), 0);
	case SMB2_TREE_CONNECT:
		return send_pdu(c, rsp, msmb2_tree_connect(&h, 1, rsp), 0);
	case SMB2_LOGOFF:
	case SMB2_TREE_DISCONNECT:
	case SMB2_ECHO:
		return send_pdu(c, rsp, msmb2_empty(&h, rsp), 0);
	case SMB2_CANCEL:
		return 0;	/* never answered; nothing is pending here */
	case SMB2_IOCTL:
		return do_ioctl(s, c, &h, pdu, len);
	case SMB2_READ:
	case SMB2_WRITE:
		return do_rw(s, c, &h, pdu, len);
	default:
		return send_error(c, &h, STATUS_NOT_SUPPORTED);
	}
}

/*
 * Steps 6-8 for one handed-off connection: claim it, get its parameters
 * and the area, then serve SMB2 until the channel ends.
 */
static void
c1_serve(struct c1 *s, struct sdctl_passed *pass)
{
	struct conn c;
	struct sdctl_conn info;
	struct sdctl_frame f;
	struct qpdu *q;
	void *map = NULL;
	char why[sizeof(c.why)];
	unsigned i;
	int rc;

	/*
	 * A fresh file per connection: what a client reads back is what it
	 * wrote on this connection, or a test could pass on data an earlier
	 * connection left behind.
	 */
	memset(s->file, 0, s->o->file_size);
	memset(&c, 0, sizeof(c));
	c.id = pass->conn_id;
	c.chan = pass->chan_fd;
	c.q_tail = &c.q_head;
	c.end = "eof";
	/* The PDUs c2 read come first: NEGOTIATE, then whatever followed. */
	for (i = 0; i < pass->n; i++) {
		q_push(&c, pass->pdus[i], pass->lens[i]);
		pass->pdus[i] = NULL;
	}
	if (s->ctl == NULL) {
		rc = owner_connect(s->o, "mini-smbd c1", &s->ctl);
		if (rc != 0) {
			conn_stop(&c, "error", rc, "no control connection");
			goto out;
		}
	}
	/*
	 * Step 6 ends here: the claim. sdctl_claim() writes a CLAIM frame
	 * on the channel, which the kernel stamps with our pid: only a
	 * process holding the socket can. From now on smbdirectctl shows
	 * c1 as the owner, and drain and kill reach c1.
	 */
	rc = sdctl_claim(s->ctl, c.chan, c.id);
	if (rc == 0) {
		rc = sdctl_get_connection(s->ctl, c.id, &info);
	}
	if (rc != 0) {
		conn_stop(&c, "error", rc, "claim: %s (%s)", strerror(-rc),
		    sdctl_last_error(s->ctl));
		if (rc == -EPIPE || rc == -ETIMEDOUT || rc == -EPROTO) {
			sdctl_close(s->ctl);	/* reconnect next time */
			s->ctl = NULL;
		}
		goto out;
	}
	c.p = info.params;
	/* Step 8 needs the area: the daemon's registered memory, shared. */
	rc = sdctl_chan_request_area(c.chan);
	if (rc == 0) {
		rc = wait_frame(&c, SDCTL_FRAME_AREA, 0, &f);
		if (rc != 0) {
			goto out;
		}
		rc = sdctl_area_map(f.area_fd, f.area_size, &map);
		close(f.area_fd);
	}
	if (rc != 0) {
		conn_stop(&c, "error", rc, "area: %s", strerror(-rc));
		goto out;
	}
	c.area = map;
	c.area_size = f.area_size;
	emit("{\"event\":\"claimed\",\"id\":%" PRIu64 ",\"pid\":%d,"
	    "\"max_read_write_size\":%u,\"area_size\":%" PRIu64 "}", c.id,
	    (int)getpid(), c.p.max_read_write_size, c.area_size);

	/* Step 7: serve. Read-ahead PDUs first, then the channel. */
	for (;;) {
		if (c.q_head != NULL) {
			q = c.q_head;
			c.q_head = q->next;
			if (c.q_head == NULL) {
				c.q_tail = &c.q_head;
			}
			f.pdu = q->pdu;
			f.pdu_len = q->len;
			free(q);
		} else if (wait_frame(&c, SDCTL_FRAME_PDU, 0, &f) != 0) {
			break;
		}
		rc = serve_pdu(s, &c, f.pdu, f.pdu_len);
		free(f.pdu);
		if (rc != 0) {
			break;
		}
	}
out:
	emit("{\"event\":\"done\",\"id\":%" PRIu64 ",\"pid\":%d,\"end\":\"%s\","
	    "\"why\":\"%s\",\"reads\":%" PRIu64 ",\"writes\":%" PRIu64 ","
	    "\"read_bytes\":%" PRIu64 ",\"write_bytes\":%" PRIu64 ","
	    "\"rdma_ops\":%" PRIu64 "}", c.id, (int)getpid(), c.end,
	    plain(why, sizeof(why), c.why), c.reads, c.writes, c.read_bytes,
	    c.write_bytes, c.rdma_ops);
	while ((q = c.q_head) != NULL) {
		c.q_head = q->next;
		free(q->pdu);
		free(q);
	}
	if (map != NULL) {
		munmap(map, c.area_size);
	}
	close(c.chan);
}

/*
 * c1's life: listen where c2 will look for the owner of our ClientGuid,
 * tell the master we are ready, then take hand-offs one at a time.
 */
static int
c1_main(const struct opts *o, int ready_fd)
{
	struct c1 s;
	struct sdctl_passed pass;
	struct sockaddr_un sun;
	struct sigaction sa;
	int lfd = -1, fd, rc, status = 1;

	memset(&s, 0, sizeof(s));
	s.o = o;
	/*
	 * SIGTERM (from the master at its stop, or at its death) ends c1
	 * cleanly between connections: accept() returns EINTR, and c1
	 * returns 0 through the same exit as everything else.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	/* If the master dies, so does c1; no orphan keeps the socket. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	s.file = calloc(1, o->file_size);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s.file == NULL || lfd == -1 ||
	    owner_path(o, o->guid_hex, &sun) != 0) {
		logx("cannot set up (%s)", strerror(errno));
		goto out;
	}
	unlink(sun.sun_path);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(lfd, 16) != 0) {
		logx("listen on %s: %s", sun.sun_path, strerror(errno));
		goto out;
	}
	/* Ready: the master may now let RDMA clients in. */
	if (write(ready_fd, "1", 1) != 1) {
		goto out;
	}
	close(ready_fd);
	ready_fd = -1;
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1 && got_term) {
			status = 0;	/* stopped */
			break;
		}
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED) {
				continue;
			}
			logx("accept: %s", strerror(errno));
			break;
		}
		rc = sdctl_chan_receive(fd, &pass);
		close(fd);
		if (rc != 0) {
			logx("receiving a hand-off: %s", strerror(-rc));
			continue;
		}
		c1_serve(&s, &pass);
		sdctl_passed_free(&pass);
	}
out:
	if (ready_fd != -1) {
		close(ready_fd);
	}
	if (lfd != -1) {
		close(lfd);
	}
	sdctl_close(s.ctl);
	free(s.file);
	return status;
}

/* ------------------------------------------------------------------ */
/* The master: steps 0, 1, 4 and 5                                   */
/* ------------------------------------------------------------------ */

/* Fork c1 and wait until it listens. Return its pid, or -1. */
static pid_t
c1_spawn(const struct opts *o)
{
	int ready[2];
	pid_t pid;
	char b;

	if (pipe2(ready, O_CLOEXEC) != 0) {
		logx("pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		child_init("c1");
		sanexit(c1_main(o, ready[1]));
	}
	close(ready[1]);
	if (pid < 0) {
		logx("fork: %s", strerror(errno));
	} else if (read(ready[0], &b, 1) != 1) {
		logx("c1 (pid %d) failed to start", (int)pid);
		waitpid(pid, NULL, 0);	/* it closed the pipe as it exits */
		pid = -1;
	}
	close(ready[0]);
	if (pid > 0) {
		emit("{\"event\":\"c1_started\",\"pid\":%d,\"guid\":\"%s\"}",
		    (int)pid, o->guid_hex);
	}
	return pid;
}

/* Step 0: fork+exec the daemon with our socketpair's other end. */
static pid_t
daemon_spawn(const struct opts *o, int *ctl_fd)
{
	char fdarg[32];
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		logx("socketpair: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		/* Its end survives exec; nothing else of ours does. */
		if (fcntl(sv[1], F_SETFD, 0) != 0) {
			_exit(127);
		}
		snprintf(fdarg, sizeof(fdarg), "--control-fd=%d", sv[1]);
		/* Our stdout is the JSON stream; its logs go to stderr. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		signal(SIGPIPE, SIG_DFL);
		child_init("daemon");
		execl(o->daemon, o->daemon, o->verbose ? "-d" : "-f", "-c",
		    o->config, fdarg, (char *)NULL);
		logx("exec %s: %s", o->daemon, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	if (pid < 0) {
		logx("fork: %s", strerror(errno));
		close(sv[0]);
		return -1;
	}
	*ctl_fd = sv[0];
	return pid;
}

static void
print_event(const struct sdctl_event *ev)
{
	const struct sdctl_conn *c = &ev->u.new_connection.conn;
	char a[64], b[200];

	switch (ev->kind) {
	case SDCTL_EVENT_NEW_CONNECTION:
		emit("{\"event\":\"new_connection\",\"id\":%" PRIu64 ","
		    "\"peer\":\"%s\",\"transport\":\"%s\","
		    "\"max_read_write_size\":%u}", c->id,
		    plain(a, sizeof(a), c->peer),
		    sdctl_transport_name(c->transport),
		    c->params.max_read_write_size);
		break;
	case SDCTL_EVENT_OWNER_CHANGED:
		/* Sent when c1's claim succeeded: c2 handed it to c1. */
		emit("{\"event\":\"handoff\",\"id\":%" PRIu64 ",\"c2\":%u,"
		    "\"c1\":%u}", ev->u.owner_changed.conn_id,
		    ev->u.owner_changed.old_pid, ev->u.owner_changed.new_pid);
		break;
	case SDCTL_EVENT_CONNECTION_CLOSED:
		emit("{\"event\":\"closed\",\"id\":%" PRIu64 ","
		    "\"reason\":\"%s\",\"owner\":%u,\"message\":\"%s\"}",
		    ev->u.connection_closed.conn_id,
		    plain(a, sizeof(a), ev->u.connection_closed.reason),
		    ev->u.connection_closed.owner_pid,
		    plain(b, sizeof(b), ev->u.connection_closed.message));
		break;
	case SDCTL_EVENT_DRAIN_REQUESTED:
		emit("{\"event\":\"drain_requested\",\"id\":%" PRIu64 ","
		    "\"grace_ms\":%u}", ev->u.drain_requested.conn_id,
		    ev->u.drain_requested.grace_ms);
		break;
	}
}

/* Exit status of a child as a shell shows it. */
static int
wstatus(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Collect dead children; respawn c1; note the daemon's end. */
static void
reap(const struct opts *o, pid_t daemon_pid, int *daemon_st, pid_t *c1)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == daemon_pid) {
			*daemon_st = st;
			emit("{\"event\":\"daemon_exited\",\"pid\":%d,"
			    "\"status\":%d}", (int)pid, wstatus(st));
			continue;
		}
		emit("{\"event\":\"child_exited\",\"pid\":%d,\"role\":\"%s\","
		    "\"status\":%d}", (int)pid, pid == *c1 ? "c1" : "c2",
		    wstatus(st));
		if (pid == *c1) {
			/*
			 * A new smbd for the client: its connections are gone
			 * with c1, and it may come back on new ones.
			 */
			*c1 = got_term ? -1 : c1_spawn(o);
		}
	}
}

static int
parse_size(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v == 0) {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
parse_guid(const char *s, uint8_t out[16])
{
	char byte[3] = "";
	unsigned i;

	if (strlen(s) != 32 || strspn(s, "0123456789abcdefABCDEF") != 32) {
		return -EINVAL;
	}
	for (i = 0; i < 16; i++) {
		memcpy(byte, s + i * 2, 2);
		out[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mini-smbd --daemon PATH --config CONF "
	    "[--control-socket PATH]\n"
	    "                 [--guid HEX32] [--file-size BYTES] "
	    "[--owner-dir DIR] [-v]\n");
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "daemon", required_argument, NULL, 'D' },
		{ "config", required_argument, NULL, 'c' },
		{ "control-socket", required_argument, NULL, 's' },
		{ "guid", required_argument, NULL, 'g' },
		{ "file-size", required_argument, NULL, 'S' },
		{ "owner-dir", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	memcpy(o->guid, default_guid, 16);
	o->file_size = 128u << 20;
	while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'D':
			o->daemon = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 's':
			o->control = optarg;
			break;
		case 'g':
			if (parse_guid(optarg, o->guid) != 0) {
				fprintf(stderr, "mini-smbd: --guid wants 32 "
				    "hex digits\n");
				return 2;
			}
			break;
		case 'S':
			if (parse_size(optarg, &o->file_size) != 0) {
				fprintf(stderr, "mini-smbd: bad --file-size "
				    "'%s'\n", optarg);
				return 2;
			}
			break;
		case 'o':
			/* Leave room for "/<32 hex>.sock" in sun_path. */
			if (strlen(optarg) >= sizeof(o->owner_dir)) {
				fprintf(stderr, "mini-smbd: --owner-dir is "
				    "longer than %zu\n",
				    sizeof(o->owner_dir) - 1);
				return 2;
			}
			strcpy(o->owner_dir, optarg);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || o->daemon == NULL || o->config == NULL) {
		usage(stderr);
		return 2;
	}
	hex16(o->guid, o->guid_hex);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct sdctl_event ev;
	struct sigaction sa;
	struct pollfd pfd;
	struct sockaddr_un sun;
	sigset_t block;
	pid_t daemon_pid = -1, c1 = -1, pid;
	int daemon_st = -1, fd = -1, rc, status = 1;
	bool c1_failed = false;

	rc = parse_args(argc, argv, &o);
	if (rc != 0) {
		return rc < 0 ? 0 : rc;
	}
	/*
	 * Signals are blocked except inside ppoll(), so a SIGCHLD or
	 * SIGTERM cannot slip in between checking the flags and sleeping.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* peers vanish; we want EPIPE */
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig_mask);

	if (o.owner_dir[0] == '\0') {
		strcpy(o.owner_dir, "/tmp/mini-smbd.XXXXXX");
		o.made_owner_dir = mkdtemp(o.owner_dir) != NULL;
	} else {
		o.made_owner_dir = mkdir(o.owner_dir, 0700) == 0;
	}
	if (!o.made_owner_dir && errno != EEXIST) {
		logx("owner directory %s: %s", o.owner_dir, strerror(errno));
		return 1;
	}
	/* Step 5's precondition: c1 already owns ClientGuid G. */
	c1 = c1_spawn(&o);
	if (c1 < 0) {
		goto out;
	}
	/* Step 0: start the daemon; step 1: register as its master. */
	daemon_pid = daemon_spawn(&o, &fd);
	if (daemon_pid < 0) {
		goto out;
	}
	rc = sdctl_adopt(fd, &master_ctl);
	if (rc == 0) {
		rc = sdctl_register(master_ctl, SDCTL_ROLE_MASTER,
		    "mini-smbd master", NULL);
		if (rc == 0) {
			rc = sdctl_subscribe(master_ctl, NULL, 0);
		}
		if (rc != 0) {
			logx("register as master: %s (%s)", strerror(-rc),
			    sdctl_last_error(master_ctl));
		}
	} else {
		logx("adopt the control socket: %s", strerror(-rc));
	}
	if (rc != 0) {
		goto out;
	}
	emit("{\"event\":\"registered\",\"pid\":%d,\"daemon\":%d,\"c1\":%d,"
	    "\"guid\":\"%s\"}", (int)getpid(), (int)daemon_pid, (int)c1,
	    o.guid_hex);

	pfd.fd = sdctl_fd(master_ctl);
	pfd.events = POLLIN;
	while (!got_term && daemon_st == -1) {
		/* Requests may have queued events: take them all first. */
		while ((rc = sdctl_next_event(master_ctl, &ev)) != 0) {
			if (rc == -ENOBUFS) {
				/* A real master resyncs its connection list. */
				logx("events were dropped");
				continue;
			}
			if (rc < 0) {
				break;
			}
			print_event(&ev);
			if (ev.kind != SDCTL_EVENT_NEW_CONNECTION) {
				continue;
			}
			/* Step 5: a fresh child for the new connection. */
			pid = fork();
			if (pid == 0) {
				child_init("c2");
				sanexit(c2_main(&o, &ev));
			}
			if (pid < 0) {
				logx("fork: %s", strerror(errno));
			}
		}
		if (rc < 0) {
			logx("control channel: %s", strerror(-rc));
			break;	/* the daemon went away */
		}
		if (ppoll(&pfd, 1, NULL, &orig_mask) < 0 && errno != EINTR) {
			logx("ppoll: %s", strerror(errno));
			break;
		}
		if (got_chld) {
			got_chld = 0;
			reap(&o, daemon_pid, &daemon_st, &c1);
		}
	}
out:
	/* Stop c1, then the daemon, and exit with the daemon's status. */
	got_term = 1;	/* no more respawns */
	if (c1 > 0) {
		int st;

		kill(c1, SIGTERM);
		while (waitpid(c1, &st, 0) == -1 && errno == EINTR) {
			continue;
		}
		emit("{\"event\":\"child_exited\",\"pid\":%d,"
		    "\"role\":\"c1\",\"status\":%d}", (int)c1, wstatus(st));
		c1_failed = st != 0;
	}
	if (daemon_pid > 0 && daemon_st == -1) {
		kill(daemon_pid, SIGTERM);
		if (waitpid(daemon_pid, &daemon_st, 0) == daemon_pid) {
			emit("{\"event\":\"daemon_exited\",\"pid\":%d,"
			    "\"status\":%d}", (int)daemon_pid,
			    wstatus(daemon_st));
		} else {
			daemon_st = -1;
		}
	}
	sdctl_close(master_ctl);
	if (daemon_st != -1) {
		status = wstatus(daemon_st);
	}
	if (c1_failed && status == 0) {
		status = 1;	/* c1 did not stop cleanly */
	}
	if (owner_path(&o, o.guid_hex, &sun) == 0) {
		unlink(sun.sun_path);
	}
	if (o.made_owner_dir) {
		rmdir(o.owner_dir);
	}
	emit("{\"event\":\"exiting\",\"status\":%d}", status);
	return status;
}
