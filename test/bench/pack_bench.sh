#!/bin/sh
# test/bench/pack_bench.sh: packed hours (66_pack.sql) against nfdump 1.7.1.
# Not part of the test suite; run as an unprivileged user (postgres) with the
# extension installed, on a quiet machine:
#
#   NFPG_BENCH_FLOWS=10000000 sh test/bench/pack_bench.sh
#
# 1. storage: test/bench/storage_bench.sh, bytes per flow of nfcapd files,
#    the heap partitions, and the packed hours at zstd levels 1, 3, 9
#    (NFPG_PACK_LEVELS) with the packing rate;
# 2. queries: test/bench/stat_bench.sh with the hours packed at zstd level 3
#    (NFPG_BENCH_PACK): -s ip/bytes, -s dstport/flows, -A srcip4/24,dstip4/24,
#    the port scan, 'host X' and 'proto tcp and dst port 587', wall and CPU,
#    side by side with nfdump on the same flows.  Run stat_bench.sh without
#    NFPG_BENCH_PACK for the same table on the row store.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
N=${NFPG_BENCH_FLOWS:-2000000}
echo "== storage, $N flows"
sh "$HERE/storage_bench.sh" "$N"
echo "== queries over packed hours, $N flows"
NFPG_BENCH_PACK=${NFPG_BENCH_PACK:-3} NFPG_BENCH_QUERIES=${NFPG_BENCH_QUERIES:-d e f g h i} \
	sh "$HERE/stat_bench.sh" "$N"
