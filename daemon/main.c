/* SPDX-License-Identifier: ISC */
/*
 * smbdirectd: SMB Direct ([MS-SMBD]) for Samba, in userspace.
 *
 * main.c: options, configuration, start-up, the event loop and shutdown.
 * The daemon never forks once RDMA is open: librdmacm and libibverbs do not
 * survive fork, which is the reason this daemon exists.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <systemd/sd-daemon.h>

#include "daemon/clock.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "daemon/dev.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/rconn.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG	SYSCONFDIR "/smbdirectd.conf"
/* Connections get this long to disconnect in order at shutdown. */
#define SHUTDOWN_WAIT_MS	3000

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: smbdirectd [-dfhntV] [-c file] [--control-fd=N]\n"
	    "\n"
	    "  -c, --config=FILE    configuration file (default %s)\n"
	    "  -f, --foreground     stay in the foreground, log to stderr\n"
	    "  -d, --debug          foreground, debug logging to stderr\n"
	    "  -n, --check          check the configuration and exit\n"
	    "      --control-fd=N   inherited control socket of the master "
	    "smbd\n"
	    "  -V, --version        print the version and exit\n"
	    "  -h, --help           print this help and exit\n",
	    DEFAULT_CONFIG);
}

/* Make the runtime directory and its private conn/ subdirectory. */
static int
runtime_dirs(const struct conf *cfg)
{
	char path[sizeof(cfg->runtime_dir) + 8];
	struct dirent *de;
	DIR *dir;

	if (mkdir(cfg->runtime_dir, 0755) != 0 && errno != EEXIST) {
		log_warn("mkdir %s", cfg->runtime_dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/conn", cfg->runtime_dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		log_warn("mkdir %s", path);
		return -1;
	}
	if (chmod(path, 0700) != 0) {
		log_warn("chmod %s", path);
		return -1;
	}
	/* Sockets of a previous run are stale: nobody listens on them. */
	dir = opendir(path);
	if (dir != NULL) {
		while ((de = readdir(dir)) != NULL) {
			if (de->d_name[0] != '.') {
				unlinkat(dirfd(dir), de->d_name, 0);
			}
		}
		closedir(dir);
	}
	return 0;
}

static void
daemon_stop_loop(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	if (d->n_conns > 0) {
		log_warnx("shutdown: %u connections did not finish in time",
		    d->n_conns);
	}
	event_base_loopexit(d->base, NULL);
}

void
daemon_check_shutdown(struct daemon *d)
{
	if (d->shutting_down && d->n_conns == 0) {
		event_base_loopexit(d->base, NULL);
	}
}

static void
daemon_shutdown(struct daemon *d, const char *why)
{
	struct rconn *c, *tmp;
	struct timeval tv = { SHUTDOWN_WAIT_MS / 1000,
	    (SHUTDOWN_WAIT_MS % 1000) * 1000 };

	if (d->shutting_down) {
		return;
	}
	d->shutting_down = true;
	log_info("shutting down (%s): closing %u connections", why,
	    d->n_conns);
	sd_notify(0, "STOPPING=1");
	listener_close_all(d);
	TAILQ_FOREACH_SAFE(c, &d->conns, entry, tmp) {
		rconn_close(c, RCONN_R_SHUTDOWN, "the daemon is shutting down");
	}
	d->shutdown_timer = evtimer_new(d->base, daemon_stop_loop, d);
	if (d->shutdown_timer != NULL) {
		evtimer_add(d->shutdown_timer, &tv);
	}
	daemon_check_shutdown(d);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	switch (sig) {
	case SIGTERM:
		daemon_shutdown(d, "SIGTERM");
		break;
	case SIGINT:
		daemon_shutdown(d, "SIGINT");
		break;
	case SIGHUP:
		log_info("SIGHUP: configuration reload is not supported; "
		    "restart smbdirectd to apply changes");
		break;
	}
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct rconn *c, *tmp;
	uint64_t now = now_ms();

	if (d->cfg.idle_timeout_ms > 0) {
		TAILQ_FOREACH_SAFE(c, &d->conns, entry, tmp) {
			if (c->state != RCONN_CLOSING &&
			    now - c->t_last_io >= d->cfg.idle_timeout_ms) {
				rconn_close(c, RCONN_R_IDLE, "idle for %llums",
				    (unsigned long long)(now - c->t_last_io));
			}
		}
	}
}

static void
on_metrics(evutil_socket_t fd, short what, void *arg)
{
	metrics_write_textfile(arg);
}

static int
parse_fd(const char *s)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > INT_MAX) {
		return -1;
	}
	if (fcntl((int)v, F_GETFD) == -1) {
		return -1;
	}
	return (int)v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'n' },
		{ "control-fd", required_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon *d = NULL;
	const char *conf = NULL;
	char err[512];
	bool debug = false, check = false;
	struct timeval tick = { 1, 0 }, mtv;
	struct event *tick_ev = NULL;
	int ch, rc = 1;

	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		fprintf(stderr, "smbdirectd: out of memory\n");
		return 1;
	}
	d->control_fd = -1;
	metrics_init(&d->metrics);
	rconn_metrics_init(&d->metrics);
	while ((ch = getopt_long(argc, argv, "c:fdnVh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			d->foreground = true;
			break;
		case 'd':
			d->foreground = true;
			debug = true;
			break;
		case 'n':
			check = true;
			break;
		case 'C':
			d->control_fd = parse_fd(optarg);
			if (d->control_fd < 0) {
				fprintf(stderr, "smbdirectd: --control-fd=%s: "
				    "not an open file descriptor\n", optarg);
				rc = 2;
				goto out_early;
			}
			break;
		case 'V':
			printf("smbdirectd %s\n", PACKAGE_VERSION);
			rc = 0;
			goto out_early;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out_early;
		default:
			usage(stderr);
			rc = 2;
			goto out_early;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "smbdirectd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		rc = 2;
		goto out_early;
	}

	conf_defaults(&d->cfg);
	if (conf != NULL || access(DEFAULT_CONFIG, F_OK) == 0) {
		if (conf_load(&d->cfg, conf != NULL ? conf : DEFAULT_CONFIG,
		    err, sizeof(err)) != 0) {
			fprintf(stderr, "smbdirectd: %s\n", err);
			rc = 1;
			goto out_early;
		}
	} else if (conf_check(&d->cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "smbdirectd: %s\n", err);
		rc = 1;
		goto out_early;
	}
	if (check) {
		/* As testparm -s: the verdict aside, the effective file out. */
		fprintf(stderr, "smbdirectd: configuration %s is valid\n",
		    d->cfg.path[0] != '\0' ? d->cfg.path : "(defaults)");
		conf_print(&d->cfg, stdout);
		rc = 0;
		goto out_early;
	}

	log_init(d->foreground, debug, "smbdirectd");
	if (!d->foreground && daemon(0, 0) != 0) {
		fatal("daemon");
	}
	signal(SIGPIPE, SIG_IGN);
	d->start_ms = now_ms();
	d->start_wall = (uint64_t)time(NULL);
	TAILQ_INIT(&d->listeners);
	TAILQ_INIT(&d->devs);
	TAILQ_INIT(&d->conns);

	d->base = event_base_new();
	if (d->base == NULL) {
		fatalx("event_base_new failed");
	}
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
	tick_ev = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	if (d->sig_term == NULL || d->sig_int == NULL || d->sig_hup == NULL ||
	    tick_ev == NULL || evsignal_add(d->sig_term, NULL) != 0 ||
	    evsignal_add(d->sig_int, NULL) != 0 ||
	    evsignal_add(d->sig_hup, NULL) != 0 ||
	    event_add(tick_ev, &tick) != 0) {
		fatalx("cannot set up signal handling");
	}
	if (runtime_dirs(&d->cfg) != 0) {
		goto out;
	}
	if (control_init(d, d->control_fd) != 0) {
		log_warnx("cannot start the control channel");
		goto out;
	}
	if (listener_init(d) != 0) {
		log_warnx("cannot listen for RDMA connections");
		goto out;
	}
	if (d->cfg.metrics_textfile[0] != '\0') {
		mtv.tv_sec = d->cfg.metrics_interval_ms / 1000;
		mtv.tv_usec = (d->cfg.metrics_interval_ms % 1000) * 1000;
		d->metrics_timer = event_new(d->base, -1, EV_PERSIST,
		    on_metrics, d);
		if (d->metrics_timer == NULL ||
		    event_add(d->metrics_timer, &mtv) != 0) {
			log_warnx("cannot start the metrics timer");
			goto out;
		}
		metrics_write_textfile(d);
	}
	log_info("smbdirectd %s ready (pid %d)", PACKAGE_VERSION,
	    (int)getpid());
	sd_notify(0, "READY=1");

	event_base_dispatch(d->base);
	d->stopped = true;
	if (d->cfg.metrics_textfile[0] != '\0') {
		metrics_write_textfile(d);
	}
	/*
	 * Connections that outlast the shutdown wait are torn down below; a
	 * stop that had to force them is still the stop that was asked for.
	 */
	rc = 0;
	log_info("stopped");

out:
	if (!d->shutting_down) {
		d->shutting_down = true;
		listener_close_all(d);
	}
	rconn_free_all(d);
	control_close(d);
	dev_free_all(d);
	if (d->cm_ev != NULL) {
		event_free(d->cm_ev);
	}
	if (d->cm_ch != NULL) {
		rdma_destroy_event_channel(d->cm_ch);
	}
	if (d->metrics_timer != NULL) {
		event_free(d->metrics_timer);
	}
	if (d->shutdown_timer != NULL) {
		event_free(d->shutdown_timer);
	}
	if (tick_ev != NULL) {
		event_free(tick_ev);
	}
	if (d->sig_term != NULL) {
		event_free(d->sig_term);
	}
	if (d->sig_int != NULL) {
		event_free(d->sig_int);
	}
	if (d->sig_hup != NULL) {
		event_free(d->sig_hup);
	}
	if (d->base != NULL) {
		event_base_free(d->base);
	}
out_early:
	/* Options and configuration only: nothing else was made yet. */
	free(d);
	return rc;
}
