/* SPDX-License-Identifier: ISC */
/*
 * sdp_config.c: defaults and bounds of the engine's configuration.
 */
#include "config.h"

#include <string.h>

#include "sdp.h"

void
sdp_config_init_defaults(struct sdp_config *cfg, enum sdp_role role)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = role;
	cfg->recv_credit_max = 255;
	/*
	 * Eight receives cover a request/response exchange; a streaming
	 * peer doubles the window in a few round trips (sdp_conn.c).
	 */
	cfg->recv_credit_initial = 8;
	/*
	 * No spare receive: what the engine did before it had the option.
	 * A server should set 1 to see credit violations (sdp.h).
	 */
	cfg->recv_spare = 0;
	cfg->send_credit_target = 255;
	cfg->max_send_size = 1364;
	cfg->max_receive_size = role == SDP_ROLE_SERVER ? 8192 : 1364;
	cfg->max_fragmented_size = 1u << 20;
	cfg->max_read_write_size = 1u << 20;
	cfg->keepalive_interval_ms = 120000;
	/* As the Linux client does: a live peer answers within a moment. */
	cfg->keepalive_timeout_ms = 5000;
	/* [MS-SMBD] 3.1.4.1 gives the active side 120 s; a server, less. */
	cfg->negotiate_timeout_ms = role == SDP_ROLE_SERVER ? 5000 : 120000;
	cfg->send_queue_max = 64;
	cfg->max_outstanding_sends = 64;
	cfg->min_version = SDP_VERSION_1;
	cfg->max_version = SDP_VERSION_1;
}

static bool
size_ok(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi;
}

int
sdp_config_validate(const struct sdp_config *cfg)
{
	const unsigned known = SDP_OVR_CREDITS_REQUESTED |
	    SDP_OVR_PREFERRED_SEND_SIZE | SDP_OVR_MAX_RECEIVE_SIZE |
	    SDP_OVR_MAX_FRAGMENTED_SIZE;
	int rc = 0;

	if (cfg == NULL) {
		rc = SDP_ERR_INVAL;
	} else if (cfg->role != SDP_ROLE_SERVER &&
	    cfg->role != SDP_ROLE_CLIENT) {
		rc = SDP_ERR_CFG_ROLE;
	} else if (cfg->recv_credit_max < 3 ||
	    cfg->recv_credit_max > SDP_CREDITS_MAX) {
		rc = SDP_ERR_CFG_RECV_CREDIT_MAX;
	} else if (cfg->recv_credit_initial < 1 ||
	    cfg->recv_credit_initial > cfg->recv_credit_max) {
		rc = SDP_ERR_CFG_RECV_CREDIT_INITIAL;
	} else if (cfg->recv_spare > SDP_CFG_RECV_SPARE_MAX ||
	    cfg->recv_credit_max - cfg->recv_spare < 3) {
		/* The window floor of 3 must stay grantable (sdp_conn.c). */
		rc = SDP_ERR_CFG_RECV_SPARE;
	} else if (cfg->send_credit_target < 1 ||
	    cfg->send_credit_target > SDP_CREDITS_MAX) {
		rc = SDP_ERR_CFG_SEND_CREDIT_TARGET;
	} else if (!size_ok(cfg->max_send_size, SDP_MIN_RECEIVE_SIZE,
	    SDP_CFG_MSG_SIZE_MAX)) {
		rc = SDP_ERR_CFG_MAX_SEND_SIZE;
	} else if (!size_ok(cfg->max_receive_size, SDP_MIN_RECEIVE_SIZE,
	    SDP_CFG_MSG_SIZE_MAX)) {
		rc = SDP_ERR_CFG_MAX_RECEIVE_SIZE;
	} else if (!size_ok(cfg->max_fragmented_size, SDP_MIN_FRAGMENTED_SIZE,
	    SDP_CFG_FRAGMENTED_SIZE_MAX)) {
		rc = SDP_ERR_CFG_MAX_FRAGMENTED_SIZE;
	} else if (!size_ok(cfg->max_read_write_size, 1,
	    SDP_CFG_READ_WRITE_SIZE_MAX)) {
		rc = SDP_ERR_CFG_MAX_READ_WRITE_SIZE;
	} else if (cfg->negotiate_timeout_ms == 0) {
		rc = SDP_ERR_CFG_NEGOTIATE_TIMEOUT;
	} else if (cfg->keepalive_interval_ms != 0 &&
	    cfg->keepalive_timeout_ms == 0) {
		rc = SDP_ERR_CFG_KEEPALIVE;
	} else if (cfg->send_queue_max < 1 ||
	    cfg->send_queue_max > SDP_CFG_QUEUE_MAX) {
		rc = SDP_ERR_CFG_SEND_QUEUE_MAX;
	} else if (cfg->max_outstanding_sends < 1 ||
	    cfg->max_outstanding_sends > SDP_CFG_QUEUE_MAX) {
		rc = SDP_ERR_CFG_MAX_OUTSTANDING;
	} else if ((cfg->override.mask & ~known) != 0 ||
	    (cfg->role == SDP_ROLE_SERVER && cfg->override.mask != 0)) {
		rc = SDP_ERR_CFG_OVERRIDE;
	}
	return rc;
}
