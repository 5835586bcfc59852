#!/bin/sh
# test/bench/storage_bench.sh: bytes per flow on disk, nfpg next to nfcapd,
# for the same flowgen flows.  Run as an unprivileged user with the extension
# installed:  sh test/bench/storage_bench.sh [flows]   (default 1000000)
#
# nfpg side: the generator's CSV loaded into nfpg.flows, VACUUMed; heap size
# of the partitions (the BRIN indexes are reported apart).  nfdump side: the
# same population exported as NetFlow v9 to nfcapd, uncompressed and LZ4 files.
# Then the same hours packed (66_pack.sql) at each zstd level of
# NFPG_PACK_LEVELS (default "1 3 9"): bytes per flow all-in (segment and
# late-row tables with their TOAST) and the packing rate of one backend.
set -eu
N=${1:-1000000}
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"
pg_start
W=$T_DIR/bench; mkdir -p "$W/nfcapd"
$FLOWGEN --count "$N" --format csv --out "$W/flows.csv" -q
psql -qX -v csv="$W/flows.csv" -f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null
q "VACUUM ANALYZE nfpg.flows"
heap=$(q "SELECT sum(pg_table_size(relid)) FROM nfpg.partitions")
idx=$(q "SELECT sum(pg_indexes_size(relid)) FROM nfpg.partitions")
rows=$(q "SELECT count(*) FROM nfpg.flows")

port=$(free_port)
nfcapd -w "$W/nfcapd" -p "$port" -b 127.0.0.1 -t 3600 >/dev/null 2>&1 & npid=$!
sleep 1
$FLOWGEN --count "$N" --format v9 --dest "127.0.0.1:$port" --rate 200000 -q
sleep 2; kill "$npid"; wait "$npid" 2>/dev/null || true
f=$(ls "$W"/nfcapd/nfcapd.2* | head -1)
nfsize=$(stat -c %s "$f")
nfdump -r "$f" -J 3 >/dev/null 2>&1 || true
lz4size=$(stat -c %s "$f")
echo "flows: $rows (nfpg) / $N sent to nfcapd"
awk -v h="$heap" -v i="$idx" -v n="$rows" -v f="$nfsize" -v l="$lz4size" -v m="$N" 'BEGIN {
	printf "nfpg heap       %8.1f B/flow\n", h / n;
	printf "nfpg BRIN       %8.2f B/flow\n", i / n;
	printf "nfcapd file     %8.1f B/flow  (nfpg/nfcapd = %.2f)\n", f / m, (h / n) / (f / m);
	printf "nfcapd LZ4 file %8.1f B/flow\n", l / m }'
HOURS=$(q "SELECT relid FROM nfpg.partitions p WHERE EXISTS (SELECT 1 FROM nfpg.flows f WHERE f.first_seen >= p.lower_bound AND f.first_seen < p.upper_bound)")
for L in ${NFPG_PACK_LEVELS:-1 3 9}; do
	for r in $HOURS; do q "SELECT nfpg.unpack_partition('$r')" >/dev/null; done
	t0=$(date +%s.%N)
	for r in $HOURS; do q "SELECT nfpg.pack_partition('$r', $L)" >/dev/null; done
	t1=$(date +%s.%N)
	q "SELECT sum(bytes), sum(flows) FROM nfpg.pack_status() WHERE packed" | tr '|' ' ' | {
		read -r bytes flows
		echo "$L $bytes $flows $t0 $t1" | awk '{printf "nfpg packed zstd %-2s %6.1f B/flow all-in  (%.0f flows/s packing, one backend)\n", $1, $2 / $3, $3 / ($5 - $4)}'
	}
done
