#!/usr/bin/env python3
"""A DNS upstream with a spoofer on its path, for the spoofing scenario: to every query it first
answers with the query's ID and port but for another question (evil.example. A 6.6.6.6), as an
on-path attacker racing the server would, then 300 ms later with the real answer (A 1.2.3.4).

    spoofing-upstream.py SECONDS
"""
import socket
import struct
import sys
import time


def answer(qid, qname, address):
    header = qid + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0)
    return header + qname + struct.pack("!HH", 1, 1) + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(address)


def qname_of(query):
    i = 12
    while query[i] != 0:
        i += query[i] + 1
    return query[12:i + 1]


evil = b"\x04evil\x07example\x00"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 53))
s.settimeout(0.5)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    try:
        query, client = s.recvfrom(512)
    except socket.timeout:
        continue
    if len(query) < 17:
        continue
    s.sendto(answer(query[:2], evil, "6.6.6.6"), client)
    time.sleep(0.3)
    s.sendto(answer(query[:2], qname_of(query), "1.2.3.4"), client)
