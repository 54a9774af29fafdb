/* SPDX-License-Identifier: ISC */
/*
 * rconn_reason.c: the tokens of enum rconn_reason and the mapping from
 * the engine's errors (rconn_reason.h).
 */
#include "config.h"

#include "daemon/rconn_reason.h"

/* The engine error of each RCONN_R_SDP_* value; 0 for the daemon's own. */
static const int sdp_codes[RCONN_R_END] = {
#define X(e, code)	[RCONN_R_SDP_##e] = code,
	RCONN_SDP_REASONS(X)
#undef X
};

const char *
rconn_reason_name(enum rconn_reason r)
{
	static const char *const names[RCONN_R_END] = {
#define X(e, token)	[RCONN_R_##e] = token,
		RCONN_REASONS(X)
#undef X
	};

	if (r <= RCONN_R_NONE || r >= RCONN_R_END) {
		return "unknown";
	}
	if (sdp_codes[r] != 0) {
		return sdp_error_name(sdp_codes[r]);
	}
	return names[r];
}

enum rconn_reason
rconn_reason_from_sdp(int err)
{
	switch (err) {
#define X(e, code)	case code: return RCONN_R_SDP_##e;
	RCONN_SDP_REASONS(X)
#undef X
	default:
		return RCONN_R_SDP_INTERNAL;
	}
}

int
rconn_reason_sdp(enum rconn_reason r)
{
	return r > RCONN_R_NONE && r < RCONN_R_END ? sdp_codes[r] : 0;
}

void
rconn_metrics_init(struct metrics *m)
{
	int r;

	for (r = RCONN_R_NONE + 1; r < RCONN_R_END; r++) {
		if (sdp_codes[r] == 0 || sdp_error_is_fatal(sdp_codes[r])) {
			metrics_count(m, MF_CLOSED,
			    rconn_reason_name((enum rconn_reason)r), 0);
		}
	}
}
