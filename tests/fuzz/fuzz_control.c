/* SPDX-License-Identifier: ISC */
/*
 * fuzz_control: the daemon's control-request handling (daemon/control.c,
 * included whole for control_dispatch(), with admin.c, master.c, info.c
 * and the rest of the daemon linked as they are) on arbitrary requests
 * from one local client, as a process on the host could send them.
 *
 * The input is a series of datagrams, each a 2-byte little-endian length
 * and that many bytes: Register, Subscribe, Status, Drain, Kill, HandOff,
 * Claim... in any order and shape. Each is dispatched as if read from the
 * control socket; replies and events go out through the client's real
 * peer over a socket pair and are read back and decoded: every reply must
 * decode as a DaemonMessage. The daemon has no RDMA device and no
 * connection, so every request about a connection meets "no such
 * connection"; what is fuzzed is decoding, roles, and the handlers' own
 * checks. A fresh daemon serves each input; nothing may leak.
 */
#include "daemon/control.c"
#include "daemon/rconn_reason.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* main.c's: no shutdown is ever under way here. */
void
daemon_check_shutdown(struct daemon *d)
{
	(void)d;
}

static struct daemon *
fuzz_daemon(void)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct control *ctl;

	if (d == NULL) {
		abort();
	}
	conf_defaults(&d->cfg);
	d->control_fd = -1;
	metrics_init(&d->metrics);
	rconn_metrics_init(&d->metrics);
	TAILQ_INIT(&d->listeners);
	TAILQ_INIT(&d->devs);
	TAILQ_INIT(&d->conns);
	d->base = event_base_new();
	ctl = calloc(1, sizeof(*ctl));
	if (d->base == NULL || ctl == NULL) {
		abort();
	}
	ctl->d = d;
	ctl->listen_fd = -1;
	ctl->reserve_fd = -1;
	TAILQ_INIT(&ctl->clients);
	TAILQ_INIT(&ctl->dead);
	ctl->reap_ev = event_new(d->base, -1, 0, control_on_reap, ctl);
	if (ctl->reap_ev == NULL) {
		abort();
	}
	d->control = ctl;
	return d;
}

/* Read what the daemon sent; each datagram must be a DaemonMessage. */
static void
drain_replies(struct daemon *d, int fd)
{
	uint8_t buf[1 << 16];
	ssize_t n;

	event_base_loop(d->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		Smbdirect__Ctl__DaemonMessage *m =
		    smbdirect__ctl__daemon_message__unpack(NULL, (size_t)n,
		    buf);

		if (m == NULL) {
			abort();
		}
		smbdirect__ctl__daemon_message__free_unpacked(m, NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct daemon *d;
	struct ctl_client *cl;
	size_t off = 0, len;
	int sv[2];

	if (!quiet) {
		/*
		 * The handlers log every refusal: to syslog, not to the
		 * stderr that libFuzzer reports on.
		 */
		log_init(0, 0, "fuzz_control");
		quiet = true;
	}
	d = fuzz_daemon();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 ||
	    control_add_client(d->control, sv[0], false) != 0) {
		abort();
	}
	cl = TAILQ_FIRST(&d->control->clients);
	while (cl != NULL && size - off >= 2) {
		len = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (len > size - off) {
			len = size - off;
		}
		control_dispatch(cl, data + off, len);
		off += len;
		drain_replies(d, sv[1]);
		/* A handler may have dropped the client. */
		cl = TAILQ_FIRST(&d->control->clients);
	}
	close(sv[1]);
	control_close(d);
	event_base_free(d->base);
	free(d);
	return 0;
}
