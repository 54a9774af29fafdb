/* SPDX-License-Identifier: ISC */
/*
 * fuzz_smb2: libclient's SMB2 parsers on arbitrary bytes.
 *
 * The input is one PDU. sdctl_smb2_client_guid() reads it once;
 * sdctl_smb2_rw_parse() reads every command the NextCommand chain names
 * (as an smbd walking a compound would), under two MaxReadWriteSize
 * values. What a success reports must hold: descriptors within bounds and
 * inline data inside the PDU.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "libclient/smbdirect-ctl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
check_rw(const uint8_t *data, size_t size, size_t off, uint32_t max_rw)
{
	struct sdctl_smb2_rw rw;
	unsigned i;
	uint64_t total = 0;

	if (sdctl_smb2_rw_parse(data, size, off, max_rw, &rw) != 0) {
		return;
	}
	if (rw.n_desc > SDCTL_MAX_DESC || rw.desc_total > max_rw) {
		abort();
	}
	for (i = 0; i < rw.n_desc; i++) {
		if (rw.desc[i].length == 0) {
			abort();
		}
		total += rw.desc[i].length;
	}
	if (total != rw.desc_total) {
		abort();
	}
	if ((uint64_t)rw.data_offset + rw.data_length > size) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t guid[16];
	size_t off = 0;
	uint32_t next;
	unsigned n;

	(void)sdctl_smb2_client_guid(data, size, guid);
	for (n = 0; n < 64; n++) {
		check_rw(data, size, off, 1024 * 1024);
		check_rw(data, size, off, UINT32_MAX);
		if (size < 24 || off > size - 24) {
			break;
		}
		next = get_le32(data + off + 20);
		if (next == 0 || next > size - off) {
			break;
		}
		off += next;
	}
	/* Offsets the chain never names must be refused just as safely. */
	check_rw(data, size, size, UINT32_MAX);
	if (size > 1) {
		check_rw(data, size, size / 2, UINT32_MAX);
	}
	return 0;
}
