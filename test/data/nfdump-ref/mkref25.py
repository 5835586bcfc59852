#!/usr/bin/env python3
"""Turn the 25-record nfdump reference dataset into nfpg.flows rows (CSV).

Usage: sh run.sh /tmp/nfdump-ref && python3 mkref25.py /tmp/nfdump-ref/all > ../ref25.csv

Reads the records with nfdump itself (-o fmt:, -N -6, TZ=UTC) so that every
value is what nfdump 1.7.1 stored.  A field nfdump prints as 0 is written as
NULL in a nullable nfpg column: those records never carried the field, and the
filter tests then exercise "absent fields read as zero" on real NULLs.  The
first column is nfdump's record number (%cnt), which the tests use as the id.
"""
import csv, os, subprocess, sys

FMT = ('%cnt|%ts|%te|%pr|%sa|%da|%sp|%it|%ic|%dp|%pkt|%byt|%opkt|%obyt|%fl|%flg|%stos|%dtos|'
       '%sas|%das|%nas|%pas|%in|%out|%smk|%dmk|%nh|%nhb|%ra|%svln|%dvln|'
       '%ismc|%odmc|%idmc|%osmc|%mpls|%eng|%fwd|%dir|%nfv')
COLS = ('id first_seen last_seen proto src_addr dst_addr src_port dst_port packets bytes '
        'out_packets out_bytes flows tcp_flags src_tos dst_tos src_as dst_as next_as prev_as '
        'in_if out_if src_mask dst_mask next_hop bgp_next_hop exporter src_vlan dst_vlan '
        'in_src_mac out_dst_mac in_dst_mac out_src_mac mpls_labels engine_type engine_id '
        'fwd_status direction export_version source_id').split()
FLAGS = {'C': 128, 'E': 64, 'U': 32, 'A': 16, 'P': 8, 'R': 4, 'S': 2, 'F': 1}


def nz(v):
    """Absent (printed as zero) becomes NULL."""
    return '' if v in ('0', '0.0.0.0', '::', '00:00:00:00:00:00') else v


def mpls(text):
    entries = []
    for e in text.split():
        label, exp, bos = (int(x) for x in e.split('-'))
        entries.append(label << 4 | exp << 1 | bos)
    while entries and entries[-1] == 0:
        entries.pop()
    return '{' + ','.join(map(str, entries)) + '}' if entries else ''


def main():
    env = dict(os.environ, TZ='UTC')
    out = subprocess.run(['nfdump', '-q', '-N', '-6', '-r', sys.argv[1], '-o', 'fmt:' + FMT],
                         env=env, check=True, capture_output=True, text=True).stdout
    w = csv.writer(sys.stdout, lineterminator='\n')
    w.writerow(COLS)
    for line in out.splitlines():
        f = [x.strip() for x in line.split('|')]
        (cnt, ts, te, pr, sa, da, sp, it, ic, dp, pkt, byt, opkt, obyt, fl, flg, stos, dtos,
         sas, das, nas, pas, i_if, o_if, smk, dmk, nh, nhb, ra, svln, dvln,
         ismc, odmc, idmc, osmc, mpl, eng, fwd, dr, nfv) = f
        proto = int(pr)
        dport = int(it) * 256 + int(ic) if proto in (1, 58) else int(dp)
        flags = sum(FLAGS[c] for c in flg if c != '.')
        etype, eid = eng.split('/')
        version = int(nfv[2:])
        source_id = (int(etype) << 8 | int(eid)) if version in (5, 9) else 0
        w.writerow([cnt, ts + '+00', te + '+00', proto, sa, da, sp, dport, pkt, byt,
                    nz(opkt), nz(obyt), fl, flags, stos, nz(dtos), nz(sas), nz(das), nz(nas),
                    nz(pas), nz(i_if), nz(o_if), nz(smk), nz(dmk), nz(nh), nz(nhb), ra,
                    nz(svln), nz(dvln), nz(ismc), nz(odmc), nz(idmc), nz(osmc), mpls(mpl),
                    '' if eng == '0/0' else etype, '' if eng == '0/0' else eid,
                    nz(fwd), '1' if dr == 'E' else '', version, source_id])


main()
