#!/usr/bin/env python3
"""Resends a sleeve datagram captured by tcpdump (Linux "any" capture), for the replay test.

    resend-datagram.py CAPTURE FROM_IP TO_IP PORT [--flip]

Picks the last UDP datagram FROM_IP -> TO_IP:PORT in CAPTURE that carries frames (not a
heartbeat) and sends its payload again to TO_IP:PORT; with --flip, a forgery: a fresh counter
(so the replay window lets it through to the seal check) and one byte of the body changed.
Prints the number of bytes sent.
"""
import socket
import struct
import sys

path, src, dst, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
flip = "--flip" in sys.argv
data = open(path, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
linktype = struct.unpack(endian + "I", data[20:24])[0]
link_len = {113: 16, 276: 20, 1: 14}[linktype]
offset, chosen = 24, None
while offset + 16 <= len(data):
    _, _, caplen, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
    packet = data[offset + 16:offset + 16 + caplen]
    offset += 16 + caplen
    ip = packet[link_len:]
    if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    if socket.inet_ntoa(ip[12:16]) != src or socket.inet_ntoa(ip[16:20]) != dst:
        continue
    udp = ip[ihl:]
    if struct.unpack(">H", udp[2:4])[0] != port:
        continue
    payload = udp[8:]
    if len(payload) > 31 and payload[1] & 4 == 0:  # not a heartbeat
        chosen = payload
if chosen is None:
    sys.exit("no datagram with frames from %s to %s:%d in %s" % (src, dst, port, path))
if flip:
    chosen = chosen[:22] + b"\x7f" * 8 + chosen[30:40] + bytes([chosen[40] ^ 0x55]) + chosen[41:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print(s.sendto(chosen, (dst, port)))
