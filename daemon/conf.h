/* SPDX-License-Identifier: ISC */
/*
 * smbdirectd's configuration: an ini file (etc/smbdirectd.conf) read with
 * inih. Every limit of ARCHITECTURE §4 lives here with its default.
 *
 * Times are kept in milliseconds and sizes in bytes; the file may write
 * them with units ("5s", "250ms", "2m"; "64K", "1M", "8M").
 */
#ifndef SMBDIRECTD_CONF_H
#define SMBDIRECTD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CONF_MAX_LISTEN	32
#define CONF_MAX_IDS		32
#define CONF_MAX_NETS		64

struct sockaddr;

/* One `listen = ADDR:PORT` line. */
struct conf_listen {
	char	host[64];	/* numeric IPv4 or IPv6 address */
	char	port[8];
};

/* A set of uids and gids allowed a control-channel role. */
/* A peer network: IPv4 or IPv6 address and prefix length. */
struct conf_net {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network byte order */
	unsigned	prefix;		/* 0..32 or 0..128 */
};

struct conf_nets {
	struct conf_net	net[CONF_MAX_NETS];
	unsigned	n;
};

struct conf_ids {
	uid_t		uids[CONF_MAX_IDS];
	unsigned	n_uids;
	gid_t		gids[CONF_MAX_IDS];
	unsigned	n_gids;
};

struct conf {
	char			path[256];	/* file it was read from */

	/* [global] */
	struct conf_listen	listen[CONF_MAX_LISTEN];
	unsigned		n_listen;	/* 0: one per RDMA address */
	char			control_socket[108];
	char			runtime_dir[200];
	unsigned		max_connections;
	unsigned		max_connections_per_peer;
	unsigned		max_control_clients;
	unsigned		max_control_message;
	unsigned		ird;		/* responder resources */
	unsigned		ord;		/* initiator depth */

	/* [smbdirect]: [MS-SMBD] parameters */
	unsigned		receive_credits;	/* ReceiveCreditMax */
	unsigned		send_credit_target;
	unsigned		max_send_size;
	unsigned		max_receive_size;
	unsigned		max_fragmented_size;
	unsigned		max_read_write_size;
	unsigned		negotiate_timeout_ms;
	unsigned		keepalive_interval_ms;
	unsigned		keepalive_timeout_ms;
	unsigned		idle_timeout_ms;	/* 0: never */

	/* [channel]: the per-connection data channel and area */
	unsigned		channel_connect_timeout_ms;
	unsigned		area_size;
	unsigned		send_buffer_size;
	unsigned		master_grace_ms;	/* 0: refuse at once */
	unsigned		drain_grace_ms;

	/* [access] */
	struct conf_ids	master;
	struct conf_ids	owner;
	struct conf_ids	admin;
	struct conf_ids	readonly;
	struct conf_nets	hosts_allow;	/* peers by network */
	struct conf_nets	hosts_deny;

	/* [metrics] */
	char			metrics_textfile[256];	/* "": off */
	unsigned		metrics_interval_ms;
	bool			metrics_per_connection;
	unsigned		metrics_per_connection_max;
};

/*
 * conf_defaults() - fill @cfg with the built-in defaults.
 */
void	conf_defaults(struct conf *cfg);

/*
 * conf_print() - every option of @cfg, defaults included, as a file that
 * conf_load() reads back to the same configuration (sizes in bytes, times
 * in milliseconds), like testparm -s.
 */
void	conf_print(const struct conf *cfg, FILE *f);

/*
 * conf_load() - read @path over the defaults already in @cfg.
 * @err: receives "file:line: what is wrong" on failure.
 *
 * Return: 0, or -1 with @err set. A missing file is an error.
 */
int	conf_load(struct conf *cfg, const char *path, char *err,
	    size_t errlen);

/*
 * conf_check() - cross-field checks after loading.
 * Return: 0, or -1 with @err set to "file: what is wrong".
 */
int	conf_check(const struct conf *cfg, char *err, size_t errlen);

/* Parsers shared with the command line; 0 or -1. */
int	conf_parse_size(const char *s, uint64_t *out);
int	conf_parse_time_ms(const char *s, uint64_t *out);
int	conf_parse_listen(const char *s, struct conf_listen *out);

/*
 * conf_parse_net() - "ADDR" or "ADDR/PREFIX", IPv4 or IPv6, into @out.
 * Return: 0; -EINVAL for a bad address or prefix; -EBADMSG when bits
 * beyond the prefix are set (10.1.2.3/8: a typo, not a network).
 */
int	conf_parse_net(const char *s, struct conf_net *out);

/*
 * conf_peer_allowed() - whether [access] hosts_allow/hosts_deny let @peer
 * connect, as Samba's "hosts allow"/"hosts deny" decide: a peer on the
 * allow list, always; else one on the deny list, never; else a peer on
 * neither list, unless there is an allow list and no deny list. An
 * IPv4-mapped IPv6 peer matches IPv4 networks too.
 */
bool	conf_peer_allowed(const struct conf *cfg, const struct sockaddr *peer);

#endif
