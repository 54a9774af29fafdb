/* SPDX-License-Identifier: ISC */
/*
 * fuzz_chanops: the data channel's engine (proto/chanops.h) driven by a
 * script: the input's first byte sets the ORD and the work-request size,
 * then each command byte feeds stream bytes from the owner, completes a
 * posted work request (well or badly), delivers a fragment to the owner,
 * sends or refuses a frame, blocks or resumes the sender, or aborts.
 *
 * Checked after every command, besides what the sanitizers see: cookies
 * are aligned and completed once; every SUBMIT_PDU names a PDU this
 * harness gave and has not seen submitted; nothing is posted after
 * abort or close; no action follows CLOSE but RDMA_END; the engine's
 * in-flight state matches the work requests outstanding here.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chanops.h"

#define MAX_POSTED	512
#define PDU_MAX		4096

struct harness {
	struct chanops	*co;
	uint64_t	 posted[MAX_POSTED];	/* outstanding cookies */
	unsigned	 n_posted;
	uint8_t		*pdu[2];		/* at most two alive */
	unsigned	 next_pdu;
	bool		 closed;
	bool		 aborted;
	bool		 room;			/* answer RESERVE_PDU */
	void		*last_submit;
	uint32_t	 last_inv;
};

static void
check(bool ok)
{
	if (!ok) {
		abort();
	}
}

static void
drain(struct harness *h)
{
	struct chanops_action a;

	while (chanops_next_action(h->co, &a) == 1) {
		check(!h->closed || a.type == CHANOPS_ACT_RDMA_END);
		switch (a.type) {
		case CHANOPS_ACT_RESERVE_PDU:
			if (!h->room || a.u.reserve.len > PDU_MAX) {
				break;
			}
			for (unsigned i = 0; i < 2; i++) {
				if (h->pdu[i] != NULL) {
					continue;
				}
				h->pdu[i] = malloc(a.u.reserve.len + 1);
				check(h->pdu[i] != NULL);
				check(chanops_pdu_buffer(h->co,
				    (void *)(uintptr_t)(i + 1),
				    h->pdu[i]) == 0);
				break;
			}
			break;
		case CHANOPS_ACT_SUBMIT_PDU: {
			uintptr_t i = (uintptr_t)a.u.submit.pdu;

			check(i == 1 || i == 2);
			check(h->pdu[i - 1] != NULL);
			/* The "sender" takes it: the memory is free again. */
			free(h->pdu[i - 1]);
			h->pdu[i - 1] = NULL;
			h->last_submit = a.u.submit.pdu;
			h->last_inv = a.u.submit.invalidate;
			break;
		}
		case CHANOPS_ACT_SEND_FRAME:
			check(a.u.frame.len <= FRAME_OP_MAX);
			free(a.u.frame.body);
			if (a.u.frame.fd != -1) {
				close(a.u.frame.fd);
			}
			break;
		case CHANOPS_ACT_POST_RDMA:
			check(!h->aborted);
			check((a.u.post.cookie & 7) == 0);
			check(a.u.post.len > 0);
			check(h->n_posted < MAX_POSTED);
			h->posted[h->n_posted++] = a.u.post.cookie;
			break;
		case CHANOPS_ACT_CLOSE:
			check(a.u.close.error < 0);
			h->closed = true;
			break;
		default:
			break;
		}
	}
	check(chanops_rdma_in_flight(h->co) == (h->n_posted > 0));
}

/* Complete posted work request @k; @ok false: failed or flushed. */
static void
complete(struct harness *h, unsigned k, bool ok)
{
	uint64_t cookie;

	if (h->n_posted == 0) {
		return;
	}
	k %= h->n_posted;
	cookie = h->posted[k];
	h->posted[k] = h->posted[--h->n_posted];
	check(chanops_rdma_done(h->co, cookie, ok, NULL) !=
	    -CHANOPS_ERR_INVAL);
	drain(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chanops_config cfg = { .conn_id = 7 };
	struct harness h;
	size_t i = 1;

	if (size < 1) {
		return 0;
	}
	memset(&h, 0, sizeof(h));
	h.room = true;
	cfg.ord = data[0] & 3;
	cfg.max_wr_bytes = (data[0] >> 2) == 0 ? 0 : (uint32_t)(data[0] >> 2)
	    * 512;
	cfg.queue_max = 4;
	cfg.held_max = 8;
	check(chanops_new(&cfg, NULL, &h.co) == 0);
	chanops_set_area(h.co, 1u << 16);
	chanops_set_max_read_write(h.co, 1u << 15);
	while (i < size) {
		uint8_t cmd = data[i++], arg = i < size ? data[i] : 0;
		uint8_t *buf;
		size_t want, n;

		switch (cmd % 10) {
		case 0:		/* stream bytes: a length, then them */
		case 1:
			i++;
			n = arg;
			while (n > 0 && i < size) {
				want = chanops_rx_want(h.co, &buf);
				if (want == 0) {
					break;
				}
				if (want > n) {
					want = n;
				}
				if (want > size - i) {
					want = size - i;
				}
				memcpy(buf, data + i, want);
				(void)chanops_rx_got(h.co, want,
				    cmd & 0x80 ? 0 : 99);
				i += want;
				n -= want;
				drain(&h);
			}
			break;
		case 2:
			i++;
			complete(&h, arg, true);
			break;
		case 3:
			i++;
			complete(&h, arg, arg & 1);
			break;
		case 4:
			i++;
			(void)chanops_deliver(h.co, arg & 1, arg & 2);
			break;
		case 5:
			i++;
			(void)chanops_send_frame(h.co, FRAME_DRAIN, &arg, 1,
			    -1);
			break;
		case 6:
			i++;
			(void)chanops_refuse(h.co, arg, -22, "refused");
			break;
		case 7:		/* the sender is full, or has room again */
			if (h.last_submit != NULL && !h.closed) {
				uintptr_t k = (uintptr_t)h.last_submit;

				if (h.pdu[k - 1] == NULL) {
					h.pdu[k - 1] = malloc(1);
					check(h.pdu[k - 1] != NULL);
					if (chanops_submit_blocked(h.co,
					    h.last_submit, h.last_inv) != 0) {
						free(h.pdu[k - 1]);
						h.pdu[k - 1] = NULL;
					}
				}
				h.last_submit = NULL;
			}
			break;
		case 8:
			h.room = !h.room;
			(void)chanops_resume(h.co);
			break;
		case 9:
			if (arg == 0xab) {
				chanops_abort(h.co);
				h.aborted = true;
			}
			i++;
			break;
		}
		drain(&h);
	}
	/* Closing: everything posted completes as flushed. */
	chanops_abort(h.co);
	h.aborted = true;
	while (h.n_posted > 0) {
		complete(&h, 0, false);
	}
	drain(&h);
	chanops_free(h.co);
	free(h.pdu[0]);
	free(h.pdu[1]);
	return 0;
}
