/*
 * smbdirectctl: look at smbdirectd and steer it.
 *
 *   smbdirectctl [-s SOCKET] [--json] COMMAND [ARGS]
 *
 * Shaped after OpenSMTPD's smtpctl and bgpctl: a command table, each entry
 * with its privilege (read-only or admin), and output through a backend
 * (text tables for people, JSON with a stable schema for programs). All
 * protocol work is libsmbdirect-ctl's; this file formats.
 *
 * Exit codes: 0 ok, 1 the command failed, 2 usage, 3 the daemon cannot be
 * reached, 4 `drain --wait` timed out.
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

/* The JSON schema's version: bump it when a field changes meaning. */
#define JSON_SCHEMA	1

struct ctx {
	struct sdctl	*ctl;
	bool		 json;
	int		 argc;
	char		**argv;
};

struct cmd {
	const char	*name;
	const char	*alias;
	const char	*args;		/* usage of the arguments */
	bool		 admin;		/* needs a read-write admin */
	int		(*fn)(struct ctx *);
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

/* A failed request: name it, with the daemon's message when there is one. */
static int
failed(struct ctx *x, const char *what, int rc)
{
	const char *m = sdctl_last_error(x->ctl);

	if (m != NULL && m[0] != '\0') {
		err("%s: %s", what, m);
	} else {
		err("%s: %s", what, strerror(-rc));
	}
	if (rc == -EPIPE || rc == -ETIMEDOUT || rc == -ECONNREFUSED) {
		return EXIT_UNREACHABLE;
	}
	return EXIT_FAILED;
}

static void
json_print(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
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
	jadd_u64(o, "copied_payload_bytes", k->copied_payload_bytes);
	jadd_u64(o, "inline_copied_bytes", k->inline_copied_bytes);
	jadd_u64(o, "keepalives_sent", k->keepalives_sent);
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

static struct json_object *
j_envelope(const char *command)
{
	struct json_object *o = json_object_new_object();

	jadd_u64(o, "schema", JSON_SCHEMA);
	jadd_str(o, "command", command);
	return o;
}

/* "1.5 GiB" style sizes for the text tables. */
static const char *
human(uint64_t v, char *buf, size_t len)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 4) {
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

/* ------------------------------------------------------------------ */

static int
cmd_status(struct ctx *x)
{
	struct sdctl_status st;
	char b1[32], b2[32], b3[32], b4[32];
	size_t i, j;
	int rc;

	rc = sdctl_status(x->ctl, &st);
	if (rc != 0) {
		return failed(x, "status", rc);
	}
	if (x->json) {
		struct json_object *o = j_envelope("status");
		struct json_object *ls = json_object_new_array();
		struct json_object *ds = json_object_new_array();

		jadd_str(o, "version", st.version);
		jadd_u64(o, "uptime_ms", st.uptime_ms);
		for (i = 0; i < st.n_listeners; i++) {
			struct json_object *l = json_object_new_object();

			jadd_str(l, "address", st.listeners[i].address);
			jadd_str(l, "transport",
			    sdctl_transport_name(st.listeners[i].transport));
			jadd_str(l, "device", st.listeners[i].device);
			json_object_array_add(ls, l);
		}
		json_object_object_add(o, "listeners", ls);
		for (i = 0; i < st.n_devices; i++) {
			struct json_object *d = json_object_new_object();
			struct json_object *ps = json_object_new_array();

			jadd_str(d, "name", st.devices[i].name);
			jadd_str(d, "transport",
			    sdctl_transport_name(st.devices[i].transport));
			jadd_u64(d, "max_sge", st.devices[i].max_sge);
			jadd_u64(d, "max_qp_rd_atom",
			    st.devices[i].max_qp_rd_atom);
			jadd_u64(d, "max_mr", st.devices[i].max_mr);
			for (j = 0; j < st.devices[i].n_ports; j++) {
				struct json_object *p = json_object_new_object();

				jadd_u64(p, "port", st.devices[i].ports[j].port);
				jadd_str(p, "state",
				    st.devices[i].ports[j].state);
				jadd_str(p, "netdev",
				    st.devices[i].ports[j].netdev);
				json_object_array_add(ps, p);
			}
			json_object_object_add(d, "ports", ps);
			json_object_array_add(ds, d);
		}
		json_object_object_add(o, "devices", ds);
		json_object_object_add(o, "draining",
		    json_object_new_boolean(st.draining));
		jadd_u64(o, "master_pid", st.master_pid);
		jadd_u64(o, "connections_active", st.connections_active);
		jadd_u64(o, "connections_total", st.connections_total);
		jadd_u64(o, "connections_refused", st.connections_refused);
		jadd_u64(o, "max_connections", st.max_connections);
		jadd_u64(o, "control_clients", st.control_clients);
		json_object_object_add(o, "totals", j_counters(&st.totals));
		json_print(o);
		sdctl_status_free(&st);
		return EXIT_OK;
	}
	printf("smbdirectd %s, up %s\n", st.version,
	    duration(st.uptime_ms, b1, sizeof(b1)));
	printf("state:        %s\n", st.draining ? "draining (refusing new "
	    "connections)" : "accepting");
	if (st.master_pid != 0) {
		printf("master:       pid %u\n", st.master_pid);
	} else {
		printf("master:       none registered\n");
	}
	printf("connections:  %u active (max %u), %" PRIu64 " accepted, %"
	    PRIu64 " refused\n", st.connections_active, st.max_connections,
	    st.connections_total, st.connections_refused);
	printf("control:      %u clients\n", st.control_clients);
	printf("listeners:\n");
	for (i = 0; i < st.n_listeners; i++) {
		printf("  %-24s %-6s %s\n", st.listeners[i].address,
		    sdctl_transport_name(st.listeners[i].transport),
		    st.listeners[i].device);
	}
	printf("devices:\n");
	for (i = 0; i < st.n_devices; i++) {
		printf("  %-10s %-6s", st.devices[i].name,
		    sdctl_transport_name(st.devices[i].transport));
		for (j = 0; j < st.devices[i].n_ports; j++) {
			printf(" port %u %s%s%s", st.devices[i].ports[j].port,
			    st.devices[i].ports[j].state,
			    st.devices[i].ports[j].netdev[0] ? " on " : "",
			    st.devices[i].ports[j].netdev);
		}
		printf("\n");
	}
	printf("totals:       in %s, out %s, RDMA read %s, RDMA written %s, "
	    "payload copied %s\n",
	    human(st.totals.bytes_in, b1, sizeof(b1)),
	    human(st.totals.bytes_out, b2, sizeof(b2)),
	    human(st.totals.rdma_read_bytes, b3, sizeof(b3)),
	    human(st.totals.rdma_write_bytes, b4, sizeof(b4)),
	    st.totals.copied_payload_bytes == 0 ? "0 B" : "NONZERO");
	sdctl_status_free(&st);
	return EXIT_OK;
}

static int
list_conns(struct ctx *x, struct sdctl_conn **out, size_t *n)
{
	int rc = sdctl_list_connections(x->ctl, out, n);

	return rc != 0 ? failed(x, "connections", rc) : EXIT_OK;
}

static int
cmd_conns(struct ctx *x)
{
	struct sdctl_conn *cs = NULL;
	size_t n = 0, i;
	char bi[16], bo[16], br[16], ba[16], bm[16], age[16], idle[16];
	int rc;

	rc = list_conns(x, &cs, &n);
	if (rc != EXIT_OK) {
		return rc;
	}
	if (x->json) {
		struct json_object *o = j_envelope("conns");
		struct json_object *a = json_object_new_array();

		for (i = 0; i < n; i++) {
			json_object_array_add(a, j_conn(&cs[i]));
		}
		json_object_object_add(o, "connections", a);
		json_print(o);
		free(cs);
		return EXIT_OK;
	}
	printf("%-5s %-22s %-6s %-12s %7s %9s %9s %9s %9s %9s %9s %8s %8s\n",
	    "ID", "PEER", "TRANS", "STATE", "OWNER", "CRED S/R", "IN", "OUT",
	    "RDMA", "AREA", "MR", "AGE", "IDLE");
	for (i = 0; i < n; i++) {
		char cred[16];

		snprintf(cred, sizeof(cred), "%u/%u",
		    cs[i].credits.send_available,
		    cs[i].credits.receive_posted);
		printf("%-5" PRIu64 " %-22s %-6s %-12s %7u %9s %9s %9s %9s "
		    "%9s %9s %8s %8s\n", cs[i].id, cs[i].peer,
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
	char b1[16], b2[16];
	int rc;

	rc = parse_id(x, &id);
	if (rc != EXIT_OK) {
		return rc;
	}
	rc = sdctl_get_connection(x->ctl, id, &c);
	if (rc != 0) {
		return failed(x, "show", rc);
	}
	if (x->json) {
		struct json_object *o = j_envelope("show");

		json_object_object_add(o, "connection", j_conn(&c));
		json_print(o);
		return EXIT_OK;
	}
	printf("connection %" PRIu64 "\n", c.id);
	printf("  peer %s, local %s, %s on %s\n", c.peer, c.local,
	    sdctl_transport_name(c.transport), c.device);
	printf("  state %s, owner pid %u, age %s, idle %s\n",
	    sdctl_state_name(c.state), c.owner_pid,
	    duration(c.age_ms, b1, sizeof(b1)),
	    duration(c.idle_ms, b2, sizeof(b2)));
	printf("  negotiated: version %#x, send %u, receive %u, fragmented "
	    "%u (peer %u), read/write %u, IRD %u, ORD %u\n",
	    c.params.version, c.params.max_send_size,
	    c.params.max_receive_size, c.params.max_fragmented_size,
	    c.params.peer_max_fragmented_size, c.params.max_read_write_size,
	    c.params.ird, c.params.ord);
	printf("  credits: send %u of target %u, receive posted %u of "
	    "target %u (max %u), held %u, granted %" PRIu64 ", waits %"
	    PRIu64 "\n", c.credits.send_available, c.credits.send_target,
	    c.credits.receive_posted, c.credits.receive_target,
	    c.params.receive_credit_max, c.credits.receive_held,
	    c.credits.granted_total, c.credits.credit_waits);
	printf("  traffic: %" PRIu64 " bytes in (%" PRIu64 " messages, %"
	    PRIu64 " PDUs), %" PRIu64 " out (%" PRIu64 ", %" PRIu64 ")\n",
	    c.counters.bytes_in, c.counters.messages_in, c.counters.pdus_in,
	    c.counters.bytes_out, c.counters.messages_out,
	    c.counters.pdus_out);
	printf("  RDMA: read %" PRIu64 " bytes in %" PRIu64 " ops, wrote %"
	    PRIu64 " bytes in %" PRIu64 " ops; payload copied %" PRIu64
	    ", inline copied %" PRIu64 "\n", c.counters.rdma_read_bytes,
	    c.counters.rdma_read_ops, c.counters.rdma_write_bytes,
	    c.counters.rdma_write_ops, c.counters.copied_payload_bytes,
	    c.counters.inline_copied_bytes);
	printf("  MRs: %u of %u, %" PRIu64 " bytes; area %" PRIu64
	    " bytes\n", c.mr.count, c.mr.limit, c.mr.bytes, c.mr.area_bytes);
	return EXIT_OK;
}

static int
cmd_credits(struct ctx *x)
{
	struct sdctl_conn *cs = NULL;
	size_t n = 0, i;
	int rc;

	rc = list_conns(x, &cs, &n);
	if (rc != EXIT_OK) {
		return rc;
	}
	if (x->json) {
		struct json_object *o = j_envelope("credits");
		struct json_object *a = json_object_new_array();

		for (i = 0; i < n; i++) {
			struct json_object *c = json_object_new_object();
			const struct sdctl_credits *k = &cs[i].credits;

			jadd_u64(c, "id", cs[i].id);
			jadd_u64(c, "send_available", k->send_available);
			jadd_u64(c, "send_target", k->send_target);
			jadd_u64(c, "receive_posted", k->receive_posted);
			jadd_u64(c, "receive_target", k->receive_target);
			jadd_u64(c, "receive_max",
			    cs[i].params.receive_credit_max);
			jadd_u64(c, "receive_held", k->receive_held);
			jadd_u64(c, "granted_total", k->granted_total);
			jadd_u64(c, "credit_waits", k->credit_waits);
			json_object_array_add(a, c);
		}
		json_object_object_add(o, "connections", a);
		json_print(o);
		free(cs);
		return EXIT_OK;
	}
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
	free(cs);
	return EXIT_OK;
}

static int
cmd_mr(struct ctx *x)
{
	struct sdctl_conn *cs = NULL;
	size_t n = 0, i, j;
	char b1[16], b2[16];
	int rc;
	/* Per device: sums over its connections. */
	struct {
		char		name[64];
		uint64_t	count, bytes, area;
	} dev[16];
	size_t nd = 0;

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
		if (j == nd && nd < 16) {
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
	if (x->json) {
		struct json_object *o = j_envelope("mr");
		struct json_object *da = json_object_new_array();
		struct json_object *ca = json_object_new_array();

		for (j = 0; j < nd; j++) {
			struct json_object *d = json_object_new_object();

			jadd_str(d, "device", dev[j].name);
			jadd_u64(d, "count", dev[j].count);
			jadd_u64(d, "bytes", dev[j].bytes);
			jadd_u64(d, "area_bytes", dev[j].area);
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
		free(cs);
		return EXIT_OK;
	}
	printf("%-12s %8s %12s %12s\n", "DEVICE", "MRS", "BYTES", "AREA");
	for (j = 0; j < nd; j++) {
		printf("%-12s %8" PRIu64 " %12s %12s\n", dev[j].name,
		    dev[j].count, human(dev[j].bytes, b1, sizeof(b1)),
		    human(dev[j].area, b2, sizeof(b2)));
	}
	printf("\n%-5s %-12s %8s %8s %12s %12s\n", "ID", "DEVICE", "MRS",
	    "LIMIT", "BYTES", "AREA");
	for (i = 0; i < n; i++) {
		printf("%-5" PRIu64 " %-12s %8u %8u %12s %12s\n", cs[i].id,
		    cs[i].device, cs[i].mr.count, cs[i].mr.limit,
		    human(cs[i].mr.bytes, b1, sizeof(b1)),
		    human(cs[i].mr.area_bytes, b2, sizeof(b2)));
	}
	free(cs);
	return EXIT_OK;
}

static int
ok_json(struct ctx *x, const char *command, const char *text)
{
	if (x->json) {
		struct json_object *o = j_envelope(command);

		json_object_object_add(o, "ok", json_object_new_boolean(1));
		json_print(o);
	} else {
		printf("%s\n", text);
	}
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
			return ok_json(x, "drain", "drained: no connections "
			    "left");
		}
		if (timeout_s > 0 && time(NULL) >= end) {
			if (x->json) {
				struct json_object *o = j_envelope("drain");

				json_object_object_add(o, "ok",
				    json_object_new_boolean(0));
				jadd_u64(o, "connections_left", left);
				json_print(o);
			}
			err("drain --wait: %u connections still open after "
			    "%us", left, timeout_s);
			return EXIT_TIMEOUT;
		}
		pfd.fd = sdctl_fd(x->ctl);
		pfd.events = POLLIN;
		poll(&pfd, 1, 500);
	}
}

static int
cmd_drain(struct ctx *x)
{
	bool wait = false;
	unsigned timeout = 0;
	uint64_t id = 0;
	char *end = NULL;
	int i, rc, nid = 0;

	for (i = 0; i < x->argc; i++) {
		if (strcmp(x->argv[i], "--wait") == 0) {
			wait = true;
		} else if (strcmp(x->argv[i], "--timeout") == 0 &&
		    i + 1 < x->argc) {
			errno = 0;
			timeout = (unsigned)strtoul(x->argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || timeout == 0) {
				err("drain: --timeout wants seconds, got '%s'",
				    x->argv[i]);
				return EXIT_USAGE;
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
	if (timeout > 0 && !wait) {
		err("drain: --timeout needs --wait");
		return EXIT_USAGE;
	}
	if (id != 0 && wait) {
		err("drain: --wait is for the daemon-wide drain");
		return EXIT_USAGE;
	}
	rc = sdctl_drain(x->ctl, id, 0);
	if (rc != 0) {
		return failed(x, "drain", rc);
	}
	if (wait) {
		return drain_wait(x, timeout);
	}
	return ok_json(x, "drain", id == 0 ? "draining: new connections are "
	    "refused" : "draining the connection: its owner was told");
}

static int
cmd_undrain(struct ctx *x)
{
	int rc;

	if (x->argc != 0) {
		err("undrain takes no arguments");
		return EXIT_USAGE;
	}
	rc = sdctl_undrain(x->ctl);
	if (rc != 0) {
		return failed(x, "undrain", rc);
	}
	return ok_json(x, "undrain", "accepting connections");
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
	return ok_json(x, "kill", "killed");
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
	if (x->json) {
		struct json_object *o = j_envelope("metrics");

		jadd_str(o, "text", text);
		json_print(o);
	} else {
		fputs(text, stdout);
	}
	free(text);
	return EXIT_OK;
}

static const struct cmd cmds[] = {
	{ "status", NULL, "", false, cmd_status,
	    "version, uptime, listeners, devices, drain state, counts" },
	{ "conns", "connections", "", false, cmd_conns,
	    "one line per connection" },
	{ "show", NULL, "ID", false, cmd_show,
	    "everything about one connection" },
	{ "credits", NULL, "", false, cmd_credits,
	    "credits per connection" },
	{ "mr", NULL, "", false, cmd_mr,
	    "memory regions per device and per connection" },
	{ "drain", NULL, "[ID | --wait [--timeout S]]", true, cmd_drain,
	    "stop accepting (or end one session after its grace)" },
	{ "undrain", NULL, "", true, cmd_undrain,
	    "accept connections again" },
	{ "kill", NULL, "ID", true, cmd_kill, "disconnect a session now" },
	{ "metrics", NULL, "", false, cmd_metrics,
	    "Prometheus exposition text" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s [-s SOCKET] [-j | --json] COMMAND [ARGS]\n\n",
	    progname);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char left[48];

		snprintf(left, sizeof(left), "%s %s", cmds[i].name,
		    cmds[i].args);
		fprintf(f, "  %-34s %s%s\n", left, cmds[i].help,
		    cmds[i].admin ? " (admin)" : "");
	}
	fprintf(f, "\nExit codes: 0 ok, 1 failed, 2 usage, 3 cannot reach the "
	    "daemon, 4 drain --wait timed out.\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd *cmd = NULL;
	const char *sock = NULL;
	struct ctx x;
	bool ro = false;
	size_t i;
	int ch, rc;

	memset(&x, 0, sizeof(x));
	/* Options stop at the command; its own arguments follow it. */
	while ((ch = getopt_long(argc, argv, "+s:jhV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			x.json = true;
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
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[optind], cmds[i].name) == 0 ||
		    (cmds[i].alias != NULL &&
		    strcmp(argv[optind], cmds[i].alias) == 0)) {
			cmd = &cmds[i];
			break;
		}
	}
	if (cmd == NULL) {
		err("unknown command '%s'", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	x.argc = argc - optind - 1;
	x.argv = argv + optind + 1;
	/* --json may also follow the command. */
	for (i = 0; i < (size_t)x.argc; i++) {
		if (strcmp(x.argv[i], "--json") == 0) {
			x.json = true;
			memmove(&x.argv[i], &x.argv[i + 1],
			    sizeof(*x.argv) * ((size_t)x.argc - i - 1));
			x.argc--;
			i--;
		}
	}
	if (cmd->fn != cmd_drain && cmd->fn != cmd_show &&
	    cmd->fn != cmd_kill && x.argc > 0) {
		err("%s takes no arguments", cmd->name);
		return EXIT_USAGE;
	}

	rc = sdctl_connect(sock, &x.ctl);
	if (rc != 0) {
		err("cannot reach smbdirectd at %s: %s",
		    sock != NULL ? sock : SDCTL_DEFAULT_SOCKET, strerror(-rc));
		return EXIT_UNREACHABLE;
	}
	rc = sdctl_register(x.ctl, SDCTL_ROLE_ADMIN, "smbdirectctl", &ro);
	if (rc != 0) {
		rc = failed(&x, "register", rc);
		sdctl_close(x.ctl);
		return rc;
	}
	if (cmd->admin && ro) {
		err("%s: you are a read-only admin; drain, undrain and kill "
		    "need the admin role ([access] admin_users or "
		    "admin_groups)", cmd->name);
		sdctl_close(x.ctl);
		return EXIT_FAILED;
	}
	rc = cmd->fn(&x);
	sdctl_close(x.ctl);
	return rc;
}
