#!/bin/sh
# test/bench/scale_out_bench.sh: a coordinator over 3 local nfpg nodes against
# one server holding every flow (issue 18).  Not part of the test suite.
#
#   sh test/bench/scale_out_bench.sh       as an unprivileged user (postgres)
#                                          with the extension installed
#   FLOWS=3000000                          flows in all (default 3M; 1M is
#                                          enough on a shared machine)
#   NFPG_BENCH_RUNS=5                      timed rounds (median of them)
#   NFPG_BENCH_LINK_MBIT=1000              the link of the model below
#   NFPG_BENCH_DATA=/tmp/nfpg-bench-scale-FLOWS  where flowgen's CSV is kept
#
# Five clusters: ref holds every flow; site_a, site_b, site_c two exporters'
# flows each (a third); coord is a coordinator over the three (74_nodes.sql),
# whose foreign servers point at a byte-counting TCP proxy (tcpcount.py) in
# front of each node, so what crosses the wire is measured, not estimated.
# Queries, as stat_bench.sh's d, e, f: -s ip/bytes, -s dstport/flows and
# -A srcip4/24,dstip4/24 -s record/bytes -n 15; and z, -s ip/bytes over an
# empty -t window (no partition scanned), for the fixed cost of the fan-out
# (connections to the nodes, remote plans, empty states).  Each is run,
# interleaved (scale_out_runs.py), in a fresh psql per run:
#   coord    nf_stat / nf_aggregate on the coordinator (states shipped)
#   ref      the same on the single server
#   site_X   the node-side state query alone on node X: the "Remote SQL"
#            the coordinator sends it, read from the coordinator's plan
#            (not for z, whose remote SQL has the window as parameters),
#            run as postgres_fdw runs it, through a cursor -- which
#            PostgreSQL never gives parallel workers
#   local    the query itself (nf_stat / nf_aggregate) on site_a alone, as
#            a user of that server would run it: parallel, and without the
#            state's serialization, compression and base64
# and reported as medians: wall time; CPU of each cluster (its postmaster's
# reaped children: backends and parallel workers); bytes node->coordinator
# on the wire (protocol framing and the connection's start included).
# Once each, with the servers' option extensions taken away so that
# postgres_fdw may not ship nfpg's aggregate, the coordinator fetches the
# rows and aggregates itself: those bytes are the rows' size on the wire.
# The rows' size is also given as the COPY text of the columns that query
# fetches and as the heap per flow.  Issue 18's target: states < 5 % of it.
#
# Model of 3 real machines (one node each, a coordinator elsewhere): the
# nodes work at the same time, so a query takes max(node wall) + the bytes
# over the link + the coordinator's CPU (merge and ranking), against the
# single server's wall.  Here the three nodes share the machine's cores, so
# the coordinator's own wall time is no measure of that.
set -eu
FLOWS=${FLOWS:-3000000}
RUNS=${NFPG_BENCH_RUNS:-5}
LINK=${NFPG_BENCH_LINK_MBIT:-1000}
D=${NFPG_BENCH_DATA:-/tmp/nfpg-bench-scale-$FLOWS}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
T_DIR=$(mktemp -d /tmp/nfpg-bench.XXXXXX)
export PGHOST="$T_DIR" PGDATABASE=nfpg
NODES="site_a site_b site_c"
PROXIES=""
mkdir -p "$D"
echo "scale_out_bench: $FLOWS flows, $RUNS rounds, start $(date -u +%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# cluster NAME SHARED_MB: a trusting private cluster (the wire and the CPU are
# measured, not the authentication); sets PORT_NAME.
cluster() {
	_p=$(free_port)
	"$PGBIN/initdb" -D "$T_DIR/$1" -A trust -U "$(id -un)" >"$T_DIR/$1.initdb.log" 2>&1
	cat >>"$T_DIR/$1/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $_p
unix_socket_directories = '$T_DIR'
timezone = 'UTC'
fsync = off
shared_buffers = ${2}MB
work_mem = 256MB
max_worker_processes = 8
max_parallel_workers_per_gather = 2
jit = off
CONF
	"$PGBIN/pg_ctl" -D "$T_DIR/$1" -l "$T_DIR/$1.log" -w start >/dev/null
	eval "PORT_$1=$_p"
}
pg_stop() {	# lib.sh's t_cleanup calls it
	for c in coord ref $NODES; do [ -f "$T_DIR/$c/postmaster.pid" ] && "$PGBIN/pg_ctl" -D "$T_DIR/$c" -m fast -w stop >/dev/null 2>&1; done
	for p in $PROXIES; do kill "$p" 2>/dev/null; done
	return 0
}
port() { eval echo "\$PORT_$1"; }
on() { PGPORT=$(port "$1") q "$2"; }
pmpid() { head -1 "$T_DIR/$1/postmaster.pid"; }

# 1. the flows, made once: 6 exporters, 2 per node
[ -s "$D/flows.csv" ] || $FLOWGEN --count "$FLOWS" --seed 1 --exporters 6 --format csv --out "$D/flows.csv"

# 2. the clusters, each with the flows it holds in shared buffers
MB=$((FLOWS / 4500 + 256))
cluster ref "$MB"
cluster coord 256
for n in $NODES; do cluster $n $((MB / 3 + 128)); done
for c in ref $NODES; do
	PGPORT=$(port $c) "$PGBIN/createdb" nfpg
	on $c "CREATE EXTENSION nfpg" >/dev/null
	on $c "SELECT nfpg.setup()" >/dev/null
done
t0=$(date +%s)
PGPORT=$PORT_ref psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TEMP TABLE flowgen_csv (
	first_ms bigint, last_ms bigint, proto int, srcaddr inet, dstaddr inet,
	srcport int, dstport int, tcp_flags int, tos int, packets bigint, bytes bigint,
	src_as bigint, dst_as bigint, input int, output int, nexthop inet,
	src_mask int, dst_mask int, exporter int);
\copy flowgen_csv FROM '$D/flows.csv' WITH (FORMAT csv, HEADER true)
SELECT nfpg.ensure_partitions(to_timestamp(min(first_ms) / 1000.0), to_timestamp(max(first_ms) / 1000.0))
FROM flowgen_csv;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
						tcp_flags, src_tos, packets, bytes, src_as, dst_as, in_if, out_if,
						next_hop, src_mask, dst_mask, exporter, source_id, export_version)
SELECT to_timestamp(first_ms / 1000.0), to_timestamp(last_ms / 1000.0), proto, srcaddr, dstaddr,
	   srcport, dstport, tcp_flags, tos, packets, bytes, nullif(src_as, 0), nullif(dst_as, 0),
	   nullif(input, 0), nullif(output, 0), nullif(nexthop, '0.0.0.0'), nullif(src_mask, 0),
	   nullif(dst_mask, 0), ('198.18.0.' || exporter)::inet, exporter, 9
FROM flowgen_csv;
SQL
i=0
for n in $NODES; do
	e1=198.18.0.$((2 * i + 1)) e2=198.18.0.$((2 * i + 2))
	i=$((i + 1))
	on $n "SELECT nfpg.ensure_partitions(min(first_seen), max(first_seen)) FROM (VALUES
		('$(on ref "SELECT min(first_seen) FROM nfpg.flows")'::timestamptz),
		('$(on ref "SELECT max(first_seen) FROM nfpg.flows")'::timestamptz)) v(first_seen)" >/dev/null
	PGPORT=$PORT_ref psql -qX -c "\\copy (SELECT * FROM nfpg.flows WHERE exporter IN ('$e1', '$e2')) TO STDOUT" |
		PGPORT=$(port $n) psql -qX -v ON_ERROR_STOP=1 -c "\\copy nfpg.flows FROM STDIN"
	on $n "CREATE ROLE nfpg_coord LOGIN IN ROLE nfpg_reader" >/dev/null
done
for c in ref $NODES; do
	on $c "VACUUM (FREEZE, ANALYZE) nfpg.flows" >/dev/null
	on $c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null 2>&1 &&
		on $c "SELECT sum(pg_prewarm(relid)) FROM pg_partition_tree('nfpg.flows') WHERE isleaf" >/dev/null || :
done
echo "# loaded in $(($(date +%s) - t0)) s: ref $(on ref "SELECT count(*) FROM nfpg.flows"), nodes" \
	"$(for n in $NODES; do on $n "SELECT count(*) FROM nfpg.flows"; done | paste -sd' ')"

# 3. the coordinator, each node behind its proxy
PGPORT=$PORT_coord "$PGBIN/createdb" nfpg
on coord "CREATE EXTENSION postgres_fdw" >/dev/null
on coord "CREATE EXTENSION nfpg" >/dev/null
on coord "SELECT nfpg.setup_coordinator()" >/dev/null
COUNTERS=""
i=0
for n in $NODES; do
	px=$(free_port)
	python3 "$HERE/tcpcount.py" "$px" "$(port $n)" "$T_DIR/bytes.$n" &
	PROXIES="$PROXIES $!"
	for _ in $(seq 50); do [ -s "$T_DIR/bytes.$n" ] && break; sleep 0.1; done
	COUNTERS="$COUNTERS${COUNTERS:+,}$n:$T_DIR/bytes.$n"
	on coord "CREATE SERVER $n FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$px', dbname 'nfpg')" >/dev/null
	on coord "CREATE USER MAPPING FOR PUBLIC SERVER $n OPTIONS (user 'nfpg_coord')" >/dev/null
	on coord "SELECT nfpg.node_add('$n', exporters => '{198.18.0.$((2 * i + 1)),198.18.0.$((2 * i + 2))}')" >/dev/null
	i=$((i + 1))
done
[ "$(on coord "SELECT count(*) FROM nfpg.flows")" = "$FLOWS" ] || { echo "the coordinator does not see $FLOWS flows"; exit 1; }
CLUSTERS="coord:$(pmpid coord),ref:$(pmpid ref)"
for n in $NODES; do CLUSTERS="$CLUSTERS,$n:$(pmpid $n)"; done

# z, an empty -t window, is the fixed cost: connections, plans, empty states
QUERIES="d e f z"
query() {
	case $1 in
	d) echo "SELECT * FROM nfpg.nf_stat('ip', 'bytes', 10)" ;;
	e) echo "SELECT * FROM nfpg.nf_stat('dstport', 'flows', 10)" ;;
	f) echo "SELECT * FROM nfpg.nf_aggregate('srcip4/24,dstip4/24', 'bytes', 15)" ;;
	z) echo "SELECT * FROM nfpg.nf_stat('ip', 'bytes', 10, NULL, '2030-01-01', '2030-01-02')" ;;
	esac
}
label() {
	case $1 in d) echo "-s ip/bytes" ;; e) echo "-s dstport/flows" ;; f) echo "-A srcip4/24,dstip4/24" ;;
	z) echo "-s ip/bytes, empty -t" ;; esac
}
# remote_sql Q: the Remote SQL lines of Q's inner query on the coordinator,
# from its plan (auto_explain: plpgsql hides the query it EXECUTEs).
remote_sql() {
	PGPORT=$PORT_coord psql -qX -v ON_ERROR_STOP=1 2>&1 >/dev/null <<SQL | sed -n 's/^ *Remote SQL: //p'
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_verbose = on;
SET auto_explain.log_level = notice;
$(query "$1");
SQL
}
P="$PGBIN/psql -qX -h $T_DIR -d nfpg"

# 4. interleaved rounds: coordinator, single server, each node's state query
set --
for x in $QUERIES; do
	remote_sql $x >"$T_DIR/remote.$x"
	[ "$(grep -c '^SELECT nfpg.nf_topn_state(' "$T_DIR/remote.$x")" = 3 ] ||
		{ echo "$(label $x): the coordinator does not ship nf_topn_state to the 3 nodes:"; cat "$T_DIR/remote.$x"; exit 1; }
	{ echo "BEGIN; DECLARE c1 CURSOR FOR"; sed -n 1p "$T_DIR/remote.$x"; echo "; FETCH ALL FROM c1; COMMIT;"; } >"$T_DIR/node.$x.sql"
	set -- "$@" "$x:coord=$P -p $PORT_coord -c \"$(query $x)\"" "$x:ref=$P -p $PORT_ref -c \"$(query $x)\""
	[ $x = z ] || for n in $NODES; do set -- "$@" "$x:$n=$P -p $(port $n) -f $T_DIR/node.$x.sql"; done
	[ $x = z ] || set -- "$@" "$x:local=$P -p $PORT_site_a -c \"$(query $x)\""
done
python3 "$HERE/scale_out_runs.py" "$RUNS" "$T_DIR/runs.json" "$CLUSTERS" "$COUNTERS" "$@"

# 5. once each: no pushdown (rows fetched) and the size of those rows
for n in $NODES; do on coord "ALTER SERVER $n OPTIONS (DROP extensions)" >/dev/null; done
set --
for x in $QUERIES; do
	remote_sql $x >"$T_DIR/rows.$x"
	grep -q 'nf_topn_state' "$T_DIR/rows.$x" && { echo "no-pushdown run still ships the state"; exit 1; }
	set -- "$@" "$x:rows=$P -p $PORT_coord -c \"$(query $x)\""
	copy=0
	[ $x = z ] || for n in $NODES; do
		c=$(PGPORT=$(port $n) psql -qX -c "COPY ($(sed -n 1p "$T_DIR/rows.$x")) TO STDOUT" | wc -c)
		copy=$((copy + c))
	done
	echo "$x $copy" >>"$T_DIR/copytext"
done
python3 "$HERE/scale_out_runs.py" 1 "$T_DIR/rows.json" "$CLUSTERS" "$COUNTERS" "$@"
for n in $NODES; do on coord "ALTER SERVER $n OPTIONS (ADD extensions 'nfpg')" >/dev/null; done
HEAP=$(on ref "SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree('nfpg.flows') WHERE isleaf")

# 6. the table
python3 - "$T_DIR/runs.json" "$T_DIR/rows.json" "$T_DIR/copytext" "$FLOWS" "$HEAP" "$LINK" "$NODES" "$QUERIES" <<'PY'
import json, statistics, sys
runs, rows = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
copytext = dict(l.split() for l in open(sys.argv[3]))
flows, heap, link = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
nodes, queries = sys.argv[7].split(), sys.argv[8].split()
labels = {'d': '-s ip/bytes', 'e': '-s dstport/flows', 'f': '-A srcip4/24,dstip4/24',
          'z': '-s ip/bytes, empty -t'}
pct = lambda a, b: 100.0 * a / b if b else float('nan')
med = statistics.median
def m(name, f): return med(f(r) for r in runs[name])
print("\nmedians of %d rounds; load average during the runs %.2f-%.2f; wall includes psql's start and connection" %
      (len(runs['d:coord']), min(runs['load']), max(runs['load'])))
print("%-24s %8s %8s | %8s %8s %8s %8s | %8s %8s %8s" %
      ('query', 'ref wall', 'ref CPU', 'co wall', 'co CPU', 'nodesCPU', 'co total', 'nodemax', 'transfer', 'model'))
for x in queries:
    rw, rc = m(x + ':ref', lambda r: r['wall']), m(x + ':ref', lambda r: r['cpu']['ref'])
    cw, cc = m(x + ':coord', lambda r: r['wall']), m(x + ':coord', lambda r: r['cpu']['coord'])
    nc = m(x + ':coord', lambda r: sum(r['cpu'][n] for n in nodes))
    print("%-24s %7.3fs %7.3fs | %7.3fs %7.3fs %7.3fs %7.3fs |" % (labels[x], rw, rc, cw, cc, nc, cc + nc), end='')
    if x + ':' + nodes[0] not in runs:
        print()
        continue
    nw = {n: m(x + ':' + n, lambda r: r['wall']) for n in nodes}
    down = m(x + ':coord', lambda r: sum(r['down'].values()))
    transfer = down * 8 / (link * 1e6)
    model = max(nw.values()) + transfer + cc
    print(" %7.3fs %7.3fs %7.3fs  speed-up %.2fx" % (max(nw.values()), transfer, model, rw / model))
print("\nper node, state query alone through a cursor as postgres_fdw sends it (wall / CPU),"
      " and the query itself on %s:" % nodes[0])
for x in queries:
    if x + ':' + nodes[0] not in runs:
        continue
    print("  %-24s %s; local %.3fs/%.3fs" % (labels[x], ", ".join(
        "%s %.3fs/%.3fs" % (n, m(x + ':' + n, lambda r: r['wall']), m(x + ':' + n, lambda r, n=n: r['cpu'][n]))
        for n in nodes), m(x + ':local', lambda r: r['wall']), m(x + ':local', lambda r: r['cpu'][nodes[0]])))
print("\nbytes node->coordinator per query (all nodes; connection start included)")
print("%-24s %12s %12s %8s | %12s %12s %12s | %6s %6s %6s" %
      ('query', 'states', 'coord->nodes', 'per node', 'rows (wire)', 'COPY text', 'heap',
       '%wire', '%COPY', '%heap'))
for x in queries:
    down = m(x + ':coord', lambda r: sum(r['down'].values()))
    up = m(x + ':coord', lambda r: sum(r['up'].values()))
    rowsd = rows[x + ':rows'][0]['down']
    wire = sum(rowsd.values())
    print("%-24s %12d %12d %8d | %12d %12d %12d | %5.2f%% %5.2f%% %5.2f%%" %
          (labels[x], down, up, down / len(nodes), wire, int(copytext[x]), heap,
           pct(down, wire), pct(down, int(copytext[x])), pct(down, heap)))
print("\nno pushdown (rows fetched), once: " + "; ".join(
    "%s wall %.2fs, coordinator CPU %.2fs" % (labels[x], rows[x + ':rows'][0]['wall'],
                                              rows[x + ':rows'][0]['cpu']['coord']) for x in queries))
print("heap per flow: %.0f bytes; model: %g Mbit/s link, nodes in parallel, merge = coordinator CPU"
      % (heap / flows, link))
PY
echo "end $(date -u +%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
