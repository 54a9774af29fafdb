/* SPDX-License-Identifier: ISC */
/*
 * planted_leak: a deliberate leak, for the test bed's sanitizer self-test
 * (tests/e2e/run-all.sh). It shows that LeakSanitizer reports reach the
 * verdict: a run in which this program's report went unseen would prove
 * nothing about the scenarios' clean reports.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read through a volatile pointer, so the allocation cannot be elided. */
static void *volatile planted;

int
main(void)
{
	planted = malloc(4242);
	if (planted == NULL) {
		return 2;
	}
	memset(planted, 0x5a, 4242);
	planted = NULL;		/* the last reference: leaked */
	puts("planted_leak: 4242 bytes leaked");
	return 0;
}
