/* SPDX-License-Identifier: ISC */
/*
 * area.c: see area.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/area.h"
#include "daemon/log.h"
#include "daemon/rconn.h"

/*
 * The memfd's size is sealed, so the owner can neither shrink it under the
 * daemon's mapping (SIGBUS) nor grow it; the MR covers exactly the mapping.
 */
struct area {
	int		 fd;
	uint8_t		*base;
	size_t		 size;
	struct ibv_mr	*mr;
};

int
area_get(struct rconn *c, struct area **out)
{
	struct area *a = c->area;
	size_t size = c->d->cfg.area_size;
	int rc = -ENOMEM;

	if (a != NULL) {
		*out = a;
		return 0;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		goto out;
	}
	a->fd = memfd_create("smbdirectd-area", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);
	if (a->fd == -1) {
		rc = -errno;
		log_warn("conn=%llu: memfd_create", (unsigned long long)c->id);
		goto out_free;
	}
	if (ftruncate(a->fd, (off_t)size) != 0 ||
	    fcntl(a->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) != 0) {
		rc = -errno;
		log_warn("conn=%llu: sizing the area", (unsigned long long)c->id);
		goto out_close;
	}
	a->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd,
	    0);
	if (a->base == MAP_FAILED) {
		rc = -errno;
		log_warn("conn=%llu: mapping the area",
		    (unsigned long long)c->id);
		goto out_close;
	}
	a->size = size;
	/* Local access only: the client never touches daemon memory. */
	a->mr = dev_reg_mr(c->dev, &c->mrs, a->base, size,
	    IBV_ACCESS_LOCAL_WRITE);
	if (a->mr == NULL) {
		rc = -errno;
		log_warn("conn=%llu: registering the area",
		    (unsigned long long)c->id);
		goto out_unmap;
	}
	c->area = a;
	*out = a;
	return 0;

out_unmap:
	munmap(a->base, size);
out_close:
	close(a->fd);
out_free:
	free(a);
out:
	return rc;
}

int
area_dup_fd(const struct area *a)
{
	return fcntl(a->fd, F_DUPFD_CLOEXEC, 0);
}

size_t
area_size(const struct area *a)
{
	return a->size;
}

uint8_t *
area_base(const struct area *a)
{
	return a->base;
}

uint32_t
area_lkey(const struct area *a)
{
	return a->mr->lkey;
}

/* Called at reap, after the QP is gone. */
void
area_free(struct rconn *c)
{
	struct area *a = c->area;

	if (a == NULL) {
		return;
	}
	dev_dereg_mr(c->dev, &c->mrs, a->mr);
	munmap(a->base, a->size);
	close(a->fd);
	free(a);
	c->area = NULL;
}
