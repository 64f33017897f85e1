#!/usr/bin/env python3
"""A TCP or UDP stream whose bytes can be checked at the far end (the sleeve's scenarios).

  stream-check.py serve tcp PORT            accept one connection, print "BYTES SHA256" of all it sent
  stream-check.py send tcp ADDR PORT MB     send MB mebibytes of a fixed pseudo-random pattern
  stream-check.py serve udp PORT COUNT      print how many of COUNT datagrams arrived intact (5 s)
  stream-check.py send udp ADDR PORT COUNT  send COUNT numbered 1200-byte datagrams
"""
import hashlib, random, socket, sys, time

def pattern(n, seed=6783):
    rng = random.Random(seed)
    return rng.randbytes(n)

def datagram(i):
    body = pattern(1196, seed=i)
    return i.to_bytes(4, "big") + body

def main(argv):
    role, kind = argv[1], argv[2]
    if kind == "tcp" and role == "serve":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(argv[3]))); s.listen(1)
        s.settimeout(60)
        c, _ = s.accept()
        c.settimeout(60)
        h, n = hashlib.sha256(), 0
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            h.update(b); n += len(b)
        print(n, h.hexdigest())
    elif kind == "tcp" and role == "send":
        data = pattern(int(argv[5]) << 20)
        s = socket.create_connection((argv[3], int(argv[4])), timeout=60)
        s.sendall(data); s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
        print(len(data), hashlib.sha256(data).hexdigest())
    elif kind == "udp" and role == "serve":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", int(argv[3]))); s.settimeout(0.5)
        want, good, deadline = int(argv[4]), set(), time.time() + 5
        while time.time() < deadline and len(good) < want:
            try:
                b = s.recv(2048)
            except socket.timeout:
                continue
            i = int.from_bytes(b[:4], "big")
            if b == datagram(i):
                good.add(i)
        print(len(good))
    elif kind == "udp" and role == "send":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(int(argv[5])):
            s.sendto(datagram(i), (argv[3], int(argv[4])))
            time.sleep(0.002)
    else:
        sys.exit(__doc__)

if __name__ == "__main__":
    main(sys.argv)
