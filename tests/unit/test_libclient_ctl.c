/* SPDX-License-Identifier: ISC */
/*
 * libclient's control client against a fake daemon: a forked child holds
 * the other end of a socketpair(AF_UNIX, SOCK_SEQPACKET) and plays the
 * daemon's side with the generated protobuf-c code, following a script.
 * The child checks what the library sent; a failed check exits it with
 * status 1 after naming the line, which the parent asserts on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "libclient/smbdirect-ctl.h"
#include "smbdirect-ctl.pb-c.h"

typedef void (*script_fn)(int fd, void *arg);

struct fake {
	struct sdctl	*ctl;
	pid_t		 pid;
};

/* ---------------------------------------------------------------------
 * The fake daemon (runs in the child)
 * ------------------------------------------------------------------- */

static void
d_check(bool ok, int line)
{
	if (!ok) {
		fprintf(stderr, "fake daemon: check failed at line %d\n",
		    line);
		_exit(1);
	}
}

/* Receive one Request (blocking); the caller frees it. */
static Smbdirect__Ctl__Request *
d_recv(int fd)
{
	uint8_t buf[4096];
	Smbdirect__Ctl__Request *req;
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), 0);
	d_check(n > 0, __LINE__);
	req = smbdirect__ctl__request__unpack(NULL, (size_t)n, buf);
	d_check(req != NULL, __LINE__);
	d_check(req->version == 1, __LINE__);
	return req;
}

/* Receive a Request with body @body; return its id. */
static uint64_t
d_expect(int fd, Smbdirect__Ctl__Request__BodyCase body,
    Smbdirect__Ctl__Request **out)
{
	Smbdirect__Ctl__Request *req = d_recv(fd);
	uint64_t id = req->id;

	d_check(req->body_case == body, __LINE__);
	if (out != NULL) {
		*out = req;
	} else {
		smbdirect__ctl__request__free_unpacked(req, NULL);
	}
	return id;
}

static void
d_send(int fd, const Smbdirect__Ctl__DaemonMessage *dm)
{
	size_t len = smbdirect__ctl__daemon_message__get_packed_size(dm);
	uint8_t *buf = malloc(len + 1);

	d_check(buf != NULL, __LINE__);
	smbdirect__ctl__daemon_message__pack(dm, buf);
	d_check(send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len, __LINE__);
	free(buf);
}

static void
d_send_reply(int fd, Smbdirect__Ctl__Reply *rep)
{
	Smbdirect__Ctl__DaemonMessage dm = SMBDIRECT__CTL__DAEMON_MESSAGE__INIT;

	dm.kind_case = SMBDIRECT__CTL__DAEMON_MESSAGE__KIND_REPLY;
	dm.reply = rep;
	d_send(fd, &dm);
}

static void
d_reply(int fd, uint64_t id, int status, const char *msg)
{
	Smbdirect__Ctl__Reply rep = SMBDIRECT__CTL__REPLY__INIT;

	rep.id = id;
	rep.status = status;
	rep.message = (char *)msg;
	d_send_reply(fd, &rep);
}

static void
d_reply_register(int fd, uint64_t id, bool read_only)
{
	Smbdirect__Ctl__Reply rep = SMBDIRECT__CTL__REPLY__INIT;
	Smbdirect__Ctl__RegisterReply rr = SMBDIRECT__CTL__REGISTER_REPLY__INIT;

	rr.version = 1;
	rr.daemon_version = (char *)"0.1.0";
	rr.daemon_pid = 4242;
	rr.read_only = read_only;
	rep.id = id;
	rep.body_case = SMBDIRECT__CTL__REPLY__BODY_REGISTER;
	rep.register_ = &rr;
	d_send_reply(fd, &rep);
}

static void
d_send_event(int fd, Smbdirect__Ctl__Event *ev)
{
	Smbdirect__Ctl__DaemonMessage dm = SMBDIRECT__CTL__DAEMON_MESSAGE__INIT;

	dm.kind_case = SMBDIRECT__CTL__DAEMON_MESSAGE__KIND_EVENT;
	dm.event = ev;
	d_send(fd, &dm);
}

static void
d_event_closed(int fd, uint64_t conn_id, const char *reason)
{
	Smbdirect__Ctl__Event ev = SMBDIRECT__CTL__EVENT__INIT;
	Smbdirect__Ctl__ConnectionClosed cc =
	    SMBDIRECT__CTL__CONNECTION_CLOSED__INIT;

	cc.conn_id = conn_id;
	cc.reason = (char *)reason;
	cc.message = (char *)"the client disconnected";
	cc.owner_pid = 31;
	ev.body_case = SMBDIRECT__CTL__EVENT__BODY_CONNECTION_CLOSED;
	ev.connection_closed = &cc;
	d_send_event(fd, &ev);
}

/* A connection as the daemon describes it. */
struct d_conn {
	Smbdirect__Ctl__Connection	c;
	Smbdirect__Ctl__Params		p;
	Smbdirect__Ctl__Credits		cr;
	Smbdirect__Ctl__Counters	k;
	Smbdirect__Ctl__LabelCount	cp[2];
	Smbdirect__Ctl__LabelCount	*cpp[2];
	Smbdirect__Ctl__MrUsage		mr;
};

static void
d_conn_init(struct d_conn *d, uint64_t id, const char *peer)
{
	smbdirect__ctl__connection__init(&d->c);
	smbdirect__ctl__params__init(&d->p);
	smbdirect__ctl__credits__init(&d->cr);
	smbdirect__ctl__counters__init(&d->k);
	smbdirect__ctl__mr_usage__init(&d->mr);
	d->c.id = id;
	d->c.peer = (char *)peer;
	d->c.local = (char *)"10.0.0.1:5445";
	d->c.transport = SMBDIRECT__CTL__TRANSPORT__TRANSPORT_ROCE;
	d->c.state = SMBDIRECT__CTL__CONN_STATE__CONN_STATE_ACTIVE;
	d->c.device = (char *)"rxe0";
	d->c.owner_pid = 31;
	d->p.version = 0x100;
	d->p.max_read_write_size = 1048576;
	d->p.peer_max_fragmented_size = 131072;
	d->cr.send_available = 250;
	d->cr.granted_total = 1ull << 40;
	d->k.rdma_write_bytes = 64ull << 20;
	d->k.keepalives_sent = 3;
	smbdirect__ctl__label_count__init(&d->cp[0]);
	smbdirect__ctl__label_count__init(&d->cp[1]);
	d->cp[0].label = (char *)"pdu_to_owner";
	d->cp[0].value = 5000;
	d->cp[1].label = (char *)"memcpy";
	d->cpp[0] = &d->cp[0];
	d->cpp[1] = &d->cp[1];
	d->k.copied_bytes = d->cpp;
	d->k.n_copied_bytes = 2;
	d->mr.area_bytes = 8 << 20;
	d->c.params = &d->p;
	d->c.credits = &d->cr;
	d->c.counters = &d->k;
	d->c.mr = &d->mr;
	d->c.age_ms = 1234;
	d->c.idle_ms = 56;
}

static void
d_event_new(int fd, uint64_t conn_id)
{
	Smbdirect__Ctl__Event ev = SMBDIRECT__CTL__EVENT__INIT;
	Smbdirect__Ctl__NewConnection nc = SMBDIRECT__CTL__NEW_CONNECTION__INIT;
	struct d_conn c;

	d_conn_init(&c, conn_id, "10.0.0.2:40123");
	c.c.state = SMBDIRECT__CTL__CONN_STATE__CONN_STATE_WAIT_CHANNEL;
	c.c.owner_pid = 0;
	nc.connection = &c.c;
	nc.socket_path = (char *)"/run/smbdirectd/private/7-00ff.sock";
	nc.connect_timeout_ms = 5000;
	ev.body_case = SMBDIRECT__CTL__EVENT__BODY_NEW_CONNECTION;
	ev.new_connection = &nc;
	d_send_event(fd, &ev);
}

/* Wait until the client closes its end: keeps the child's end open. */
static void
d_wait_close(int fd)
{
	uint8_t buf[4096];

	while (recv(fd, buf, sizeof(buf), 0) > 0) {
	}
}

/* ---------------------------------------------------------------------
 * The test side
 * ------------------------------------------------------------------- */

static void
fake_start(struct fake *f, script_fn fn, void *arg)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		close(sv[0]);
		fn(sv[1], arg);
		d_wait_close(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	assert_int_equal(sdctl_adopt(sv[0], &f->ctl), 0);
	sdctl_set_timeout(f->ctl, 5000);
}

static void
fake_finish(struct fake *f)
{
	int st;

	sdctl_close(f->ctl);
	assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- register, and the daemon's refusals --------------------------- */

static void
script_register(int fd, void *arg)
{
	Smbdirect__Ctl__Request *req = NULL;
	uint64_t id;

	id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_REGISTER, &req);
	d_check(req->register_->role == SMBDIRECT__CTL__ROLE__ROLE_ADMIN,
	    __LINE__);
	d_check(strcmp(req->register_->name, "smbdirectctl") == 0, __LINE__);
	smbdirect__ctl__request__free_unpacked(req, NULL);
	d_reply_register(fd, id, true);

	/* A second register on the same connection: refused. */
	id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_REGISTER, &req);
	d_check(req->register_->role == SMBDIRECT__CTL__ROLE__ROLE_MASTER,
	    __LINE__);
	d_check(strcmp(req->register_->name, "") == 0, __LINE__);
	smbdirect__ctl__request__free_unpacked(req, NULL);
	d_reply(fd, id, -EALREADY, "register: already registered as admin");

	/* The daemon's message is kept only until the next request. */
	id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_UNDRAIN, NULL);
	d_reply(fd, id, 0, "");
	id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_KILL, &req);
	d_check(req->kill->conn_id == 7, __LINE__);
	smbdirect__ctl__request__free_unpacked(req, NULL);
	d_reply(fd, id, -EPERM, "kill: read-only admins may not do this");
}

static void
test_register_and_errors(void **state)
{
	struct fake f;
	bool ro = false;

	fake_start(&f, script_register, NULL);
	assert_string_equal(sdctl_last_error(f.ctl), "");
	assert_int_equal(sdctl_register(f.ctl, SDCTL_ROLE_ADMIN,
	    "smbdirectctl", &ro), 0);
	assert_true(ro);
	assert_int_equal(sdctl_register(f.ctl, SDCTL_ROLE_MASTER, NULL, NULL),
	    -EALREADY);
	assert_string_equal(sdctl_last_error(f.ctl),
	    "register: already registered as admin");
	assert_int_equal(sdctl_undrain(f.ctl), 0);
	assert_string_equal(sdctl_last_error(f.ctl), "");
	assert_int_equal(sdctl_kill(f.ctl, 7), -EPERM);
	assert_string_equal(sdctl_last_error(f.ctl),
	    "kill: read-only admins may not do this");
	/* Refused locally: nothing is sent, and no daemon message. */
	assert_int_equal(sdctl_register(f.ctl, (enum sdctl_role)9, NULL,
	    NULL), -EINVAL);
	assert_string_equal(sdctl_last_error(f.ctl), "");
	assert_int_equal(sdctl_hand_off(f.ctl, 7, 0), -EINVAL);
	fake_finish(&f);
}

/* ---- typed replies map to the public structures -------------------- */

static void
script_status(int fd, void *arg)
{
	Smbdirect__Ctl__Reply rep = SMBDIRECT__CTL__REPLY__INIT;
	Smbdirect__Ctl__StatusReply sr = SMBDIRECT__CTL__STATUS_REPLY__INIT;
	Smbdirect__Ctl__Listener l[2], *lp[2] = { &l[0], &l[1] };
	Smbdirect__Ctl__Device dv, *dvp[1] = { &dv };
	Smbdirect__Ctl__DevicePort pt[5], *ptp[5];
	Smbdirect__Ctl__Counters tot = SMBDIRECT__CTL__COUNTERS__INIT;
	Smbdirect__Ctl__LabelCount cp, *cpp[1] = { &cp };
	Smbdirect__Ctl__LabelCount pk[SDCTL_MAX_COUNTS + 2];
	Smbdirect__Ctl__LabelCount *pkp[SDCTL_MAX_COUNTS + 2];
	char longdev[100], names[SDCTL_MAX_COUNTS + 2][8];
	unsigned i;

	smbdirect__ctl__listener__init(&l[0]);
	smbdirect__ctl__listener__init(&l[1]);
	l[0].address = (char *)"10.0.0.1:5445";
	l[0].transport = SMBDIRECT__CTL__TRANSPORT__TRANSPORT_IWARP;
	l[0].device = (char *)"siw0";
	/* Longer than the public field: truncated, never overflowed. */
	memset(longdev, 'd', sizeof(longdev) - 1);
	longdev[sizeof(longdev) - 1] = '\0';
	l[1].address = (char *)"[fd00::1]:5445";
	/* A transport from the future. */
	l[1].transport = (Smbdirect__Ctl__Transport)17;
	l[1].device = longdev;
	smbdirect__ctl__device__init(&dv);
	dv.name = (char *)"rxe0";
	dv.transport = SMBDIRECT__CTL__TRANSPORT__TRANSPORT_ROCE;
	dv.max_sge = 32;
	dv.max_qp_rd_atom = 128;
	dv.max_mr = 65536;
	for (i = 0; i < 5; i++) {
		smbdirect__ctl__device_port__init(&pt[i]);
		pt[i].port = i + 1;
		pt[i].state = (char *)"ACTIVE";
		pt[i].netdev = (char *)"eth0";
		ptp[i] = &pt[i];
	}
	dv.ports = ptp;
	dv.n_ports = 5;
	tot.rdma_read_bytes = 1ull << 33;
	smbdirect__ctl__label_count__init(&cp);
	cp.label = (char *)"pdu_from_owner";
	cp.value = 99;
	tot.copied_bytes = cpp;
	tot.n_copied_bytes = 1;
	/* More series than the public array holds: the rest are dropped. */
	for (i = 0; i < SDCTL_MAX_COUNTS + 2; i++) {
		smbdirect__ctl__label_count__init(&pk[i]);
		snprintf(names[i], sizeof(names[i]), "t%u", i);
		pk[i].label = names[i];
		pk[i].value = i * 10;
		pkp[i] = &pk[i];
	}
	sr.connections_peak = pkp;
	sr.n_connections_peak = SDCTL_MAX_COUNTS + 2;
	sr.version = (char *)"0.1.0";
	sr.uptime_ms = 3600000;
	sr.listeners = lp;
	sr.n_listeners = 2;
	sr.devices = dvp;
	sr.n_devices = 1;
	sr.draining = true;
	sr.master_pid = 100;
	sr.connections_active = 3;
	sr.connections_total = 1ull << 35;
	sr.connections_refused = 2;
	sr.control_clients = 4;
	sr.max_connections = 1024;
	sr.totals = &tot;
	rep.id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_STATUS, NULL);
	rep.body_case = SMBDIRECT__CTL__REPLY__BODY_STATUS_REPLY;
	rep.status_reply = &sr;
	d_send_reply(fd, &rep);
}

static void
test_status_mapping(void **state)
{
	struct sdctl_status st;
	struct fake f;

	fake_start(&f, script_status, NULL);
	assert_int_equal(sdctl_status(f.ctl, &st), 0);
	assert_string_equal(st.version, "0.1.0");
	assert_true(st.uptime_ms == 3600000);
	assert_int_equal(st.n_listeners, 2);
	assert_string_equal(st.listeners[0].address, "10.0.0.1:5445");
	assert_int_equal(st.listeners[0].transport, SDCTL_TRANSPORT_IWARP);
	assert_string_equal(st.listeners[0].device, "siw0");
	assert_int_equal(st.listeners[1].transport, SDCTL_TRANSPORT_UNKNOWN);
	assert_int_equal(strlen(st.listeners[1].device),
	    sizeof(st.listeners[1].device) - 1);
	assert_int_equal(st.n_devices, 1);
	assert_string_equal(st.devices[0].name, "rxe0");
	assert_int_equal(st.devices[0].max_sge, 32);
	assert_int_equal(st.devices[0].max_qp_rd_atom, 128);
	assert_int_equal(st.devices[0].n_ports, SDCTL_MAX_PORTS);
	assert_int_equal(st.devices[0].ports[3].port, 4);
	assert_string_equal(st.devices[0].ports[3].state, "ACTIVE");
	assert_string_equal(st.devices[0].ports[3].netdev, "eth0");
	assert_true(st.draining);
	assert_int_equal(st.master_pid, 100);
	assert_int_equal(st.connections_active, 3);
	assert_true(st.connections_total == 1ull << 35);
	assert_true(st.connections_refused == 2);
	assert_int_equal(st.control_clients, 4);
	assert_int_equal(st.max_connections, 1024);
	assert_true(st.totals.rdma_read_bytes == 1ull << 33);
	assert_int_equal(st.totals.n_copied_bytes, 1);
	assert_string_equal(st.totals.copied_bytes[0].label, "pdu_from_owner");
	assert_true(st.totals.copied_bytes[0].value == 99);
	assert_int_equal(st.n_connections_peak, SDCTL_MAX_COUNTS);
	assert_string_equal(st.connections_peak[2].label, "t2");
	assert_true(st.connections_peak[2].value == 20);
	sdctl_status_free(&st);
	assert_null(st.listeners);
	assert_int_equal(st.n_devices, 0);
	sdctl_status_free(NULL);
	fake_finish(&f);
}

static void
script_lists(int fd, void *arg)
{
	Smbdirect__Ctl__Reply rep = SMBDIRECT__CTL__REPLY__INIT;
	Smbdirect__Ctl__ConnectionList cl =
	    SMBDIRECT__CTL__CONNECTION_LIST__INIT;
	Smbdirect__Ctl__InterfaceList il = SMBDIRECT__CTL__INTERFACE_LIST__INIT;
	Smbdirect__Ctl__Interface ifc = SMBDIRECT__CTL__INTERFACE__INIT;
	Smbdirect__Ctl__Interface *ifp[1] = { &ifc };
	Smbdirect__Ctl__MetricsReply mr = SMBDIRECT__CTL__METRICS_REPLY__INIT;
	Smbdirect__Ctl__Request *req = NULL;
	struct d_conn c[2];
	Smbdirect__Ctl__Connection *cp[2] = { &c[0].c, &c[1].c };

	d_conn_init(&c[0], 7, "10.0.0.2:40123");
	d_conn_init(&c[1], 8, "[fd00::2]:40124");
	c[1].c.state = SMBDIRECT__CTL__CONN_STATE__CONN_STATE_DRAINING;
	c[1].c.transport = SMBDIRECT__CTL__TRANSPORT__TRANSPORT_IB;
	c[1].c.params = NULL;		/* absent: reads as zeros */
	cl.connections = cp;
	cl.n_connections = 2;
	rep.id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_LIST_CONNECTIONS,
	    NULL);
	rep.body_case = SMBDIRECT__CTL__REPLY__BODY_CONNECTIONS;
	rep.connections = &cl;
	d_send_reply(fd, &rep);

	/* An empty list. */
	cl.n_connections = 0;
	cl.connections = NULL;
	rep.id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_LIST_CONNECTIONS,
	    NULL);
	d_send_reply(fd, &rep);

	rep.id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_GET_CONNECTION,
	    &req);
	d_check(req->get_connection->conn_id == 8, __LINE__);
	smbdirect__ctl__request__free_unpacked(req, NULL);
	rep.body_case = SMBDIRECT__CTL__REPLY__BODY_CONNECTION;
	rep.connection = &c[1].c;
	d_send_reply(fd, &rep);

	rep.id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_GET_CONNECTION,
	    NULL);
	d_reply(fd, rep.id, -ENOENT, "get_connection: no connection 9");

	ifc.address = (char *)"fd00::1";
	ifc.port = 5445;
	ifc.if_index = 3;
	ifc.link_speed_bps = 100000000000ull;
	ifc.transport = SMBDIRECT__CTL__TRANSPORT__TRANSPORT_ROCE;
	ifc.device = (char *)"mlx5_0";
	ifc.ipv6 = true;
	il.interfaces = ifp;
	il.n_interfaces = 1;
	rep.id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_LIST_INTERFACES,
	    NULL);
	rep.body_case = SMBDIRECT__CTL__REPLY__BODY_INTERFACES;
	rep.interfaces = &il;
	d_send_reply(fd, &rep);

	mr.text = (char *)"# TYPE smbdirectd_connections gauge\n"
	    "smbdirectd_connections 3\n";
	rep.id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_METRICS, NULL);
	rep.body_case = SMBDIRECT__CTL__REPLY__BODY_METRICS;
	rep.metrics = &mr;
	d_send_reply(fd, &rep);

	/* A success without the body the request needs is malformed. */
	rep.id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_METRICS, NULL);
	rep.body_case = SMBDIRECT__CTL__REPLY__BODY__NOT_SET;
	d_send_reply(fd, &rep);
}

static void
test_lists_mapping(void **state)
{
	struct sdctl_conn *conns = (void *)0x1, one;
	struct sdctl_iface *ifs = NULL;
	struct fake f;
	char *text = NULL;
	size_t n = 99;

	fake_start(&f, script_lists, NULL);
	assert_int_equal(sdctl_list_connections(f.ctl, &conns, &n), 0);
	assert_int_equal(n, 2);
	assert_true(conns[0].id == 7);
	assert_string_equal(conns[0].peer, "10.0.0.2:40123");
	assert_string_equal(conns[0].local, "10.0.0.1:5445");
	assert_int_equal(conns[0].transport, SDCTL_TRANSPORT_ROCE);
	assert_int_equal(conns[0].state, SDCTL_STATE_ACTIVE);
	assert_string_equal(conns[0].device, "rxe0");
	assert_int_equal(conns[0].owner_pid, 31);
	assert_int_equal(conns[0].params.version, 0x100);
	assert_int_equal(conns[0].params.max_read_write_size, 1048576);
	assert_int_equal(conns[0].params.peer_max_fragmented_size, 131072);
	assert_int_equal(conns[0].credits.send_available, 250);
	assert_true(conns[0].credits.granted_total == 1ull << 40);
	assert_true(conns[0].counters.rdma_write_bytes == 64ull << 20);
	assert_true(conns[0].counters.keepalives_sent == 3);
	assert_int_equal(conns[0].counters.n_copied_bytes, 2);
	assert_string_equal(conns[0].counters.copied_bytes[0].label,
	    "pdu_to_owner");
	assert_true(conns[0].counters.copied_bytes[0].value == 5000);
	assert_string_equal(conns[0].counters.copied_bytes[1].label, "memcpy");
	assert_true(conns[0].counters.copied_bytes[1].value == 0);
	assert_true(conns[0].mr.area_bytes == 8 << 20);
	assert_true(conns[0].age_ms == 1234 && conns[0].idle_ms == 56);
	assert_int_equal(conns[1].state, SDCTL_STATE_DRAINING);
	assert_int_equal(conns[1].transport, SDCTL_TRANSPORT_IB);
	assert_int_equal(conns[1].params.version, 0);
	free(conns);

	assert_int_equal(sdctl_list_connections(f.ctl, &conns, &n), 0);
	assert_null(conns);
	assert_int_equal(n, 0);

	assert_int_equal(sdctl_get_connection(f.ctl, 8, &one), 0);
	assert_true(one.id == 8);
	assert_string_equal(one.peer, "[fd00::2]:40124");
	memset(&one, 0x5a, sizeof(one));
	assert_int_equal(sdctl_get_connection(f.ctl, 9, &one), -ENOENT);
	assert_int_equal(one.owner_pid, 0x5a5a5a5a);	/* untouched */

	assert_int_equal(sdctl_list_interfaces(f.ctl, &ifs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ifs[0].address, "fd00::1");
	assert_int_equal(ifs[0].port, 5445);
	assert_int_equal(ifs[0].if_index, 3);
	assert_true(ifs[0].link_speed_bps == 100000000000ull);
	assert_true(ifs[0].ipv6);
	assert_string_equal(ifs[0].device, "mlx5_0");
	free(ifs);

	assert_int_equal(sdctl_metrics(f.ctl, &text), 0);
	assert_string_equal(text, "# TYPE smbdirectd_connections gauge\n"
	    "smbdirectd_connections 3\n");
	free(text);
	text = NULL;
	assert_int_equal(sdctl_metrics(f.ctl, &text), -EPROTO);
	assert_null(text);
	fake_finish(&f);
}

/* ---- events -------------------------------------------------------- */

static void
script_events(int fd, void *arg)
{
	Smbdirect__Ctl__Event empty = SMBDIRECT__CTL__EVENT__INIT;
	Smbdirect__Ctl__Event ev = SMBDIRECT__CTL__EVENT__INIT;
	Smbdirect__Ctl__OwnerChanged oc = SMBDIRECT__CTL__OWNER_CHANGED__INIT;
	Smbdirect__Ctl__DrainRequested dr =
	    SMBDIRECT__CTL__DRAIN_REQUESTED__INIT;
	Smbdirect__Ctl__Request *req = NULL;
	uint64_t id;

	id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_SUBSCRIBE, &req);
	d_check(req->subscribe->n_kinds == 2, __LINE__);
	d_check(req->subscribe->kinds[0] ==
	    SMBDIRECT__CTL__EVENT_KIND__EVENT_KIND_NEW_CONNECTION, __LINE__);
	d_check(req->subscribe->kinds[1] ==
	    SMBDIRECT__CTL__EVENT_KIND__EVENT_KIND_OWNER_CHANGED, __LINE__);
	smbdirect__ctl__request__free_unpacked(req, NULL);
	/* Two events, an event of a kind from the future, then the reply. */
	d_event_new(fd, 7);
	d_send_event(fd, &empty);
	d_event_closed(fd, 6, "peer_disconnect");
	d_reply(fd, id, 0, "");

	/* One more while the client sits in its event loop. */
	oc.conn_id = 7;
	oc.old_pid = 40;
	oc.new_pid = 41;
	ev.body_case = SMBDIRECT__CTL__EVENT__BODY_OWNER_CHANGED;
	ev.owner_changed = &oc;
	d_send_event(fd, &ev);

	id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_DRAIN, &req);
	d_check(req->drain->conn_id == 7 && req->drain->grace_ms == 1500,
	    __LINE__);
	smbdirect__ctl__request__free_unpacked(req, NULL);
	dr.conn_id = 7;
	dr.grace_ms = 1500;
	ev.body_case = SMBDIRECT__CTL__EVENT__BODY_DRAIN_REQUESTED;
	ev.drain_requested = &dr;
	d_send_event(fd, &ev);
	d_reply(fd, id, 0, "");
}

static void
test_events_interleaved(void **state)
{
	static const enum sdctl_event_kind kinds[] = {
		SDCTL_EVENT_NEW_CONNECTION, SDCTL_EVENT_OWNER_CHANGED,
	};
	struct pollfd pfd;
	struct sdctl_event ev;
	struct fake f;

	fake_start(&f, script_events, NULL);
	assert_int_equal(fcntl(sdctl_fd(f.ctl), F_GETFL) & O_NONBLOCK,
	    O_NONBLOCK);
	assert_int_equal(sdctl_subscribe(f.ctl, kinds, 2), 0);

	/* The events that came before the reply wait in order. */
	assert_int_equal(sdctl_next_event(f.ctl, &ev), 1);
	assert_int_equal(ev.kind, SDCTL_EVENT_NEW_CONNECTION);
	assert_true(ev.u.new_connection.conn.id == 7);
	assert_int_equal(ev.u.new_connection.conn.state,
	    SDCTL_STATE_WAIT_CHANNEL);
	assert_string_equal(ev.u.new_connection.conn.peer, "10.0.0.2:40123");
	assert_string_equal(ev.u.new_connection.socket_path,
	    "/run/smbdirectd/private/7-00ff.sock");
	assert_int_equal(ev.u.new_connection.connect_timeout_ms, 5000);
	assert_int_equal(sdctl_next_event(f.ctl, &ev), 1);
	assert_int_equal(ev.kind, SDCTL_EVENT_CONNECTION_CLOSED);
	assert_true(ev.u.connection_closed.conn_id == 6);
	assert_string_equal(ev.u.connection_closed.reason, "peer_disconnect");
	assert_string_equal(ev.u.connection_closed.message,
	    "the client disconnected");
	assert_int_equal(ev.u.connection_closed.owner_pid, 31);

	/* Then the fd: poll it as an event loop would. */
	pfd.fd = sdctl_fd(f.ctl);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(sdctl_next_event(f.ctl, &ev), 1);
	assert_int_equal(ev.kind, SDCTL_EVENT_OWNER_CHANGED);
	assert_int_equal(ev.u.owner_changed.old_pid, 40);
	assert_int_equal(ev.u.owner_changed.new_pid, 41);
	assert_int_equal(sdctl_next_event(f.ctl, &ev), 0);

	assert_int_equal(sdctl_drain(f.ctl, 7, 1500), 0);
	assert_int_equal(sdctl_next_event(f.ctl, &ev), 1);
	assert_int_equal(ev.kind, SDCTL_EVENT_DRAIN_REQUESTED);
	assert_int_equal(ev.u.drain_requested.grace_ms, 1500);
	assert_int_equal(sdctl_next_event(f.ctl, &ev), 0);
	assert_int_equal(sdctl_subscribe(f.ctl, NULL, 1), -EINVAL);
	fake_finish(&f);
}

#define FLOOD	1100

static void
script_flood(int fd, void *arg)
{
	uint64_t id, i;

	id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_UNDRAIN, NULL);
	for (i = 1; i <= FLOOD; i++) {
		d_event_closed(fd, i, "killed");
	}
	d_reply(fd, id, 0, "");
}

static void
test_event_queue_overflow(void **state)
{
	struct sdctl_event ev;
	struct fake f;
	uint64_t i;

	fake_start(&f, script_flood, NULL);
	assert_int_equal(sdctl_undrain(f.ctl), 0);
	/* The loss is reported first, once; the first 1024 follow. */
	assert_int_equal(sdctl_next_event(f.ctl, &ev), -ENOBUFS);
	for (i = 1; i <= 1024; i++) {
		assert_int_equal(sdctl_next_event(f.ctl, &ev), 1);
		assert_true(ev.u.connection_closed.conn_id == i);
	}
	assert_int_equal(sdctl_next_event(f.ctl, &ev), 0);
	fake_finish(&f);
}

/* ---- transport failures -------------------------------------------- */

static void
script_timeout(int fd, void *arg)
{
	uint64_t id1, id2;

	id1 = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_STATUS, NULL);
	/* Answer only after the client gave up and asked again. */
	id2 = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_REGISTER, NULL);
	d_check(id2 != id1, __LINE__);
	d_reply(fd, id1, -EIO, "late answer to the first request");
	d_reply_register(fd, id2, false);
}

static void
test_timeout_then_stale_reply(void **state)
{
	struct sdctl_status st;
	struct timespec t0, t1;
	struct fake f;
	bool ro = true;
	long ms;

	fake_start(&f, script_timeout, NULL);
	sdctl_set_timeout(f.ctl, 200);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sdctl_status(f.ctl, &st), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 190 && ms < 3000);
	assert_string_equal(sdctl_last_error(f.ctl), "");
	/* The late reply to the first request is not taken for this one. */
	sdctl_set_timeout(f.ctl, 5000);
	assert_int_equal(sdctl_register(f.ctl, SDCTL_ROLE_MASTER, "smbd",
	    &ro), 0);
	assert_false(ro);
	assert_string_equal(sdctl_last_error(f.ctl), "");
	fake_finish(&f);
}

static void
script_close(int fd, void *arg)
{
	d_event_closed(fd, 1, "killed");
	close(fd);
	_exit(0);
}

static void
test_peer_close(void **state)
{
	struct sdctl_event ev;
	struct sdctl_status st;
	struct fake f;
	int stw;

	fake_start(&f, script_close, NULL);
	assert_int_equal(waitpid(f.pid, &stw, 0), f.pid);
	assert_int_equal(sdctl_status(f.ctl, &st), -EPIPE);
	/* The event that came first is still delivered, then -EPIPE. */
	assert_int_equal(sdctl_next_event(f.ctl, &ev), 1);
	assert_int_equal(sdctl_next_event(f.ctl, &ev), -EPIPE);
	assert_int_equal(sdctl_next_event(f.ctl, &ev), -EPIPE);
	assert_int_equal(sdctl_undrain(f.ctl), -EPIPE);
	sdctl_close(f.ctl);
}

static void
script_malformed(int fd, void *arg)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	uint64_t id;

	id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_UNDRAIN, NULL);
	d_check(send(fd, junk, sizeof(junk), 0) == sizeof(junk), __LINE__);
	d_reply(fd, id, 0, "");
	/* Junk between events: reported, and the next event still comes. */
	d_check(send(fd, junk, sizeof(junk), 0) == sizeof(junk), __LINE__);
	d_event_closed(fd, 5, "killed");
	/* The daemon could not decode a request: its id-0 answer. */
	d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_UNDRAIN, NULL);
	d_reply(fd, 0, -EMSGSIZE, "datagram of 70000 bytes exceeds "
	    "max_control_message (65536)");
}

static void
test_malformed_datagram(void **state)
{
	struct sdctl_event ev;
	struct pollfd pfd;
	struct fake f;

	fake_start(&f, script_malformed, NULL);
	assert_int_equal(sdctl_undrain(f.ctl), -EPROTO);
	/* The reply that followed the junk is stale now, and dropped. */
	pfd.fd = sdctl_fd(f.ctl);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	while ((sdctl_next_event(f.ctl, &ev)) != -EPROTO) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
	}
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(sdctl_next_event(f.ctl, &ev), 1);
	assert_true(ev.u.connection_closed.conn_id == 5);
	assert_int_equal(sdctl_undrain(f.ctl), -EMSGSIZE);
	assert_string_equal(sdctl_last_error(f.ctl), "datagram of 70000 "
	    "bytes exceeds max_control_message (65536)");
	fake_finish(&f);
}

/* A reply larger than the initial receive buffer. */
static void
script_big(int fd, void *arg)
{
	Smbdirect__Ctl__Reply rep = SMBDIRECT__CTL__REPLY__INIT;
	Smbdirect__Ctl__MetricsReply mr = SMBDIRECT__CTL__METRICS_REPLY__INIT;
	int sz = 4 << 20;
	char *text = malloc(200001);

	d_check(text != NULL, __LINE__);
	memset(text, 'm', 200000);
	text[200000] = '\0';
	d_check(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) == 0,
	    __LINE__);
	mr.text = text;
	rep.id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_METRICS, NULL);
	rep.body_case = SMBDIRECT__CTL__REPLY__BODY_METRICS;
	rep.metrics = &mr;
	d_send_reply(fd, &rep);
	free(text);
}

static void
test_big_reply(void **state)
{
	struct fake f;
	char *text = NULL;

	fake_start(&f, script_big, NULL);
	assert_int_equal(sdctl_metrics(f.ctl, &text), 0);
	assert_int_equal(strlen(text), 200000);
	assert_int_equal(text[199999], 'm');
	free(text);
	fake_finish(&f);
}

/* ---- claim: the frame, stamped with our pid, then the request ------- */

static void
script_claim(int fd, void *arg)
{
	int chan = *(int *)arg;
	union {
		struct cmsghdr	align;
		char		buf[CMSG_SPACE(sizeof(struct ucred))];
	} cbuf;
	Smbdirect__Ctl__Request *req = NULL;
	struct ucred uc = { 0 };
	struct cmsghdr *cm;
	struct msghdr msg;
	struct iovec iov;
	uint8_t frame[12];
	uint64_t id;

	iov.iov_base = frame;
	iov.iov_len = sizeof(frame);
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	d_check(recvmsg(chan, &msg, MSG_WAITALL) == sizeof(frame), __LINE__);
	cm = CMSG_FIRSTHDR(&msg);
	d_check(cm != NULL && cm->cmsg_type == SCM_CREDENTIALS, __LINE__);
	memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
	d_check(uc.pid == getppid(), __LINE__);
	d_check(frame[0] == 0x85 && frame[1] == 0 && frame[2] == 0 &&
	    frame[3] == 8, __LINE__);
	d_check(frame[4] == 42 && frame[11] == 0, __LINE__);

	id = d_expect(fd, SMBDIRECT__CTL__REQUEST__BODY_CLAIM, &req);
	d_check(req->claim->conn_id == 42, __LINE__);
	smbdirect__ctl__request__free_unpacked(req, NULL);
	d_reply(fd, id, -EACCES, "claim: no CLAIM frame from pid 1");
	close(chan);
}

static void
test_claim(void **state)
{
	struct fake f;
	int ch[2], one = 1;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    ch), 0);
	/* As the daemon does: the kernel stamps each write with its pid. */
	assert_int_equal(setsockopt(ch[1], SOL_SOCKET, SO_PASSCRED, &one,
	    sizeof(one)), 0);
	fake_start(&f, script_claim, &ch[1]);
	close(ch[1]);
	assert_int_equal(sdctl_claim(f.ctl, ch[0], 42), -EACCES);
	assert_string_equal(sdctl_last_error(f.ctl),
	    "claim: no CLAIM frame from pid 1");
	close(ch[0]);
	/* A claim on a channel that is not one fails before any request. */
	assert_int_equal(sdctl_claim(f.ctl, -1, 42), -EBADF);
	fake_finish(&f);
}

/* ---- connecting and adopting ---------------------------------------- */

static void
test_connect_and_adopt(void **state)
{
	char dir[] = "/tmp/test-libclient-ctl-XXXXXX", path[200], lp[200];
	struct sockaddr_un sun;
	struct sdctl *ctl = (void *)0x1;
	int lfd, fd;

	assert_int_equal(sdctl_connect("/nonexistent/control", &ctl), -ENOENT);
	assert_ptr_equal(ctl, (void *)0x1);
	memset(lp, 'a', sizeof(lp) - 1);
	lp[sizeof(lp) - 1] = '\0';
	assert_int_equal(sdctl_connect(lp, &ctl), -ENAMETOOLONG);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/control", dir);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(sdctl_connect(path, &ctl), 0);
	fd = sdctl_fd(ctl);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	sdctl_close(ctl);
	sdctl_close(NULL);
	close(lfd);
	unlink(path);
	rmdir(dir);

	/* adopt() takes the fd: closed on failure too. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(sdctl_adopt(fd, &ctl), -EPROTOTYPE);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(sdctl_adopt(fd, &ctl), -ENOTSOCK);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
}

static void
test_names(void **state)
{
	assert_string_equal(sdctl_transport_name(SDCTL_TRANSPORT_IWARP),
	    "iwarp");
	assert_string_equal(sdctl_transport_name(SDCTL_TRANSPORT_ROCE),
	    "roce");
	assert_string_equal(sdctl_transport_name(SDCTL_TRANSPORT_IB), "ib");
	assert_string_equal(sdctl_transport_name((enum sdctl_transport)99),
	    "unknown");
	assert_string_equal(sdctl_state_name(SDCTL_STATE_WAIT_CHANNEL),
	    "wait_channel");
	assert_string_equal(sdctl_state_name(SDCTL_STATE_CLOSING), "closing");
	assert_string_equal(sdctl_state_name((enum sdctl_conn_state)-1),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_and_errors),
		cmocka_unit_test(test_status_mapping),
		cmocka_unit_test(test_lists_mapping),
		cmocka_unit_test(test_events_interleaved),
		cmocka_unit_test(test_event_queue_overflow),
		cmocka_unit_test(test_timeout_then_stale_reply),
		cmocka_unit_test(test_peer_close),
		cmocka_unit_test(test_malformed_datagram),
		cmocka_unit_test(test_big_reply),
		cmocka_unit_test(test_claim),
		cmocka_unit_test(test_connect_and_adopt),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
