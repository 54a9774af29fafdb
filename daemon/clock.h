/* SPDX-License-Identifier: ISC */
/*
 * clock: the daemon's one clock, monotonic milliseconds.
 *
 * Every timer, idle check, uptime and engine input (proto/sdp.h takes
 * now_ms) reads this clock, so none of them jumps with the wall clock.
 * The function keeps the name it had in main.c rather than the module's
 * prefix: rconn.c and info.c call it, and a rename would touch them for
 * no gain.
 */
#ifndef SMBDIRECTD_CLOCK_H
#define SMBDIRECTD_CLOCK_H

#include <stdint.h>

/*
 * now_ms() - CLOCK_MONOTONIC in milliseconds.
 *
 * Return: milliseconds since an arbitrary point fixed at boot. Never fails
 * (CLOCK_MONOTONIC always exists on Linux).
 */
uint64_t	now_ms(void);

#endif
