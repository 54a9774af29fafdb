/* SPDX-License-Identifier: ISC */
/*
 * conf.c: smbdirectd.conf, parsed by inih (libinih) and checked against a
 * table of options. The table is the single place an option's section,
 * type, bounds and destination are written down; the example file and the
 * man page document the same names.
 *
 * Errors name the file and line: inih reports the line of the first error
 * (INI_STOP_ON_FIRST_ERROR is off in Debian's build, so it keeps going and
 * we keep only the first message).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "daemon/conf.h"
#include "daemon/conf_indent.h"

enum opt_type {
	OPT_UINT,	/* plain number */
	OPT_SIZE,	/* bytes, with K/M/G */
	OPT_TIME,	/* milliseconds, with ms/s/m/h */
	OPT_BOOL,
	OPT_STRING,	/* char[] of opt->max bytes */
	OPT_PATH,	/* absolute path, char[] of opt->max bytes */
	OPT_LISTEN,	/* repeatable ADDR:PORT */
	OPT_USERS,	/* list of user names or uids */
	OPT_GROUPS,	/* list of group names or gids */
	OPT_NETS,	/* list of ADDR[/PREFIX] */
};

struct opt {
	const char	*section;
	const char	*name;
	enum opt_type	 type;
	size_t		 off;
	uint64_t	 min;
	uint64_t	 max;	/* OPT_STRING/OPT_PATH: buffer size */
};

#define O(f)	offsetof(struct conf, f)

static const struct opt opts[] = {
	{ "global", "listen", OPT_LISTEN, O(listen), 0, 0 },
	{ "global", "control_socket", OPT_PATH, O(control_socket), 0,
	    sizeof(((struct conf *)0)->control_socket) },
	{ "global", "runtime_dir", OPT_PATH, O(runtime_dir), 0,
	    sizeof(((struct conf *)0)->runtime_dir) },
	{ "global", "max_connections", OPT_UINT, O(max_connections), 1,
	    65536 },
	{ "global", "max_connections_per_peer", OPT_UINT,
	    O(max_connections_per_peer), 1, 65536 },
	{ "global", "max_control_clients", OPT_UINT, O(max_control_clients),
	    1, 4096 },
	{ "global", "max_control_message", OPT_SIZE, O(max_control_message),
	    4096, 1u << 20 },
	{ "global", "ird", OPT_UINT, O(ird), 1, 255 },
	{ "global", "ord", OPT_UINT, O(ord), 1, 255 },

	{ "smbdirect", "receive_credits", OPT_UINT, O(receive_credits), 4,
	    255 },
	{ "smbdirect", "send_credit_target", OPT_UINT, O(send_credit_target),
	    1, 255 },
	{ "smbdirect", "max_send_size", OPT_SIZE, O(max_send_size), 128,
	    1u << 20 },
	{ "smbdirect", "max_receive_size", OPT_SIZE, O(max_receive_size),
	    128, 1u << 20 },
	/*
	 * A reassembled PDU goes to the smbd as one data-channel frame,
	 * whose length is 24 bits (docs/PROTOCOL.md): 16 MiB would wrap.
	 */
	{ "smbdirect", "max_fragmented_size", OPT_SIZE,
	    O(max_fragmented_size), 131072, (16u << 20) - 1 },
	{ "smbdirect", "max_read_write_size", OPT_SIZE,
	    O(max_read_write_size), 4096, 8u << 20 },
	{ "smbdirect", "negotiate_timeout", OPT_TIME, O(negotiate_timeout_ms),
	    100, 600000 },
	{ "smbdirect", "keepalive_interval", OPT_TIME,
	    O(keepalive_interval_ms), 100, 3600000 },
	{ "smbdirect", "keepalive_timeout", OPT_TIME, O(keepalive_timeout_ms),
	    100, 600000 },
	{ "smbdirect", "idle_timeout", OPT_TIME, O(idle_timeout_ms), 0,
	    86400000 },

	{ "channel", "connect_timeout", OPT_TIME,
	    O(channel_connect_timeout_ms), 100, 600000 },
	{ "channel", "area_size", OPT_SIZE, O(area_size), 65536, 1u << 30 },
	{ "channel", "send_buffer_size", OPT_SIZE, O(send_buffer_size),
	    131072, 64u << 20 },
	{ "channel", "master_grace", OPT_TIME, O(master_grace_ms), 0,
	    600000 },
	{ "channel", "drain_grace", OPT_TIME, O(drain_grace_ms), 0,
	    3600000 },

	{ "access", "master_users", OPT_USERS, O(master), 0, 0 },
	{ "access", "master_groups", OPT_GROUPS, O(master), 0, 0 },
	{ "access", "owner_users", OPT_USERS, O(owner), 0, 0 },
	{ "access", "owner_groups", OPT_GROUPS, O(owner), 0, 0 },
	{ "access", "admin_users", OPT_USERS, O(admin), 0, 0 },
	{ "access", "admin_groups", OPT_GROUPS, O(admin), 0, 0 },
	{ "access", "readonly_users", OPT_USERS, O(readonly), 0, 0 },
	{ "access", "readonly_groups", OPT_GROUPS, O(readonly), 0, 0 },
	{ "access", "hosts_allow", OPT_NETS, O(hosts_allow), 0, 0 },
	{ "access", "hosts_deny", OPT_NETS, O(hosts_deny), 0, 0 },

	{ "metrics", "textfile", OPT_STRING, O(metrics_textfile), 0,
	    sizeof(((struct conf *)0)->metrics_textfile) },
	{ "metrics", "interval", OPT_TIME, O(metrics_interval_ms), 1000,
	    3600000 },
	{ "metrics", "per_connection", OPT_BOOL, O(metrics_per_connection),
	    0, 1 },
	{ "metrics", "per_connection_max", OPT_UINT,
	    O(metrics_per_connection_max), 1, 100000 },
};

#undef O

void
conf_defaults(struct conf *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->control_socket, sizeof(cfg->control_socket),
	    "/run/smbdirectd/control");
	snprintf(cfg->runtime_dir, sizeof(cfg->runtime_dir),
	    "/run/smbdirectd");
	cfg->max_connections = 1024;
	cfg->max_connections_per_peer = 64;
	cfg->max_control_clients = 64;
	cfg->max_control_message = 65536;
	cfg->ird = 16;
	cfg->ord = 16;

	/* Windows' defaults ([MS-SMBD] §3.1.1.1 and ARCHITECTURE §6). */
	cfg->receive_credits = 255;
	cfg->send_credit_target = 255;
	cfg->max_send_size = 1364;
	cfg->max_receive_size = 8192;
	cfg->max_fragmented_size = 1u << 20;
	cfg->max_read_write_size = 1u << 20;
	cfg->negotiate_timeout_ms = 5000;
	cfg->keepalive_interval_ms = 120000;
	cfg->keepalive_timeout_ms = 5000;
	cfg->idle_timeout_ms = 0;

	cfg->channel_connect_timeout_ms = 10000;
	cfg->area_size = 4u << 20;
	cfg->send_buffer_size = 1u << 20;
	cfg->master_grace_ms = 0;
	cfg->drain_grace_ms = 30000;

	cfg->metrics_interval_ms = 15000;
	cfg->metrics_per_connection_max = 100;
}

int
conf_parse_size(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;
	uint64_t mult = 1;

	if (!isdigit((unsigned char)*s)) {
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0) {
		return -1;
	}
	if (*end != '\0') {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			mult = 1ull << 10;
			break;
		case 'M':
			mult = 1ull << 20;
			break;
		case 'G':
			mult = 1ull << 30;
			break;
		default:
			return -1;
		}
		end++;
		if (toupper((unsigned char)*end) == 'I') {
			end++;
		}
		if (toupper((unsigned char)*end) == 'B') {
			end++;
		}
		if (*end != '\0') {
			return -1;
		}
	}
	if (v > UINT64_MAX / mult) {
		return -1;
	}
	*out = v * mult;
	return 0;
}

int
conf_parse_time_ms(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;
	uint64_t mult = 1000;	/* a bare number is seconds */

	if (!isdigit((unsigned char)*s)) {
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0) {
		return -1;
	}
	if (strcmp(end, "ms") == 0) {
		mult = 1;
	} else if (strcmp(end, "s") == 0 || *end == '\0') {
		mult = 1000;
	} else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0) {
		mult = 60000;
	} else if (strcmp(end, "h") == 0) {
		mult = 3600000;
	} else {
		return -1;
	}
	if (v > UINT64_MAX / mult) {
		return -1;
	}
	*out = v * mult;
	return 0;
}

/* "10.0.0.1:5445", "[fe80::1%eth0]:445" or "[::]:5445". */
int
conf_parse_listen(const char *s, struct conf_listen *out)
{
	struct conf_listen l;
	const char *colon, *host = s, *port;
	size_t hlen;
	char *end = NULL;
	unsigned long p;
	unsigned char tmp[sizeof(struct in6_addr)];

	memset(&l, 0, sizeof(l));
	if (*s == '[') {
		colon = strchr(s, ']');
		if (colon == NULL || colon[1] != ':') {
			return -1;
		}
		host = s + 1;
		hlen = (size_t)(colon - host);
		port = colon + 2;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || strchr(s, ':') != colon) {
			return -1;
		}
		hlen = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(l.host)) {
		return -1;
	}
	/* copy: none (a configuration value) */
	memcpy(l.host, host, hlen);
	l.host[hlen] = '\0';
	if (inet_pton(AF_INET, l.host, tmp) != 1 &&
	    inet_pton(AF_INET6, l.host, tmp) != 1) {
		/* An IPv6 scope ("%eth0") is allowed; check the rest. */
		char *pct = strchr(l.host, '%');

		if (pct == NULL) {
			return -1;
		}
		*pct = '\0';
		if (inet_pton(AF_INET6, l.host, tmp) != 1) {
			return -1;
		}
		*pct = '%';
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno != 0 || *end != '\0' || !isdigit((unsigned char)*port) ||
	    p == 0 || p > 65535) {
		return -1;
	}
	snprintf(l.port, sizeof(l.port), "%lu", p);
	*out = l;
	return 0;
}

static int
parse_bool(const char *s, bool *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

struct load_ctx {
	struct conf	*cfg;
	char		 msg[200];	/* first error, without file:line */
};

static int
load_fail(struct load_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
load_fail(struct load_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->msg[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
		va_end(ap);
	}
	return 0;	/* inih: this line is an error */
}

/*
 * The next item of a list separated by spaces, tabs or commas, into @tok
 * (@len bytes). An item in double quotes may hold those ("Domain
 * Admins"). Return: 1 an item, 0 the end, -1 an unterminated quote or an
 * item too long.
 */
static int
next_item(const char **p, char *tok, size_t len)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == ',' || *s == '\t') {
		s++;
	}
	if (*s == '\0') {
		*p = s;
		return 0;
	}
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\0' || n + 1 >= len) {
				return -1;
			}
			tok[n++] = *s;
		}
		s++;
	} else {
		for (; *s != '\0' && *s != ' ' && *s != ',' && *s != '\t';
		    s++) {
			if (n + 1 >= len) {
				return -1;
			}
			tok[n++] = *s;
		}
	}
	tok[n] = '\0';
	*p = s;
	return 1;
}

/* Names (quoted when they hold spaces) or numeric ids. */
static int
parse_ids(struct load_ctx *ctx, const struct opt *o, const char *value,
    struct conf_ids *ids)
{
	char buf[256], *tok = buf;
	const char *p = value;
	char *end = NULL;
	unsigned long n;
	int rc;

	while ((rc = next_item(&p, buf, sizeof(buf))) != 0) {
		if (rc < 0) {
			return load_fail(ctx, "%s: an unterminated quote or a "
			    "name over %zu bytes", o->name, sizeof(buf) - 1);
		}
		errno = 0;
		n = strtoul(tok, &end, 10);
		if (o->type == OPT_USERS) {
			if (ids->n_uids == CONF_MAX_IDS) {
				return load_fail(ctx, "%s: more than %d users",
				    o->name, CONF_MAX_IDS);
			}
			if (isdigit((unsigned char)*tok) && *end == '\0' &&
			    errno == 0 && n < UINT_MAX) {
				ids->uids[ids->n_uids++] = (uid_t)n;
			} else {
				struct passwd *pw = getpwnam(tok);

				if (pw == NULL) {
					return load_fail(ctx, "%s: no such user "
					    "'%s'", o->name, tok);
				}
				ids->uids[ids->n_uids++] = pw->pw_uid;
			}
		} else {
			if (ids->n_gids == CONF_MAX_IDS) {
				return load_fail(ctx, "%s: more than %d groups",
				    o->name, CONF_MAX_IDS);
			}
			if (isdigit((unsigned char)*tok) && *end == '\0' &&
			    errno == 0 && n < UINT_MAX) {
				ids->gids[ids->n_gids++] = (gid_t)n;
			} else {
				struct group *gr = getgrnam(tok);

				if (gr == NULL) {
					return load_fail(ctx, "%s: no such group "
					    "'%s'", o->name, tok);
				}
				ids->gids[ids->n_gids++] = gr->gr_gid;
			}
		}
	}
	return 1;
}

/* Space- or comma-separated networks; a repeated line adds to the list. */
static int
parse_nets(struct load_ctx *ctx, const struct opt *o, const char *value,
    struct conf_nets *nets)
{
	char tok[INET6_ADDRSTRLEN + 8];
	const char *p = value;
	int rc;

	while ((rc = next_item(&p, tok, sizeof(tok))) != 0) {
		if (rc < 0) {
			return load_fail(ctx, "%s: an unterminated quote or an "
			    "item over %zu bytes", o->name, sizeof(tok) - 1);
		}
		if (nets->n == CONF_MAX_NETS) {
			return load_fail(ctx, "%s: more than %d networks",
			    o->name, CONF_MAX_NETS);
		}
		rc = conf_parse_net(tok, &nets->net[nets->n]);
		if (rc == -EBADMSG) {
			return load_fail(ctx, "%s: '%s' has bits set beyond "
			    "its prefix length: write the network address",
			    o->name, tok);
		}
		if (rc != 0) {
			return load_fail(ctx, "%s: '%s' is not an IPv4 or IPv6 "
			    "address with an optional /prefix", o->name, tok);
		}
		nets->n++;
	}
	return 1;
}

static int
set_number(struct load_ctx *ctx, const struct opt *o, const char *value,
    void *dst)
{
	uint64_t v = 0;
	char *end = NULL;
	int rc = -1;
	const char *what = "a number";

	switch (o->type) {
	case OPT_UINT:
		errno = 0;
		if (isdigit((unsigned char)*value)) {
			v = strtoull(value, &end, 10);
			rc = (errno == 0 && *end == '\0') ? 0 : -1;
		}
		break;
	case OPT_SIZE:
		rc = conf_parse_size(value, &v);
		what = "a size such as 8192, 64K or 1M";
		break;
	case OPT_TIME:
		rc = conf_parse_time_ms(value, &v);
		what = "a time such as 5, 5s, 500ms or 2m";
		break;
	default:
		break;
	}
	if (rc != 0) {
		return load_fail(ctx, "%s: '%s' is not %s", o->name, value,
		    what);
	}
	if (v < o->min || v > o->max) {
		if (o->type == OPT_TIME) {
			return load_fail(ctx, "%s: %s is out of range "
			    "(%llums to %llums)", o->name, value,
			    (unsigned long long)o->min,
			    (unsigned long long)o->max);
		}
		return load_fail(ctx, "%s: %s is out of range (%llu to %llu)",
		    o->name, value, (unsigned long long)o->min,
		    (unsigned long long)o->max);
	}
	*(unsigned *)dst = (unsigned)v;
	return 1;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *ctx = user;
	struct conf *cfg = ctx->cfg;
	const struct opt *o = NULL;
	void *dst;
	size_t i;
	bool known_section = false;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (strcmp(opts[i].section, section) != 0) {
			continue;
		}
		known_section = true;
		if (strcmp(opts[i].name, name) == 0) {
			o = &opts[i];
			break;
		}
	}
	if (!known_section) {
		return load_fail(ctx, "unknown section [%s]", section);
	}
	if (o == NULL) {
		return load_fail(ctx, "unknown option '%s' in [%s]", name,
		    section);
	}
	dst = (char *)cfg + o->off;
	switch (o->type) {
	case OPT_UINT:
	case OPT_SIZE:
	case OPT_TIME:
		return set_number(ctx, o, value, dst);
	case OPT_BOOL:
		if (parse_bool(value, dst) != 0) {
			return load_fail(ctx, "%s: '%s' is not yes or no",
			    name, value);
		}
		return 1;
	case OPT_PATH:
		if (value[0] != '/') {
			return load_fail(ctx, "%s: '%s' is not an absolute path",
			    name, value);
		}
		/* FALLTHROUGH */
	case OPT_STRING:
		if (strlen(value) >= o->max) {
			return load_fail(ctx, "%s: longer than %llu bytes",
			    name, (unsigned long long)o->max - 1);
		}
		snprintf(dst, o->max, "%s", value);
		return 1;
	case OPT_LISTEN:
		if (cfg->n_listen == CONF_MAX_LISTEN) {
			return load_fail(ctx, "listen: more than %d addresses",
			    CONF_MAX_LISTEN);
		}
		if (conf_parse_listen(value,
		    &cfg->listen[cfg->n_listen]) != 0) {
			return load_fail(ctx, "listen: '%s' is not ADDR:PORT "
			    "(a numeric IPv4 address, or [IPv6], and a port "
			    "from 1 to 65535)", value);
		}
		cfg->n_listen++;
		return 1;
	case OPT_USERS:
	case OPT_GROUPS:
		return parse_ids(ctx, o, value, dst);
	case OPT_NETS:
		return parse_nets(ctx, o, value, dst);
	}
	return load_fail(ctx, "internal: option type %d", (int)o->type);
}

int
conf_load(struct conf *cfg, const char *path, char *err, size_t errlen)
{
	struct load_ctx ctx;
	FILE *f = NULL;
	int line;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	line = conf_indented_line(f);
	if (line > 0) {
		fclose(f);
		snprintf(err, errlen, "%s:%d: indented line: it would continue "
		    "the option above it; remove the indentation", path, line);
		return -1;
	}
	rewind(f);
	line = ini_parse_file(f, handler, &ctx);
	fclose(f);
	if (line < 0) {
		snprintf(err, errlen, "%s: cannot read", path);
		return -1;
	}
	if (line > 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
		    ctx.msg[0] != '\0' ? ctx.msg :
		    "syntax error (want [section] or name = value)");
		return -1;
	}
	return conf_check(cfg, err, errlen);
}

int
conf_check(const struct conf *cfg, char *err, size_t errlen)
{
	const char *p = cfg->path[0] != '\0' ? cfg->path : "(defaults)";

	if (cfg->area_size < cfg->max_read_write_size) {
		snprintf(err, errlen, "%s: area_size (%u) is smaller than "
		    "max_read_write_size (%u)", p, cfg->area_size,
		    cfg->max_read_write_size);
		return -1;
	}
	if (cfg->send_buffer_size < 131072) {
		snprintf(err, errlen, "%s: send_buffer_size (%u) is below "
		    "131072", p, cfg->send_buffer_size);
		return -1;
	}
	if (cfg->max_connections_per_peer > cfg->max_connections) {
		snprintf(err, errlen, "%s: max_connections_per_peer (%u) "
		    "exceeds max_connections (%u)", p,
		    cfg->max_connections_per_peer, cfg->max_connections);
		return -1;
	}
	/* runtime_dir/conn/<id>-<16 hex>.sock must fit in sun_path (108). */
	if (strlen(cfg->runtime_dir) > 60) {
		snprintf(err, errlen, "%s: runtime_dir is longer than 60 bytes: "
		    "its data-channel socket paths would not fit a UNIX "
		    "socket address", p);
		return -1;
	}
	if (cfg->keepalive_timeout_ms >= cfg->keepalive_interval_ms) {
		snprintf(err, errlen, "%s: keepalive_timeout (%ums) must be "
		    "shorter than keepalive_interval (%ums)", p,
		    cfg->keepalive_timeout_ms, cfg->keepalive_interval_ms);
		return -1;
	}
	return 0;
}

int
conf_parse_net(const char *s, struct conf_net *out)
{
	struct conf_net n;
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long p;
	unsigned max, i;
	char *end = NULL;

	memset(&n, 0, sizeof(n));
	if (hlen == 0 || hlen >= sizeof(host)) {
		return -EINVAL;
	}
	memcpy(host, s, hlen);	/* copy: none (configuration text) */
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, n.addr) == 1) {
		n.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, n.addr) == 1) {
		n.family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	n.prefix = max;
	if (slash != NULL) {
		if (!isdigit((unsigned char)slash[1])) {
			return -EINVAL;
		}
		errno = 0;
		p = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || p > max) {
			return -EINVAL;
		}
		n.prefix = (unsigned)p;
	}
	for (i = n.prefix; i < max; i++) {
		if (n.addr[i / 8] & (0x80u >> (i % 8))) {
			return -EBADMSG;
		}
	}
	*out = n;
	return 0;
}

static bool
net_match(const struct conf_net *n, int family, const uint8_t *addr)
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;

	if (n->family != family || memcmp(n->addr, addr, full) != 0) {
		return false;
	}
	return rest == 0 ||
	    ((n->addr[full] ^ addr[full]) & (0xffu << (8 - rest))) == 0;
}

static bool
nets_match(const struct conf_nets *nets, const struct sockaddr *sa)
{
	const uint8_t *a4 = NULL, *a6 = NULL;
	unsigned i;

	if (sa->sa_family == AF_INET) {
		a4 = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *in6 = &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;

		a6 = in6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(in6)) {
			a4 = in6->s6_addr + 12;
		}
	}
	for (i = 0; i < nets->n; i++) {
		if ((a4 != NULL && net_match(&nets->net[i], AF_INET, a4)) ||
		    (a6 != NULL && net_match(&nets->net[i], AF_INET6, a6))) {
			return true;
		}
	}
	return false;
}

bool
conf_peer_allowed(const struct conf *cfg, const struct sockaddr *peer)
{
	if (peer == NULL) {
		return cfg->hosts_allow.n == 0 && cfg->hosts_deny.n == 0;
	}
	if (nets_match(&cfg->hosts_allow, peer)) {
		return true;
	}
	if (nets_match(&cfg->hosts_deny, peer)) {
		return false;
	}
	/* On neither list: refused only when there is an allow list alone. */
	return cfg->hosts_allow.n == 0 || cfg->hosts_deny.n > 0;
}

/* A user or group name, quoted when it holds a separator. */
static void
print_name(FILE *f, const char *sep, const char *name, unsigned long id)
{
	if (name == NULL) {
		fprintf(f, "%s%lu", sep, id);
	} else if (strpbrk(name, " ,\t") != NULL) {
		fprintf(f, "%s\"%s\"", sep, name);
	} else {
		fprintf(f, "%s%s", sep, name);
	}
}

static void
print_value(FILE *f, const struct conf *cfg, const struct opt *o)
{
	const char *src = (const char *)cfg + o->off;
	const struct conf_ids *ids = (const void *)src;
	const struct conf_nets *nets = (const void *)src;
	char host[INET6_ADDRSTRLEN];
	unsigned i;

	switch (o->type) {
	case OPT_UINT:
	case OPT_SIZE:
		fprintf(f, "%s = %u\n", o->name, *(const unsigned *)src);
		return;
	case OPT_TIME:
		fprintf(f, "%s = %ums\n", o->name, *(const unsigned *)src);
		return;
	case OPT_BOOL:
		fprintf(f, "%s = %s\n", o->name,
		    *(const bool *)src ? "yes" : "no");
		return;
	case OPT_STRING:
	case OPT_PATH:
		fprintf(f, "%s = %s\n", o->name, src);
		return;
	case OPT_LISTEN:
		if (cfg->n_listen == 0) {
			fprintf(f, "; listen: one per RDMA address\n");
		}
		for (i = 0; i < cfg->n_listen; i++) {
			const struct conf_listen *l = &cfg->listen[i];

			fprintf(f, strchr(l->host, ':') != NULL ?
			    "listen = [%s]:%s\n" : "listen = %s:%s\n",
			    l->host, l->port);
		}
		return;
	case OPT_USERS:
		fprintf(f, "%s =", o->name);
		for (i = 0; i < ids->n_uids; i++) {
			struct passwd *pw = getpwuid(ids->uids[i]);

			print_name(f, i == 0 ? " " : ", ",
			    pw != NULL ? pw->pw_name : NULL,
			    (unsigned long)ids->uids[i]);
		}
		fprintf(f, "\n");
		return;
	case OPT_GROUPS:
		fprintf(f, "%s =", o->name);
		for (i = 0; i < ids->n_gids; i++) {
			struct group *gr = getgrgid(ids->gids[i]);

			print_name(f, i == 0 ? " " : ", ",
			    gr != NULL ? gr->gr_name : NULL,
			    (unsigned long)ids->gids[i]);
		}
		fprintf(f, "\n");
		return;
	case OPT_NETS:
		fprintf(f, "%s =", o->name);
		for (i = 0; i < nets->n; i++) {
			inet_ntop(nets->net[i].family, nets->net[i].addr, host,
			    sizeof(host));
			fprintf(f, "%s%s/%u", i == 0 ? " " : ", ", host,
			    nets->net[i].prefix);
		}
		fprintf(f, "\n");
		return;
	}
}

void
conf_print(const struct conf *cfg, FILE *f)
{
	const char *section = NULL;
	size_t i;

	fprintf(f, "; smbdirectd: the configuration in effect (%s)\n",
	    cfg->path[0] != '\0' ? cfg->path : "built-in defaults");
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (section == NULL || strcmp(section, opts[i].section) != 0) {
			section = opts[i].section;
			fprintf(f, "%s[%s]\n", i == 0 ? "" : "\n", section);
		}
		print_value(f, cfg, &opts[i]);
	}
}
