/* SPDX-License-Identifier: ISC */
/*
 * arena: a bump allocator for building one control-channel reply. Every
 * nested protobuf-c message and string of a reply comes from it, and one
 * arena_clear() frees them all after the reply is packed.
 */
#ifndef SMBDIRECTD_ARENA_H
#define SMBDIRECTD_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk	*head;
	int			 failed;	/* an allocation failed */
};

void	*arena_alloc(struct arena *, size_t);	/* zeroed, or NULL */
char	*arena_strdup(struct arena *, const char *);
char	*arena_printf(struct arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 arena_clear(struct arena *);

#endif
