/* SPDX-License-Identifier: ISC */
/*
 * dev.c: the RDMA devices the daemon uses: one PD and one completion
 * channel per device, shared by all its connections' CQs.
 *
 * The completion channel is an event on the loop. Its handler follows
 * rdma-core's rule: get the CQ event, ack it, re-arm the CQ, then poll the
 * CQ until it is empty, so no completion is missed between the poll and
 * the re-arm.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "daemon/dev.h"
#include "daemon/log.h"
#include "daemon/rconn.h"

const char *
transport_name(enum transport t)
{
	static const char *const names[TRANSPORT_END] = {
#define X(e, n, token)	[TRANSPORT_##e] = token,
		TRANSPORTS(X)
#undef X
	};

	if ((unsigned)t < TRANSPORT_END && names[t] != NULL) {
		return names[t];
	}
	return "unknown";
}

enum transport
dev_transport(struct ibv_context *verbs, uint8_t port)
{
	struct ibv_port_attr pa;

	if (verbs->device->transport_type == IBV_TRANSPORT_IWARP) {
		return TRANSPORT_IWARP;
	}
	if (port == 0) {
		port = 1;
	}
	if (ibv_query_port(verbs, port, &pa) == 0 &&
	    pa.link_layer == IBV_LINK_LAYER_INFINIBAND) {
		return TRANSPORT_IB;
	}
	return TRANSPORT_ROCE;
}

static void
dev_on_cq(evutil_socket_t fd, short what, void *arg)
{
	struct dev *dev = arg;
	struct ibv_cq *cq = NULL;
	void *ctx = NULL;

	/* The channel is non-blocking: drain every pending event. */
	while (ibv_get_cq_event(dev->cch, &cq, &ctx) == 0) {
		ibv_ack_cq_events(cq, 1);
		if (ibv_req_notify_cq(cq, 0) != 0) {
			log_warn("%s: ibv_req_notify_cq", dev->name);
		}
		rconn_cq_event(ctx);
	}
}

/*
 * soft-iWARP (siw) maps every CQ, SQ and RQ into the process at an offset
 * from one per-context range, and libsiw takes offset 0x90000
 * (SIW_INVAL_UOBJ_KEY, page 0x90) to mean "mapping failed" although the
 * kernel hands that offset out like any other (seen with Linux 6.1 and
 * rdma-core 44). A daemon holding many connections reaches it: in the
 * test bed (receive_credits 200) the tenth concurrent connection's CQ
 * landed exactly there and failed, and so did every connection after it
 * until one closed.
 * One large CQ created first, for the device's lifetime, holds the range
 * across that page so that no later object can start on it. It costs 1 MiB
 * of kernel memory per siw device and is never polled.
 */
#define SIW_VENDOR_ID	0x626d74	/* "bmt" */
#define SIW_GUARD_CQE	16384		/* 64-byte CQEs: 257 pages */

static void
dev_siw_guard(struct dev *dev)
{
	if (dev->attr.vendor_id != SIW_VENDOR_ID ||
	    dev->attr.max_cqe < SIW_GUARD_CQE) {
		return;
	}
	dev->guard_cq = ibv_create_cq(dev->verbs, SIW_GUARD_CQE, NULL, NULL,
	    0);
	if (dev->guard_cq == NULL) {
		log_warn("%s: siw guard CQ (connections may fail to set up "
		    "beyond about nine at once)", dev->name);
	}
}

struct dev *
dev_get(struct daemon *d, struct ibv_context *verbs)
{
	struct dev *dev;
	int fl;

	TAILQ_FOREACH(dev, &d->devs, entry) {
		if (dev->verbs == verbs) {
			dev->refs++;
			return dev;
		}
	}
	dev = calloc(1, sizeof(*dev));
	if (dev == NULL) {
		return NULL;
	}
	dev->d = d;
	dev->verbs = verbs;
	snprintf(dev->name, sizeof(dev->name), "%s",
	    ibv_get_device_name(verbs->device));
	if (ibv_query_device(verbs, &dev->attr) != 0) {
		log_warn("%s: ibv_query_device", dev->name);
		goto out_free;
	}
	dev->transport = dev_transport(verbs, 1);
	dev_siw_guard(dev);
	dev->pd = ibv_alloc_pd(verbs);
	if (dev->pd == NULL) {
		log_warn("%s: ibv_alloc_pd", dev->name);
		goto out_free;
	}
	dev->cch = ibv_create_comp_channel(verbs);
	if (dev->cch == NULL) {
		log_warn("%s: ibv_create_comp_channel", dev->name);
		goto out_dealloc_pd;
	}
	fl = fcntl(dev->cch->fd, F_GETFL);
	if (fl == -1 || fcntl(dev->cch->fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		log_warn("%s: completion channel O_NONBLOCK", dev->name);
		goto out_destroy_cch;
	}
	dev->cch_ev = event_new(d->base, dev->cch->fd, EV_READ | EV_PERSIST,
	    dev_on_cq, dev);
	if (dev->cch_ev == NULL || event_add(dev->cch_ev, NULL) != 0) {
		log_warnx("%s: cannot watch the completion channel",
		    dev->name);
		goto out_free_ev;
	}
	dev->refs = 1;
	TAILQ_INSERT_TAIL(&d->devs, dev, entry);
	log_info("%s: opened (%s, max_qp_wr %d, max_sge %d, "
	    "max_qp_rd_atom %d)", dev->name, transport_name(dev->transport),
	    dev->attr.max_qp_wr, dev->attr.max_sge, dev->attr.max_qp_rd_atom);
	return dev;

out_free_ev:
	if (dev->cch_ev != NULL) {
		event_free(dev->cch_ev);
	}
out_destroy_cch:
	ibv_destroy_comp_channel(dev->cch);
out_dealloc_pd:
	ibv_dealloc_pd(dev->pd);
out_free:
	if (dev->guard_cq != NULL) {
		ibv_destroy_cq(dev->guard_cq);
	}
	free(dev);
	return NULL;
}

static void
dev_free(struct dev *dev)
{
	TAILQ_REMOVE(&dev->d->devs, dev, entry);
	event_free(dev->cch_ev);
	if (ibv_destroy_comp_channel(dev->cch) != 0) {
		log_warn("%s: ibv_destroy_comp_channel", dev->name);
	}
	if (ibv_dealloc_pd(dev->pd) != 0) {
		log_warn("%s: ibv_dealloc_pd", dev->name);
	}
	if (dev->guard_cq != NULL && ibv_destroy_cq(dev->guard_cq) != 0) {
		log_warn("%s: ibv_destroy_cq (siw guard)", dev->name);
	}
	log_debug("%s: closed", dev->name);
	free(dev);
}

/*
 * Devices stay open while idle (opening one costs a PD and a channel, and
 * the next connection will want it); they go when their last connection
 * does during shutdown.
 */
void
dev_put(struct dev *dev)
{
	dev->refs--;
	if (dev->refs == 0 && dev->d->shutting_down) {
		dev_free(dev);
	}
}

void
dev_free_all(struct daemon *d)
{
	struct dev *dev, *tmp;

	TAILQ_FOREACH_SAFE(dev, &d->devs, entry, tmp) {
		if (dev->refs == 0) {
			dev_free(dev);
		}
	}
}

struct ibv_mr *
dev_reg_mr(struct dev *dev, struct dev_mrs *mrs, void *addr, size_t len,
    int access)
{
	struct ibv_mr *mr = ibv_reg_mr(dev->pd, addr, len, access);

	if (mr != NULL) {
		mrs->count++;
		mrs->bytes += len;
		dev->mr_count++;
		dev->mr_bytes += len;
	}
	return mr;
}

void
dev_dereg_mr(struct dev *dev, struct dev_mrs *mrs, struct ibv_mr *mr)
{
	size_t len;

	if (mr == NULL) {
		return;
	}
	len = mr->length;
	if (ibv_dereg_mr(mr) != 0) {
		log_warn("%s: ibv_dereg_mr", dev->name);
	}
	mrs->count--;
	mrs->bytes -= len;
	dev->mr_count--;
	dev->mr_bytes -= len;
}
