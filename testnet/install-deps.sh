#!/usr/bin/env bash
# Installs the Debian packages Weft builds against and its tests use (only what is missing).
set -eu
pkgs=(libsodium-dev libpcap-dev libmnl-dev libnftables-dev pkg-config iproute2 nftables iputils-ping jq curl iperf3 tcpdump bc python3 dnsutils dnsmasq-base ethtool)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
