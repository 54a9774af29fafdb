/* SPDX-License-Identifier: ISC */
/*
 * fuzz_sdp_bd.c: Buffer Descriptor V1 lists as an attacker writes them.
 *
 * Input: MaxReadWriteSize (4 bytes), the entry limit (1 byte), then the
 * list. A list that parses must respect every bound and encode back to the
 * same bytes; one that does not must be refused for the first rule that
 * an independent restatement finds broken.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES	255

static void
check(int cond)
{
	if (!cond) {
		abort();
	}
}

static uint64_t
rd(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0) {
		v = v << 8 | p[n];
	}
	return v;
}

static int
expect(const uint8_t *l, size_t len, uint32_t max_total, unsigned max_count)
{
	uint64_t total = 0;
	size_t i;

	if (len == 0) {
		return SDP_ERR_BD_EMPTY;
	}
	if (len % 16 != 0) {
		return SDP_ERR_BD_ALIGN;
	}
	if (len / 16 > max_count) {
		return SDP_ERR_BD_COUNT;
	}
	for (i = 0; i < len / 16; i++) {
		uint64_t off = rd(l + i * 16, 8);
		uint64_t n = rd(l + i * 16 + 12, 4);

		if (n == 0) {
			return SDP_ERR_BD_ZERO_LENGTH;
		}
		if (off + n < off) {
			return SDP_ERR_BD_WRAP;
		}
		total += n;
		if (total > max_total) {
			return SDP_ERR_BD_TOTAL;
		}
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_bd bd[MAX_ENTRIES];
	uint8_t *back;
	uint64_t total = 0;
	uint32_t max_total;
	unsigned max_count, n = 0, i;
	int rc;

	if (size < 5) {
		return 0;
	}
	max_total = (uint32_t)rd(data, 4);
	max_count = data[4];
	data += 5;
	size -= 5;
	rc = sdp_bd_parse(data, size, max_total, max_count, bd, &n);
	check(rc == expect(data, size, max_total, max_count));
	check(rc == 0 || !sdp_error_is_fatal(rc));
	if (rc != 0) {
		return 0;
	}
	check(n >= 1 && n <= max_count && (size_t)n * 16 == size);
	for (i = 0; i < n; i++) {
		check(bd[i].length > 0);
		check(bd[i].offset + bd[i].length >= bd[i].offset);
		total += bd[i].length;
	}
	check(total <= max_total);
	back = malloc(size);
	check(back != NULL);
	check(sdp_bd_encode(bd, n, back, size) == (int)size);
	check(memcmp(back, data, size) == 0);
	free(back);
	return 0;
}
