/* SPDX-License-Identifier: ISC */
/*
 * smbdirect-gw: put an unmodified SMB server behind smbdirectd.
 *
 * The gateway registers with smbdirectd as the master smbd. For each new
 * SMB Direct connection it forks a relay process (relay.c) that connects to
 * the connection's data channel and to the backend SMB server over TCP,
 * and relays SMB2 both ways, translating RDMA offload (READ and WRITE with
 * RDMA channels) into plain SMB2 for the backend. It is built on
 * libsmbdirect-ctl alone: it is the reference user of that API.
 *
 *   smbdirect-gw [-c FILE] [-f] [-d]
 *
 * Configuration (ini, [gateway]): control_socket, backend = HOST:PORT,
 * metrics_textfile, metrics_interval. See smbdirect-gw(8).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <ini.h>
#include <systemd/sd-daemon.h>

#include "daemon/conf_indent.h"
#include "gateway/relay.h"
#include "libclient/smbdirect-ctl.h"
#include "proto/sanexit.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG	SYSCONFDIR "/smbdirect-gw.conf"

struct gwconf {
	char		control_socket[108];
	char		backend_host[128];
	char		backend_port[8];
	char		metrics_textfile[256];
	unsigned	metrics_interval_s;
	char		err[256];
};

#define GW_MAX_RELAYS	4096

static volatile sig_atomic_t stop, child_exited;
static pid_t relays[GW_MAX_RELAYS];

static void
relay_add(pid_t pid)
{
	unsigned i;

	for (i = 0; i < GW_MAX_RELAYS; i++) {
		if (relays[i] == 0) {
			relays[i] = pid;
			return;
		}
	}
}

static void
relay_gone(pid_t pid)
{
	unsigned i;

	for (i = 0; i < GW_MAX_RELAYS; i++) {
		if (relays[i] == pid) {
			relays[i] = 0;
			return;
		}
	}
}

static void
on_signal(int sig)
{
	if (sig == SIGCHLD) {
		child_exited = 1;
	} else {
		stop = 1;
	}
}

static int
conf_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct gwconf *c = user;
	char *colon, *end = NULL;
	unsigned long v;

	if (strcmp(section, "gateway") != 0) {
		if (c->err[0] == '\0') {
			snprintf(c->err, sizeof(c->err), "unknown section "
			    "[%s]", section);
		}
		return 0;
	}
	if (strcmp(name, "control_socket") == 0) {
		if (value[0] != '/' || strlen(value) >=
		    sizeof(c->control_socket)) {
			snprintf(c->err, sizeof(c->err), "control_socket: "
			    "want an absolute path shorter than %zu bytes",
			    sizeof(c->control_socket));
			return 0;
		}
		snprintf(c->control_socket, sizeof(c->control_socket), "%s",
		    value);
	} else if (strcmp(name, "backend") == 0) {
		colon = strrchr(value, ':');
		if (colon == NULL || colon == value ||
		    (size_t)(colon - value) >= sizeof(c->backend_host) ||
		    strlen(colon + 1) == 0 ||
		    strlen(colon + 1) >= sizeof(c->backend_port)) {
			snprintf(c->err, sizeof(c->err), "backend: '%s' is not "
			    "HOST:PORT", value);
			return 0;
		}
		errno = 0;
		v = strtoul(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || v == 0 || v > 65535) {
			snprintf(c->err, sizeof(c->err), "backend: bad port in "
			    "'%s'", value);
			return 0;
		}
		snprintf(c->backend_host, sizeof(c->backend_host), "%.*s",
		    (int)(colon - value), value);
		snprintf(c->backend_port, sizeof(c->backend_port), "%lu", v);
	} else if (strcmp(name, "metrics_textfile") == 0) {
		if (strlen(value) >= sizeof(c->metrics_textfile)) {
			snprintf(c->err, sizeof(c->err), "metrics_textfile: "
			    "too long");
			return 0;
		}
		snprintf(c->metrics_textfile, sizeof(c->metrics_textfile),
		    "%s", value);
	} else if (strcmp(name, "metrics_interval") == 0) {
		errno = 0;
		v = strtoul(value, &end, 10);
		if (errno != 0 || (*end != '\0' && strcmp(end, "s") != 0) ||
		    v == 0 || v > 3600) {
			snprintf(c->err, sizeof(c->err), "metrics_interval: "
			    "want 1 to 3600 seconds, got '%s'", value);
			return 0;
		}
		c->metrics_interval_s = (unsigned)v;
	} else {
		snprintf(c->err, sizeof(c->err), "unknown option '%s'", name);
		return 0;
	}
	return 1;
}

static int
conf_load(struct gwconf *c, const char *path, bool must)
{
	FILE *f;
	int line;

	memset(c, 0, sizeof(*c));
	snprintf(c->control_socket, sizeof(c->control_socket), "%s",
	    SDCTL_DEFAULT_SOCKET);
	snprintf(c->backend_host, sizeof(c->backend_host), "127.0.0.1");
	snprintf(c->backend_port, sizeof(c->backend_port), "445");
	c->metrics_interval_s = 15;
	f = fopen(path, "r");
	if (f == NULL) {
		if (!must && errno == ENOENT) {
			return 0;
		}
		fprintf(stderr, "smbdirect-gw: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	line = conf_indented_line(f);
	if (line > 0) {
		fclose(f);
		fprintf(stderr, "smbdirect-gw: %s:%d: indented line: it would "
		    "continue the option above it; remove the indentation\n",
		    path, line);
		return -1;
	}
	rewind(f);
	line = ini_parse_file(f, conf_handler, c);
	fclose(f);
	if (line != 0) {
		fprintf(stderr, "smbdirect-gw: %s:%d: %s\n", path, line,
		    c->err[0] != '\0' ? c->err : "syntax error");
		return -1;
	}
	return 0;
}

#define COPIED	"smbdirect_gw_copied_bytes_total"

static const char *const copy_names[] = {
#define X(e, token)	[GW_COPY_##e] = token,
	GW_COPY_KINDS(X)
#undef X
};

static void
write_metrics(const struct gwconf *c, const struct gw_stats *st,
    time_t start)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} m[] = {
#define M(n, t, h, f) { "smbdirect_gw_" n, t, h, offsetof(struct gw_stats, f) }
		M("connections_total", "counter", "Connections relayed.",
		    connections_total),
		M("connections_active", "gauge", "Connections relayed now.",
		    connections_active),
		M("connections_failed_total", "counter",
		    "Relays that could not start.", connections_failed),
		M("pdus_to_backend_total", "counter",
		    "SMB2 PDUs sent to the backend.", pdus_to_backend),
		M("pdus_to_client_total", "counter",
		    "SMB2 PDUs sent to clients.", pdus_to_client),
		M("bytes_to_backend_total", "counter",
		    "SMB2 bytes sent to the backend.", bytes_to_backend),
		M("bytes_to_client_total", "counter",
		    "SMB2 bytes sent to clients.", bytes_to_client),
		M("rdma_read_operations_total", "counter",
		    "Client WRITE data pulled by RDMA READ.", rdma_read_ops),
		M("rdma_read_bytes_total", "counter",
		    "Bytes pulled by RDMA READ.", rdma_read_bytes),
		M("rdma_write_operations_total", "counter",
		    "Client READ data pushed by RDMA WRITE.", rdma_write_ops),
		M("rdma_write_bytes_total", "counter",
		    "Bytes pushed by RDMA WRITE.", rdma_write_bytes),
		M("compound_requests_total", "counter",
		    "Compound requests with RDMA offload rebuilt.",
		    compound_requests),
		M("refused_signed_rdma_total", "counter",
		    "Signed requests that asked for an RDMA channel.",
		    refused_signed_rdma),
		M("passthrough_encrypted_total", "counter",
		    "Encrypted messages relayed untouched.",
		    passthrough_encrypted),
#undef M
	};
	char tmp[sizeof(c->metrics_textfile) + 16];
	FILE *f;
	size_t i;
	int fd;

	if (c->metrics_textfile[0] == '\0') {
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", c->metrics_textfile,
	    (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		syslog(LOG_WARNING, "metrics: cannot write %s: %m", tmp);
		if (fd >= 0) {
			close(fd);
		}
		return;
	}
	fprintf(f, "# HELP smbdirect_gw_start_time_seconds When the gateway "
	    "started.\n# TYPE smbdirect_gw_start_time_seconds gauge\n"
	    "smbdirect_gw_start_time_seconds %lld\n", (long long)start);
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", m[i].name,
		    m[i].help, m[i].name, m[i].type, m[i].name,
		    (unsigned long long)__atomic_load_n((const uint64_t *)
		    ((const char *)st + m[i].off), __ATOMIC_RELAXED));
	}
	/* Every kind, 0 included, from the first write on. */
	fprintf(f, "# HELP %s Bytes the relays copied, by kind: payload "
	    "to and from the area, and memcpy of payload or SMB2 bytes.\n"
	    "# TYPE %s counter\n", COPIED, COPIED);
	for (i = 0; i < GW_COPY_END; i++) {
		fprintf(f, "%s{kind=\"%s\"} %llu\n", COPIED, copy_names[i],
		    (unsigned long long)__atomic_load_n(&st->copied[i],
		    __ATOMIC_RELAXED));
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fchmod(fileno(f),
	    0644) != 0) {
		syslog(LOG_WARNING, "metrics: writing %s: %m", tmp);
		fclose(f);
		unlink(tmp);
		return;
	}
	fclose(f);
	if (rename(tmp, c->metrics_textfile) != 0) {
		syslog(LOG_WARNING, "metrics: rename to %s: %m",
		    c->metrics_textfile);
		unlink(tmp);
	}
}

static int
master_connect(const struct gwconf *c, struct sdctl **out)
{
	struct sdctl *ctl = NULL;
	int rc;

	rc = sdctl_connect(c->control_socket, &ctl);
	if (rc != 0) {
		return rc;
	}
	rc = sdctl_register(ctl, SDCTL_ROLE_MASTER, "smbdirect-gw", NULL);
	if (rc == 0) {
		rc = sdctl_subscribe(ctl, NULL, 0);
	}
	if (rc != 0) {
		syslog(LOG_WARNING, "cannot register as master: %s (%s)",
		    strerror(-rc), sdctl_last_error(ctl));
		sdctl_close(ctl);
		return rc;
	}
	*out = ctl;
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: smbdirect-gw [-c FILE] [-f] [-d] [-V]\n"
	    "  -c, --config=FILE   configuration (default %s)\n"
	    "  -f, --foreground    stay in the foreground\n"
	    "  -d, --debug         foreground, log to stderr too\n"
	    "  -V, --version       print the version\n", DEFAULT_CONFIG);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gwconf cf;
	struct relay_conf rc_conf;
	struct gw_stats *st;
	struct sdctl *ctl = NULL;
	struct sdctl_event ev;
	struct sigaction sa;
	const char *path = NULL;
	bool fg = false, debug = false, ready = false;
	time_t start = time(NULL), last_metrics = 0;
	int ch, rc, status;
	pid_t pid;

	while ((ch = getopt_long(argc, argv, "c:fdVh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			fg = true;
			break;
		case 'd':
			fg = true;
			debug = true;
			break;
		case 'V':
			printf("smbdirect-gw %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (conf_load(&cf, path != NULL ? path : DEFAULT_CONFIG,
	    path != NULL) != 0) {
		return 1;
	}
	/*
	 * -d copies the log to stderr and includes debug lines; -f alone
	 * logs to syslog only, which journald already collects.
	 */
	openlog("smbdirect-gw", LOG_PID | (debug ? LOG_PERROR : 0),
	    LOG_DAEMON);
	setlogmask(debug ? LOG_UPTO(LOG_DEBUG) : LOG_UPTO(LOG_INFO));
	if (!fg && daemon(0, 0) != 0) {
		perror("smbdirect-gw: daemon");
		return 1;
	}
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED) {
		syslog(LOG_ERR, "cannot map the shared counters: %m");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc_conf.backend_host = cf.backend_host;
	rc_conf.backend_port = cf.backend_port;
	rc_conf.connect_timeout_ms = 5000;
	syslog(LOG_INFO, "smbdirect-gw %s: backend %s:%s, control %s",
	    PACKAGE_VERSION, cf.backend_host, cf.backend_port,
	    cf.control_socket);

	while (!stop) {
		struct pollfd pfd;

		if (child_exited) {
			child_exited = 0;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
				relay_gone(pid);
				__atomic_sub_fetch(&st->connections_active, 1,
				    __ATOMIC_RELAXED);
			}
		}
		if (time(NULL) - last_metrics >= (time_t)cf.metrics_interval_s) {
			write_metrics(&cf, st, start);
			last_metrics = time(NULL);
		}
		if (ctl == NULL) {
			/* (Re)connect: the daemon may start after us. */
			if (master_connect(&cf, &ctl) != 0) {
				sleep(1);
				continue;
			}
			syslog(LOG_INFO, "registered with smbdirectd as master");
			if (!ready) {
				sd_notify(0, "READY=1");
				ready = true;
			}
		}
		while ((rc = sdctl_next_event(ctl, &ev)) == 1) {
			if (ev.kind == SDCTL_EVENT_CONNECTION_CLOSED) {
				syslog(LOG_INFO, "conn=%llu: closed (%s)",
				    (unsigned long long)
				    ev.u.connection_closed.conn_id,
				    ev.u.connection_closed.reason);
				continue;
			}
			if (ev.kind != SDCTL_EVENT_NEW_CONNECTION) {
				continue;
			}
			pid = fork();
			if (pid < 0) {
				syslog(LOG_ERR, "fork: %m");
				continue;
			}
			if (pid == 0) {
				const struct sdctl_conn *c =
				    &ev.u.new_connection.conn;

				sdctl_close(ctl);
				signal(SIGTERM, SIG_DFL);
				signal(SIGCHLD, SIG_DFL);
				__atomic_add_fetch(&st->connections_total, 1,
				    __ATOMIC_RELAXED);
				__atomic_add_fetch(&st->connections_active, 1,
				    __ATOMIC_RELAXED);
				rc = relay_run(&rc_conf,
				    ev.u.new_connection.socket_path, c->id,
				    c->params.max_read_write_size,
				    c->params.peer_max_fragmented_size,
				    c->params.max_fragmented_size, st);
				if (rc != 0) {
					__atomic_add_fetch(
					    &st->connections_failed, 1,
					    __ATOMIC_RELAXED);
				}
				/* The leak check included: see sanexit.h. */
				sanexit(rc == 0 ? 0 : 1);
			}
			relay_add(pid);
			syslog(LOG_INFO, "conn=%llu: relay pid %d for %s",
			    (unsigned long long)ev.u.new_connection.conn.id,
			    (int)pid, ev.u.new_connection.conn.peer);
		}
		if (rc < 0) {
			syslog(LOG_WARNING, "lost the control channel (%s); "
			    "reconnecting", strerror(-rc));
			sdctl_close(ctl);
			ctl = NULL;
			continue;
		}
		pfd.fd = sdctl_fd(ctl);
		pfd.events = POLLIN;
		poll(&pfd, 1, 1000);
	}
	syslog(LOG_INFO, "stopping; relays finish their connections");
	sd_notify(0, "STOPPING=1");
	if (ctl != NULL) {
		sdctl_close(ctl);
	}
	/* Stopping the gateway ends its relays, and so their connections. */
	signal(SIGCHLD, SIG_DFL);
	for (ch = 0; ch < GW_MAX_RELAYS; ch++) {
		if (relays[ch] != 0) {
			kill(relays[ch], SIGTERM);
		}
	}
	while (wait(NULL) > 0) {
		;
	}
	write_metrics(&cf, st, start);
	return 0;
}
