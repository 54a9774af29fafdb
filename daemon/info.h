/* SPDX-License-Identifier: ISC */
/*
 * info: what the control channel reports about connections and the daemon,
 * built as protobuf-c messages in an arena.
 */
#ifndef SMBDIRECTD_INFO_H
#define SMBDIRECTD_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/arena.h"
#include "smbdirect-ctl.pb-c.h"

struct daemon;
struct rconn;

Smbdirect__Ctl__Connection	*info_connection(struct arena *,
				    struct rconn *);
Smbdirect__Ctl__Counters	*info_totals(struct arena *, struct daemon *);
Smbdirect__Ctl__Transport	 info_transport(int transport);
int	info_label_counts(struct arena *, const char *const *names,
	    const uint64_t *values, size_t n,
	    Smbdirect__Ctl__LabelCount ***out, size_t *n_out);

#endif
