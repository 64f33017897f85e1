#ifndef WEFT_CMNL_SHIM_H
#define WEFT_CMNL_SHIM_H
/* glibc's socket types first, or the kernel's clash with them (see conventions.md). */
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <linux/fib_rules.h>
#include <linux/veth.h>
#include <libmnl/libmnl.h>

/* Function-like macros are not imported into Swift; these wrap the ones we use. */
static inline size_t weft_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }
static inline unsigned int weft_nlmsg_align(unsigned int len) { return NLMSG_ALIGN(len); }
#endif
