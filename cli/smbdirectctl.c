/* SPDX-License-Identifier: ISC */
/*
 * smbdirectctl: look at smbdirectd and steer it.
 *
 *   smbdirectctl [-s SOCKET] [--json] COMMAND [ARGS]
 *
 * Shaped after OpenSMTPD's smtpctl and bgpctl: a command table, each entry
 * with its privilege (read-only or admin) and the arguments it takes, and
 * output through a backend (text tables for people, JSON with a stable
 * schema for programs). All protocol work is libsmbdirect-ctl's; a command
 * makes its request and hands the reply to the backend, which formats.
 *
 * Both backends live in this file, not in output.c and json_output.c as in
 * bgpctl: tests/unit/test_manpages.sh reads the JSON members from here to
 * check that smbdirectctl(8) documents each of them.
 *
 * Exit codes: 0 ok, 1 the command failed, 2 usage, 3 the daemon cannot be
 * reached, 4 `drain --wait` or `events --count` timed out.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "libclient/smbdirect-ctl.h"

#define EXIT_OK		0
#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_UNREACHABLE 3
#define EXIT_TIMEOUT	4

/*
 * The JSON schema's version: bump it when a field changes meaning or goes.
 * 2: counters' copied_payload_bytes and inline_copied_bytes became the
 * copied_bytes object.
 */
#define JSON_SCHEMA	2

/* The devices `mr` sums over; connections on more devices are left out. */
#define MR_DEVICES	16

/* One device's memory regions: the sums over its connections. */
struct mr_device {
	char		name[64];
	uint64_t	count;
	uint64_t	bytes;
	uint64_t	area;
};

/*
 * An output backend: one member per kind of reply a command shows, each
 * given the reply as libsmbdirect-ctl returned it (borrowed for the call).
 * text_output and json_output are twins: both set every member, and the
 * commands call them without asking which one is in use. Errors and
 * progress notes are not output: they go to stderr through err(), the
 * same for both.
 */
struct output {
	void	(*status)(const struct sdctl_status *);
	void	(*conns)(const struct sdctl_conn *, size_t);
	void	(*conn)(const struct sdctl_conn *);
	void	(*credits)(const struct sdctl_conn *, size_t);
	void	(*mr)(const struct mr_device *, size_t,
		    const struct sdctl_conn *, size_t);
	void	(*metrics)(const char *);
	/* One event as it comes: the caller flushes stdout after it. */
	void	(*event)(const struct sdctl_event *);
	/* A request done: the command's name, and a sentence for people. */
	void	(*result)(const char *, const char *);
	/* drain --wait gave up with this many connections still open. */
	void	(*drain_left)(uint32_t);
	/* A request failed: the command, and what went wrong. */
	void	(*error)(const char *, const char *);
	/* The daemon's RDMA listeners, as clients learn them. */
	void	(*interfaces)(const struct sdctl_iface *, size_t);
};

struct ctx {
	struct sdctl		*ctl;
	const struct output	*out;
	int			 argc;
	char			**argv;
};

/*
 * max_args: more arguments than this is a usage error, found before the
 * daemon is reached. ARGS_ANY: the command reads its own (an ID, options)
 * once connected, and says itself what is wrong with them.
 */
#define ARGS_ANY	-1

struct cmd {
	const char	*name;
	const char	*alias;
	const char	*args;		/* usage of the arguments */
	bool		 admin;		/* needs a read-write admin */
	int		(*fn)(struct ctx *);
	int		 max_args;
	const char	*help;
};

static const char *progname = "smbdirectctl";

static void
err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

/*
 * A failed request: the backend says it once, with the daemon's message
 * when there is one. The daemon's messages may already start with the
 * command's name ("kill: no connection 7"): then it is not repeated.
 */
static int
failed(struct ctx *x, const char *what, int rc)
{
	const char *m = sdctl_last_error(x->ctl);
	size_t wl = strlen(what);

	if (m == NULL || m[0] == '\0') {
		m = strerror(-rc);
	} else if (strncmp(m, what, wl) == 0 && m[wl] == ':' &&
	    m[wl + 1] == ' ') {
		m += wl + 2;
	}
	x->out->error(what, m);
	if (rc == -EPIPE || rc == -ETIMEDOUT || rc == -ECONNREFUSED) {
		return EXIT_UNREACHABLE;
	}
	return EXIT_FAILED;
}

/* ------------------------------------------------------------------ */
/* The text backend                                                   */
/* ------------------------------------------------------------------ */

/* "label N, label N" */
static const char *
counts_text(const struct sdctl_count *v, unsigned n, char *buf, size_t len)
{
	size_t off = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s %" PRIu64,
		    i > 0 ? ", " : "", v[i].label, v[i].value);

		if (w < 0) {
			break;
		}
		off += (size_t)w;
	}
	return buf;
}

/* "1.5 GiB" style sizes for the tables. */
static const char *
human(uint64_t v, char *buf, size_t len)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB",
	    "PiB", "EiB" };
	double d = (double)v;
	int u = 0;

	/*
	 * Up at 1000, not 1024, so that the text never needs more than 9
	 * columns ("999.9 KiB", not "1000.0 KiB").
	 */
	while (d >= 1000 && u < 6) {
		d /= 1024;
		u++;
	}
	if (u == 0) {
		snprintf(buf, len, "%" PRIu64 " B", v);
	} else {
		snprintf(buf, len, "%.1f %s", d, unit[u]);
	}
	return buf;
}

static const char *
duration(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s < 60) {
		snprintf(buf, len, "%" PRIu64 ".%01" PRIu64 "s", s,
		    (ms % 1000) / 100);
	} else if (s < 3600) {
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60,
		    s % 60);
	} else if (s < 86400) {
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
		    (s % 3600) / 60);
	} else {
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400,
		    (s % 86400) / 3600);
	}
	return buf;
}

static void
text_status(const struct sdctl_status *st)
{
	char b1[32], b2[32], b3[32], b4[32], cb[SDCTL_MAX_COUNTS * 64];
	size_t i, j;

	printf("smbdirectd %s, up %s\n", st->version,
	    duration(st->uptime_ms, b1, sizeof(b1)));
	printf("state:        %s\n", st->draining ? "draining (refusing new "
	    "connections)" : "accepting");
	if (st->master_pid != 0) {
		printf("master:       pid %u\n", st->master_pid);
	} else {
		printf("master:       none registered\n");
	}
	printf("connections:  %u active (max %u), %" PRIu64 " accepted, %"
	    PRIu64 " refused\n", st->connections_active, st->max_connections,
	    st->connections_total, st->connections_refused);
	printf("peak:         %s\n", counts_text(st->connections_peak,
	    st->n_connections_peak, cb, sizeof(cb)));
	printf("control:      %u clients\n", st->control_clients);
	printf("listeners:\n");
	for (i = 0; i < st->n_listeners; i++) {
		printf("  %-24s %-6s %s\n", st->listeners[i].address,
		    sdctl_transport_name(st->listeners[i].transport),
		    st->listeners[i].device);
	}
	printf("devices:\n");
	for (i = 0; i < st->n_devices; i++) {
		const struct sdctl_device *d = &st->devices[i];

		printf("  %-10s %-6s", d->name,
		    sdctl_transport_name(d->transport));
		for (j = 0; j < d->n_ports; j++) {
			printf(" port %u %s%s%s", d->ports[j].port,
			    d->ports[j].state,
			    d->ports[j].netdev[0] ? " on " : "",
			    d->ports[j].netdev);
		}
		printf("\n");
	}
	printf("totals:       in %s, out %s, RDMA read %s, RDMA written %s\n",
	    human(st->totals.bytes_in, b1, sizeof(b1)),
	    human(st->totals.bytes_out, b2, sizeof(b2)),
	    human(st->totals.rdma_read_bytes, b3, sizeof(b3)),
	    human(st->totals.rdma_write_bytes, b4, sizeof(b4)));
	printf("copied bytes: %s\n", counts_text(st->totals.copied_bytes,
	    st->totals.n_copied_bytes, cb, sizeof(cb)));
}

static void
text_conns(const struct sdctl_conn *cs, size_t n)
{
	char bi[16], bo[16], br[16], ba[16], bm[16], age[16], idle[16];
	char cred[16];
	int pw = (int)strlen("PEER");
	size_t i;

	/* The peer column is as wide as the widest peer (IPv6 ones too). */
	for (i = 0; i < n; i++) {
		if ((int)strlen(cs[i].peer) > pw) {
			pw = (int)strlen(cs[i].peer);
		}
	}
	printf("%-5s %-*s %-6s %-12s %7s %9s %9s %9s %9s %9s %9s %8s %8s\n",
	    "ID", pw, "PEER", "TRANS", "STATE", "OWNER", "CRED S/R", "IN",
	    "OUT", "RDMA", "AREA", "MR", "AGE", "IDLE");
	for (i = 0; i < n; i++) {
		snprintf(cred, sizeof(cred), "%u/%u",
		    cs[i].credits.send_available,
		    cs[i].credits.receive_posted);
		printf("%-5" PRIu64 " %-*s %-6s %-12s %7u %9s %9s %9s %9s "
		    "%9s %9s %8s %8s\n", cs[i].id, pw, cs[i].peer,
		    sdctl_transport_name(cs[i].transport),
		    sdctl_state_name(cs[i].state), cs[i].owner_pid, cred,
		    human(cs[i].counters.bytes_in, bi, sizeof(bi)),
		    human(cs[i].counters.bytes_out, bo, sizeof(bo)),
		    human(cs[i].counters.rdma_read_bytes +
		    cs[i].counters.rdma_write_bytes, br, sizeof(br)),
		    human(cs[i].mr.area_bytes, ba, sizeof(ba)),
		    human(cs[i].mr.bytes, bm, sizeof(bm)),
		    duration(cs[i].age_ms, age, sizeof(age)),
		    duration(cs[i].idle_ms, idle, sizeof(idle)));
	}
	if (n == 0) {
		printf("(no connections)\n");
	}
}

static void
text_conn(const struct sdctl_conn *c)
{
	char b1[16], b2[16], cb[SDCTL_MAX_COUNTS * 64];

	printf("connection %" PRIu64 "\n", c->id);
	printf("  peer %s, local %s, %s on %s\n", c->peer, c->local,
	    sdctl_transport_name(c->transport), c->device);
	printf("  state %s, owner pid %u, age %s, idle %s\n",
	    sdctl_state_name(c->state), c->owner_pid,
	    duration(c->age_ms, b1, sizeof(b1)),
	    duration(c->idle_ms, b2, sizeof(b2)));
	printf("  negotiated: version %#x, send %u, receive %u, fragmented "
	    "%u (peer %u), read/write %u, IRD %u, ORD %u\n",
	    c->params.version, c->params.max_send_size,
	    c->params.max_receive_size, c->params.max_fragmented_size,
	    c->params.peer_max_fragmented_size, c->params.max_read_write_size,
	    c->params.ird, c->params.ord);
	printf("  credits: send %u of target %u, receive posted %u of "
	    "target %u (max %u), held %u, granted %" PRIu64 ", waits %"
	    PRIu64 "\n", c->credits.send_available, c->credits.send_target,
	    c->credits.receive_posted, c->credits.receive_target,
	    c->params.receive_credit_max, c->credits.receive_held,
	    c->credits.granted_total, c->credits.credit_waits);
	printf("  traffic: %" PRIu64 " bytes in (%" PRIu64 " messages, %"
	    PRIu64 " PDUs), %" PRIu64 " out (%" PRIu64 ", %" PRIu64 ")\n",
	    c->counters.bytes_in, c->counters.messages_in,
	    c->counters.pdus_in, c->counters.bytes_out,
	    c->counters.messages_out, c->counters.pdus_out);
	printf("  RDMA: read %" PRIu64 " bytes in %" PRIu64 " ops, wrote %"
	    PRIu64 " bytes in %" PRIu64 " ops\n", c->counters.rdma_read_bytes,
	    c->counters.rdma_read_ops, c->counters.rdma_write_bytes,
	    c->counters.rdma_write_ops);
	printf("  copied bytes: %s\n", counts_text(c->counters.copied_bytes,
	    c->counters.n_copied_bytes, cb, sizeof(cb)));
	printf("  MRs: %u of %u, %" PRIu64 " bytes; area %" PRIu64
	    " bytes\n", c->mr.count, c->mr.limit, c->mr.bytes,
	    c->mr.area_bytes);
}

static void
text_credits(const struct sdctl_conn *cs, size_t n)
{
	size_t i;

	printf("%-5s %-22s %8s %8s %8s %8s %8s %6s %12s %10s\n", "ID", "PEER",
	    "SEND", "S.TARGET", "RECV", "R.TARGET", "R.MAX", "HELD",
	    "GRANTED", "WAITS");
	for (i = 0; i < n; i++) {
		const struct sdctl_credits *k = &cs[i].credits;

		printf("%-5" PRIu64 " %-22s %8u %8u %8u %8u %8u %6u %12" PRIu64
		    " %10" PRIu64 "\n", cs[i].id, cs[i].peer,
		    k->send_available, k->send_target, k->receive_posted,
		    k->receive_target, cs[i].params.receive_credit_max,
		    k->receive_held, k->granted_total, k->credit_waits);
	}
	if (n == 0) {
		printf("(no connections)\n");
	}
}

static void
text_mr(const struct mr_device *dev, size_t nd, const struct sdctl_conn *cs,
    size_t n)
{
	char b1[16], b2[16];
	size_t i;

	printf("%-12s %8s %12s %12s\n", "DEVICE", "MRS", "BYTES", "AREA");
	for (i = 0; i < nd; i++) {
		printf("%-12s %8" PRIu64 " %12s %12s\n", dev[i].name,
		    dev[i].count, human(dev[i].bytes, b1, sizeof(b1)),
		    human(dev[i].area, b2, sizeof(b2)));
	}
	printf("\n%-5s %-12s %8s %8s %12s %12s\n", "ID", "DEVICE", "MRS",
	    "LIMIT", "BYTES", "AREA");
	for (i = 0; i < n; i++) {
		printf("%-5" PRIu64 " %-12s %8u %8u %12s %12s\n", cs[i].id,
		    cs[i].device, cs[i].mr.count, cs[i].mr.limit,
		    human(cs[i].mr.bytes, b1, sizeof(b1)),
		    human(cs[i].mr.area_bytes, b2, sizeof(b2)));
	}
}

static void
text_metrics(const char *text)
{
	fputs(text, stdout);
}

/* One line per event: its name, then key=value. */
static void
text_event(const struct sdctl_event *ev)
{
	switch (ev->kind) {
	case SDCTL_EVENT_NEW_CONNECTION:
		printf("new_connection conn=%" PRIu64 " peer=%s local=%s "
		    "transport=%s\n", ev->u.new_connection.conn.id,
		    ev->u.new_connection.conn.peer,
		    ev->u.new_connection.conn.local,
		    sdctl_transport_name(
		    ev->u.new_connection.conn.transport));
		break;
	case SDCTL_EVENT_CONNECTION_CLOSED:
		printf("connection_closed conn=%" PRIu64 " reason=%s "
		    "owner_pid=%u: %s\n", ev->u.connection_closed.conn_id,
		    ev->u.connection_closed.reason,
		    ev->u.connection_closed.owner_pid,
		    ev->u.connection_closed.message);
		break;
	case SDCTL_EVENT_DRAIN_REQUESTED:
		printf("drain_requested conn=%" PRIu64 " grace_ms=%u\n",
		    ev->u.drain_requested.conn_id,
		    ev->u.drain_requested.grace_ms);
		break;
	case SDCTL_EVENT_OWNER_CHANGED:
		printf("owner_changed conn=%" PRIu64 " old_pid=%u "
		    "new_pid=%u\n", ev->u.owner_changed.conn_id,
		    ev->u.owner_changed.old_pid, ev->u.owner_changed.new_pid);
		break;
	default:
		printf("unknown kind=%d\n", (int)ev->kind);
		break;
	}
}

static void
text_result(const char *command, const char *text)
{
	printf("%s\n", text);
}

/* Nothing on stdout: the error on stderr says how many are left. */
static void
text_drain_left(uint32_t left)
{
}

static void
text_error(const char *command, const char *msg)
{
	err("%s: %s", command, msg);
}

static void
text_interfaces(const struct sdctl_iface *ifs, size_t n)
{
	char speed[32];
	int aw = (int)strlen("ADDRESS");
	size_t i;

	for (i = 0; i < n; i++) {
		if ((int)strlen(ifs[i].address) > aw) {
			aw = (int)strlen(ifs[i].address);
		}
	}
	printf("%-*s %5s %6s %-6s %-12s %10s\n", aw, "ADDRESS", "PORT",
	    "IFINDEX", "TRANS", "DEVICE", "SPEED");
	for (i = 0; i < n; i++) {
		if (ifs[i].link_speed_bps == 0) {
			snprintf(speed, sizeof(speed), "?");
		} else {
			snprintf(speed, sizeof(speed), "%" PRIu64 " Gb/s",
			    ifs[i].link_speed_bps / 1000000000u);
		}
		printf("%-*s %5u %6u %-6s %-12s %10s\n", aw, ifs[i].address,
		    ifs[i].port, ifs[i].if_index,
		    sdctl_transport_name(ifs[i].transport), ifs[i].device,
		    speed);
	}
	if (n == 0) {
		printf("(no listeners)\n");
	}
}

static const struct output text_output = {
	.status = text_status,
	.conns = text_conns,
	.conn = text_conn,
	.credits = text_credits,
	.mr = text_mr,
	.metrics = text_metrics,
	.event = text_event,
	.result = text_result,
	.drain_left = text_drain_left,
	.error = text_error,
	.interfaces = text_interfaces,
};

/* ------------------------------------------------------------------ */
/* The JSON backend                                                   */
/* ------------------------------------------------------------------ */

static bool json_pretty;	/* -p: indented, for people */

/* Print @o, one line unless -p, and drop it. */
static void
json_print(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o,
	    (json_pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN) |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void
jadd_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void
jadd_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* A labelled count as an object: { "label": value, ... }. */
static struct json_object *
j_counts(const struct sdctl_count *v, unsigned n)
{
	struct json_object *o = json_object_new_object();
	unsigned i;

	for (i = 0; i < n; i++) {
		json_object_object_add(o, v[i].label,
		    json_object_new_uint64(v[i].value));
	}
	return o;
}

static struct json_object *
j_counters(const struct sdctl_counters *k)
{
	struct json_object *o = json_object_new_object();

	jadd_u64(o, "bytes_in", k->bytes_in);
	jadd_u64(o, "bytes_out", k->bytes_out);
	jadd_u64(o, "messages_in", k->messages_in);
	jadd_u64(o, "messages_out", k->messages_out);
	jadd_u64(o, "pdus_in", k->pdus_in);
	jadd_u64(o, "pdus_out", k->pdus_out);
	jadd_u64(o, "rdma_read_bytes", k->rdma_read_bytes);
	jadd_u64(o, "rdma_read_ops", k->rdma_read_ops);
	jadd_u64(o, "rdma_write_bytes", k->rdma_write_bytes);
	jadd_u64(o, "rdma_write_ops", k->rdma_write_ops);
	jadd_u64(o, "keepalives_sent", k->keepalives_sent);
	json_object_object_add(o, "copied_bytes", j_counts(k->copied_bytes,
	    k->n_copied_bytes));
	return o;
}

static struct json_object *
j_conn(const struct sdctl_conn *c)
{
	struct json_object *o = json_object_new_object();
	struct json_object *p = json_object_new_object();
	struct json_object *cr = json_object_new_object();
	struct json_object *mr = json_object_new_object();

	jadd_u64(o, "id", c->id);
	jadd_str(o, "peer", c->peer);
	jadd_str(o, "local", c->local);
	jadd_str(o, "transport", sdctl_transport_name(c->transport));
	jadd_str(o, "state", sdctl_state_name(c->state));
	jadd_str(o, "device", c->device);
	jadd_u64(o, "owner_pid", c->owner_pid);
	jadd_u64(o, "age_ms", c->age_ms);
	jadd_u64(o, "idle_ms", c->idle_ms);

	jadd_u64(p, "version", c->params.version);
	jadd_u64(p, "max_send_size", c->params.max_send_size);
	jadd_u64(p, "max_receive_size", c->params.max_receive_size);
	jadd_u64(p, "max_fragmented_size", c->params.max_fragmented_size);
	jadd_u64(p, "peer_max_fragmented_size",
	    c->params.peer_max_fragmented_size);
	jadd_u64(p, "max_read_write_size", c->params.max_read_write_size);
	jadd_u64(p, "ird", c->params.ird);
	jadd_u64(p, "ord", c->params.ord);
	jadd_u64(p, "receive_credit_max", c->params.receive_credit_max);
	jadd_u64(p, "send_credit_target", c->params.send_credit_target);
	json_object_object_add(o, "params", p);

	jadd_u64(cr, "send_available", c->credits.send_available);
	jadd_u64(cr, "send_target", c->credits.send_target);
	jadd_u64(cr, "receive_posted", c->credits.receive_posted);
	jadd_u64(cr, "receive_target", c->credits.receive_target);
	jadd_u64(cr, "receive_held", c->credits.receive_held);
	jadd_u64(cr, "granted_total", c->credits.granted_total);
	jadd_u64(cr, "credit_waits", c->credits.credit_waits);
	json_object_object_add(o, "credits", cr);

	json_object_object_add(o, "counters", j_counters(&c->counters));

	jadd_u64(mr, "count", c->mr.count);
	jadd_u64(mr, "bytes", c->mr.bytes);
	jadd_u64(mr, "area_bytes", c->mr.area_bytes);
	jadd_u64(mr, "limit", c->mr.limit);
	json_object_object_add(o, "mr", mr);
	return o;
}

/* Every reply's object starts with the schema and the command's name. */
static struct json_object *
j_envelope(const char *command)
{
	struct json_object *o = json_object_new_object();

	jadd_u64(o, "schema", JSON_SCHEMA);
	jadd_str(o, "command", command);
	return o;
}

static void
json_status(const struct sdctl_status *st)
{
	struct json_object *o = j_envelope("status");
	struct json_object *ls = json_object_new_array();
	struct json_object *ds = json_object_new_array();
	size_t i, j;

	jadd_str(o, "version", st->version);
	jadd_u64(o, "uptime_ms", st->uptime_ms);
	for (i = 0; i < st->n_listeners; i++) {
		struct json_object *l = json_object_new_object();

		jadd_str(l, "address", st->listeners[i].address);
		jadd_str(l, "transport",
		    sdctl_transport_name(st->listeners[i].transport));
		jadd_str(l, "device", st->listeners[i].device);
		json_object_array_add(ls, l);
	}
	json_object_object_add(o, "listeners", ls);
	for (i = 0; i < st->n_devices; i++) {
		const struct sdctl_device *dev = &st->devices[i];
		struct json_object *d = json_object_new_object();
		struct json_object *ps = json_object_new_array();

		jadd_str(d, "name", dev->name);
		jadd_str(d, "transport", sdctl_transport_name(dev->transport));
		jadd_u64(d, "max_sge", dev->max_sge);
		jadd_u64(d, "max_qp_rd_atom", dev->max_qp_rd_atom);
		jadd_u64(d, "max_mr", dev->max_mr);
		for (j = 0; j < dev->n_ports; j++) {
			struct json_object *p = json_object_new_object();

			jadd_u64(p, "port", dev->ports[j].port);
			jadd_str(p, "state", dev->ports[j].state);
			jadd_str(p, "netdev", dev->ports[j].netdev);
			json_object_array_add(ps, p);
		}
		json_object_object_add(d, "ports", ps);
		json_object_array_add(ds, d);
	}
	json_object_object_add(o, "devices", ds);
	json_object_object_add(o, "draining",
	    json_object_new_boolean(st->draining));
	jadd_u64(o, "master_pid", st->master_pid);
	jadd_u64(o, "connections_active", st->connections_active);
	jadd_u64(o, "connections_total", st->connections_total);
	jadd_u64(o, "connections_refused", st->connections_refused);
	jadd_u64(o, "max_connections", st->max_connections);
	jadd_u64(o, "control_clients", st->control_clients);
	json_object_object_add(o, "connections_peak",
	    j_counts(st->connections_peak, st->n_connections_peak));
	json_object_object_add(o, "totals", j_counters(&st->totals));
	json_print(o);
}

static void
json_conns(const struct sdctl_conn *cs, size_t n)
{
	struct json_object *o = j_envelope("conns");
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_object_array_add(a, j_conn(&cs[i]));
	}
	json_object_object_add(o, "connections", a);
	json_print(o);
}

static void
json_conn(const struct sdctl_conn *c)
{
	struct json_object *o = j_envelope("show");

	json_object_object_add(o, "connection", j_conn(c));
	json_print(o);
}

static void
json_credits(const struct sdctl_conn *cs, size_t n)
{
	struct json_object *o = j_envelope("credits");
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_new_object();
		const struct sdctl_credits *k = &cs[i].credits;

		jadd_u64(c, "id", cs[i].id);
		jadd_u64(c, "send_available", k->send_available);
		jadd_u64(c, "send_target", k->send_target);
		jadd_u64(c, "receive_posted", k->receive_posted);
		jadd_u64(c, "receive_target", k->receive_target);
		jadd_u64(c, "receive_max", cs[i].params.receive_credit_max);
		jadd_u64(c, "receive_held", k->receive_held);
		jadd_u64(c, "granted_total", k->granted_total);
		jadd_u64(c, "credit_waits", k->credit_waits);
		json_object_array_add(a, c);
	}
	json_object_object_add(o, "connections", a);
	json_print(o);
}

static void
json_mr(const struct mr_device *dev, size_t nd, const struct sdctl_conn *cs,
    size_t n)
{
	struct json_object *o = j_envelope("mr");
	struct json_object *da = json_object_new_array();
	struct json_object *ca = json_object_new_array();
	size_t i;

	for (i = 0; i < nd; i++) {
		struct json_object *d = json_object_new_object();

		jadd_str(d, "device", dev[i].name);
		jadd_u64(d, "count", dev[i].count);
		jadd_u64(d, "bytes", dev[i].bytes);
		jadd_u64(d, "area_bytes", dev[i].area);
		json_object_array_add(da, d);
	}
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_new_object();

		jadd_u64(c, "id", cs[i].id);
		jadd_str(c, "device", cs[i].device);
		jadd_u64(c, "count", cs[i].mr.count);
		jadd_u64(c, "bytes", cs[i].mr.bytes);
		jadd_u64(c, "area_bytes", cs[i].mr.area_bytes);
		jadd_u64(c, "limit", cs[i].mr.limit);
		json_object_array_add(ca, c);
	}
	json_object_object_add(o, "devices", da);
	json_object_object_add(o, "connections", ca);
	json_print(o);
}

static void
json_metrics(const char *text)
{
	struct json_object *o = j_envelope("metrics");

	jadd_str(o, "text", text);
	json_print(o);
}

/* One compact object per line, so that a reader can take them as they come. */
static void
json_event(const struct sdctl_event *ev)
{
	struct json_object *o = j_envelope("events");

	switch (ev->kind) {
	case SDCTL_EVENT_NEW_CONNECTION:
		jadd_str(o, "event", "new_connection");
		jadd_u64(o, "conn_id", ev->u.new_connection.conn.id);
		jadd_str(o, "peer", ev->u.new_connection.conn.peer);
		jadd_str(o, "local", ev->u.new_connection.conn.local);
		jadd_str(o, "transport", sdctl_transport_name(
		    ev->u.new_connection.conn.transport));
		break;
	case SDCTL_EVENT_CONNECTION_CLOSED:
		jadd_str(o, "event", "connection_closed");
		jadd_u64(o, "conn_id", ev->u.connection_closed.conn_id);
		jadd_str(o, "reason", ev->u.connection_closed.reason);
		jadd_str(o, "message", ev->u.connection_closed.message);
		jadd_u64(o, "owner_pid", ev->u.connection_closed.owner_pid);
		break;
	case SDCTL_EVENT_DRAIN_REQUESTED:
		jadd_str(o, "event", "drain_requested");
		jadd_u64(o, "conn_id", ev->u.drain_requested.conn_id);
		jadd_u64(o, "grace_ms", ev->u.drain_requested.grace_ms);
		break;
	case SDCTL_EVENT_OWNER_CHANGED:
		jadd_str(o, "event", "owner_changed");
		jadd_u64(o, "conn_id", ev->u.owner_changed.conn_id);
		jadd_u64(o, "old_pid", ev->u.owner_changed.old_pid);
		jadd_u64(o, "new_pid", ev->u.owner_changed.new_pid);
		break;
	default:
		jadd_str(o, "event", "unknown");
		jadd_u64(o, "kind", (uint64_t)ev->kind);
		break;
	}
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void
json_result(const char *command, const char *text)
{
	struct json_object *o = j_envelope(command);

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_print(o);
}

/*
 * A failure, as JSON on standard output for the script that asked for
 * JSON, and as text on standard error for the person watching.
 */
static void
json_error(const char *command, const char *msg)
{
	struct json_object *o = j_envelope(command);

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	jadd_str(o, "error", msg);
	json_print(o);
	err("%s: %s", command, msg);
}

static void
json_interfaces(const struct sdctl_iface *ifs, size_t n)
{
	struct json_object *o = j_envelope("interfaces");
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		struct json_object *f = json_object_new_object();

		jadd_str(f, "address", ifs[i].address);
		jadd_u64(f, "port", ifs[i].port);
		jadd_u64(f, "if_index", ifs[i].if_index);
		jadd_u64(f, "link_speed_bps", ifs[i].link_speed_bps);
		jadd_str(f, "transport",
		    sdctl_transport_name(ifs[i].transport));
		jadd_str(f, "device", ifs[i].device);
		json_object_object_add(f, "ipv6",
		    json_object_new_boolean(ifs[i].ipv6));
		json_object_array_add(a, f);
	}
	json_object_object_add(o, "interfaces", a);
	json_print(o);
}

static void
json_drain_left(uint32_t left)
{
	struct json_object *o = j_envelope("drain");

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	jadd_u64(o, "connections_left", left);
	json_print(o);
}

static const struct output json_output = {
	.status = json_status,
	.conns = json_conns,
	.conn = json_conn,
	.credits = json_credits,
	.mr = json_mr,
	.metrics = json_metrics,
	.event = json_event,
	.result = json_result,
	.drain_left = json_drain_left,
	.error = json_error,
	.interfaces = json_interfaces,
};

/* ------------------------------------------------------------------ */
/* The commands                                                       */
/* ------------------------------------------------------------------ */

static int
cmd_status(struct ctx *x)
{
	struct sdctl_status st;
	int rc;

	rc = sdctl_status(x->ctl, &st);
	if (rc != 0) {
		return failed(x, "status", rc);
	}
	x->out->status(&st);
	sdctl_status_free(&st);
	return EXIT_OK;
}

static int
list_conns(struct ctx *x, struct sdctl_conn **out, size_t *n)
{
	int rc = sdctl_list_connections(x->ctl, out, n);

	return rc != 0 ? failed(x, "connections", rc) : EXIT_OK;
}

/* What FSCTL_QUERY_NETWORK_INTERFACE_INFO would tell a client. */
static int
cmd_interfaces(struct ctx *x)
{
	struct sdctl_iface *ifs = NULL;
	size_t n = 0;
	int rc;

	rc = sdctl_list_interfaces(x->ctl, &ifs, &n);
	if (rc != 0) {
		return failed(x, "interfaces", rc);
	}
	x->out->interfaces(ifs, n);
	free(ifs);
	return EXIT_OK;
}

static int
cmd_conns(struct ctx *x)
{
	struct sdctl_conn *cs = NULL;
	size_t n = 0;
	int rc;

	rc = list_conns(x, &cs, &n);
	if (rc != EXIT_OK) {
		return rc;
	}
	x->out->conns(cs, n);
	free(cs);
	return EXIT_OK;
}

static int
parse_id(struct ctx *x, uint64_t *id)
{
	char *end = NULL;
	unsigned long long v;

	if (x->argc != 1) {
		err("want exactly one connection id");
		return EXIT_USAGE;
	}
	errno = 0;
	v = strtoull(x->argv[0], &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || x->argv[0][0] == '-') {
		err("'%s' is not a connection id", x->argv[0]);
		return EXIT_USAGE;
	}
	*id = v;
	return EXIT_OK;
}

static int
cmd_show(struct ctx *x)
{
	struct sdctl_conn c;
	uint64_t id;
	int rc;

	rc = parse_id(x, &id);
	if (rc != EXIT_OK) {
		return rc;
	}
	rc = sdctl_get_connection(x->ctl, id, &c);
	if (rc != 0) {
		return failed(x, "show", rc);
	}
	x->out->conn(&c);
	return EXIT_OK;
}

static int
cmd_credits(struct ctx *x)
{
	struct sdctl_conn *cs = NULL;
	size_t n = 0;
	int rc;

	rc = list_conns(x, &cs, &n);
	if (rc != EXIT_OK) {
		return rc;
	}
	x->out->credits(cs, n);
	free(cs);
	return EXIT_OK;
}

static int
cmd_mr(struct ctx *x)
{
	struct sdctl_conn *cs = NULL;
	struct mr_device dev[MR_DEVICES];
	size_t n = 0, nd = 0, i, j;
	int rc;

	rc = list_conns(x, &cs, &n);
	if (rc != EXIT_OK) {
		return rc;
	}
	memset(dev, 0, sizeof(dev));
	for (i = 0; i < n; i++) {
		for (j = 0; j < nd; j++) {
			if (strcmp(dev[j].name, cs[i].device) == 0) {
				break;
			}
		}
		if (j == nd && nd < MR_DEVICES) {
			snprintf(dev[nd].name, sizeof(dev[nd].name), "%s",
			    cs[i].device);
			nd++;
		}
		if (j < nd) {
			dev[j].count += cs[i].mr.count;
			dev[j].bytes += cs[i].mr.bytes;
			dev[j].area += cs[i].mr.area_bytes;
		}
	}
	x->out->mr(dev, nd, cs, n);
	free(cs);
	return EXIT_OK;
}

/* drain --wait: watch ConnectionClosed events until none is left. */
static int
drain_wait(struct ctx *x, unsigned timeout_s)
{
	enum sdctl_event_kind kinds[] = { SDCTL_EVENT_CONNECTION_CLOSED };
	struct sdctl_status st;
	struct sdctl_event ev;
	struct pollfd pfd;
	time_t end = time(NULL) + (time_t)timeout_s;
	uint32_t left;
	int rc;

	rc = sdctl_subscribe(x->ctl, kinds, 1);
	if (rc != 0) {
		return failed(x, "drain --wait", rc);
	}
	for (;;) {
		rc = sdctl_status(x->ctl, &st);
		if (rc != 0) {
			return failed(x, "drain --wait", rc);
		}
		left = st.connections_active;
		sdctl_status_free(&st);
		while ((rc = sdctl_next_event(x->ctl, &ev)) == 1) {
			;
		}
		if (rc < 0) {
			return failed(x, "drain --wait", rc);
		}
		if (left == 0) {
			x->out->result("drain", "drained: no connections "
			    "left");
			return EXIT_OK;
		}
		if (timeout_s > 0 && time(NULL) >= end) {
			x->out->drain_left(left);
			err("drain --wait: %u connections still open after "
			    "%us", left, timeout_s);
			return EXIT_TIMEOUT;
		}
		pfd.fd = sdctl_fd(x->ctl);
		pfd.events = POLLIN;
		poll(&pfd, 1, 500);
	}
}

/*
 * drain --all [--wait [--timeout S]] | drain ID [--grace S]. The host-wide
 * drain must be asked for by name: a script whose $ID came out empty must
 * not take the whole host out of service.
 */
static int
cmd_drain(struct ctx *x)
{
	bool wait = false, all = false;
	unsigned timeout = 0, grace = 0;
	uint64_t id = 0;
	char *end = NULL;
	int i, rc, nid = 0;

	for (i = 0; i < x->argc; i++) {
		if (strcmp(x->argv[i], "--all") == 0) {
			all = true;
		} else if (strcmp(x->argv[i], "--wait") == 0) {
			wait = true;
		} else if ((strcmp(x->argv[i], "--timeout") == 0 ||
		    strcmp(x->argv[i], "--grace") == 0) && i + 1 < x->argc) {
			bool is_grace = x->argv[i][2] == 'g';
			unsigned long v;

			errno = 0;
			v = strtoul(x->argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || v == 0 ||
			    v > 86400) {
				err("drain: %s wants seconds (1 to 86400), "
				    "got '%s'", is_grace ? "--grace" :
				    "--timeout", x->argv[i]);
				return EXIT_USAGE;
			}
			if (is_grace) {
				grace = (unsigned)v;
			} else {
				timeout = (unsigned)v;
			}
		} else if (x->argv[i][0] != '-' && nid == 0) {
			errno = 0;
			id = strtoull(x->argv[i], &end, 10);
			if (errno != 0 || *end != '\0' || id == 0) {
				err("drain: '%s' is not a connection id",
				    x->argv[i]);
				return EXIT_USAGE;
			}
			nid++;
		} else {
			err("drain: unexpected '%s'", x->argv[i]);
			return EXIT_USAGE;
		}
	}
	if (all == (nid > 0)) {
		err("drain: name one connection ID, or --all for the whole "
		    "daemon");
		return EXIT_USAGE;
	}
	if (timeout > 0 && !wait) {
		err("drain: --timeout needs --wait");
		return EXIT_USAGE;
	}
	if (id != 0 && wait) {
		err("drain: --wait is for drain --all");
		return EXIT_USAGE;
	}
	if (all && grace > 0) {
		err("drain: --grace is for one connection");
		return EXIT_USAGE;
	}
	rc = sdctl_drain(x->ctl, id, grace * 1000u);
	if (rc != 0) {
		return failed(x, "drain", rc);
	}
	if (wait) {
		return drain_wait(x, timeout);
	}
	x->out->result("drain", id == 0 ? "draining: new connections are "
	    "refused" : "draining the connection: its owner was told");
	return EXIT_OK;
}

static int
cmd_undrain(struct ctx *x)
{
	int rc;

	rc = sdctl_undrain(x->ctl);
	if (rc != 0) {
		return failed(x, "undrain", rc);
	}
	x->out->result("undrain", "accepting connections");
	return EXIT_OK;
}

static int
cmd_kill(struct ctx *x)
{
	uint64_t id;
	int rc;

	rc = parse_id(x, &id);
	if (rc != EXIT_OK) {
		return rc;
	}
	rc = sdctl_kill(x->ctl, id);
	if (rc != 0) {
		return failed(x, "kill", rc);
	}
	x->out->result("kill", "killed");
	return EXIT_OK;
}

static int
cmd_metrics(struct ctx *x)
{
	char *text = NULL;
	int rc;

	rc = sdctl_metrics(x->ctl, &text);
	if (rc != 0) {
		return failed(x, "metrics", rc);
	}
	x->out->metrics(text);
	free(text);
	return EXIT_OK;
}

/* An option's positive whole number, or 0 after saying why not. */
static unsigned
parse_count(const char *what, const char *s)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 ||
	    v > 1000000 || s[0] == '-') {
		err("events: %s wants a whole number from 1 to 1000000, got "
		    "'%s'", what, s);
		return 0;
	}
	return (unsigned)v;
}

/*
 * events [--count N] [--timeout S]: print the daemon's events as they
 * come (every kind an admin may see). With --count, stop after N; with
 * --timeout, after S seconds (exit 4 if --count was not reached). A line
 * on stderr says when the subscription is in place.
 */
static int
cmd_events(struct ctx *x)
{
	unsigned count = 0, timeout = 0, seen = 0;
	struct sdctl_event ev;
	struct pollfd pfd;
	time_t end = 0;
	int i, rc;

	for (i = 0; i < x->argc; i++) {
		if (strcmp(x->argv[i], "--count") == 0 && i + 1 < x->argc) {
			count = parse_count("--count", x->argv[++i]);
			if (count == 0) {
				return EXIT_USAGE;
			}
		} else if (strcmp(x->argv[i], "--timeout") == 0 &&
		    i + 1 < x->argc) {
			timeout = parse_count("--timeout", x->argv[++i]);
			if (timeout == 0) {
				return EXIT_USAGE;
			}
		} else {
			err("events: unexpected '%s'", x->argv[i]);
			return EXIT_USAGE;
		}
	}
	rc = sdctl_subscribe(x->ctl, NULL, 0);
	if (rc != 0) {
		return failed(x, "events", rc);
	}
	err("events: subscribed");
	if (timeout > 0) {
		end = time(NULL) + (time_t)timeout;
	}
	for (;;) {
		while ((rc = sdctl_next_event(x->ctl, &ev)) == 1 ||
		    rc == -ENOBUFS) {
			if (rc == -ENOBUFS) {
				err("events: some events were dropped");
				continue;
			}
			x->out->event(&ev);
			/* A reader on a pipe sees each event as it comes. */
			fflush(stdout);
			if (count > 0 && ++seen == count) {
				return EXIT_OK;
			}
		}
		if (rc < 0) {
			return failed(x, "events", rc);
		}
		if (timeout > 0 && time(NULL) >= end) {
			if (count > 0) {
				err("events: %u of %u events after %us", seen,
				    count, timeout);
				return EXIT_TIMEOUT;
			}
			return EXIT_OK;
		}
		pfd.fd = sdctl_fd(x->ctl);
		pfd.events = POLLIN;
		poll(&pfd, 1, 500);
	}
}

static const struct cmd cmds[] = {
	{ "status", NULL, "", false, cmd_status, 0,
	    "version, uptime, listeners, devices, drain state, counts" },
	{ "conns", "connections", "", false, cmd_conns, 0,
	    "one line per connection" },
	{ "show", NULL, "ID", false, cmd_show, ARGS_ANY,
	    "everything about one connection" },
	{ "credits", NULL, "", false, cmd_credits, 0,
	    "credits per connection" },
	{ "mr", NULL, "", false, cmd_mr, 0,
	    "memory regions per device and per connection" },
	{ "drain", NULL, "ID [--grace S] | --all [--wait [--timeout S]]",
	    true, cmd_drain,
	    ARGS_ANY, "stop accepting (or end one session after its grace)" },
	{ "undrain", NULL, "", true, cmd_undrain, 0,
	    "accept connections again" },
	{ "kill", NULL, "ID", true, cmd_kill, ARGS_ANY,
	    "disconnect a session now" },
	{ "metrics", NULL, "", false, cmd_metrics, 0,
	    "Prometheus exposition text" },
	{ "interfaces", NULL, "", false, cmd_interfaces, 0,
	    "RDMA listeners, as clients learn them" },
	{ "events", "monitor", "[--count N] [--timeout S]", false,
	    cmd_events, ARGS_ANY, "print events as they come" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s [-s SOCKET] [-j | --json [-p]] COMMAND "
	    "[ARGS]\n\n",
	    progname);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char left[80];

		snprintf(left, sizeof(left), "%s %s", cmds[i].name,
		    cmds[i].args);
		/* A long synopsis gets its own line. */
		if (strlen(left) > 34) {
			fprintf(f, "  %s\n  %-34s", left, "");
		} else {
			fprintf(f, "  %-34s", left);
		}
		fprintf(f, " %s%s\n", cmds[i].help,
		    cmds[i].admin ? " (admin)" : "");
	}
	fprintf(f, "\nExit codes: 0 ok, 1 failed, 2 usage, 3 cannot reach the "
	    "daemon, 4 drain --wait or events --count timed out.\n");
}

static const struct cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(name, cmds[i].name) == 0 ||
		    (cmds[i].alias != NULL &&
		    strcmp(name, cmds[i].alias) == 0)) {
			return &cmds[i];
		}
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd *cmd = NULL;
	const char *sock = NULL;
	struct ctx x;
	bool ro = false;
	int ch, i, rc;

	memset(&x, 0, sizeof(x));
	x.out = &text_output;
	/* Options stop at the command; its own arguments follow it. */
	while ((ch = getopt_long(argc, argv, "+s:jphV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			x.out = &json_output;
			break;
		case 'p':
			json_pretty = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("smbdirectctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = cmd_find(argv[optind]);
	if (cmd == NULL) {
		err("unknown command '%s'", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	x.argc = argc - optind - 1;
	x.argv = argv + optind + 1;
	/* --json may also follow the command. */
	for (i = 0; i < x.argc; i++) {
		if (strcmp(x.argv[i], "--json") == 0) {
			x.out = &json_output;
			memmove(&x.argv[i], &x.argv[i + 1],
			    sizeof(*x.argv) * (size_t)(x.argc - i - 1));
			x.argc--;
			i--;
		}
	}
	if (cmd->max_args != ARGS_ANY && x.argc > cmd->max_args) {
		if (cmd->max_args == 0) {
			err("%s takes no arguments", cmd->name);
		} else {
			err("%s takes at most %d arguments", cmd->name,
			    cmd->max_args);
		}
		return EXIT_USAGE;
	}

	rc = sdctl_connect(sock, &x.ctl);
	if (rc != 0) {
		char m[256];

		snprintf(m, sizeof(m), "cannot reach smbdirectd at %s: %s",
		    sock != NULL ? sock : SDCTL_DEFAULT_SOCKET, strerror(-rc));
		x.out->error(cmd->name, m);
		return EXIT_UNREACHABLE;
	}
	rc = sdctl_register(x.ctl, SDCTL_ROLE_ADMIN, "smbdirectctl", &ro);
	if (rc != 0) {
		rc = failed(&x, "register", rc);
		sdctl_close(x.ctl);
		return rc;
	}
	if (cmd->admin && ro) {
		x.out->error(cmd->name, "you are a read-only admin; drain, "
		    "undrain and kill need the admin role ([access] "
		    "admin_users or admin_groups)");
		sdctl_close(x.ctl);
		return EXIT_FAILED;
	}
	rc = cmd->fn(&x);
	sdctl_close(x.ctl);
	return rc;
}
