/* SPDX-License-Identifier: ISC */
/*
 * control: the control channel's socket side (docs/PROTOCOL.md): a UNIX
 * SOCK_SEQPACKET listener, its clients, peer credentials, roles, and the
 * dispatch of requests to the handlers in master.c and admin.c.
 */
#ifndef SMBDIRECTD_CONTROL_H
#define SMBDIRECTD_CONTROL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "daemon/arena.h"
#include "smbdirect-ctl.pb-c.h"

#define CTL_VERSION		1
#define CTL_MAX_GROUPS		64
#define CTL_MAX_QUEUE		256	/* datagrams queued to one client */

struct daemon;
struct peer;

enum ctl_role {
	CTL_ROLE_NONE = 0,
	CTL_ROLE_MASTER = 1,
	CTL_ROLE_OWNER = 2,
	CTL_ROLE_ADMIN = 3,
};

/*
 * A control client. Its credentials are the kernel's (SO_PEERCRED and
 * SO_PEERGROUPS at connect time) and never change. It has at most one
 * role, taken once with Register. Its socket and its queue of outgoing
 * datagrams are its peer (peer.h), NULL once the client is dropped.
 */
struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	struct control		*ctl;
	struct peer		*peer;
	struct ucred		 cred;
	gid_t			 groups[CTL_MAX_GROUPS];
	unsigned		 n_groups;
	enum ctl_role		 role;
	bool			 read_only;
	bool			 inherited;	/* --control-fd */
	char			 name[64];
	uint32_t		 sub_mask;	/* 1 << EventKind */
};

struct control {
	struct daemon		*d;
	int			 listen_fd;
	char			 path[108];
	struct event		*listen_ev;
	struct event		*resume_ev;	/* accept paused on EMFILE */
	int			 reserve_fd;	/* spent to shed on EMFILE */
	TAILQ_HEAD(, ctl_client) clients;
	TAILQ_HEAD(, ctl_client) dead;		/* dropped, to be freed */
	struct event		*reap_ev;
	unsigned		 n_clients;
	struct ctl_client	*master;
	uint8_t			*rbuf;
	size_t			 rbuf_len;
};

int	control_init(struct daemon *, int inherited_fd);
void	control_close(struct daemon *);
int	control_send(struct ctl_client *, const Smbdirect__Ctl__DaemonMessage *);
void	control_event(struct daemon *, Smbdirect__Ctl__EventKind,
	    Smbdirect__Ctl__Event *, uint32_t owner_pid);
const char *control_role_name(enum ctl_role);
bool	control_allowed(const struct ctl_client *, enum ctl_role,
	    bool *read_only);

/*
 * A request handler fills @rep (its body and anything it points to come
 * from @a) and returns 0 or a negative errno value; on error it sets
 * rep->message to say what is wrong.
 */
typedef int (*ctl_handler_fn)(struct ctl_client *,
    const Smbdirect__Ctl__Request *, Smbdirect__Ctl__Reply *,
    struct arena *);

/* master.c */
int	master_register(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);
int	master_subscribe(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);
int	master_hand_off(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);
int	master_claim(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);
void	master_client_gone(struct ctl_client *);

/* admin.c */
int	admin_status(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);
int	admin_list(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);
int	admin_get(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);
int	admin_interfaces(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);
int	admin_drain(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);
int	admin_undrain(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);
int	admin_kill(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);
int	admin_metrics(struct ctl_client *, const Smbdirect__Ctl__Request *,
	    Smbdirect__Ctl__Reply *, struct arena *);

#endif
