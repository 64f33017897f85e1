#ifndef WEFT_CNFTABLES_SHIM_H
#define WEFT_CNFTABLES_SHIM_H
/* libnftables: nftables rules from their text form, as `nft` takes them. Only WeftDataPath's
   HostFirewall imports this. */
#include <stdio.h>
#include <nftables/libnftables.h>
#endif
