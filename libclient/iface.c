/* SPDX-License-Identifier: ISC */
/*
 * iface.c: FSCTL_QUERY_NETWORK_INTERFACE_INFO output ([MS-SMB2] 2.2.32.5)
 * for the daemon's RDMA listeners.
 *
 * Each NETWORK_INTERFACE_INFO entry is 152 bytes, little-endian:
 *	  0  u32 Next        offset to the next entry, 0 on the last
 *	  4  u32 IfIndex
 *	  8  u32 Capability  RDMA_CAPABLE
 *	 12  u32 Reserved
 *	 16  u64 LinkSpeed   bits per second
 *	 24  SockAddr_Storage, 128 bytes: u16 Family (0x0002 InterNetwork or
 *	     0x0017 InterNetworkV6), then, in network byte order, SOCKADDR_IN
 *	     (Port, IPv4 address, 8 reserved bytes) or SOCKADDR_IN6 (Port,
 *	     FlowInfo, IPv6 address, ScopeId); the rest is zero.
 * Port, FlowInfo and ScopeId are sent as zero, as the server SHOULD; the
 * client ignores them. 152 is a multiple of 8, so entries packed back to
 * back keep the alignment Next requires.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "frame.h"
#include "libclient/smbdirect-ctl.h"

#define IFACE_ENTRY_SIZE	152
#define IFACE_RDMA_CAPABLE	0x00000002u
#define IFACE_FAMILY_V4		0x0002
#define IFACE_FAMILY_V6		0x0017
#define IFACE_SOCKADDR		24

struct iface_addr {
	bool	v6;
	uint8_t	a[16];
};

static int
iface_parse(const struct sdctl_iface *i, struct iface_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->v6 = i->ipv6;
	return memchr(i->address, '\0', sizeof(i->address)) != NULL &&
	    inet_pton(i->ipv6 ? AF_INET6 : AF_INET, i->address, out->a) == 1 ?
	    0 : -EINVAL;
}

static bool
iface_same(const struct iface_addr *a, const struct iface_addr *b)
{
	return a->v6 == b->v6 && memcmp(a->a, b->a, sizeof(a->a)) == 0;
}

/*
 * A wildcard listener (0.0.0.0, ::) names no address a client could use,
 * and [MS-SMB2] 3.3.5.15.11 forbids entries with IfIndex 0.
 */
static bool
iface_usable(const struct sdctl_iface *i, const struct iface_addr *a)
{
	static const uint8_t zero[16];

	return i->if_index != 0 &&
	    memcmp(a->a, zero, a->v6 ? 16 : 4) != 0;
}

/* Does @ifs[@i] get an entry: usable, and the first with its address? */
static int
iface_wanted(const struct sdctl_iface *ifs, size_t i, bool *wanted)
{
	struct iface_addr a, b;
	size_t j;
	int rc;

	rc = iface_parse(&ifs[i], &a);
	if (rc == 0) {
		*wanted = iface_usable(&ifs[i], &a);
		for (j = 0; j < i && *wanted; j++) {
			if (iface_parse(&ifs[j], &b) == 0 &&
			    iface_same(&a, &b) && iface_usable(&ifs[j], &b)) {
				*wanted = false;
			}
		}
	}
	return rc;
}

static void
iface_encode(const struct sdctl_iface *i, const struct iface_addr *a,
    uint8_t *e, bool last)
{
	uint8_t *sa = e + IFACE_SOCKADDR;

	memset(e, 0, IFACE_ENTRY_SIZE);
	frame_put_le32(e, last ? 0 : IFACE_ENTRY_SIZE);
	frame_put_le32(e + 4, i->if_index);
	frame_put_le32(e + 8, IFACE_RDMA_CAPABLE);
	frame_put_le64(e + 16, i->link_speed_bps);
	if (a->v6) {
		frame_put_le16(sa, IFACE_FAMILY_V6);
		/* Port at +2 and FlowInfo at +4 stay 0. */
		memcpy(sa + 8, a->a, 16);
		/* ScopeId at +24 stays 0. */
	} else {
		frame_put_le16(sa, IFACE_FAMILY_V4);
		/* Port at +2 stays 0. */
		memcpy(sa + 4, a->a, 4);
	}
}

int
sdctl_network_interface_info(const struct sdctl_iface *ifs, size_t n,
    uint8_t *buf, size_t buflen, size_t *out_len)
{
	struct iface_addr a;
	size_t i, entries = 0, k = 0;
	bool wanted;
	int rc;

	if (ifs == NULL || n == 0 || out_len == NULL) {
		rc = -EINVAL;
		goto out;
	}
	/* Count first: nothing is written unless everything fits. */
	for (i = 0; i < n; i++) {
		rc = iface_wanted(ifs, i, &wanted);
		if (rc != 0) {
			goto out;
		}
		entries += wanted;
	}
	if (entries == 0) {
		rc = -EINVAL;
		goto out;
	}
	if (buf == NULL || buflen / IFACE_ENTRY_SIZE < entries) {
		rc = -ENOSPC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		iface_wanted(ifs, i, &wanted);
		if (!wanted) {
			continue;
		}
		iface_parse(&ifs[i], &a);
		k++;
		iface_encode(&ifs[i], &a, buf + (k - 1) * IFACE_ENTRY_SIZE,
		    k == entries);
	}
	*out_len = entries * IFACE_ENTRY_SIZE;
	rc = 0;
out:
	return rc;
}
