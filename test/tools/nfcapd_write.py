#!/usr/bin/env python3
"""nfcapd_write.py - nfcapd files nfcapd 1.7.1 cannot write, for the import tests.

  nfcapd_write.py v16 CSV OUT [--bz2] [--ident NAME]
      An nfdump 1.6 file (layout 1) holding the flows of a flowgen ground-truth
      CSV: 1.6 common records (type 10) with extension maps, one exporter record
      per flowgen exporter (127.0.0.1, NetFlow v9, source id = the CSV's
      exporter column), 32- or 64-bit counters as 1.6 chose them, uncompressed or
      bzip2 blocks.  Map 0 is redefined with another extension order halfway
      through, as merged 1.6 files do.  No nfdump 1.6 binary was available to
      make one: this follows the layout documented from nfdump 1.6.23's headers
      (bin/nffile.h, bin/nfx.h, bin/nfx.c), and the tests check it by reading it
      with nfdump 1.7.1, whose compatibility reader is independent of ours.

  nfcapd_write.py zstd IN OUT
      Rewrite an uncompressed layout-2 file with every block (the appendix too)
      compressed as one zstd frame, as nfdump 1.7.3+ writes -z=zstd files, with
      the zstd command-line tool (nfdump 1.7.1 has no ZSTD).
"""
import bz2
import csv
import ipaddress
import struct
import subprocess
import sys

BLOCK_LIMIT = 1 << 20           # nfdump's WRITE_BUFFSIZE

# ext ids and their layouts (nfdump 1.6.23 extension_descriptor)
MAP_A = [4, 7, 8, 9, 23, 27]     # in/out u16, AS u32, tos/dir/masks, v4 next hop, router v4, received
MAP_A_V6 = [4, 7, 8, 10, 23, 27]
MAP_B = [27, 23, 9, 8, 7, 5]     # the same data in another order, 32-bit interfaces
MAP_B_V6 = [27, 23, 10, 8, 7, 5]
EXT_SIZE = {4: 4, 5: 8, 7: 8, 8: 4, 9: 4, 10: 16, 23: 4, 27: 8}


def map_record(map_id, exts):
    body = struct.pack('<HH', map_id, sum(EXT_SIZE[e] for e in exts))
    body += b''.join(struct.pack('<H', e) for e in exts) + b'\0\0'
    rec = struct.pack('<HH', 2, 0) + body
    rec += b'\0' * (-len(rec) % 4)
    return rec[:2] + struct.pack('<H', len(rec)) + rec[4:]


def ip_v6_host(addr):
    hi, lo = struct.unpack('>QQ', ipaddress.IPv6Address(addr).packed)
    return struct.pack('<QQ', hi, lo)


def ip_v4_host(addr):
    return struct.pack('<I', int(ipaddress.IPv4Address(addr)))


def exporter_record(sysid, source_id):
    ip = b'\0' * 8 + struct.pack('<I', 0x7F000001) + b'\0' * 4
    return struct.pack('<HHI', 7, 32, 9) + ip + struct.pack('<HHI', 2, sysid, source_id)


def flow_record(row, map_id, exts, sysid):
    first, last = int(row['first_ms']), int(row['last_ms'])
    v6 = ':' in row['srcaddr']
    packets, nbytes = int(row['packets']), int(row['bytes'])
    flags = (1 if v6 else 0) | (2 if packets >= 1 << 32 else 0) | (4 if nbytes >= 1 << 32 else 0)
    head = struct.pack('<HHBBHHHIIBBBBHHHBB', 10, 0, flags, 9, map_id, first % 1000, last % 1000,
                       first // 1000, last // 1000, 0, int(row['tcp_flags']), int(row['proto']),
                       int(row['tos']), int(row['srcport']), int(row['dstport']), sysid, 0, 0)
    if v6:
        data = ip_v6_host(row['srcaddr']) + ip_v6_host(row['dstaddr'])
    else:
        data = ip_v4_host(row['srcaddr']) + ip_v4_host(row['dstaddr'])
    data += struct.pack('<Q' if flags & 2 else '<I', packets)
    data += struct.pack('<Q' if flags & 4 else '<I', nbytes)
    for e in exts:
        if e == 4:
            data += struct.pack('<HH', int(row['input']), int(row['output']))
        elif e == 5:
            data += struct.pack('<II', int(row['input']), int(row['output']))
        elif e == 7:
            data += struct.pack('<II', int(row['src_as']), int(row['dst_as']))
        elif e == 8:
            data += struct.pack('<BBBB', 0, 0, int(row['src_mask']), int(row['dst_mask']))
        elif e == 9:
            data += ip_v4_host(row['nexthop'])
        elif e == 10:
            data += ip_v6_host(row['nexthop'])
        elif e == 23:
            data += struct.pack('<I', 0x7F000001)
        elif e == 27:
            data += struct.pack('<Q', last + 1000)
    rec = head + data
    return rec[:2] + struct.pack('<H', len(rec)) + rec[4:]


def write_v16(csv_path, out_path, use_bz2, ident):
    rows = list(csv.DictReader(open(csv_path)))
    sysids = {}
    for r in rows:
        sysids.setdefault(int(r['exporter']), len(sysids) + 1)
    blocks, recs, size = [], [], 0

    def flush():
        nonlocal recs, size
        if recs:
            blocks.append((len(recs), b''.join(recs)))
        recs, size = [], 0

    def add(rec):
        nonlocal size
        if size + len(rec) > BLOCK_LIMIT:
            flush()
        recs.append(rec)
        size += len(rec)

    for sid, sysid in sysids.items():
        add(exporter_record(sysid, sid))
    maps = (MAP_A, MAP_A_V6)
    add(map_record(0, maps[0]))
    add(map_record(1, maps[1]))
    stat = dict(flows=0, bytes=0, packets=0)
    proto = {6: 0, 17: 1, 1: 2}
    groups = [[0, 0, 0] for _ in range(4)]  # flows, bytes, packets per tcp/udp/icmp/other
    first = min(int(r['first_ms']) for r in rows)
    last = max(int(r['last_ms']) for r in rows)
    for i, r in enumerate(rows):
        if i == len(rows) // 2:
            maps = (MAP_B, MAP_B_V6)          # map 0 and 1 redefined mid-file
            add(map_record(0, maps[0]))
            add(map_record(1, maps[1]))
        v6 = ':' in r['srcaddr']
        add(flow_record(r, 1 if v6 else 0, maps[1 if v6 else 0], sysids[int(r['exporter'])]))
        g = groups[proto.get(int(r['proto']), 3)]
        g[0] += 1
        g[1] += int(r['bytes'])
        g[2] += int(r['packets'])
        stat['flows'] += 1
        stat['bytes'] += int(r['bytes'])
        stat['packets'] += int(r['packets'])
    flush()

    flags = 0x08 if use_bz2 else 0
    header = struct.pack('<HHII', 0xA50C, 1, flags, len(blocks)) + ident.encode()[:127].ljust(128, b'\0')
    st = struct.pack('<QQQ', stat['flows'], stat['bytes'], stat['packets'])
    st += struct.pack('<QQQQ', *(g[0] for g in groups))
    st += struct.pack('<QQQQ', *(g[1] for g in groups))
    st += struct.pack('<QQQQ', *(g[2] for g in groups))
    st += struct.pack('<IIHHI', first // 1000, last // 1000, first % 1000, last % 1000, 0)
    assert len(header) == 140 and len(st) == 136
    with open(out_path, 'wb') as f:
        f.write(header + st)
        for nrec, payload in blocks:
            if use_bz2:
                payload = bz2.compress(payload, 9)
            f.write(struct.pack('<IIHH', nrec, len(payload), 2, 0) + payload)


def zstd(data):
    return subprocess.run(['zstd', '-q', '-c', '-3'], input=data, check=True,
                          stdout=subprocess.PIPE).stdout


def recompress_zstd(in_path, out_path):
    raw = open(in_path, 'rb').read()
    magic, version = struct.unpack_from('<HH', raw, 0)
    assert magic == 0xA50C and version == 2 and raw[16] == 0, 'need an uncompressed layout-2 file'
    appendix_blocks, = struct.unpack_from('<H', raw, 18)
    off_appendix, = struct.unpack_from('<q', raw, 24)
    num_blocks, = struct.unpack_from('<I', raw, 36)
    out, pos, new_appendix = [], 40, 0
    for i in range(num_blocks + appendix_blocks):
        if i == num_blocks:
            assert pos == off_appendix
            new_appendix = 40 + sum(len(b) for b in out)
        nrec, size, btype, bflags = struct.unpack_from('<IIHH', raw, pos)
        payload = zstd(raw[pos + 12:pos + 12 + size])
        out.append(struct.pack('<IIHH', nrec, len(payload), btype, bflags) + payload)
        pos += 12 + size
    header = bytearray(raw[:40])
    header[16] = 4
    struct.pack_into('<q', header, 24, new_appendix)
    with open(out_path, 'wb') as f:
        f.write(bytes(header) + b''.join(out))


def main():
    args = sys.argv[1:]
    if len(args) >= 3 and args[0] == 'v16':
        ident = args[args.index('--ident') + 1] if '--ident' in args else 'legacy'
        write_v16(args[1], args[2], '--bz2' in args, ident)
    elif len(args) == 3 and args[0] == 'zstd':
        recompress_zstd(args[1], args[2])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
