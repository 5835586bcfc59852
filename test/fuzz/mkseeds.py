#!/usr/bin/env python3
"""mkseeds.py - seed inputs for decode_fuzz.c (test/fuzz/seeds/<decoder>/).

An input is a sequence of datagrams, each prefixed with its 2-byte length.
v5/v9/IPFIX seeds come from flowgen's pcaps in test/data/decoders (v9 and
IPFIX seeds pair each template datagram with the datagrams after it); v7
seeds are v5 records widened to 52 bytes; v1 seeds are v5 records moved to
the v1 layout, up to 24 per PDU, several PDUs in one datagram, plus a
Cisco-style ICMP record; sFlow seeds are built here:
compact and expanded flow samples (Ethernet/VLAN/IPv4/TCP, IPv6/UDP, ICMP)
with extended switch/router/gateway records, and a counter sample.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "decoders")


def pcap_payloads(name):
    with open(os.path.join(DATA, name), "rb") as f:
        f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            incl = struct.unpack("<I", h[8:12])[0]
            pkt = f.read(incl)
            ihl = (pkt[0] & 15) * 4
            yield pkt[ihl + 8:]


def seed(d, name, datagrams):
    os.makedirs(os.path.join(HERE, "seeds", d), exist_ok=True)
    with open(os.path.join(HERE, "seeds", d, name), "wb") as f:
        for g in datagrams:
            f.write(struct.pack("!H", len(g)) + g)


def v7_of(v5):
    count = struct.unpack("!H", v5[2:4])[0]
    out = b"\x00\x07" + v5[2:24]
    for i in range(count):
        out += v5[24 + 48 * i:24 + 48 * (i + 1)] + b"\0\0\0\0"
    return out


def v1_of(v5):
    """A v5 datagram as v1 PDUs back to back (at most 24 records each)."""
    count = struct.unpack("!H", v5[2:4])[0]
    recs = []
    for i in range(count):
        r = v5[24 + 48 * i:24 + 48 * (i + 1)]
        # v5: pad, tcp_flags, prot, tos at 36-39; v1: pad(2), prot, tos, flags at 36-40
        recs.append(r[:36] + b"\0\0" + r[38:40] + r[37:38] + bytes(7))
    out = b""
    for k in range(0, count, 24):
        part = recs[k:k + 24]
        out += struct.pack("!HH", 1, len(part)) + v5[4:16] + b"".join(part)
    return out


def v1_icmp():
    rec = struct.pack("!4s4s4sHHIIIIHHHBBB7s", bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]),
                      bytes(4), 1, 2, 3, 252, 1000, 2000, 0x0303, 0, 0, 1, 0, 0, bytes(7))
    return struct.pack("!HHIII", 1, 1, 5000, 1700000000, 0) + rec


def sflow_seeds():
    def xdr_opaque(b):
        return struct.pack("!I", len(b)) + b + b"\0" * (-len(b) % 4)

    def rec(fmt, body):
        return struct.pack("!II", fmt, len(body)) + body

    eth = bytes.fromhex("00112233445566778899aabb8100006408004500003c1c4640004006"
                        "0000c0a80001c0a800c7") + struct.pack("!HHIIBBH", 40000, 443, 1, 0, 0x50, 0x12, 1024)
    ip6 = (struct.pack("!IHBB", 0x60000000, 16, 17, 64) + bytes(15) + b"\1" + bytes(15) + b"\2" +
           struct.pack("!HHHH", 5353, 53, 16, 0) + bytes(8))
    icmp = bytes.fromhex("4500001c00000000400100000a0000010a000002") + b"\x08\x00\x00\x00\x00\x00\x00\x00"
    raw_eth = rec(1, struct.pack("!III", 1, 1518, 4) + xdr_opaque(eth))
    raw_v6 = rec(1, struct.pack("!III", 12, 100, 0) + xdr_opaque(ip6))
    raw_icmp = rec(1, struct.pack("!III", 11, 46, 0) + xdr_opaque(icmp))
    switch = rec(1001, struct.pack("!IIII", 100, 0, 200, 0))
    router = rec(1002, struct.pack("!I4sII", 1, bytes([10, 0, 0, 254]), 24, 16))
    gateway = rec(1003, struct.pack("!I4sIIII", 1, bytes([10, 0, 0, 253]), 65000, 65001, 65002, 1) +
                  struct.pack("!II", 2, 2) + struct.pack("!II", 3356, 15169) + struct.pack("!II", 0, 0))
    recs = [raw_eth, switch, router, gateway]
    compact = struct.pack("!IIIIIIII", 1, 3, 400, 4000, 0, 5, 6, len(recs)) + b"".join(recs)
    expanded = struct.pack("!IIIIIIIIIII", 1, 0, 3, 1000, 9999, 0, 0, 7, 0, 8, 2) + raw_v6 + raw_icmp
    counters = struct.pack("!III", 1, 0, 1) + rec(1, bytes(88))

    def dgram(seq, samples):
        body = b"".join(struct.pack("!II", f, len(s)) + s for f, s in samples)
        return struct.pack("!II4sIIII", 5, 1, bytes([192, 0, 2, 1]), 0, seq, 123456, len(samples)) + body

    seed("sflow", "compact", [dgram(1, [(1, compact)])])
    seed("sflow", "expanded", [dgram(1, [(3, expanded)])])
    seed("sflow", "mixed", [dgram(1, [(1, compact), (2, counters)]), dgram(2, [(3, expanded), (4, counters)])])


def main():
    v5 = list(pcap_payloads("v5.pcap"))
    for i, g in enumerate(v5[:4]):
        seed("v5", "flowgen-%d" % i, [g])
        seed("v7", "flowgen-%d" % i, [v7_of(g)])
        seed("v1", "flowgen-%d" % i, [v1_of(g)])
    seed("v1", "icmp", [v1_icmp(), v1_of(v5[0])])
    for name, d in (("v9.pcap", "v9"), ("ipfix.pcap", "ipfix")):
        gs = list(pcap_payloads(name))
        tmpl = [i for i, g in enumerate(gs) if len(gs) > i + 1 and
                struct.unpack("!H", g[20:22] if d == "v9" else g[16:18])[0] in (0, 2)]
        for k, i in enumerate(tmpl[:4]):
            seed(d, "flowgen-%d" % k, gs[i:i + 3])
            seed(d, "flowgen-rev-%d" % k, [gs[i + 1], gs[i]])
    sflow_seeds()
    template_seeds(list(pcap_payloads("v9.pcap")), list(pcap_payloads("ipfix.pcap")))


def template_seeds(v9, ipfix):
    """Seeds of template_fuzz.c: records selector, 2-byte length, datagram.

    Selector bits 0-1 address (3 = the first one as ::ffff:a.b.c.d), bit 2
    IPFIX, bit 3 set: source id / domain = bits 4-5.  flowgen's first
    datagram of each capture is a template, the next ones data.
    """
    def rec(sel, g):
        return struct.pack("!BH", sel, len(g)) + g

    def write(name, recs):
        os.makedirs(os.path.join(HERE, "seeds", "templates"), exist_ok=True)
        with open(os.path.join(HERE, "seeds", "templates", name), "wb") as f:
            f.write(b"".join(recs))

    # the same template ids from two exporters, one of them both v9 and IPFIX
    write("two-exporters", [rec(0, v9[0]), rec(5, ipfix[0]), rec(0, v9[1]), rec(5, ipfix[1]),
                            rec(4, ipfix[0]), rec(4, ipfix[1])])
    # data before its template, while another exporter's template of that id is known
    write("pending", [rec(0, v9[0]), rec(2, v9[1]), rec(0, v9[1]), rec(2, v9[0]), rec(2, v9[3])])
    # one address, two domains: the template of domain 1 must not serve domain 2
    write("domains", [rec(4 | 8 | 16, ipfix[0]), rec(4 | 8 | 32, ipfix[1]),
                      rec(4 | 8 | 16, ipfix[1]), rec(4 | 8 | 32, ipfix[0]), rec(4 | 8 | 32, ipfix[3])])
    # an IPv4 exporter seen through a dual-stack socket is the same exporter
    write("mapped", [rec(0, v9[0]), rec(3, v9[1]), rec(1, v9[1]), rec(3, v9[2])])


if __name__ == "__main__":
    main()
