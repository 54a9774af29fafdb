/* SPDX-License-Identifier: ISC */
/*
 * names.c: stable names for the public enums, matching the daemon's log
 * and metrics vocabulary.
 */
#include "config.h"

#include "libclient/smbdirect-ctl.h"

const char *
sdctl_transport_name(enum sdctl_transport t)
{
	switch (t) {
	case SDCTL_TRANSPORT_IWARP:
		return "iwarp";
	case SDCTL_TRANSPORT_ROCE:
		return "roce";
	case SDCTL_TRANSPORT_IB:
		return "ib";
	case SDCTL_TRANSPORT_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *
sdctl_state_name(enum sdctl_conn_state s)
{
	switch (s) {
	case SDCTL_STATE_NEGOTIATING:
		return "negotiating";
	case SDCTL_STATE_WAIT_MASTER:
		return "wait_master";
	case SDCTL_STATE_WAIT_CHANNEL:
		return "wait_channel";
	case SDCTL_STATE_ACTIVE:
		return "active";
	case SDCTL_STATE_DRAINING:
		return "draining";
	case SDCTL_STATE_CLOSING:
		return "closing";
	case SDCTL_STATE_UNKNOWN:
		break;
	}
	return "unknown";
}
