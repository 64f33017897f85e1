#ifndef WEFT_CPCAP_SHIM_H
#define WEFT_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
