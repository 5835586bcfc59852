#!/bin/sh
# test/bench/copy_bench.sh: what the loader's two COPY choices are worth on
# the server side, from files, without the network or the loader.
#
#   sh test/bench/copy_bench.sh [flows] [runs]   (default 1000000, 5; as an
#                                                unprivileged user, extension installed)
#
# One hour of flowgen flows is loaded into nfpg.flows and written out as two
# binary COPY files: every column, and only the columns that hold a value
# (what nfpgd sends for such a batch).  Then, interleaved RUNS times, each
# file is COPYed back after a TRUNCATE: all columns into nfpg.flows, the
# filled columns into nfpg.flows, and the filled columns straight into the
# partition that holds them (nfpg.loader_target).  Prints median rows/s and
# the ratios.
set -u
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"

N=${1:-1000000}
RUNS=${2:-5}
pg_start >/dev/null || { echo "cannot start PostgreSQL"; exit 1; }
q "ALTER SYSTEM SET shared_buffers = '1GB'" >/dev/null
q "ALTER SYSTEM SET max_wal_size = '8GB'" >/dev/null
"$PGBIN/pg_ctl" -D "$T_DIR/data" -w restart >/dev/null
$FLOWGEN --count "$N" --seed 5 --format csv --out "$T_DIR/flows.csv" -q
psql -qX -v csv="$T_DIR/flows.csv" -f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null

FILLED=$(q "SELECT string_agg(attname, ', ' ORDER BY attnum) FROM pg_attribute a
	WHERE attrelid = 'nfpg.flows'::regclass AND attnum > 0 AND NOT attisdropped
	  AND EXISTS (SELECT 1 FROM nfpg.flows f WHERE to_jsonb(f) -> a.attname <> 'null')")
PART=$(q "SELECT nfpg.loader_target(min(first_seen), max(first_seen)) FROM nfpg.flows")
[ -n "$PART" ] || { echo "the flows do not fit one partition"; exit 1; }
q "COPY (SELECT * FROM nfpg.flows) TO '$T_DIR/all.bin' (FORMAT binary)" >/dev/null
q "COPY (SELECT $FILLED FROM nfpg.flows) TO '$T_DIR/filled.bin' (FORMAT binary)" >/dev/null

run() {	# run LABEL COPY-statement: one timed load into an empty table
	q "TRUNCATE nfpg.flows" >/dev/null
	q "CHECKPOINT" >/dev/null
	t0=$(date +%s.%N)
	q "$2" >/dev/null
	t1=$(date +%s.%N)
	echo "$1 $(echo "$N / ($t1 - $t0)" | bc)" >>"$T_DIR/times"
}
: >"$T_DIR/times"
for _ in $(seq "$RUNS"); do
	run all "COPY nfpg.flows FROM '$T_DIR/all.bin' (FORMAT binary)"
	run filled "COPY nfpg.flows ($FILLED) FROM '$T_DIR/filled.bin' (FORMAT binary)"
	run partition "COPY $PART ($FILLED) FROM '$T_DIR/filled.bin' (FORMAT binary)"
done
echo "flows: $N, runs: $RUNS, filled columns: $(echo "$FILLED" | tr ',' '\n' | wc -l) of 41"
echo "file bytes per row: all $(($(stat -c %s "$T_DIR/all.bin") / N)), filled $(($(stat -c %s "$T_DIR/filled.bin") / N))"
sort -k1,1 -k2,2n "$T_DIR/times" | awk -v runs="$RUNS" '
	{ v[$1, ++n[$1]] = $2 }
	END {
		for (k in n) med[k] = v[k, int((n[k] + 1) / 2)]
		printf "median rows/s: all columns into nfpg.flows %d, filled columns %d, into %s %d\n",
			med["all"], med["filled"], "the partition", med["partition"]
		printf "ratios: filled/all %.2f, partition/filled %.2f, partition/all %.2f\n",
			med["filled"] / med["all"], med["partition"] / med["filled"], med["partition"] / med["all"]
	}'
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
