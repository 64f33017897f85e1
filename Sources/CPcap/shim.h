#ifndef WEFT_CPCAP_SHIM_H
#define WEFT_CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <time.h>

/* recvmmsg/sendmmsg need _GNU_SOURCE, which a module header cannot set: declare them with a
   layout-identical struct (struct mmsghdr is a msghdr and an unsigned int). */
struct weft_mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; };
int recvmmsg(int sockfd, struct weft_mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout);
int sendmmsg(int sockfd, struct weft_mmsghdr *msgvec, unsigned int vlen, int flags);
#endif
