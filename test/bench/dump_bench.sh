#!/bin/sh
# test/bench/dump_bench.sh: what nfpg-dump costs over the SQL behind it, and
# against nfdump on the same flows.  Not part of the test suite.
#
#   sh test/bench/dump_bench.sh          as an unprivileged user (postgres),
#                                        with the extension and cli/ built
#   NFPG_BENCH_FLOWS=1000000 ...         flows (default 500000)
#   NFPG_BENCH_RUNS=5                    timed runs per command (default 5)
#
# Timed, for -s ip/bytes: nfdump -R on nfcapd files of the same flows;
# nfpg-dump -R; SELECT * FROM nfpg.nfdump(...) (what nfpg-dump runs: from
# release 0.7 the statistic and the Summary's totals from nf_topn_summary,
# computed in the partitions' scans); SELECT * FROM nfpg.nf_stat(...) (the
# statistic alone).  nfpg-dump should cost the nf_stat call plus printing.
set -eu
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"
N=${NFPG_BENCH_FLOWS:-500000}
RUNS=${NFPG_BENCH_RUNS:-5}
export TZ=UTC
pg_start
W=$T_DIR/bench; mkdir -p "$W/cap"
port=$(free_port)
start_nfcapd "$W/cap" "$port"
$FLOWGEN --count "$N" --seed 3 --format v9 --exporters 2 --dest "127.0.0.1:$port" --rate 100000 \
	--csv "$W/flows.csv" -q
stop_nfcapd "$port"
psql -qX -v csv="$W/flows.csv" -f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null
q "VACUUM ANALYZE nfpg.flows" >/dev/null
hyperfine -w 1 -r "$RUNS" -N --export-json "$W/results.json" \
	"nfdump -R $W/cap -s ip/bytes" \
	"$NFPG_TOP/cli/nfpg-dump -R $W/cap -s ip/bytes" \
	"psql -XAtqc \"SELECT * FROM nfpg.nfdump(stats => '{ip/bytes}')\"" \
	"psql -XAtqc \"SELECT * FROM nfpg.nf_stat('ip', 'bytes', 10)\""
