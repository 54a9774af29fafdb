/*
 * ops.c: operation frames from the owner (see ops.h and frame.h).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/ops.h"
#include "daemon/rconn.h"
#include "frame.h"

int
ops_error(struct rconn *c, uint8_t refused, int status, const char *fmt, ...)
{
	char msg[FRAME_ERROR_MSG_MAX + 1];
	uint8_t *body;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("conn=%llu: refused frame %#x: %s", (unsigned long long)c->id,
	    refused, msg);
	body = malloc(FRAME_ERROR_FIXED + FRAME_ERROR_MSG_MAX);
	if (body == NULL) {
		return -ENOMEM;
	}
	n = frame_error_encode(status, refused, msg, body,
	    FRAME_ERROR_FIXED + FRAME_ERROR_MSG_MAX);
	return chan_send_op(&c->chan, FRAME_ERROR, body, (uint32_t)n, -1);
}

/*
 * CLAIM: the sender proves by its kernel-attached pid that it holds the
 * data channel. The Claim control request then completes the hand-off.
 */
static int
ops_claim(struct rconn *c, const uint8_t *body, uint32_t len, pid_t sender)
{
	uint64_t id;

	if (frame_u64_decode(body, len, &id) != 0 || id != c->id) {
		ops_error(c, FRAME_CLAIM, -EINVAL, "CLAIM names connection "
		    "%llu, this is %llu", (unsigned long long)id,
		    (unsigned long long)c->id);
		return 0;
	}
	if (sender <= 0) {
		ops_error(c, FRAME_CLAIM, -EPERM, "CLAIM frame written by more "
		    "than one process");
		return 0;
	}
	if (c->handoff_pid != (uint32_t)sender) {
		ops_error(c, FRAME_CLAIM, -EPERM, "connection %llu was not "
		    "handed off to pid %d", (unsigned long long)c->id,
		    (int)sender);
		return 0;
	}
	c->claim_pid = (uint32_t)sender;
	log_debug("conn=%llu: CLAIM frame from pid=%d",
	    (unsigned long long)c->id, (int)sender);
	return 0;
}

int
ops_handle(struct rconn *c, uint8_t type, const uint8_t *body, uint32_t len,
    pid_t sender)
{
	switch (type) {
	case FRAME_CLAIM:
		return ops_claim(c, body, len, sender);
	default:
		break;
	}
	rconn_channel_gone(c, RCONN_R_CHANNEL_ERROR,
	    "unknown operation frame type on the data channel");
	return -EPROTO;
}

void
ops_rdma_complete(struct rconn *c, const struct ibv_wc *wc)
{
}

void
ops_abort(struct rconn *c)
{
}

void
ops_free(struct rconn *c)
{
}
