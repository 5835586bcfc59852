#!/bin/sh
# test/bench/filter_bench.sh: nf_filter next to nfdump on the same flowgen
# flows.  Run as an unprivileged user with the extension installed:
#   sh test/bench/filter_bench.sh [flows] [runs]     (default 1000000, 5)
#
# The same population goes to a real nfcapd (NetFlow v9) and, as flowgen's
# ground-truth CSV, into nfpg.flows; nfpg.index_partitions() builds the
# lookup indexes (the partitions are closed: the flows are from 2024).
# hyperfine then times, side by side, `nfdump -R <dir> -o null FILTER` and
# `psql -c "SELECT count(*), sum(packets), sum(bytes) ... WHERE
# nfpg.nf_filter('FILTER')"` (whole processes, warm cache: psql's start and
# a new backend included), pgbench the same query on one open connection,
# and it checks that both select the same number of flows.
set -eu
N=${1:-1000000}
RUNS=${2:-5}
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"
pg_start
W=$T_DIR/bench; mkdir -p "$W/nfcapd"
$FLOWGEN --count "$N" --format csv --out "$W/flows.csv" -q
psql -qX -v csv="$W/flows.csv" -f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null
q "SELECT nfpg.index_partitions('0', 1000)" >/dev/null
q "VACUUM ANALYZE nfpg.flows"

port=$(free_port)
nfcapd -w "$W/nfcapd" -p "$port" -b 127.0.0.1 -t 3600 >/dev/null 2>&1 & npid=$!
sleep 1
$FLOWGEN --count "$N" --format v9 --dest "127.0.0.1:$port" --rate 200000 -q
sleep 2; kill "$npid"; wait "$npid" 2>/dev/null || true

echo "flows: $(q 'SELECT count(*) FROM nfpg.flows') in nfpg," \
	"$(nfdump -R "$W/nfcapd" -q -N -o 'fmt:%cnt' | grep -c .) in nfcapd files"
echo "machine: $(nproc) CPUs, $(uname -sr), $(psql -qXAt -c 'SHOW server_version')"
i=0
while IFS='|' read -r name filter; do
	i=$((i + 1))
	n_pg=$(psql -qXAt -v f="$filter" <<'SQL'
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(:'f')
SQL
	)
	n_nf=$(nfdump -R "$W/nfcapd" -q -N -o 'fmt:%cnt' "$filter" | grep -c '^ *[0-9]' || true)
	echo "== $name: '$filter': nfpg $n_pg flows, nfdump $n_nf flows ($(( 100 * n_pg / N ))% of all)"
	printf '%s\n' "$filter" > "$W/filter$i"
	printf "SELECT count(*), sum(packets), sum(bytes) FROM nfpg.flows WHERE nfpg.nf_filter('%s');\n" \
		"$(printf '%s' "$filter" | sed "s/'/''/g")" > "$W/q$i.sql"
	hyperfine -N -w 1 -r "$RUNS" --export-json "$W/h$i.json" \
		-n nfdump "nfdump -R $W/nfcapd -o null -f $W/filter$i" \
		-n nfpg "psql -qXAt -f $W/q$i.sql" 2>&1 | grep -E 'Time|faster|±' || true
	# the query alone, on one open connection (as an application or pool runs it)
	"$PGBIN/pgbench" -n -c 1 -t "$((RUNS * 4))" -f "$W/q$i.sql" 2>/dev/null |
		sed -n 's/^latency average = /  nfpg query on an open connection: /p'
done <<'FILTERS'
one host|host 10.10.0.2
one /24|net 10.10.0.0/24
one port|port 4899
SoberR|proto tcp and dst port 587
about half|src net 10.0.0.0/8
port scan|not proto icmp and bytes < 100 and bpp < 100 and packets < 5 and not port 80 and not port 53
FILTERS
