#!/bin/sh
# test/bench/stat_bench.sh: nf_stat / nf_aggregate against nfdump 1.7.1, side by
# side in one hyperfine run, on the same flowgen flows (NetFlow v9 into nfcapd;
# the generator's CSV into nfpg.flows).  Not part of the test suite.
#
#   sh test/bench/stat_bench.sh            as an unprivileged user (postgres),
#                                          with the extension installed
#   NFPG_BENCH_FLOWS=10000000 ...          the issue's 10M flows (default 2M)
#   NFPG_BENCH_RUNS=5                      timed runs per command (default 5)
#   NFPG_BENCH_DATA=/tmp/nfpg-bench-2000000  where the generated flows are kept
#                                          between runs (nfcapd files + CSV)
#   NFPG_BENCH_PACK=3                      pack the hours first (66_pack.sql) at
#                                          this zstd level: test/bench/pack_bench.sh
#   NFPG_BENCH_QUERIES="d e f g h i"       which queries (default d e f g)
#
# Queries (baselines.md C2): d -s ip/bytes; e -s dstport/flows;
# f -A srcip4/24,dstip4/24 -s record/bytes -n 15; g the port-scan query
# -A srcip,dstport -s record/packets with its filter.  Each is timed three
# ways: nfdump, nfpg (nf_stat / nf_aggregate, g with its nfdump filter text),
# and the plain PostgreSQL GROUP BY of baselines.md.  h and i are lookups that
# print flows: h 'host X' for an address in about 100 flows, i 'proto tcp and
# dst port 587' (nf_format of nf_filter's rows; plain: the filter's SQL).
# Prints the medians and the ratios to nfdump; hyperfine's JSON is left in
# $NFPG_BENCH_DATA/results.
set -eu
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"
N=${NFPG_BENCH_FLOWS:-2000000}
RUNS=${NFPG_BENCH_RUNS:-5}
QUERIES=${NFPG_BENCH_QUERIES:-d e f g}
D=${NFPG_BENCH_DATA:-/tmp/nfpg-bench-$N}
mkdir -p "$D/results"

# 1. the flows, made once: v9 to nfcapd and the ground-truth CSV
if [ ! -f "$D/flows.csv" ] || [ -z "$(ls "$D"/nfcapd/nfcapd.2* 2>/dev/null)" ]; then
	rm -rf "$D/nfcapd"; mkdir -p "$D/nfcapd"
	port=$(free_port)
	nfcapd -w "$D/nfcapd" -p "$port" -b 127.0.0.1 -t 3600 -B 4194304 >"$D/nfcapd.log" 2>&1 & npid=$!
	sleep 1
	$FLOWGEN --count "$N" --seed 1 --format v9 --exporters 4 --dest "127.0.0.1:$port" \
		--rate 500000 --csv "$D/flows.csv" -q
	sleep 2; kill "$npid"; wait "$npid" 2>/dev/null || true
fi
stored=$(nfdump -R "$D/nfcapd" -I | sed -n 's/^Flows: //p')
[ "$stored" = "$N" ] || { echo "nfcapd stored $stored of $N flows; remove $D and retry"; exit 1; }

# 2. a private cluster sized like baselines.md's, the same flows loaded
pg_start
cat >>"$T_DIR/data/postgresql.conf" <<CONF
shared_buffers = 2GB
work_mem = 256MB
max_worker_processes = 8
max_parallel_workers = 4
max_parallel_workers_per_gather = 2
random_page_cost = 1.1
CONF
"$PGBIN/pg_ctl" -D "$T_DIR/data" -m fast -w restart >/dev/null
psql -qX -v csv="$D/flows.csv" -f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null
q "VACUUM ANALYZE nfpg.flows" >/dev/null
rows=$(q "SELECT count(*) FROM nfpg.flows")
[ "$rows" = "$N" ] || { echo "nfpg holds $rows of $N flows"; exit 1; }
if [ -n "${NFPG_BENCH_PACK:-}" ]; then
	t0=$(date +%s.%N)
	# one statement per hour: a query reading a partition may not also drop it
	for r in $(q "SELECT relid FROM nfpg.partitions p WHERE EXISTS (SELECT 1 FROM nfpg.flows f
				  WHERE f.first_seen >= p.lower_bound AND f.first_seen < p.upper_bound)"); do
		q "SELECT nfpg.pack_partition('$r', $NFPG_BENCH_PACK)" >/dev/null
	done
	t1=$(date +%s.%N)
	PACKED="packed at zstd level $NFPG_BENCH_PACK in $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s, $(q "SELECT round(sum(bytes)::numeric / sum(flows), 1) FROM nfpg.pack_status() WHERE packed") bytes/flow all-in"
	rows=$(q "SELECT count(*) FROM nfpg.flows")
	[ "$rows" = "$N" ] || { echo "packed nfpg holds $rows of $N flows"; exit 1; }
fi
q "SELECT count(*) FROM nfpg.flows" >/dev/null	# warm the cache
H_HOST=$(q "SELECT host(src_addr) FROM nfpg.flows GROUP BY src_addr HAVING count(*) BETWEEN 80 AND 120 ORDER BY count(*) DESC, 1 LIMIT 1")
H_FILTER="host $H_HOST"
I_FILTER='proto tcp and dst port 587'

G_FILTER='not proto icmp and bytes < 100 and bpp < 100 and packets < 5 and not port 80 and not port 53'
G_WHERE='proto <> 1 AND bytes < 100 AND bytes / packets < 100 AND packets < 5 AND src_port <> 80 AND dst_port <> 80 AND src_port <> 53 AND dst_port <> 53'
NF="nfdump -R $D/nfcapd"
PSQL="psql -X -q -A -t -o /dev/null -c"
cat >"$D/queries.sh" <<Q
d_nfdump="$NF -s ip/bytes -n 10"
d_nfpg="$PSQL \"SELECT * FROM nfpg.nf_stat('ip', 'bytes', 10)\""
d_plain="$PSQL \"SELECT ip, count(*), sum(packets), sum(bytes) FROM (SELECT src_addr AS ip, packets, bytes FROM nfpg.flows UNION ALL SELECT dst_addr, packets, bytes FROM nfpg.flows) s GROUP BY ip ORDER BY sum(bytes) DESC LIMIT 10\""
e_nfdump="$NF -s dstport/flows -n 10"
e_nfpg="$PSQL \"SELECT * FROM nfpg.nf_stat('dstport', 'flows', 10)\""
e_plain="$PSQL \"SELECT dst_port, count(*), sum(packets), sum(bytes) FROM nfpg.flows GROUP BY dst_port ORDER BY count(*) DESC LIMIT 10\""
f_nfdump="$NF -A srcip4/24,dstip4/24 -s record/bytes -n 15"
f_nfpg="$PSQL \"SELECT * FROM nfpg.nf_aggregate('srcip4/24,dstip4/24', 'bytes', 15)\""
f_plain="$PSQL \"SELECT network(set_masklen(src_addr, CASE family(src_addr) WHEN 4 THEN 24 ELSE 120 END)) s, network(set_masklen(dst_addr, CASE family(dst_addr) WHEN 4 THEN 24 ELSE 120 END)) d, count(*), sum(packets), sum(bytes) FROM nfpg.flows GROUP BY 1, 2 ORDER BY sum(bytes) DESC LIMIT 15\""
g_nfdump="$NF -A srcip,dstport -s record/packets '$G_FILTER'"
g_nfpg="$PSQL \"SELECT * FROM nfpg.nf_aggregate('srcip,dstport', 'packets', 10, '$G_FILTER')\""
g_plain="$PSQL \"SELECT src_addr, dst_port, count(*), sum(packets), sum(bytes) FROM nfpg.flows WHERE $G_WHERE GROUP BY src_addr, dst_port ORDER BY sum(packets) DESC LIMIT 10\""
h_nfdump="$NF -q -o line '$H_FILTER'"
h_nfpg="$PSQL \"SELECT nfpg.nf_format(f, 'line') FROM nfpg.flows f WHERE nfpg.nf_filter('$H_FILTER')\""
h_plain="$PSQL \"SELECT * FROM nfpg.flows WHERE $(q "SELECT nfpg.nf_filter_sql('$H_FILTER')")\""
i_nfdump="$NF -q -o line '$I_FILTER'"
i_nfpg="$PSQL \"SELECT nfpg.nf_format(f, 'line') FROM nfpg.flows f WHERE nfpg.nf_filter('$I_FILTER')\""
i_plain="$PSQL \"SELECT * FROM nfpg.flows WHERE $(q "SELECT nfpg.nf_filter_sql('$I_FILTER')")\""
Q
. "$D/queries.sh"

# 3. side by side, one hyperfine run per query
for x in $QUERIES; do
	eval "a=\$${x}_nfdump b=\$${x}_nfpg c=\$${x}_plain"
	hyperfine -N --style basic --warmup 1 --runs "$RUNS" --export-json "$D/results/$x.json" \
		-n nfdump "$a" -n nfpg "$b" -n plain_sql "$c" >"$D/results/$x.log" 2>&1 ||
		{ cat "$D/results/$x.log"; exit 1; }
done

# 4. CPU seconds per run, nfdump's process against PostgreSQL's backend and workers
PM=$(head -1 "$T_DIR/data/postmaster.pid")
for x in $QUERIES; do
	for w in nfdump nfpg plain; do
		eval "c=\$${x}_$w"
		python3 "$NFPG_TOP/test/bench/cputime.py" "$PM" "$RUNS" "$c" >"$D/results/$x.$w.cpu"
	done
done

# 5. the table
echo "flows: $N   runs: $RUNS   machine: $(nproc) CPUs, $(free -g | awk '/^Mem/ {print $2}') GiB   load average: $(cut -d' ' -f1-3 /proc/loadavg)   $(date -u +%Y-%m-%dT%H:%MZ)"
echo "nfpg storage: ${PACKED:-heap partitions (row store)}"
python3 - "$D/results" "$(echo $QUERIES | tr -d ' ')" "$H_FILTER" <<'PY'
import json, sys
d, queries = sys.argv[1], sys.argv[2]
names = {'d': '-s ip/bytes', 'e': '-s dstport/flows',
         'f': '-A srcip4/24,dstip4/24 -s record/bytes -n 15', 'g': 'port scan: -A srcip,dstport -s record/packets + filter',
         'h': sys.argv[3] + ' (flows printed)', 'i': 'proto tcp and dst port 587 (flows printed)'}
print('wall seconds, median (min-max) of hyperfine runs; ratios of medians to nfdump')
print('%-55s %18s %18s %18s %8s %8s' % ('query', 'nfdump', 'nfpg', 'plain SQL', 'nfpg/nf', 'plain/nf'))
for q in queries:
    r = {x['command']: x for x in json.load(open('%s/%s.json' % (d, q)))['results']}
    m = {k: v['median'] for k, v in r.items()}
    fmt = lambda k: '%.3f (%.2f-%.2f)' % (m[k], r[k]['min'], r[k]['max'])
    print('%-55s %18s %18s %18s %8.2f %8.2f' % (names[q], fmt('nfdump'), fmt('nfpg'), fmt('plain_sql'),
                                                 m['nfpg'] / m['nfdump'], m['plain_sql'] / m['nfdump']))
print('CPU seconds per run (user + system, all processes and threads); ratios to nfdump')
print('%-55s %18s %18s %18s %8s %8s' % ('query', 'nfdump', 'nfpg', 'plain SQL', 'nfpg/nf', 'plain/nf'))
for q in queries:
    c = {w: float(open('%s/%s.%s.cpu' % (d, q, w)).read()) for w in ('nfdump', 'nfpg', 'plain')}
    print('%-55s %18.3f %18.3f %18.3f %8.2f %8.2f' % (names[q], c['nfdump'], c['nfpg'], c['plain'],
                                                       c['nfpg'] / c['nfdump'], c['plain'] / c['nfdump']))
PY
