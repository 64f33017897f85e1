#!/usr/bin/env bash
# Installs the Debian packages Weft builds against and its tests use (only what is missing):
# the libraries and network tools, then the container runtimes the runtime scenarios drive
# (podman with its CNI plugins and runc, docker.io, busybox for offline images, Go and
# libcni's source for the libcni driver), those without their recommends.
set -eu
pkgs=(libsodium-dev libpcap-dev libmnl-dev libnftables-dev pkg-config iproute2 nftables iputils-ping jq curl iperf3 tcpdump bc python3 dnsutils dnsmasq-base ethtool)
runtimes=(podman containernetworking-plugins runc conmon catatonit uidmap iptables busybox-static docker.io golang-go golang-github-appc-cni-dev)
missing=()
missing_runtimes=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
for p in "${runtimes[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing_runtimes+=("$p"); done
if [ $((${#missing[@]} + ${#missing_runtimes[@]})) -gt 0 ]; then
    echo "installing: ${missing[*]} ${missing_runtimes[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    [ ${#missing[@]} -gt 0 ] && apt-get install -y -qq "${missing[@]}" >/dev/null
    [ ${#missing_runtimes[@]} -gt 0 ] && apt-get install -y -qq --no-install-recommends "${missing_runtimes[@]}" >/dev/null
fi
exit 0
