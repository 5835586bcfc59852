#!/usr/bin/env python3
"""nfdumpcmp.py - compare a collector's flow records with what nfcapd/sfcapd recorded.

    nfdumpcmp.py --nfdump DIR_OR_FILE --decoded CSV [--time-tol-ms MS | --ignore-times]
                 [--icmp-type-lost all|v6] [--scale-by-sampling] [--list] [-q]

Both sides received the same export (test/tools/udptee.py).  The nfdump side is read with
`nfdump -o json` (TZ=UTC; "FLOW" and "EVENT" records, the latter being how nfdump 1.7.1
labels sfcapd's IPv6 records); the other side is a CSV with a header, e.g. nfpg.flows
exported with psql COPY ... TO STDOUT (FORMAT csv, HEADER), with the columns

    first_ms,last_ms,proto,srcaddr,dstaddr,srcport,dstport,tcp_flags,tos,packets,bytes

(ICMP as srcport 0, dstport type*256+code) and optionally any of

    dst_tos,in_if,out_if,src_mask,dst_mask,src_as,dst_as,next_hop,direction,fwd_status,
    src_vlan,dst_vlan,exporter,in_src_mac,out_dst_mac,in_dst_mac,out_src_mac,sampling_interval

Unlike pcapflowcheck.py, which sums records per 5-tuple, this compares record by record:
the records of each 5-tuple are sorted on both sides and paired, and every pair must agree
on packets, bytes, TCP flags (TCP only), ToS, first/last (within --time-tol-ms, default 0)
and each optional column present in the CSV.  nfdump cannot tell "not exported" from 0, so
an empty CSV value (NULL) equals 0 / 0.0.0.0 / 00:00:00:00:00:00, as does a field missing
from nfdump's JSON.

--ignore-times            do not compare first/last (nfdump decodes them wrongly).
--icmp-type-lost all|v6   nfdump shows ICMP type/code 0/0 (all ICMP, or ICMPv6 only)
                          where the CSV has them (nfdump 1.7.1's v9 decoder and sfcapd):
                          the CSV's ICMP dstport is taken as 0 for matching.
--scale-by-sampling       the CSV's packets and bytes are multiplied by its
                          sampling_interval column (nfcapd/sfcapd always upscale).
--list                    print every difference (default: the first 20).

Prints a summary and "RESULT: OK" (exit 0) when both sides hold the same number of
records and every pair agrees, else "RESULT: DIFFERENT" (exit 1).
"""
import argparse
import calendar
import csv
import json
import os
import subprocess
import sys
import time

ZERO_MAC = "00:00:00:00:00:00"

# CSV column -> (nfdump JSON keys, default when absent, kind)
OPTIONAL = {
    "dst_tos": (("dst_tos",), 0, int),
    "in_if": (("input_snmp",), 0, int),
    "out_if": (("output_snmp",), 0, int),
    "src_mask": (("src_mask",), 0, int),
    "dst_mask": (("dst_mask",), 0, int),
    "src_as": (("src_as",), 0, int),
    "dst_as": (("dst_as",), 0, int),
    "next_hop": (("ip4_next_hop", "ip6_next_hop"), "0.0.0.0", str),
    "direction": (("direction",), 0, int),
    "fwd_status": (("fwd_status",), 0, int),
    "src_vlan": (("src_vlan",), 0, int),
    "dst_vlan": (("dst_vlan",), 0, int),
    "exporter": (("ip4_router", "ip6_router"), "0.0.0.0", str),
    "in_src_mac": (("in_src_mac",), ZERO_MAC, str),
    "out_dst_mac": (("out_dst_mac",), ZERO_MAC, str),
    "in_dst_mac": (("in_dst_mac",), ZERO_MAC, str),
    "out_src_mac": (("out_src_mac",), ZERO_MAC, str),
}


def tcpflags(s):
    if isinstance(s, int):
        return s
    v = 0
    for i, c in enumerate(s[-8:].rjust(8, ".")):
        if c != ".":
            v |= 1 << (7 - i)
    return v


def epoch_ms(ts):
    d, frac = ts.split(".") if "." in ts else (ts, "0")
    return calendar.timegm(time.strptime(d, "%Y-%m-%dT%H:%M:%S")) * 1000 + int(frac.ljust(3, "0")[:3])


def norm(kind, v):
    if kind is int:
        return int(v)
    v = str(v).lower()
    return "0.0.0.0" if v in ("::", "") else v


def load_nfdump(path, columns):
    env = dict(os.environ, TZ="UTC")
    sel = ["-R", path] if os.path.isdir(path) else ["-r", path]
    out = subprocess.run(["nfdump"] + sel + ["-o", "json"], capture_output=True, text=True,
                         env=env, check=True).stdout
    recs = json.loads(out) if out.strip() else []
    flows = {}
    n = 0
    for r in recs:
        if r.get("type") not in ("FLOW", "EVENT") or "proto" not in r:
            continue
        n += 1
        v6 = "src6_addr" in r
        proto = r["proto"]
        if proto in (1, 58):
            sp, dp = 0, r.get("icmp_type", 0) * 256 + r.get("icmp_code", 0)
        else:
            sp, dp = r.get("src_port", 0), r.get("dst_port", 0)
        key = (proto, r["src6_addr"] if v6 else r["src4_addr"],
               r["dst6_addr"] if v6 else r["dst4_addr"], sp, dp)
        rec = dict(first=epoch_ms(r["first"]), last=epoch_ms(r["last"]),
                   packets=r.get("in_packets", 0), bytes=r.get("in_bytes", 0),
                   flags=tcpflags(r.get("tcp_flags", 0)) if proto == 6 else 0,
                   tos=r.get("src_tos", 0))
        for col in columns:
            keys, default, kind = OPTIONAL[col]
            val = next((r[k] for k in keys if k in r), default)
            rec[col] = norm(kind, val)
        flows.setdefault(key, []).append(rec)
    return flows, n


def load_decoded(path, icmp_lost, scale):
    flows = {}
    n = 0
    with open(path) as f:
        rd = csv.DictReader(f)
        columns = [c for c in rd.fieldnames if c in OPTIONAL]
        for r in rd:
            n += 1
            proto = int(r["proto"])
            dp = int(r["dstport"])
            if (icmp_lost == "all" and proto in (1, 58)) or (icmp_lost == "v6" and proto == 58):
                dp = 0
            key = (proto, r["srcaddr"], r["dstaddr"], int(r["srcport"]), dp)
            mult = int(r.get("sampling_interval") or 1) if scale else 1
            rec = dict(first=int(float(r["first_ms"])), last=int(float(r["last_ms"])),
                       packets=int(r["packets"]) * mult, bytes=int(r["bytes"]) * mult,
                       flags=int(r["tcp_flags"] or 0) if proto == 6 else 0,
                       tos=int(r["tos"] or 0))
            for col in columns:
                _, default, kind = OPTIONAL[col]
                rec[col] = norm(kind, r[col] if r[col] != "" else default)
            flows.setdefault(key, []).append(rec)
    return flows, n, columns


def sort_key(rec):
    return tuple(rec[k] for k in ("packets", "bytes", "flags", "tos", "first", "last"))


def compare(key, mine, theirs, columns, tol):
    """Pair the sorted records of one 5-tuple; return a list of differences."""
    diffs = []
    for a, b in zip(sorted(mine, key=sort_key), sorted(theirs, key=sort_key)):
        why = []
        for f in ["packets", "bytes", "flags", "tos"] + columns:
            if a[f] != b[f]:
                why.append("%s %s != nfdump %s" % (f, a[f], b[f]))
        for f in ("first", "last"):
            if tol >= 0 and abs(a[f] - b[f]) > tol:
                why.append("%s %+d ms" % (f, a[f] - b[f]))
        if why:
            diffs.append("MISMATCH %s: %s" % (key, "; ".join(why)))
    if len(mine) != len(theirs):
        diffs.append("RECORDS %s: %d here, %d in nfdump" % (key, len(mine), len(theirs)))
    return diffs


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nfdump", required=True, metavar="DIR_OR_FILE")
    p.add_argument("--decoded", required=True, metavar="CSV")
    p.add_argument("--time-tol-ms", type=int, default=0)
    p.add_argument("--ignore-times", action="store_true")
    p.add_argument("--icmp-type-lost", choices=("all", "v6"))
    p.add_argument("--scale-by-sampling", action="store_true")
    p.add_argument("--list", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    a = p.parse_args()

    mine, nmine, columns = load_decoded(a.decoded, a.icmp_type_lost, a.scale_by_sampling)
    theirs, ntheirs = load_nfdump(a.nfdump, columns)
    lines = []
    for key in sorted(set(mine) | set(theirs), key=str):
        if key not in theirs:
            lines.append("EXTRA %s: %d records not in nfdump" % (key, len(mine[key])))
        elif key not in mine:
            lines.append("MISSING %s: %d nfdump records" % (key, len(theirs[key])))
        else:
            lines += compare(key, mine[key], theirs[key], columns,
                             -1 if a.ignore_times else a.time_tol_ms)
    tot = [sum(r[f] for v in d.values() for r in v) for d in (mine, theirs)
           for f in ("packets", "bytes")]
    print("records: %d here (%d keys), %d in nfdump (%d keys); packets %d / %d, bytes %d / %d"
          % (nmine, len(mine), ntheirs, len(theirs), tot[0], tot[2], tot[1], tot[3]))
    print("compared: packets, bytes, tcp flags, tos, %s%s" % (
        "not times" if a.ignore_times else "first/last (+-%d ms)" % a.time_tol_ms,
        "".join(", " + c for c in columns)))
    if not a.quiet or a.list:
        for line in lines[: None if a.list else 20]:
            print("  " + line)
        if not a.list and len(lines) > 20:
            print("  ... %d more (use --list)" % (len(lines) - 20))
    ok = not lines and nmine == ntheirs
    print("RESULT: %s" % ("OK" if ok else "DIFFERENT"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
