/* SPDX-License-Identifier: ISC */
/*
 * ctlmsg: convert the control channel's protobuf messages into the plain
 * structures of smbdirect-ctl.h. Library-internal.
 */
#ifndef SMBDIRECT_CTL_CTLMSG_H
#define SMBDIRECT_CTL_CTLMSG_H

#include <stddef.h>

#include "libclient/smbdirect-ctl.h"
#include "smbdirect-ctl.pb-c.h"

void	ctlmsg_str(char *dst, size_t size, const char *src);
void	ctlmsg_conn(const Smbdirect__Ctl__Connection *,
	    struct sdctl_conn *);
void	ctlmsg_iface(const Smbdirect__Ctl__Interface *,
	    struct sdctl_iface *);
int	ctlmsg_status(const Smbdirect__Ctl__StatusReply *,
	    struct sdctl_status *);
int	ctlmsg_event(const Smbdirect__Ctl__Event *, struct sdctl_event *);

#endif
