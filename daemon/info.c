/* SPDX-License-Identifier: ISC */
/*
 * info.c: connection and daemon snapshots for the control channel.
 *
 * Counters are copied from the list in counters.h by name: a CTL
 * counter's field in struct rconn and struct metrics has the name of its
 * field in message Counters, so a missing .proto field does not compile.
 * keepalives_sent (the engine's) and copied_bytes (by kind) are not in
 * that list and are copied on their own.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "daemon/area.h"
#include "daemon/daemon.h"
#include "daemon/info.h"
#include "daemon/rconn.h"

Smbdirect__Ctl__Transport
info_transport(int t)
{
	switch (t) {
	case TRANSPORT_IWARP:
		return SMBDIRECT__CTL__TRANSPORT__TRANSPORT_IWARP;
	case TRANSPORT_ROCE:
		return SMBDIRECT__CTL__TRANSPORT__TRANSPORT_ROCE;
	case TRANSPORT_IB:
		return SMBDIRECT__CTL__TRANSPORT__TRANSPORT_IB;
	}
	return SMBDIRECT__CTL__TRANSPORT__TRANSPORT_UNSPECIFIED;
}

static Smbdirect__Ctl__ConnState
info_state(enum rconn_state s)
{
	switch (s) {
	case RCONN_ACCEPTING:
	case RCONN_NEGOTIATING:
		return SMBDIRECT__CTL__CONN_STATE__CONN_STATE_NEGOTIATING;
	case RCONN_WAIT_MASTER:
		return SMBDIRECT__CTL__CONN_STATE__CONN_STATE_WAIT_MASTER;
	case RCONN_WAIT_CHANNEL:
		return SMBDIRECT__CTL__CONN_STATE__CONN_STATE_WAIT_CHANNEL;
	case RCONN_ACTIVE:
		return SMBDIRECT__CTL__CONN_STATE__CONN_STATE_ACTIVE;
	case RCONN_DRAINING:
		return SMBDIRECT__CTL__CONN_STATE__CONN_STATE_DRAINING;
	case RCONN_CLOSING:
		return SMBDIRECT__CTL__CONN_STATE__CONN_STATE_CLOSING;
	}
	return SMBDIRECT__CTL__CONN_STATE__CONN_STATE_UNSPECIFIED;
}

/*
 * @n labelled counts, label @names[i] (borrowed: static strings) and
 * value @values[i], in @out and @n_out. Returns 0 or -ENOMEM.
 */
int
info_label_counts(struct arena *a, const char *const *names,
    const uint64_t *values, size_t n, Smbdirect__Ctl__LabelCount ***out,
    size_t *n_out)
{
	Smbdirect__Ctl__LabelCount **v = arena_alloc(a, sizeof(*v) * (n + 1));
	size_t i;

	if (v == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		v[i] = arena_alloc(a, sizeof(*v[i]));
		if (v[i] == NULL) {
			return -ENOMEM;
		}
		smbdirect__ctl__label_count__init(v[i]);
		v[i]->label = (char *)names[i];
		v[i]->value = values[i];
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* Every copy kind of @copied (by enum metrics_copy) into @k. */
static int
info_copied(struct arena *a, Smbdirect__Ctl__Counters *k,
    const uint64_t *copied)
{
	const char *names[COPY_END];
	unsigned i;

	for (i = 0; i < COPY_END; i++) {
		names[i] = metrics_copy_name((enum metrics_copy)i);
	}
	return info_label_counts(a, names, copied, COPY_END, &k->copied_bytes,
	    &k->n_copied_bytes);
}

Smbdirect__Ctl__Connection *
info_connection(struct arena *a, struct rconn *c)
{
	Smbdirect__Ctl__Connection *ci = arena_alloc(a, sizeof(*ci));
	Smbdirect__Ctl__Params *p = arena_alloc(a, sizeof(*p));
	Smbdirect__Ctl__Credits *cr = arena_alloc(a, sizeof(*cr));
	Smbdirect__Ctl__Counters *k = arena_alloc(a, sizeof(*k));
	Smbdirect__Ctl__MrUsage *mr = arena_alloc(a, sizeof(*mr));
	const struct conf *cfg = &c->d->cfg;
	struct sdp_params sp;
	struct sdp_stats st;
	uint64_t now = now_ms();

	if (ci == NULL || p == NULL || cr == NULL || k == NULL || mr == NULL) {
		return NULL;
	}
	smbdirect__ctl__connection__init(ci);
	smbdirect__ctl__params__init(p);
	smbdirect__ctl__credits__init(cr);
	smbdirect__ctl__counters__init(k);
	smbdirect__ctl__mr_usage__init(mr);

	ci->id = c->id;
	ci->peer = c->peer;
	ci->local = c->local;
	ci->transport = info_transport(c->transport);
	ci->state = info_state(c->state);
	ci->device = c->dev != NULL ? c->dev->name : (char *)"";
	ci->owner_pid = c->owner_pid;
	ci->age_ms = now - c->t_start;
	ci->idle_ms = now - c->t_last_io;

	p->ird = c->ird;
	p->ord = c->ord;
	p->receive_credit_max = cfg->receive_credits;
	p->send_credit_target = cfg->send_credit_target;
	if (c->sdp != NULL && sdp_get_params(c->sdp, &sp) == 0) {
		p->version = sp.version;
		p->max_send_size = sp.max_send_size;
		p->max_receive_size = sp.max_receive_size;
		p->max_fragmented_size = sp.max_fragmented_size;
		p->peer_max_fragmented_size = sp.peer_max_fragmented_size;
		p->max_read_write_size = sp.max_read_write_size;
	}
	if (c->sdp != NULL) {
		sdp_get_stats(c->sdp, &st);
		cr->send_available = st.send_credits;
		cr->send_target = st.recv_credit_target;
		cr->receive_posted = st.recv_credits_posted;
		cr->receive_target = st.recv_window;
		cr->receive_held = st.recv_held;
		cr->granted_total = st.credits_granted_total;
		cr->credit_waits = st.credit_waits;
		k->keepalives_sent = st.keepalives_sent;
	}
	/* The CTL counters of counters.h that are counted per connection. */
#define X(scope, ctl, name, ...)					\
	COUNTERS_PER_CONN_##scope(COUNTERS_SENT_##ctl(k->name = c->name;))
	COUNTERS(X)
#undef X
	if (info_copied(a, k, c->copied) != 0) {
		return NULL;
	}

	mr->count = c->mrs.count;
	mr->bytes = c->mrs.bytes;
	mr->area_bytes = c->area != NULL ? area_size(c->area) : 0;
	mr->limit = rconn_mr_limit(cfg);

	ci->params = p;
	ci->credits = cr;
	ci->counters = k;
	ci->mr = mr;
	return ci;
}

Smbdirect__Ctl__Counters *
info_totals(struct arena *a, struct daemon *d)
{
	Smbdirect__Ctl__Counters *k = arena_alloc(a, sizeof(*k));
	const struct metrics *m = &d->metrics;

	if (k == NULL) {
		return NULL;
	}
	smbdirect__ctl__counters__init(k);
	/* Every CTL counter of counters.h. */
#define X(scope, ctl, name, ...)	COUNTERS_SENT_##ctl(k->name = m->name;)
	COUNTERS(X)
#undef X
	if (info_copied(a, k, m->copied) != 0) {
		return NULL;
	}
	return k;
}
