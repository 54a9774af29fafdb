/* SPDX-License-Identifier: ISC */
/*
 * metrics.c: the registry (metrics.h), its Prometheus exposition, and the
 * node_exporter textfile writer.
 *
 * Names follow Prometheus conventions: smbdirect_ prefix, base units
 * (bytes, seconds), _total on counters. Per-connection series are off by
 * default (their label sets grow with clients) and capped when on.
 *
 * The textfile is replaced atomically: written to a temporary file in the
 * same directory, fsync()ed, renamed over the target. node_exporter never
 * reads a half-written file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/area.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/master.h"
#include "daemon/metrics.h"
#include "daemon/rconn.h"
#include "sdp.h"

void
metrics_count(struct metrics *m, enum metrics_family fam, const char *label,
    uint64_t n)
{
	struct metrics_table *t = &m->families[fam];
	unsigned i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->labels[i].name, label) == 0) {
			t->labels[i].value += n;
			return;
		}
	}
	if (t->n == METRICS_FAMILY_MAX) {
		t->overflow += n;
		return;
	}
	snprintf(t->labels[t->n].name, sizeof(t->labels[t->n].name), "%s",
	    label);
	t->labels[t->n].value = n;
	t->n++;
}

/*
 * Every label value the daemon knows in advance gets its series now, at
 * 0: refusals, error kinds, and negotiate failures (the engine's
 * negotiation errors). Close reasons are seeded by rconn_metrics_init().
 */
void
metrics_init(struct metrics *m)
{
	static const char *const refusals[] = {
#define X(label)	label,
		METRICS_REFUSALS(X)
#undef X
	};
	static const char *const errors[] = {
#define X(label)	label,
		METRICS_ERROR_KINDS(X)
#undef X
	};
	unsigned i;
	int err;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		metrics_count(m, MF_REFUSED, refusals[i], 0);
	}
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		metrics_count(m, MF_ERRORS, errors[i], 0);
	}
	for (err = SDP_ERR_NEG_SHORT; err >= SDP_ERR_NEG_TIMEOUT; err--) {
		metrics_count(m, MF_NEGOTIATE_FAIL, sdp_error_name(err), 0);
	}
}

static const char *const copy_names[] = {
#define X(e, token)	[COPY_##e] = token,
	METRICS_COPY_KINDS(X)
#undef X
};

const char *
metrics_copy_name(enum metrics_copy k)
{
	return k < COPY_END ? copy_names[k] : "unknown";
}

uint64_t
metrics_family_total(const struct metrics *m, enum metrics_family fam)
{
	const struct metrics_table *t = &m->families[fam];
	uint64_t sum = t->overflow;
	unsigned i;

	for (i = 0; i < t->n; i++) {
		sum += t->labels[i].value;
	}
	return sum;
}

/* A growable string. */
struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed) {
		return;
	}
	for (;;) {
		va_start(ap, fmt);
		/* An empty buffer has no pointer to offset: ask the size. */
		n = vsnprintf(b->cap > 0 ? b->s + b->len : NULL,
		    b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = (b->cap + (size_t)n + 1) * 2;
			char *s = realloc(b->s, cap);

			if (s == NULL) {
				b->failed = 1;
				return;
			}
			b->s = s;
			b->cap = cap;
		}
	}
}

static void
head(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(struct sbuf *b, const char *name, const char *type, const char *help,
    uint64_t v)
{
	head(b, name, type, help);
	sb_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* Label values: escape backslash, double quote and newline. */
static void
label_value(struct sbuf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		switch (*v) {
		case '\\':
			sb_printf(b, "\\\\");
			break;
		case '"':
			sb_printf(b, "\\\"");
			break;
		case '\n':
			sb_printf(b, "\\n");
			break;
		default:
			sb_printf(b, "%c", *v);
			break;
		}
	}
}

static void
family(struct sbuf *b, const struct metrics *m, enum metrics_family fam,
    const char *name, const char *label, const char *help)
{
	const struct metrics_table *t = &m->families[fam];
	unsigned i;

	head(b, name, "counter", help);
	for (i = 0; i < t->n; i++) {
		sb_printf(b, "%s{%s=\"", name, label);
		label_value(b, t->labels[i].name);
		sb_printf(b, "\"} %llu\n",
		    (unsigned long long)t->labels[i].value);
	}
	if (t->overflow > 0) {
		sb_printf(b, "%s{%s=\"other\"} %llu\n", name, label,
		    (unsigned long long)t->overflow);
	}
}

/*
 * The limits in force, from smbdirectd.conf, so that a dashboard can set
 * connections against max_connections without reading the file.
 */
static void
config_limits(struct sbuf *b, const struct conf *cfg)
{
	static const char *const names[] = {
		"max_connections", "max_connections_per_peer",
		"max_control_clients", "receive_credits",
		"max_send_size", "max_receive_size", "max_fragmented_size",
		"max_read_write_size", "area_size", "mrs_per_connection",
	};
	const uint64_t v[] = {
		cfg->max_connections, cfg->max_connections_per_peer,
		cfg->max_control_clients, cfg->receive_credits,
		cfg->max_send_size, cfg->max_receive_size,
		cfg->max_fragmented_size, cfg->max_read_write_size,
		cfg->area_size, rconn_mr_limit(cfg),
	};

	head(b, "smbdirect_config_limit", "gauge",
	    "The limits smbdirectd.conf sets, by name (sizes in bytes).");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sb_printf(b, "smbdirect_config_limit{limit=\"%s\"} %llu\n",
		    names[i], (unsigned long long)v[i]);
	}
}

/*
 * A family whose label values are fixed: every series, 0 included, from
 * the start. @names[i] labels @v[i]; a NULL name is skipped.
 */
static void
fixed_family(struct sbuf *b, const char *name, const char *type,
    const char *label, const char *help, const char *const *names,
    const uint64_t *v, size_t n)
{
	size_t i;

	head(b, name, type, help);
	for (i = 0; i < n; i++) {
		if (names[i] != NULL) {
			sb_printf(b, "%s{%s=\"%s\"} %llu\n", name, label,
			    names[i], (unsigned long long)v[i]);
		}
	}
}

static void
rdma_rejected(struct sbuf *b, const struct metrics *m)
{
	const char *names[FRAME_RDMA_REJECT_END];
	size_t i;

	for (i = 0; i < FRAME_RDMA_REJECT_END; i++) {
		names[i] = i == FRAME_RDMA_OK ? NULL :
		    frame_rdma_reject_name((enum frame_rdma_reject)i);
	}
	fixed_family(b, "smbdirect_rdma_requests_rejected_total", "counter",
	    "reason", "RDMA READ and WRITE requests from smbds refused "
	    "before anything was posted, by the check that failed.", names,
	    m->rdma_rejected, FRAME_RDMA_REJECT_END);
}

static void
connections_peak(struct sbuf *b, const struct daemon *d)
{
	static const char *const names[TRANSPORT_END] = {
#define X(e, n, token)	[TRANSPORT_##e] = token,
		TRANSPORTS(X)
#undef X
	};
	uint64_t v[TRANSPORT_END];
	size_t i;

	for (i = 0; i < TRANSPORT_END; i++) {
		v[i] = d->conns_peak[i];
	}
	fixed_family(b, "smbdirect_connections_peak", "gauge", "transport",
	    "The most connections open at once since the daemon started, "
	    "by transport.", names, v, TRANSPORT_END);
}

/* The counters of COUNTERS() (counters.h), each with its series. */
static const struct {
	const char		*name, *help;
	enum counter_group	 group;
	size_t			 off;		/* in struct metrics */
} counters[] = {
#define X(scope, ctl, name, group, series, help, conn_help)		\
	{ "smbdirect_" series, help, group, offsetof(struct metrics, name) },
	COUNTERS(X)
#undef X
};

/* The series of every counter in @group, in list order. */
static void
counter_group(struct sbuf *b, const struct metrics *m,
    enum counter_group group)
{
	size_t i;

	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		if (counters[i].group == group) {
			one(b, counters[i].name, "counter", counters[i].help,
			    *(const uint64_t *)((const char *)m +
			    counters[i].off));
		}
	}
}

/* The per-connection series: CONN counters with a conn_help. */
static void
per_connection(struct sbuf *b, struct daemon *d)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} conn_series[] = {
#define X(scope, ctl, name, group, series, help, conn_help)		\
	COUNTERS_PER_CONN_##scope({ "smbdirect_connection_" series,	\
	    conn_help, offsetof(struct rconn, name) },)
		COUNTERS(X)
#undef X
	};
	struct rconn *c;
	size_t i;
	unsigned n;

	for (i = 0; i < sizeof(conn_series) / sizeof(conn_series[0]); i++) {
		if (conn_series[i].help == NULL) {
			continue;
		}
		head(b, conn_series[i].name, "counter", conn_series[i].help);
		n = 0;
		TAILQ_FOREACH(c, &d->conns, entry) {
			if (n++ >= d->cfg.metrics_per_connection_max) {
				break;
			}
			sb_printf(b, "%s{conn=\"%llu\",peer=\"",
			    conn_series[i].name, (unsigned long long)c->id);
			label_value(b, c->peer);
			sb_printf(b, "\"} %llu\n", (unsigned long long)
			    *(const uint64_t *)((const char *)c +
			    conn_series[i].off));
		}
	}
}

/*
 * Render the exposition text. Returns a heap string the caller frees, or
 * NULL when memory ran out. The counters of counters.h come by group, at
 * the places their series have always had.
 */
char *
metrics_render(struct daemon *d)
{
	const struct metrics *m = &d->metrics;
	struct sbuf b = { 0 };
	struct rconn *c;
	struct dev *dev;
	uint64_t credit_waits = m->credit_stalls, recv_posted = 0;
	uint64_t area_bytes = 0, mr_count = 0, mr_bytes = 0;
	struct sdp_stats st;

	TAILQ_FOREACH(c, &d->conns, entry) {
		if (c->sdp != NULL) {
			sdp_get_stats(c->sdp, &st);
			credit_waits += st.credit_waits;
		}
		recv_posted += c->rx_posted;
		if (c->area != NULL) {
			area_bytes += area_size(c->area);
		}
	}
	TAILQ_FOREACH(dev, &d->devs, entry) {
		mr_count += dev->mr_count;
		mr_bytes += dev->mr_bytes;
	}

	/* The last textfile of a clean stop says 0 (main()). */
	one(&b, "smbdirect_up", "gauge", "1 while smbdirectd runs.",
	    d->stopped ? 0 : 1);
	one(&b, "smbdirect_start_time_seconds", "gauge",
	    "When smbdirectd started, in seconds since the epoch.",
	    d->start_wall);
	head(&b, "smbdirect_build_info", "gauge",
	    "Always 1; the version of smbdirectd as a label.");
	sb_printf(&b, "smbdirect_build_info{version=\"%s\"} 1\n",
	    PACKAGE_VERSION);
	config_limits(&b, &d->cfg);
	one(&b, "smbdirect_connections_active", "gauge",
	    "SMB Direct connections open now.", d->n_conns);
	connections_peak(&b, d);
	counter_group(&b, m, CG_ACCEPTED);
	family(&b, m, MF_REFUSED, "smbdirect_connections_refused_total",
	    "reason", "Connection requests refused, by reason.");
	family(&b, m, MF_NEGOTIATE_FAIL, "smbdirect_negotiate_failures_total",
	    "reason", "SMB Direct negotiations that failed, by reason.");
	family(&b, m, MF_CLOSED, "smbdirect_connections_closed_total",
	    "reason", "Connections closed, by reason.");
	counter_group(&b, m, CG_TRAFFIC);
	rdma_rejected(&b, m);
	counter_group(&b, m, CG_SENDS);
	one(&b, "smbdirect_credit_stalls_total", "counter",
	    "Times a send waited for send credits.", credit_waits);
	one(&b, "smbdirect_receive_credits_posted", "gauge",
	    "Receive buffers posted (credits granted) now.", recv_posted);
	counter_group(&b, m, CG_RECEIVES);
	one(&b, "smbdirect_memory_regions", "gauge",
	    "Memory regions registered now.", mr_count);
	one(&b, "smbdirect_memory_region_bytes", "gauge",
	    "Bytes in registered memory regions now.", mr_bytes);
	one(&b, "smbdirect_area_bytes", "gauge",
	    "Bytes of shared-memory areas now.", area_bytes);
	counter_group(&b, m, CG_EVENTS);
	one(&b, "smbdirect_draining", "gauge",
	    "1 while the daemon refuses new connections (drain).",
	    d->draining ? 1 : 0);
	one(&b, "smbdirect_master_registered", "gauge",
	    "1 while a master smbd is registered.", master_present(d) ? 1 : 0);
	one(&b, "smbdirect_control_clients", "gauge",
	    "Control channel clients connected now.",
	    d->control != NULL ? d->control->n_clients : 0);
	family(&b, m, MF_ERRORS, "smbdirect_errors_total", "kind",
	    "Errors, by kind.");
	fixed_family(&b, "smbdirect_copied_bytes_total", "counter", "kind",
	    "Bytes the daemon copied, by kind: SMB2 PDU bytes to and from "
	    "the data channels, memcpy of PDU or payload bytes, operation "
	    "frames.", copy_names, m->copied, COPY_END);
	if (d->cfg.metrics_per_connection) {
		per_connection(&b, d);
	}
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* Write the textfile: temp file, fsync, rename; mode 0644. */
int
metrics_write_textfile(struct daemon *d)
{
	const char *path = d->cfg.metrics_textfile;
	char tmp[sizeof(d->cfg.metrics_textfile) + 16];
	char *text = NULL;
	size_t len, off = 0;
	ssize_t n;
	int fd = -1, rc = -1;

	if (path[0] == '\0') {
		return 0;
	}
	text = metrics_render(d);
	if (text == NULL) {
		log_warnx("metrics: out of memory rendering %s", path);
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_warn("metrics: open %s", tmp);
		goto out;
	}
	if (fchmod(fd, 0644) != 0) {
		log_warn("metrics: fchmod %s", tmp);
		goto out_unlink;
	}
	len = strlen(text);
	while (off < len) {
		/* copy: none (the metrics text) */
		n = write(fd, text + off, len - off);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			log_warn("metrics: write %s", tmp);
			goto out_unlink;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0) {
		log_warn("metrics: fsync %s", tmp);
		goto out_unlink;
	}
	if (close(fd) != 0) {
		fd = -1;
		log_warn("metrics: close %s", tmp);
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		log_warn("metrics: rename %s to %s", tmp, path);
		goto out_unlink;
	}
	d->metrics.textfile_writes++;
	rc = 0;
	goto out;

out_unlink:
	unlink(tmp);
out:
	if (fd != -1) {
		close(fd);
	}
	free(text);
	return rc;
}
