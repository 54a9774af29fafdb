/* SPDX-License-Identifier: ISC */
/*
 * sanexit(): _exit() for forked children, with the leak check a sanitized
 * build would have run at exit().
 *
 * A forked child must leave with _exit(): exit() would run the parent's
 * atexit handlers and flush stdio buffers it inherited. _exit() also skips
 * LeakSanitizer's check, so a leak in a child would never be reported. In
 * an ASan build this runs the check first (it ends the process with a
 * report and a non-zero status if anything leaked); elsewhere it is
 * _exit().
 */
#ifndef SMBDIRECTD_SANEXIT_H
#define SMBDIRECTD_SANEXIT_H

#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANEXIT_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANEXIT_LSAN 1
#endif
#endif

#ifdef SANEXIT_LSAN
#include <sanitizer/lsan_interface.h>
#endif

__attribute__((noreturn)) static inline void
sanexit(int status)
{
#ifdef SANEXIT_LSAN
	__lsan_do_leak_check();
#endif
	_exit(status);
}

#endif
