/* SPDX-License-Identifier: ISC */
/*
 * testmaster: the smallest master smbd, for smbdirectd's tests.
 *
 *   testmaster [-s SOCKET] [--mode echo|hold|close] [-- DAEMON ARGS...]
 *
 * It registers as master (over SOCKET, or over a socketpair whose other end
 * it passes to the daemon it starts itself with --control-fd, as a real
 * master smbd would), prints every event as one JSON line, and forks a
 * child per NewConnection that connects to the event's socket and plays a
 * scripted part:
 *   echo   send every PDU back unchanged (the default);
 *   hold   connect but never read (backpressure tests);
 *   close  connect and close at once.
 * Children outlive a master that dies: it must not take the connections
 * with it. A master that is stopped (SIGTERM) waits a little for its
 * children, prints each one's exit as a child_exited event, and exits
 * non-zero if any of them failed (a sanitizer's leak check included).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libclient/smbdirect-ctl.h"
#include "proto/sanexit.h"

enum mode {
	MODE_ECHO,
	MODE_HOLD,
	MODE_CLOSE,
};

static volatile sig_atomic_t stop, got_chld;

/* Echo children still running, and those that failed. */
static unsigned live_children, failed_children;

static void
on_term(int sig)
{
	stop = 1;
}

static void
on_chld(int sig)
{
	got_chld = 1;
}

/* Exit status as a shell shows it: 128 + the signal for a signal. */
static int
wstatus(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Reap every child that has exited. The daemon's status (if we started
 * it) goes to *daemon_st; each echo child's is printed and judged.
 */
static void
reap(pid_t daemon_pid, int *daemon_st)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == daemon_pid) {
			*daemon_st = st;
			continue;
		}
		live_children--;
		if (st != 0) {
			failed_children++;
		}
		printf("{\"event\":\"child_exited\",\"pid\":%d,"
		    "\"status\":%d}\n", (int)pid, wstatus(st));
		fflush(stdout);
	}
}

static int
child_echo(const char *path, uint64_t id, size_t max_pdu, enum mode mode)
{
	struct sdctl_frame f;
	int fd = -1, rc;
	uint64_t n = 0;

	rc = sdctl_chan_connect(path, &fd);
	if (rc != 0) {
		fprintf(stderr, "testmaster[%d]: conn %llu: connect %s: %s\n",
		    (int)getpid(), (unsigned long long)id, path,
		    strerror(-rc));
		return 1;
	}
	if (mode == MODE_CLOSE) {
		close(fd);
		return 0;
	}
	if (mode == MODE_HOLD) {
		pause();
		return 0;
	}
	for (;;) {
		rc = sdctl_chan_read(fd, max_pdu, &f);
		if (rc == -EPIPE) {
			break;
		}
		if (rc != 0) {
			fprintf(stderr, "testmaster[%d]: conn %llu: read: %s\n",
			    (int)getpid(), (unsigned long long)id,
			    strerror(-rc));
			close(fd);
			return 1;
		}
		if (f.kind == SDCTL_FRAME_PDU) {
			rc = sdctl_chan_write_pdu(fd, f.pdu, f.pdu_len);
			free(f.pdu);
			if (rc != 0) {
				break;
			}
			n++;
		} else if (f.kind == SDCTL_FRAME_AREA) {
			close(f.area_fd);
		}
	}
	close(fd);
	fprintf(stderr, "testmaster[%d]: conn %llu: echoed %llu PDUs\n",
	    (int)getpid(), (unsigned long long)id, (unsigned long long)n);
	return 0;
}

static void
print_event(const struct sdctl_event *ev)
{
	switch (ev->kind) {
	case SDCTL_EVENT_NEW_CONNECTION:
		{
			const struct sdctl_conn *c = &ev->u.new_connection.conn;

			printf("{\"event\":\"new_connection\",\"id\":%llu,"
			    "\"peer\":\"%s\",\"transport\":\"%s\","
			    "\"socket\":\"%s\",\"max_send_size\":%u,"
			    "\"max_receive_size\":%u,"
			    "\"max_fragmented_size\":%u,"
			    "\"peer_max_fragmented_size\":%u,"
			    "\"max_read_write_size\":%u,\"ird\":%u,"
			    "\"ord\":%u}\n", (unsigned long long)c->id,
			    c->peer, sdctl_transport_name(c->transport),
			    ev->u.new_connection.socket_path,
			    c->params.max_send_size,
			    c->params.max_receive_size,
			    c->params.max_fragmented_size,
			    c->params.peer_max_fragmented_size,
			    c->params.max_read_write_size, c->params.ird,
			    c->params.ord);
		}
		break;
	case SDCTL_EVENT_CONNECTION_CLOSED:
		printf("{\"event\":\"connection_closed\",\"id\":%llu,"
		    "\"reason\":\"%s\",\"owner_pid\":%u}\n",
		    (unsigned long long)ev->u.connection_closed.conn_id,
		    ev->u.connection_closed.reason,
		    ev->u.connection_closed.owner_pid);
		break;
	case SDCTL_EVENT_DRAIN_REQUESTED:
		printf("{\"event\":\"drain_requested\",\"id\":%llu}\n",
		    (unsigned long long)ev->u.drain_requested.conn_id);
		break;
	case SDCTL_EVENT_OWNER_CHANGED:
		printf("{\"event\":\"owner_changed\",\"id\":%llu,"
		    "\"new_pid\":%u}\n",
		    (unsigned long long)ev->u.owner_changed.conn_id,
		    ev->u.owner_changed.new_pid);
		break;
	}
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	enum mode mode = MODE_ECHO;
	struct sdctl *ctl = NULL;
	struct sdctl_event ev;
	struct pollfd pfd;
	pid_t daemon_pid = -1, pid;
	int ch, rc, sv[2], daemon_st = -1, tries;

	while ((ch = getopt_long(argc, argv, "s:m:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "echo") == 0) {
				mode = MODE_ECHO;
			} else if (strcmp(optarg, "hold") == 0) {
				mode = MODE_HOLD;
			} else if (strcmp(optarg, "close") == 0) {
				mode = MODE_CLOSE;
			} else {
				fprintf(stderr, "testmaster: bad mode '%s'\n",
				    optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: testmaster [-s SOCKET] [--mode "
			    "echo|hold|close] [-- DAEMON ARGS...]\n");
			return 2;
		}
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGCHLD, on_chld);

	if (optind < argc) {
		/* Seed step 1: start the daemon with an inherited socket. */
		char fdarg[32];

		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0) {
			perror("testmaster: socketpair");
			return 1;
		}
		daemon_pid = fork();
		if (daemon_pid < 0) {
			perror("testmaster: fork");
			return 1;
		}
		if (daemon_pid == 0) {
			char **args = calloc((size_t)(argc - optind + 2),
			    sizeof(*args));
			int i, n = 0;

			close(sv[0]);
			snprintf(fdarg, sizeof(fdarg), "--control-fd=%d",
			    sv[1]);
			for (i = optind; i < argc; i++) {
				args[n++] = argv[i];
			}
			args[n++] = fdarg;
			signal(SIGCHLD, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			execv(args[0], args);
			perror("testmaster: exec");
			_exit(127);
		}
		close(sv[1]);
		rc = sdctl_adopt(sv[0], &ctl);
	} else {
		rc = sdctl_connect(sock, &ctl);
	}
	if (rc != 0) {
		fprintf(stderr, "testmaster: cannot reach the daemon: %s\n",
		    strerror(-rc));
		return 3;
	}
	rc = sdctl_register(ctl, SDCTL_ROLE_MASTER, "testmaster", NULL);
	if (rc == 0) {
		rc = sdctl_subscribe(ctl, NULL, 0);
	}
	if (rc != 0) {
		fprintf(stderr, "testmaster: register: %s (%s)\n",
		    strerror(-rc), sdctl_last_error(ctl));
		sdctl_close(ctl);
		return 1;
	}
	printf("{\"event\":\"registered\",\"pid\":%d}\n", (int)getpid());
	fflush(stdout);

	pfd.fd = sdctl_fd(ctl);
	pfd.events = POLLIN;
	while (!stop) {
		while ((rc = sdctl_next_event(ctl, &ev)) == 1) {
			print_event(&ev);
			if (ev.kind != SDCTL_EVENT_NEW_CONNECTION) {
				continue;
			}
			pid = fork();
			if (pid == 0) {
				sdctl_close(ctl);
				signal(SIGTERM, SIG_DFL);
				signal(SIGCHLD, SIG_DFL);
				sanexit(child_echo(
				    ev.u.new_connection.socket_path,
				    ev.u.new_connection.conn.id,
				    ev.u.new_connection.conn.params.
				    max_fragmented_size + 64, mode));
			}
			if (pid > 0) {
				live_children++;
			} else {
				perror("testmaster: fork");
			}
		}
		if (rc < 0) {
			fprintf(stderr, "testmaster: control channel: %s\n",
			    strerror(-rc));
			break;
		}
		if (poll(&pfd, 1, 500) < 0 && errno != EINTR) {
			break;
		}
		if (got_chld) {
			got_chld = 0;
			reap(daemon_pid, &daemon_st);
		}
	}
	sdctl_close(ctl);
	/* Children whose connections are over end by themselves. */
	for (tries = 0; tries < 50 && live_children > 0; tries++) {
		usleep(100000);
		reap(daemon_pid, &daemon_st);
	}
	if (live_children > 0) {
		fprintf(stderr, "testmaster: %u children still connected at "
		    "stop\n", live_children);
	}
	if (daemon_pid > 0 && daemon_st == -1) {
		kill(daemon_pid, SIGTERM);
		while (waitpid(daemon_pid, &daemon_st, 0) == -1 &&
		    errno == EINTR) {
			continue;
		}
	}
	reap(daemon_pid, &daemon_st);
	if (failed_children > 0) {
		fprintf(stderr, "testmaster: %u children failed\n",
		    failed_children);
		return 1;
	}
	if (daemon_pid > 0) {
		return daemon_st != -1 ? wstatus(daemon_st) : 1;
	}
	return 0;
}
