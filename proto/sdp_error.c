/* SPDX-License-Identifier: ISC */
/*
 * sdp_error.c: names for the engine's error codes.
 *
 * One table holds both the stable token (a metrics label, never changed
 * once released) and the human text, so a new code cannot get one without
 * the other.
 */
#include "config.h"

#include <stddef.h>

#include "sdp.h"

struct sdp_error_desc {
	int		 code;
	const char	*name;
	const char	*text;
};

static const struct sdp_error_desc sdp_errors[] = {
	{ SDP_OK, "ok", "success" },
	{ SDP_ERR_INVAL, "invalid_argument", "invalid argument" },
	{ SDP_ERR_NOMEM, "no_memory", "out of memory" },
	{ SDP_ERR_STATE, "bad_state",
	    "not allowed in the connection's current state" },
	{ SDP_ERR_WOULDBLOCK, "would_block",
	    "the send queue is full; wait for WRITABLE" },
	{ SDP_ERR_MSGSIZE, "pdu_too_large",
	    "the PDU exceeds the peer's MaxFragmentedSize" },
	{ SDP_ERR_BUFSIZE, "buffer_too_small",
	    "the output buffer is too small" },
	{ SDP_ERR_INTERNAL, "internal_invariant",
	    "an internal engine invariant does not hold" },

	{ SDP_ERR_CFG_ROLE, "config_role", "configuration: unknown role" },
	{ SDP_ERR_CFG_RECV_CREDIT_MAX, "config_recv_credit_max",
	    "configuration: recv_credit_max must be 3..255" },
	{ SDP_ERR_CFG_RECV_CREDIT_INITIAL, "config_recv_credit_initial",
	    "configuration: recv_credit_initial must be 1..recv_credit_max" },
	{ SDP_ERR_CFG_SEND_CREDIT_TARGET, "config_send_credit_target",
	    "configuration: send_credit_target must be 1..255" },
	{ SDP_ERR_CFG_MAX_SEND_SIZE, "config_max_send_size",
	    "configuration: max_send_size must be 128 B..16 MiB" },
	{ SDP_ERR_CFG_MAX_RECEIVE_SIZE, "config_max_receive_size",
	    "configuration: max_receive_size must be 128 B..16 MiB" },
	{ SDP_ERR_CFG_MAX_FRAGMENTED_SIZE, "config_max_fragmented_size",
	    "configuration: max_fragmented_size must be 128 KiB..16 MiB" },
	{ SDP_ERR_CFG_MAX_READ_WRITE_SIZE, "config_max_read_write_size",
	    "configuration: max_read_write_size must be 1 B..8 MiB" },
	{ SDP_ERR_CFG_NEGOTIATE_TIMEOUT, "config_negotiate_timeout",
	    "configuration: negotiate_timeout_ms must not be 0" },
	{ SDP_ERR_CFG_KEEPALIVE, "config_keepalive",
	    "configuration: a keepalive interval needs a non-zero timeout" },
	{ SDP_ERR_CFG_SEND_QUEUE_MAX, "config_send_queue_max",
	    "configuration: send_queue_max must be 1..65536" },
	{ SDP_ERR_CFG_MAX_OUTSTANDING, "config_max_outstanding_sends",
	    "configuration: max_outstanding_sends must be 1..65536" },
	{ SDP_ERR_CFG_OVERRIDE, "config_override",
	    "configuration: negotiate overrides are for clients only" },
	{ SDP_ERR_CFG_RECV_SPARE, "config_recv_spare",
	    "configuration: recv_spare must be 0 or 1 and leave "
	    "recv_credit_max - recv_spare >= 3" },

	{ SDP_ERR_BD_EMPTY, "bd_empty",
	    "buffer descriptor list is empty" },
	{ SDP_ERR_BD_ALIGN, "bd_length_unaligned",
	    "buffer descriptor list length is not a multiple of 16" },
	{ SDP_ERR_BD_COUNT, "bd_too_many",
	    "buffer descriptor list has too many entries" },
	{ SDP_ERR_BD_ZERO_LENGTH, "bd_zero_length",
	    "buffer descriptor with length 0" },
	{ SDP_ERR_BD_TOTAL, "bd_total_too_large",
	    "buffer descriptors exceed MaxReadWriteSize" },
	{ SDP_ERR_BD_WRAP, "bd_offset_wraps",
	    "buffer descriptor offset plus length wraps around" },

	{ SDP_ERR_FATAL, "fatal", "fatal error" },

	{ SDP_ERR_NEG_SHORT, "neg_short",
	    "negotiate message too short" },
	{ SDP_ERR_NEG_VERSION, "neg_version_unsupported",
	    "no common SMB Direct version (0x0100)" },
	{ SDP_ERR_NEG_CREDITS_REQUESTED, "neg_credits_requested_zero",
	    "negotiate CreditsRequested is 0" },
	{ SDP_ERR_NEG_CREDITS_GRANTED, "neg_credits_granted_zero",
	    "negotiate response CreditsGranted is 0" },
	{ SDP_ERR_NEG_MAX_RECEIVE_SIZE, "neg_max_receive_size_small",
	    "negotiate MaxReceiveSize below 128" },
	{ SDP_ERR_NEG_MAX_FRAGMENTED_SIZE, "neg_max_fragmented_size_small",
	    "negotiate MaxFragmentedSize below 131072" },
	{ SDP_ERR_NEG_PREFERRED_SEND_SIZE, "neg_preferred_send_size_large",
	    "negotiate response PreferredSendSize above our MaxReceiveSize" },
	{ SDP_ERR_NEG_STATUS, "neg_status_failed",
	    "negotiate response carries a failure status" },
	{ SDP_ERR_NEG_TIMEOUT, "negotiate_timeout",
	    "negotiation did not finish in time" },

	{ SDP_ERR_RX_SHORT, "rx_short",
	    "received message shorter than 20 bytes" },
	{ SDP_ERR_RX_TOO_LONG, "rx_too_long",
	    "received message longer than our MaxReceiveSize" },
	{ SDP_ERR_RX_NOT_POSTED, "rx_no_receive_posted",
	    "message received with no receive posted" },
	{ SDP_ERR_RX_NO_CREDIT, "rx_without_credit",
	    "peer sent a message without a send credit" },
	{ SDP_ERR_RX_CREDITS_REQUESTED, "credits_requested_zero",
	    "received CreditsRequested is 0" },
	{ SDP_ERR_RX_DATA_OFFSET_ALIGN, "data_offset_unaligned",
	    "received DataOffset is not 8-byte aligned" },
	{ SDP_ERR_RX_DATA_OFFSET_HEADER, "data_offset_in_header",
	    "received payload starts inside the header" },
	{ SDP_ERR_RX_DATA_BEYOND, "data_beyond_message",
	    "received DataOffset + DataLength exceed the message" },
	{ SDP_ERR_RX_FRAGMENTED_SIZE, "fragmented_size_exceeded",
	    "received DataLength + RemainingDataLength exceed "
	    "MaxFragmentedSize" },
	{ SDP_ERR_RX_REMAINING_MISMATCH, "remaining_length_mismatch",
	    "fragment inconsistent with the PDU being reassembled" },
	{ SDP_ERR_RX_EMPTY_FRAGMENT, "empty_fragment",
	    "message without payload announces remaining data" },
	{ SDP_ERR_RX_CREDITS_OVERFLOW, "credits_granted_overflow",
	    "peer granted more than 255 send credits in total" },

	{ SDP_ERR_KEEPALIVE_TIMEOUT, "keepalive_timeout",
	    "our keepalive went unanswered, or unsent, for too long" },

	{ SDP_ERR_SHUTDOWN, "local_shutdown", "closed by the local side" },
};

static const struct sdp_error_desc *
sdp_error_find(int err)
{
	const struct sdp_error_desc *d = NULL;
	size_t i;

	for (i = 0; i < sizeof(sdp_errors) / sizeof(sdp_errors[0]); i++) {
		if (sdp_errors[i].code == err) {
			d = &sdp_errors[i];
			break;
		}
	}
	return d;
}

const char *
sdp_strerror(int err)
{
	const struct sdp_error_desc *d = sdp_error_find(err);

	return d != NULL ? d->text : "unknown SMB Direct error";
}

const char *
sdp_error_name(int err)
{
	const struct sdp_error_desc *d = sdp_error_find(err);

	return d != NULL ? d->name : "unknown";
}

bool
sdp_error_is_fatal(int err)
{
	return err <= SDP_ERR_FATAL;
}
