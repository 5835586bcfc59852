#!/usr/bin/env python3
"""v1gen.py - send crafted NetFlow v1 datagrams to collectors and write their ground truth.

    v1gen.py --to HOST:PORT [--to HOST:PORT ...] --truth CSV [--seed N] [--save FILE]

Every datagram goes to every --to address, in the same order, so nfpgd and nfcapd can be
compared.  Sent from 127.0.0.1 (source port chosen by the kernel):

  1. 24 records (nfcapd's maximum): TCP, UDP, ICMP (half with type/code in the destination
     port, half the Cisco way, byte-swapped in the source port), GRE, ESP; random flags,
     ToS, interfaces, next hops (some 0.0.0.0), packet and byte counts up to 2^32-1;
     a header uptime of about 35 days;
  2. two v1 PDUs back to back in one datagram (5 and 3 records, different headers);
  3. uptime wraps: First > Last, and Last far above the header's uptime;
  4. a PDU of one record followed by 7 junk bytes (the record counts, the rest not);
  5. malformed, no record may come out: count 25 (25 records), count 3 with 2 records,
     count 0, a 10-byte datagram.

and from 127.0.0.2 one record whose Last is 50 s above the header's uptime (within the
100 s slack nfpgd's v5 rule allows; nfcapd 1.7.1's v1 decoder has no slack and puts it
2^32 ms earlier).  Its source address is 10.99.0.1.

--truth CSV gets one line per record a collector must store, as nfpgd stores it, with
the columns first_ms,last_ms,proto,srcaddr,dstaddr,srcport,dstport,tcp_flags,tos,
packets,bytes,in_if,out_if,next_hop,exporter (ICMP: srcport 0, dstport type*256+code).
Times follow the v1 header: boot = unix_secs*1000 + unix_nsecs/10^6 - SysUptime,
first = boot + First (- 2^32 if First > Last), last = boot + Last, both - 2^32 if Last
exceeds SysUptime by more than 100 000 ms.  --save FILE writes every datagram as a hex
line.  Prints "v1gen: D datagrams, R records (G good datagrams, M malformed)".
"""
import argparse
import csv
import random
import socket
import struct
import sys
import time

WRAP = 1 << 32
SLACK_MS = 100000


def hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def ip(n):
    return socket.inet_ntoa(struct.pack("!I", n))


class Gen:
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.truth = []

    def header(self, count, uptime, secs, nsecs):
        return struct.pack("!HHIII", 1, count, uptime, secs, nsecs)

    def record(self, hdr, exporter, **f):
        """One 48-byte record; appends what a collector must store to the truth."""
        r = self.rnd
        proto = f.get("proto", r.choice((6, 6, 17, 17, 1, 47, 50)))
        src = f.get("src", 0x0a000000 | r.randrange(1, 1 << 16))
        dst = f.get("dst", 0xc0a80000 | r.randrange(1, 1 << 16))
        nexthop = f.get("nexthop", r.choice((0, 0xc0000200 | r.randrange(1, 255))))
        i_if, o_if = f.get("input", r.randrange(0, 1 << 16)), f.get("output", r.randrange(0, 1 << 16))
        packets = f.get("packets", r.choice((1, r.randrange(1, 1000), (1 << 32) - 1)))
        octets = f.get("octets", r.choice((40, r.randrange(40, 1 << 20), (1 << 32) - 1)))
        uptime = struct.unpack("!I", hdr[4:8])[0]
        first = f.get("first", max(0, uptime - r.randrange(1000, 600000)))
        last = f.get("last", min(uptime, first + r.randrange(0, 300000)))
        sport, dport = f.get("sport", r.randrange(0, 1 << 16)), f.get("dport", r.randrange(0, 1 << 16))
        if proto == 1 and "sport" not in f:
            tc = r.randrange(0, 1 << 16)
            sport, dport = ((tc & 0xff) << 8 | tc >> 8, 0) if r.random() < 0.5 else (0, tc)
        flags, tos = f.get("flags", r.randrange(0, 256)), f.get("tos", r.randrange(0, 256))
        # pad1 and pad2/reserved get junk: a collector must not read them
        rec = struct.pack("!IIIHHIIIIHH2sBBB7s", src, dst, nexthop, i_if, o_if, packets, octets,
                          first, last, sport, dport, b"\xee\xee", proto, tos, flags, b"\xee" * 7)
        secs, nsecs = struct.unpack("!II", hdr[8:16])
        boot = secs * 1000 + nsecs // 1000000 - uptime
        first_ms, last_ms = boot + first, boot + last
        if first > last:
            first_ms -= WRAP
        if last > uptime and last - uptime > SLACK_MS:
            first_ms -= WRAP
            last_ms -= WRAP
        if proto == 1 and sport != 0:
            sport, dport = 0, (sport >> 8) | ((sport & 0xff) << 8)
        self.truth.append([first_ms, last_ms, proto, ip(src), ip(dst), sport, dport, flags, tos,
                           packets, octets, i_if, o_if, ip(nexthop), exporter])
        return rec

    def pdu(self, n, uptime, secs, nsecs, exporter="127.0.0.1", **f):
        hdr = self.header(n, uptime, secs, nsecs)
        return hdr + b"".join(self.record(hdr, exporter, **f) for _ in range(n))

    def malformed(self, count, records, secs):
        """Bytes only: nothing of it may reach the truth."""
        keep = len(self.truth)
        out = self.pdu(records, 1000000, secs, 0)[:16 + 48 * records]
        del self.truth[keep:]
        return out[:2] + struct.pack("!H", count) + out[4:]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--to", action="append", required=True, type=hostport)
    p.add_argument("--truth", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--save")
    a = p.parse_args()

    g = Gen(a.seed)
    now = int(time.time())
    good = [
        g.pdu(24, 3000000000, now, g.rnd.randrange(10 ** 9)),
        g.pdu(5, 2000000, now, 123456789) + g.pdu(3, 7000000, now + 1, 987654321),
        g.pdu(1, 5000, now, 0, first=WRAP - 4000, last=1000) +
        g.pdu(1, 5000, now, 0, first=WRAP - 100000, last=WRAP - 50000),
        g.pdu(1, 4000000, now, 500000000) + b"\x00\x01\x00\x05\xee\xee\xee",
    ]
    bad = [g.malformed(25, 25, now), g.malformed(3, 2, now), g.malformed(0, 0, now),
           g.malformed(1, 1, now)[:10]]
    slack = g.pdu(1, 1000000, now, 0, exporter="127.0.0.2", src=0x0a630001,
                  first=1000000, last=1050000)

    main_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    main_sock.bind(("127.0.0.1", 0))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.2", 0))
    sent = [(main_sock, d) for d in good + bad] + [(other, slack)]
    save = open(a.save, "w") if a.save else None
    for s, d in sent:
        for dest in a.to:
            s.sendto(d, dest)
        if save:
            save.write(d.hex() + "\n")
        time.sleep(0.01)
    if save:
        save.close()
    with open(a.truth, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["first_ms", "last_ms", "proto", "srcaddr", "dstaddr", "srcport", "dstport",
                    "tcp_flags", "tos", "packets", "bytes", "in_if", "out_if", "next_hop", "exporter"])
        w.writerows(g.truth)
    print("v1gen: %d datagrams, %d records (%d good datagrams, %d malformed)"
          % (len(sent), len(g.truth), len(good) + 1, len(bad)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
