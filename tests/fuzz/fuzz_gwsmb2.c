/* SPDX-License-Identifier: ISC */
/*
 * fuzz_gwsmb2: the gateway's SMB2 parsers (gateway/gwsmb2.h) on arbitrary
 * bytes, as a relay meets them from the client and from the SMB server.
 *
 * The input is one PDU. gw_chain_parse() splits it; what it reports must
 * hold: commands in order, each inside the PDU, together covering it.
 * Then every command goes through what the relay would do with it, on a
 * copy of exactly its length so that ASan sees any byte read or written
 * outside: a READ response's data must lie inside it, a READ request is
 * stripped of its channel, a WRITE request made plain, an ECHO and an
 * error response built for it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gwsmb2.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one_command(const uint8_t *pdu, const struct gw_cmd *k)
{
	uint8_t *cmd = malloc(k->len), out[GW_WRITE_REQ_LEN + GW_HDR];
	uint32_t off, n;

	if (cmd == NULL) {
		abort();
	}
	memcpy(cmd, pdu + k->off, k->len);
	if (k->command == GW_CMD_READ && (k->flags & GW_FLAG_RESPONSE) &&
	    gw_read_resp_data(cmd, k->len, &off, &n) == 0 && n > 0 &&
	    ((uint64_t)off + n > k->len || off < GW_HDR + 16)) {
		abort();
	}
	if (k->command == GW_CMD_READ && !(k->flags & GW_FLAG_RESPONSE) &&
	    k->len >= GW_HDR + 48) {
		gw_read_req_strip(cmd, k->len);
	}
	if (k->command == GW_CMD_WRITE && !(k->flags & GW_FLAG_RESPONSE) &&
	    k->len >= GW_WRITE_REQ_LEN) {
		if (gw_write_req_plain(cmd, 4096, out) != GW_WRITE_REQ_LEN) {
			abort();
		}
	}
	if (gw_echo_for(cmd, out) != GW_ECHO_COPIED ||
	    gw_error_resp(cmd, GW_STATUS_NOT_SUPPORTED, 1, out) != GW_HDR ||
	    gw_read_resp_rdma(cmd, 65536, out) != GW_HDR) {
		abort();
	}
	free(cmd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_chain c;
	size_t covered = 0;
	unsigned i;

	if (gw_chain_parse(data, size, &c) != 0) {
		return 0;
	}
	if (c.encrypted) {
		if (c.n != 0) {
			abort();
		}
		return 0;
	}
	if (c.n == 0 || c.n > GW_MAX_CHAIN) {
		abort();
	}
	for (i = 0; i < c.n; i++) {
		const struct gw_cmd *k = &c.cmd[i];

		if (k->off != covered || k->len < GW_HDR ||
		    k->len > size - k->off) {
			abort();
		}
		covered += k->len;
		one_command(data, k);
	}
	if (covered != size) {
		abort();
	}
	return 0;
}
