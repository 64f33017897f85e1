#ifndef WEFT_CLINUX_SHIM_H
#define WEFT_CLINUX_SHIM_H
/* The libc and kernel declarations Swift's Glibc module leaves out: GNU extensions (which need
   _GNU_SOURCE, which a module header cannot set) and Linux-only socket options. Only
   WeftSystem imports this. glibc's socket types first, then the kernel's (conventions.md). */
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <linux/if_packet.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

/* recvmmsg/sendmmsg: declared with a layout-identical struct (struct mmsghdr is a msghdr and
   an unsigned int). */
struct weft_mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; };
int recvmmsg(int sockfd, struct weft_mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout);
int sendmmsg(int sockfd, struct weft_mmsghdr *msgvec, unsigned int vlen, int flags);

/* setns(2) into a network namespace (CLONE_NEWNET). */
int setns(int fd, int nstype);
static inline int weft_enter_network_namespace(int fd) { return setns(fd, 0x40000000 /* CLONE_NEWNET */); }

/* UDP segmentation offload and receive coalescing (linux/udp.h, whose struct udphdr clashes
   with glibc's). */
static const int WEFT_UDP_SEGMENT = 103;
static const int WEFT_UDP_GRO = 104;

/* ioctl is variadic (unavailable in Swift): any ethtool command whose structure the caller laid
   out in `data` (ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS, ETHTOOL_SFEATURES, ...) on `ifname`, through
   the socket `fd`, which decides the network namespace. Returns ioctl's result. */
static inline int weft_ethtool(int fd, const char *ifname, void *data) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    ifr.ifr_data = (char *)data;
    return ioctl(fd, SIOCETHTOOL, &ifr);
}

/* The virtio-net header a packet socket with PACKET_VNET_HDR reads before each frame. */
static const int WEFT_PACKET_VNET_HDR = PACKET_VNET_HDR;
#endif
