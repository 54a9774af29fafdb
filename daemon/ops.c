/* SPDX-License-Identifier: ISC */
/*
 * ops.c: what the data channel's engine (proto/chanops.h) asks of the
 * connection, done: reserving PDU memory in the send ring, submitting
 * PDUs to the SMB Direct engine, queueing frames on the channel, posting
 * RDMA READ and WRITE, creating the area, judging a CLAIM, and the logs
 * and counters of each. Every protocol decision is the engine's; this
 * file only performs them (see rconn_run(), the one loop that calls
 * ops_act()).
 *
 * RDMA READ and WRITE move payload between the client's memory (named by
 * the Buffer Descriptor V1 list the client put in its SMB2 request) and the
 * connection's area. The daemon never copies that payload: the area is the
 * registered memory the work requests point at, so no code here counts a
 * copy (smbdirect_copied_bytes_total{kind="memcpy"} stays 0).
 *
 * [MS-SMB2] READ over RDMA: the RDMA WRITEs of the data and the SEND of
 * the response go on the same RC queue pair back to back; RC ordering
 * makes the client see the data before the response, so the response does
 * not wait for the writes' completions, only for their posting (the
 * engine's WRITE_THEN_PDU gate).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/area.h"
#include "daemon/log.h"
#include "daemon/ops.h"
#include "daemon/rconn.h"
#include "chanops.h"
#include "frame.h"

int
ops_new(struct rconn *c)
{
	struct chanops_config cfg;
	struct ibv_port_attr pa;

	memset(&cfg, 0, sizeof(cfg));
	cfg.conn_id = c->id;
	cfg.ord = c->ord;
	if (ibv_query_port(c->cm_id->verbs, c->cm_id->port_num ?
	    c->cm_id->port_num : 1, &pa) == 0 && pa.max_msg_sz > 0 &&
	    pa.max_msg_sz < (1u << 30)) {
		cfg.max_wr_bytes = pa.max_msg_sz;
	}
	return chanops_new(&cfg, NULL, &c->co) == 0 ? 0 : -ENOMEM;
}

void
ops_free(struct rconn *c)
{
	chanops_free(c->co);
	c->co = NULL;
}

int
ops_send_frame(struct rconn *c, uint8_t type, const uint8_t *body,
    uint32_t len, int fd)
{
	int rc;

	if (c->co == NULL || c->state == RCONN_CLOSING) {
		if (fd != -1) {
			close(fd);
		}
		return -EPIPE;
	}
	rc = chanops_send_frame(c->co, type, body, len, fd);
	rconn_run(c);
	return rc == 0 ? 0 : -ENOBUFS;
}

static void
ops_reserve(struct rconn *c, uint32_t len)
{
	struct txpdu *p;
	uint8_t *buf;
	int rc;

	rc = rconn_tx_reserve(c, len, &p, &buf);
	if (rc == 0) {
		chanops_pdu_buffer(c->co, p, buf);
	} else if (rc != -EAGAIN && rc != -EPIPE) {
		/* -EAGAIN: the ring is full; chanops_resume() asks again. */
		rconn_channel_gone(c, RCONN_R_CHANNEL_ERROR,
		    "PDU length not acceptable");
	}
}

static void
ops_submit(struct rconn *c, struct txpdu *p, uint32_t invalidate)
{
	p->invalidate_rkey = invalidate;
	if (rconn_tx_submit(c, p) == -EAGAIN) {
		/* The engine is full: SDP_ACT_WRITABLE resumes it. */
		chanops_submit_blocked(c->co, p, invalidate);
	}
}

static void
ops_frame(struct rconn *c, const struct chanops_action *a)
{
	if (c->state == RCONN_CLOSING) {
		free(a->u.frame.body);
		if (a->u.frame.fd != -1) {
			close(a->u.frame.fd);
		}
		return;
	}
	if (chan_queue_frame(&c->chan, a->u.frame.type, a->u.frame.body,
	    a->u.frame.len, a->u.frame.fd) != 0) {
		rconn_close(c, RCONN_R_NO_RESOURCES,
		    "data channel queue full");
	}
}

static void
ops_post(struct rconn *c, const struct chanops_action *a)
{
	struct ibv_send_wr wr, *bad = NULL;
	struct ibv_sge sge;

	if (c->state == RCONN_CLOSING || c->area == NULL) {
		/* Never posted: the engine must not wait for it. */
		chanops_rdma_done(c->co, a->u.post.cookie, false, NULL);
		return;
	}
	sge.addr = (uintptr_t)(area_base(c->area) + a->u.post.area_off);
	sge.length = a->u.post.len;
	sge.lkey = area_lkey(c->area);
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = a->u.post.cookie | WR_ID_RDMA;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = a->u.post.write ? IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = a->u.post.remote_addr;
	wr.wr.rdma.rkey = a->u.post.rkey;
	if (ibv_post_send(c->cm_id->qp, &wr, &bad) != 0) {
		log_warn("conn=%llu: posting an RDMA %s",
		    (unsigned long long)c->id,
		    a->u.post.write ? "WRITE" : "READ");
		/* Not posted: the engine must not wait for it. */
		chanops_rdma_done(c->co, a->u.post.cookie, false, NULL);
		rconn_close(c, RCONN_R_RDMA_ERROR,
		    "cannot post an RDMA operation");
	}
}

static void
ops_area(struct rconn *c)
{
	uint8_t body[FRAME_AREA_SIZE];
	char msg[FRAME_ERROR_MSG_MAX + 1];
	struct area *a = NULL;
	int rc, fd;

	if (c->state == RCONN_CLOSING) {
		return;
	}
	rc = area_get(c, &a);
	if (rc != 0) {
		snprintf(msg, sizeof(msg), "cannot create the area: %s",
		    strerror(-rc));
		chanops_refuse(c->co, FRAME_AREA_REQUEST, rc, msg);
		return;
	}
	chanops_set_area(c->co, area_size(a));
	fd = area_dup_fd(a);
	if (fd < 0) {
		chanops_refuse(c->co, FRAME_AREA_REQUEST, -ENOMEM,
		    "out of memory or descriptors");
		return;
	}
	frame_area_encode(c->id, area_size(a), body);
	chanops_send_frame(c->co, FRAME_AREA, body, FRAME_AREA_SIZE, fd);
}

/*
 * CLAIM: the sender proved by its kernel-attached pid that it holds the
 * data channel (the engine checked the id and that one process wrote the
 * frame). The Claim control request then completes the hand-off.
 */
static void
ops_claim(struct rconn *c, int32_t pid)
{
	char msg[FRAME_ERROR_MSG_MAX + 1];

	if (c->handoff_pid != (uint32_t)pid) {
		snprintf(msg, sizeof(msg), "connection %llu was not handed "
		    "off to pid %d", (unsigned long long)c->id, (int)pid);
		chanops_refuse(c->co, FRAME_CLAIM, -EPERM, msg);
		return;
	}
	c->claim_pid = (uint32_t)pid;
	log_debug("conn=%llu: CLAIM frame from pid=%d",
	    (unsigned long long)c->id, (int)pid);
}

/* The engine closes: a broken stream is the channel's fault. */
static void
ops_close(struct rconn *c, const struct chanops_action *a)
{
	switch (-a->u.close.error) {
	case CHANOPS_ERR_OVERSIZED_OP:
	case CHANOPS_ERR_MALFORMED_RDMA:
	case CHANOPS_ERR_UNKNOWN_TYPE:
		log_warnx("conn=%llu: %s", (unsigned long long)c->id,
		    a->u.close.msg);
		rconn_channel_gone(c, RCONN_R_CHANNEL_ERROR, a->u.close.msg);
		break;
	default:
		rconn_close(c, RCONN_R_NO_RESOURCES, "%s", a->u.close.msg);
		break;
	}
}

void
ops_act(struct rconn *c, const struct chanops_action *a)
{
	switch (a->type) {
	case CHANOPS_ACT_RESERVE_PDU:
		ops_reserve(c, a->u.reserve.len);
		break;
	case CHANOPS_ACT_SUBMIT_PDU:
		ops_submit(c, a->u.submit.pdu, a->u.submit.invalidate);
		break;
	case CHANOPS_ACT_SEND_FRAME:
		ops_frame(c, a);
		break;
	case CHANOPS_ACT_POST_RDMA:
		ops_post(c, a);
		break;
	case CHANOPS_ACT_AREA_REQUEST:
		ops_area(c);
		break;
	case CHANOPS_ACT_CLAIM:
		ops_claim(c, a->u.claim.pid);
		break;
	case CHANOPS_ACT_INVALIDATE_NEXT:
		log_debug("conn=%llu: next PDU invalidates %#x",
		    (unsigned long long)c->id, a->u.invalidate.rkey);
		break;
	case CHANOPS_ACT_RDMA_START:
		if (a->u.rdma.write) {
			COUNT(c, rdma_write_ops, 1);
		} else {
			COUNT(c, rdma_read_ops, 1);
		}
		break;
	case CHANOPS_ACT_RDMA_END:
		if (a->u.rdma.status != 0) {
			break;
		}
		if (a->u.rdma.write) {
			COUNT(c, rdma_write_bytes, a->u.rdma.bytes);
		} else {
			COUNT(c, rdma_read_bytes, a->u.rdma.bytes);
		}
		break;
	case CHANOPS_ACT_RDMA_REJECTED:
		log_warnx("conn=%llu: refused RDMA %s request %llu: %s (%u "
		    "descriptors, area offset %llu)",
		    (unsigned long long)c->id,
		    a->u.rdma.write ? "WRITE" : "READ",
		    (unsigned long long)a->u.rdma.req_id,
		    frame_rdma_reject_name(a->u.rdma.why), a->u.rdma.n_desc,
		    (unsigned long long)a->u.rdma.area_off);
		c->d->metrics.rdma_rejected[a->u.rdma.why]++;
		break;
	case CHANOPS_ACT_REFUSED:
		log_warnx("conn=%llu: refused frame %#x: %s",
		    (unsigned long long)c->id, a->u.refused.refused,
		    a->u.refused.msg);
		if (a->u.refused.why != FRAME_RDMA_OK) {
			c->d->metrics.rdma_rejected[a->u.refused.why]++;
		} else {
			metrics_count(&c->d->metrics, MF_ERRORS, "bad_frame",
			    1);
		}
		break;
	case CHANOPS_ACT_CLOSE:
		ops_close(c, a);
		break;
	case CHANOPS_ACT_NONE:
		break;
	}
}

void
ops_rdma_complete(struct rconn *c, const struct ibv_wc *wc)
{
	bool ok = wc->status == IBV_WC_SUCCESS, write = false;

	if (chanops_rdma_done(c->co, wc->wr_id & ~(uint64_t)WR_ID_RDMA, ok,
	    &write) == -CHANOPS_ERR_INVAL) {
		log_warnx("conn=%llu: internal: a completion for no RDMA "
		    "request", (unsigned long long)c->id);
	}
	if (!ok && c->state != RCONN_CLOSING) {
		log_warnx("conn=%llu: an RDMA %s failed: %s",
		    (unsigned long long)c->id, write ? "WRITE" : "READ",
		    ibv_wc_status_str(wc->status));
		rconn_close_wc(c, wc, true, write ? "an RDMA WRITE" :
		    "an RDMA READ");
	}
}
