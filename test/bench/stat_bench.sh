#!/bin/sh
# test/bench/stat_bench.sh: nf_stat / nf_aggregate against nfdump 1.7.1 on the
# same flowgen flows (NetFlow v9 into nfcapd; the generator's CSV into
# nfpg.flows), interleaved, wall and CPU.  Not part of the test suite.
#
#   sh test/bench/stat_bench.sh [1M|2M|10M|FLOWS]    as an unprivileged user
#                                  (postgres) with the extension installed;
#                                  default 2M.  10M should take 11 to 14
#                                  minutes on 2 quiet cores (scaled from 2M;
#                                  5 of them make the flows, once: they are
#                                  kept, see NFPG_BENCH_DATA).
#   NFPG_BENCH_RUNS=5              timed rounds (default 5; 3 from 5M flows)
#   NFPG_BENCH_PLAIN=0|1           time the plain-SQL GROUP BY too (default 1
#                                  below 5M flows, 0 from 5M: it is the
#                                  slowest column, a third of the time)
#   NFPG_BENCH_PARTS="process open"  which parts to run and print (default
#                                  both): whole processes (A), and one open
#                                  connection with the fixed costs (B, C);
#                                  add "dump" for nfdump's command line itself
#                                  against nfpg-dump (D: queries h and i, with
#                                  and without -q; cli/ built)
#   NFPG_BENCH_DATA=/tmp/nfpg-bench-2000000  where the generated flows are
#                                  kept between runs (nfcapd files + CSV)
#   NFPG_BENCH_PACK=3              pack the hours first (66_pack.sql) at this
#                                  zstd level: test/bench/pack_bench.sh
#   NFPG_BENCH_QUERIES="d e f g h i"  which queries (default d e f g)
#   NFPG_BENCH_HOURS=24            spread the flows over this many hours
#                                  (default 1; with NFPG_BENCH_PACK every
#                                  hour is packed): lookups over a packed day,
#                                  NFPG_BENCH_HOURS=24 NFPG_BENCH_PACK=3
#                                  NFPG_BENCH_QUERIES="h i" ... 24M
#
# Queries (baselines.md C2): d -s ip/bytes; e -s dstport/flows;
# f -A srcip4/24,dstip4/24 -s record/bytes -n 15; g the port-scan query
# -A srcip,dstport -s record/packets with its filter; h and i are lookups that
# print flows: h 'host X' for an address in about 100 flows, i 'proto tcp and
# dst port 587' (nf_format of nf_filter's rows; plain: the filter's SQL).
# Each runs four ways, as
# a whole process per run (psql's start, the connection and a new backend
# included, as a CLI or cron call pays them; psql is the server's own binary,
# not Debian's wrapper, whose cost part C shows): nfdump; nf_stat / nf_aggregate
# with the default parallel plan; the same serial
# (max_parallel_workers_per_gather = 0); the plain PostgreSQL GROUP BY of
# baselines.md.  Rounds are interleaved (interleave.py): each round runs every
# command once, so a change of load on a shared machine hits all of them.
# CPU is the process's own plus its backend's and parallel workers'.
#
# Then, on one open connection (a psql session), the nfpg queries again,
# parallel and serial (the warm-backend cost, as an interactive session or a
# pool pays it), and the fixed cost of a query on a fresh connection: an
# empty `SELECT 1`, and nf_stat over an empty time window, fresh against on
# an open connection.  The load average is printed with every table.
set -eu
case ${1:-2M} in
	*M) N=$((${1%M} * 1000000)) ;;
	*) N=${1:-2000000} ;;
esac
[ "$N" -ge 5000000 ] && runs=3 plain=0 || runs=5 plain=1
RUNS=${NFPG_BENCH_RUNS:-$runs}
PLAIN=${NFPG_BENCH_PLAIN:-$plain}
PARTS=${NFPG_BENCH_PARTS:-process open}
QUERIES=${NFPG_BENCH_QUERIES:-d e f g}
HOURS=${NFPG_BENCH_HOURS:-1}
[ "$HOURS" = 1 ] && data=/tmp/nfpg-bench-$N || data=/tmp/nfpg-bench-$N-${HOURS}h
D=${NFPG_BENCH_DATA:-$data}
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"
mkdir -p "$D/results"
echo "stat_bench: $N flows over $HOURS hour(s), start $(date -u +%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. the flows, made once: v9 to nfcapd and the ground-truth CSV
if [ ! -f "$D/flows.csv" ] || [ -z "$(ls "$D"/nfcapd/nfcapd.2* 2>/dev/null)" ]; then
	rm -rf "$D/nfcapd"; mkdir -p "$D/nfcapd"
	port=$(free_port)
	start_nfcapd "$D/nfcapd" "$port"
	$FLOWGEN --count "$N" --seed 1 --format v9 --exporters 4 --dest "127.0.0.1:$port" \
		--duration $((HOURS * 3600)) \
		--rate 500000 --csv "$D/flows.csv" -q
	stop_nfcapd "$port"
fi
stored=$(nfdump -R "$D/nfcapd" -I | sed -n 's/^Flows: //p')
[ "$stored" = "$N" ] || { echo "nfcapd stored $stored of $N flows; remove $D and retry"; exit 1; }

# 2. a private cluster sized like baselines.md's, the same flows loaded and
# held in shared buffers (nfdump's files sit in the page cache)
pg_start
cat >>"$T_DIR/data/postgresql.conf" <<CONF
shared_buffers = $((N / 4500 + 1024))MB
huge_pages = try
work_mem = 256MB
max_worker_processes = 8
max_parallel_workers = 4
max_parallel_workers_per_gather = 2
random_page_cost = 1.1
autovacuum = off
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
	echo "packed at zstd level $NFPG_BENCH_PACK in $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s, $(q "SELECT round(sum(bytes)::numeric / sum(flows), 1) FROM nfpg.pack_status() WHERE packed") bytes/flow all-in"
	rows=$(q "SELECT count(*) FROM nfpg.flows")
	[ "$rows" = "$N" ] || { echo "packed nfpg holds $rows of $N flows"; exit 1; }
fi
# every table holding flows: heap partitions, packed hours' segments (their
# TOAST, where the compressed columns are) and late flows
q "CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null
q "SELECT sum(pg_prewarm(r)) FROM (SELECT c.oid AS r FROM pg_class c WHERE c.relnamespace = 'nfpg'::regnamespace
	AND c.relkind = 'r' AND c.relname LIKE 'flows\_%' UNION ALL SELECT c.reltoastrelid FROM pg_class c
	WHERE c.relnamespace = 'nfpg'::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'flows\_%' AND c.reltoastrelid <> 0) s" >/dev/null
echo "loaded $(date -u +%H:%M:%SZ): shared_buffers $(q 'SHOW shared_buffers'), huge pages: $(grep -q '^HugePages_Total: *0$' /proc/meminfo && echo 'none on this host (huge_pages = try fell back)' || echo "$(grep HugePages_Total /proc/meminfo)")"

G_FILTER='not proto icmp and bytes < 100 and bpp < 100 and packets < 5 and not port 80 and not port 53'
G_WHERE='proto <> 1 AND bytes < 100 AND bytes / packets < 100 AND packets < 5 AND src_port <> 80 AND dst_port <> 80 AND src_port <> 53 AND dst_port <> 53'
NF="nfdump -R $D/nfcapd"
PSQL="$PGBIN/psql -X -q -A -t -o /dev/null -c"
SERIAL="PGOPTIONS='-c max_parallel_workers_per_gather=0'"
d_sql="SELECT * FROM nfpg.nf_stat('ip', 'bytes', 10)"
e_sql="SELECT * FROM nfpg.nf_stat('dstport', 'flows', 10)"
f_sql="SELECT * FROM nfpg.nf_aggregate('srcip4/24,dstip4/24', 'bytes', 15)"
g_sql="SELECT * FROM nfpg.nf_aggregate('srcip,dstport', 'packets', 10, '$G_FILTER')"
H_FILTER="host $(q "SELECT host(src_addr) FROM nfpg.flows GROUP BY src_addr HAVING count(*) BETWEEN 80 AND 120 ORDER BY count(*) DESC, 1 LIMIT 1")"
I_FILTER='proto tcp and dst port 587'
h_sql="SELECT nfpg.nf_format(f, 'line') FROM nfpg.flows f WHERE nfpg.nf_filter('$H_FILTER')"
i_sql="SELECT nfpg.nf_format(f, 'line') FROM nfpg.flows f WHERE nfpg.nf_filter('$I_FILTER')"
cat >"$D/queries.sh" <<Q
d_nfdump="$NF -s ip/bytes -n 10"
d_plain="$PSQL \"SELECT ip, count(*), sum(packets), sum(bytes) FROM (SELECT src_addr AS ip, packets, bytes FROM nfpg.flows UNION ALL SELECT dst_addr, packets, bytes FROM nfpg.flows) s GROUP BY ip ORDER BY sum(bytes) DESC LIMIT 10\""
e_nfdump="$NF -s dstport/flows -n 10"
e_plain="$PSQL \"SELECT dst_port, count(*), sum(packets), sum(bytes) FROM nfpg.flows GROUP BY dst_port ORDER BY count(*) DESC LIMIT 10\""
f_nfdump="$NF -A srcip4/24,dstip4/24 -s record/bytes -n 15"
f_plain="$PSQL \"SELECT network(set_masklen(src_addr, CASE family(src_addr) WHEN 4 THEN 24 ELSE 120 END)) s, network(set_masklen(dst_addr, CASE family(dst_addr) WHEN 4 THEN 24 ELSE 120 END)) d, count(*), sum(packets), sum(bytes) FROM nfpg.flows GROUP BY 1, 2 ORDER BY sum(bytes) DESC LIMIT 15\""
g_nfdump="$NF -A srcip,dstport -s record/packets '$G_FILTER'"
g_plain="$PSQL \"SELECT src_addr, dst_port, count(*), sum(packets), sum(bytes) FROM nfpg.flows WHERE $G_WHERE GROUP BY src_addr, dst_port ORDER BY sum(packets) DESC LIMIT 10\""
h_nfdump="$NF -q -o line '$H_FILTER'"
h_plain="$PSQL \"SELECT * FROM nfpg.flows WHERE $(q "SELECT nfpg.nf_filter_sql('$H_FILTER')")\""
i_nfdump="$NF -q -o line '$I_FILTER'"
i_plain="$PSQL \"SELECT * FROM nfpg.flows WHERE $(q "SELECT nfpg.nf_filter_sql('$I_FILTER')")\""
Q
. "$D/queries.sh"
PM=$(head -1 "$T_DIR/data/postmaster.pid")

# 3. whole processes, interleaved rounds
for x in $QUERIES; do
	case $PARTS in *process*) ;; *) break ;; esac
	eval "nfd=\$${x}_nfdump sql=\$${x}_sql plain=\$${x}_plain"
	set -- "nfdump=$nfd" "parallel=$PSQL \"$sql\"" "serial=$SERIAL $PSQL \"$sql\""
	[ "$PLAIN" = 0 ] || set -- "$@" "plain=$plain"
	python3 "$NFPG_TOP/test/bench/interleave.py" "$PM" "$RUNS" "$D/results/$x.json" "$@"
done

# 4. one open connection: RUNS timed runs after one warm-up, psql's \timing
session() {	# OUT [PGOPTIONS] SQL
	_o=$1 _opt=$2 _sql=$3
	{ printf '%s\n' '\timing on'; for _ in $(seq $((RUNS + 1))); do printf '%s;\n' "$_sql"; done; } |
		PGOPTIONS="$_opt" "$PGBIN/psql" -X -q -A -t | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n "$RUNS" >"$_o"
}
for x in $QUERIES; do
	case $PARTS in *open*) ;; *) break ;; esac
	eval "sql=\$${x}_sql"
	session "$D/results/$x.open.parallel" "" "$sql"
	session "$D/results/$x.open.serial" "-c max_parallel_workers_per_gather=0" "$sql"
done

# 5. the fixed cost of a fresh connection
empty="SELECT * FROM nfpg.nf_stat('dstport', 'flows', 10, NULL, '2000-01-01', '2000-01-02')"
case $PARTS in *open*)
	python3 "$NFPG_TOP/test/bench/interleave.py" "$PM" "$RUNS" "$D/results/fixed.json" \
		"select1=$PSQL 'SELECT 1'" "empty=$PSQL \"$empty\"" "wrapper=psql -X -q -A -t -o /dev/null -c 'SELECT 1'"
	session "$D/results/fixed.open.empty" "" "$empty" ;;
esac

# 5b. nfdump's command line against nfpg-dump's (-R /any: every flow), with
# -q (the records alone) and without (header, records, Summary)
for x in $QUERIES; do
	case $PARTS in *dump*) ;; *) break ;; esac
	case $x in h) f=$H_FILTER ;; i) f=$I_FILTER ;; *) continue ;; esac
	python3 "$NFPG_TOP/test/bench/interleave.py" "$PM" "$RUNS" "$D/results/$x.dump.json" \
		"nfdump_q=$NF -q -o line '$f'" "nfpgdump_q=$NFPG_TOP/cli/nfpg-dump -R /any -q -o line '$f'" \
		"nfdump=$NF -o line '$f'" "nfpgdump=$NFPG_TOP/cli/nfpg-dump -R /any -o line '$f'"
done

# 6. the tables
echo "end $(date -u +%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs, $(free -g | awk '/^Mem/ {print $2}') GiB, $("$PGBIN/postgres" --version)"
python3 - "$D/results" "$RUNS" "$PARTS" "$(echo $QUERIES | tr -d ' ')" "$H_FILTER" <<'PY'
import json, statistics, sys
d, runs, parts, queries = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
names = {'d': '-s ip/bytes -n 10', 'e': '-s dstport/flows -n 10',
         'f': '-A srcip4/24,dstip4/24 -s record/bytes -n 15',
         'g': 'port scan: -A srcip,dstport -s record/packets',
         'h': sys.argv[5] + ' (flows printed)', 'i': 'proto tcp and dst port 587 (flows printed)'}
med = statistics.median
cols = ['nfdump', 'parallel', 'serial', 'plain']
heads = ['nfdump', 'nfpg parallel', 'nfpg serial', 'plain SQL']
row = '%-46s %-4s %16s %22s %22s %22s'
ms = lambda f: [float(x) for x in open(f).read().split()]


def processes():
    print('\nA. whole process per run (psql -c: start, connection, backend), %d interleaved rounds' % runs)
    print('   median seconds (min-max), and the ratio of medians to nfdump\'s')
    print(row % ('query', '', *heads))
    loads = []
    for q in queries:
        r = json.load(open('%s/%s.json' % (d, q)))
        loads += r['load']
        for what in ('wall', 'cpu'):
            cells = []
            base = med(r['nfdump'][what])
            for c in cols:
                v = r.get(c, {}).get(what)
                if not v:
                    cells.append('')
                    continue
                cell = '%.3f (%.2f-%.2f)' % (med(v), min(v), max(v)) if what == 'wall' else '%.3f' % med(v)
                if c != 'nfdump':
                    cell += ' %5.2fx' % (med(v) / base)
                cells.append(cell)
            print(row % (names[q] if what == 'wall' else '', what, *cells))
    print('   load average (1 min) before the runs: median %.1f, %.1f-%.1f' % (med(loads), min(loads), max(loads)))


def open_connection():
    print('\nB. one open connection (psql session), %d runs after a warm-up: median ms (min-max)' % runs)
    print('%-46s %20s %20s %16s' % ('query', 'nfpg parallel', 'nfpg serial', 'parallel/serial'))
    for q in queries:
        v = {m: ms('%s/%s.open.%s' % (d, q, m)) for m in ('parallel', 'serial')}
        cell = lambda m: '%.0f (%.0f-%.0f)' % (med(v[m]), min(v[m]), max(v[m]))
        print('%-46s %20s %20s %16.2f' % (names[q], cell('parallel'), cell('serial'),
                                          med(v['parallel']) / med(v['serial'])))
    print('\nC. fixed cost of a fresh connection: median ms, wall / CPU (backend included)')
    r = json.load(open('%s/fixed.json' % d))
    print('   psql -c \'SELECT 1\'                           %6.0f / %4.0f' % (1000 * med(r['select1']['wall']), 1000 * med(r['select1']['cpu'])))
    print('   the same through psql on the PATH (wrapper?)  %6.0f / %4.0f' % (1000 * med(r['wrapper']['wall']), 1000 * med(r['wrapper']['cpu'])))
    print('   nf_stat over an empty window, psql -c         %6.0f / %4.0f' % (1000 * med(r['empty']['wall']), 1000 * med(r['empty']['cpu'])))
    print('   the same on an open connection                %6.0f' % med(ms('%s/fixed.open.empty' % d)))
    if 'process' in parts:
        print('   a whole query, fresh (A) against open (B):')
        for q in queries:
            a = json.load(open('%s/%s.json' % (d, q)))
            for m in ('parallel', 'serial'):
                o = ms('%s/%s.open.%s' % (d, q, m))
                print('   %-44s %-8s %6.0f - %6.0f = %+5.0f' % (names[q], m, 1000 * med(a[m]['wall']), med(o),
                                                                1000 * med(a[m]['wall']) - med(o)))


def dumps():
    print('\nD. nfdump against nfpg-dump (-R /any), -o line, whole processes, %d interleaved rounds:' % runs)
    print('   median wall seconds (min-max) / CPU, and the ratio of medians to nfdump\'s')
    for q in queries:
        try:
            r = json.load(open('%s/%s.dump.json' % (d, q)))
        except OSError:
            continue
        for quiet in ('_q', ''):
            a, b = r['nfdump' + quiet], r['nfpgdump' + quiet]
            print('   %-44s %-3s nfdump %.3f (%.2f-%.2f) / %.3f   nfpg-dump %.3f (%.2f-%.2f) / %.3f   %.2fx' % (
                names[q], '-q' if quiet else '', med(a['wall']), min(a['wall']), max(a['wall']), med(a['cpu']),
                med(b['wall']), min(b['wall']), max(b['wall']), med(b['cpu']), med(b['wall']) / med(a['wall'])))


if 'process' in parts:
    processes()
if 'open' in parts:
    open_connection()
if 'dump' in parts:
    dumps()
PY
