#!/usr/bin/env python3
"""udptee.py - forward every UDP datagram to several collectors, unchanged, and log it.

    udptee.py --listen 127.0.0.1:P --source 127.0.0.N --to 127.0.0.1:A --to 127.0.0.1:B
              [--log FILE] [--ready FILE]

Lets one export run feed nfpgd and nfcapd/sfcapd with byte-identical datagrams, so the two
collectors can be compared record by record.  Datagrams are sent from --source (any
127.0.0.0/8 address works on Linux without configuration), so each test case shows up as
its own exporter address in both collectors even when they are shared.

--log FILE gets one line per datagram: arrival time (epoch seconds), length, hex bytes;
a decoder bug found by a test can be reproduced from it.  --ready FILE is created once the
sockets are bound.  Runs until SIGTERM/SIGINT, then prints "udptee: N datagrams, B bytes"
to stderr and exits 0.
"""
import argparse
import signal
import socket
import sys
import time


def hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", required=True, type=hostport)
    p.add_argument("--source", default="127.0.0.1")
    p.add_argument("--to", action="append", required=True, type=hostport)
    p.add_argument("--log")
    p.add_argument("--ready")
    a = p.parse_args()

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    rx.bind(a.listen)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    tx.bind((a.source, 0))
    log = open(a.log, "w") if a.log else None
    if a.ready:
        open(a.ready, "w").close()

    count = total = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    rx.settimeout(0.2)
    while not stop:
        try:
            data = rx.recv(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        for dest in a.to:
            tx.sendto(data, dest)
        count += 1
        total += len(data)
        if log:
            log.write("%.6f %d %s\n" % (time.time(), len(data), data.hex()))
            log.flush()
    print("udptee: %d datagrams, %d bytes" % (count, total), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
