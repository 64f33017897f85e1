#ifndef WEFT_CMNL_SHIM_H
#define WEFT_CMNL_SHIM_H
/* glibc's socket types first, or the kernel's clash with them (see conventions.md). */
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <net/if.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <linux/fib_rules.h>
#include <linux/veth.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <libmnl/libmnl.h>

/* Function-like macros are not imported into Swift; these wrap the ones we use. */
static inline size_t weft_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }
static inline unsigned int weft_nlmsg_align(unsigned int len) { return NLMSG_ALIGN(len); }

/* setns needs _GNU_SOURCE, which a module header cannot set: declare what we use. */
int setns(int fd, int nstype);
static inline int weft_enter_network_namespace(int fd) { return setns(fd, 0x40000000 /* CLONE_NEWNET */); }

/* ioctl is variadic (unavailable in Swift): set one ethtool value (ETHTOOL_S*) on `ifname`
   through the socket `fd`, which decides the network namespace. Returns ioctl's result. */
static inline int weft_ethtool_set(int fd, const char *ifname, unsigned int cmd, unsigned int value) {
    struct ethtool_value ev = { .cmd = cmd, .data = value };
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    ifr.ifr_data = (char *)&ev;
    return ioctl(fd, SIOCETHTOOL, &ifr);
}
#endif
