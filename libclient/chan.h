/* SPDX-License-Identifier: ISC */
/*
 * chan: data-channel helpers shared inside libclient (the public ones are
 * the sdctl_chan_* functions in smbdirect-ctl.h).
 */
#ifndef SMBDIRECT_CTL_CHAN_H
#define SMBDIRECT_CTL_CHAN_H

#include <stdint.h>

int	chan_write_claim(int fd, uint64_t conn_id);

#endif
