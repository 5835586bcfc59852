#!/usr/bin/env python3
"""stat_compare.py NFDUMP_CSV NFPG_CSV: compare an `nfdump -s ... -n 0 -o csv`
table with nfpg.nf_stat() rows printed as CSV (ts,te,td,pr,val,fl,flP,pkt,
pktP,byt,bytP,pps,bps,bpp with raw percentages).  Every group must be present
on both sides with identical values; percentages are formatted here with
C's %.1f, as nfdump prints them.  Exit 1 and a report on the first
differences."""
import csv
import sys


def read_nfdump(path):
    rows = {}
    with open(path) as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            if not row:
                break
            row = [c.strip() for c in row]
            rows[(row[3], row[4])] = row
    return rows


def read_nfpg(path):
    rows = {}
    with open(path) as f:
        for row in csv.reader(f):
            for i in (6, 8, 10):
                row[i] = '%.1f' % float(row[i])
            row[4] = row[4].strip()
            rows[(row[3], row[4])] = row
    return rows


def main():
    nf, pg = read_nfdump(sys.argv[1]), read_nfpg(sys.argv[2])
    bad = []
    for k in sorted(set(nf) | set(pg)):
        if nf.get(k) != pg.get(k):
            bad.append('%s\n  nfdump %s\n  nfpg   %s' % (k, nf.get(k), pg.get(k)))
    if bad:
        print('%d of %d groups differ' % (len(bad), len(nf)))
        print('\n'.join(bad[:5]))
        return 1
    print('%d groups identical' % len(nf))
    return 0


sys.exit(main())
