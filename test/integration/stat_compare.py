#!/usr/bin/env python3
"""stat_compare.py [--top ORDER] NFDUMP_CSV NFPG_CSV: compare an `nfdump -s ... -n 0 -o csv`
table with nfpg.nf_stat() rows printed as CSV (ts,te,td,pr,val,fl,flP,pkt,
pktP,byt,bytP,pps,bps,bpp with raw percentages).  Every group must be present
on both sides with identical values; percentages are formatted here with
C's %.1f, as nfdump prints them.  With --top ORDER the tables are nfdump's
top N: both must list the same sort values in the same order, and rows whose
sort value is not tied (nor the last, which may tie with rows cut off) must
be identical.  Exit 1 and a report on the first
differences."""
import csv
import sys


# the CSV column holding each order key's sort value
SORT_COLUMN = {'flows': 5, 'packets': 7, 'ipkg': 7, 'opkg': 7, 'bytes': 9, 'ibyte': 9,
               'obyte': 9, 'pps': 11, 'ipps': 11, 'opps': 11, 'bps': 12, 'ibps': 12,
               'obps': 12, 'bpp': 13, 'ibpp': 13, 'obpp': 13}


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


def compare_top(order, nf, pg):
    col = SORT_COLUMN[order]
    nfv = [int(r[col]) for r in nf.values()]
    pgv = [int(r[col]) for r in pg.values()]
    if nfv != pgv:
        print('sort values differ: nfdump %s nfpg %s' % (nfv, pgv))
        return 1
    for k, r in nf.items():
        # a value tied in the table, or the last one (tied with rows cut off)
        if nfv.count(int(r[col])) == 1 and int(r[col]) != nfv[-1] and pg.get(k) != r:
            print('%s\n  nfdump %s\n  nfpg   %s' % (k, r, pg.get(k)))
            return 1
    print('top %d ranked alike' % len(nf))
    return 0


def main():
    args = sys.argv[1:]
    order = None
    if args[0] == '--top':
        order, args = args[1], args[2:]
    nf, pg = read_nfdump(args[0]), read_nfpg(args[1])
    if order:
        return compare_top(order, nf, pg)
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
