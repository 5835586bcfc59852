#!/bin/sh
# scale_out.sh: a coordinator over three nfpg nodes answers as one server
# holding every flow does (issue 18, docs/scale-out.md).
#
# Four clusters set up as Debian sets one up (peer on the socket,
# scram-sha-256 on TCP): three nodes site_a, site_b, site_c and one cluster
# holding the coordinator (database nfpg) and the single-server reference
# (database ref).  The coordinator reaches the nodes through postgres_fdw as
# nfpg_coord, a password login that is only a member of nfpg_reader.
#
# 1M flowgen flows from 6 exporters (198.18.0.1-6, 2 per node) go to the
# reference and, split by exporter, to the nodes (COPY: the contents matter
# here, the collector is tested in part 7).  site_a and site_b are added by
# discovery (their nfpg.exporters), site_c with its exporters named.
# Checks, coordinator against reference:
#   - every filter of the corpus filter_differential.sh uses: count(*) and
#     sum(bytes); whole rows for a few filters;
#   - nf_stat (several types, orders, a filter, a -t window, top 0 = every
#     group), nf_aggregate (-A srcip4/24,dstip4/24; -a; srcip,dstport),
#     nf_summary and nfdump(): identical output, every column;
#   - the plans (auto_explain, nested statements): one Async Foreign Scan
#     per node, whose remote SQL is the partial state nf_topn_state(...)
#     for nf_stat and nf_aggregate, sums for nf_summary, aggregates for
#     nfdump(), the filter as SQL: states and sums cross the wire, not rows;
#     a condition on exporter asks only that exporter's node;
#   - a non-superuser reader on the coordinator, password over TCP;
#   - a node down: the query fails naming that node, no row; back up: equal;
#   - node_remove and node_drain on a small fourth node: totals unchanged,
#     the node gone from node_list;
#   - real collectors: nfpgd on site_a (exporter ::1) and site_b (127.0.0.1);
#     site_b's cluster stops in the middle of its stream and starts again:
#     every flow arrives once, node_sync lists the new exporters, and the
#     coordinator's totals are the nodes' sums and the generator's.
# NFPG_SCALE_FLOWS sets the number of flows (default 1000000).
. "$(dirname "$0")/../lib.sh"
set -u
FLOWS=${NFPG_SCALE_FLOWS:-1000000}
T_DIR=$(mktemp -d /tmp/nfpg-it.XXXXXX)
PW=coord-secret-$$
export PGHOST="$T_DIR" PGDATABASE=nfpg
NODES="site_a site_b site_c"

# cluster NAME: initdb with Debian's authentication, start it; sets PORT_NAME.
cluster() {
	_d="$T_DIR/$1"
	_p=$(free_port)
	"$PGBIN/initdb" -D "$_d" -U "$(id -un)" --auth-local=peer --auth-host=scram-sha-256 >"$_d.initdb.log" 2>&1 || return 1
	cat >>"$_d/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $_p
unix_socket_directories = '$T_DIR'
timezone = 'UTC'
fsync = off
max_worker_processes = 8
max_parallel_workers_per_gather = 2
CONF
	"$PGBIN/pg_ctl" -D "$_d" -l "$_d.log" -w start >/dev/null || return 1
	eval "PORT_$1=$_p"
}
pg_ctl_() { "$PGBIN/pg_ctl" -D "$T_DIR/$1" -l "$T_DIR/$1.log" -w "$2" -m fast >/dev/null; }
pg_stop() {	# lib.sh's t_cleanup calls it: every cluster of this test
	for c in site_a site_b site_c coord; do [ -d "$T_DIR/$c" ] && pg_ctl_ $c stop 2>/dev/null; done
	[ -n "${LOADER2_PID:-}" ] && kill "$LOADER2_PID" 2>/dev/null
	return 0
}

# on CLUSTER DB SQL: one value (lib.sh's q) from a database of a cluster.
on() { PGPORT=$(eval echo "\$PORT_$1") PGDATABASE=$2 q "$3"; }
co() { on coord nfpg "$1"; }
ref() { on coord ref "$1"; }
# out CLUSTER DB FILE SQL: the query's rows and header as psql prints them,
# into FILE (empty when it fails): files are compared across databases.
out() { PGPORT=$(eval echo "\$PORT_$1") psql -qXA -v ON_ERROR_STOP=1 -d "$2" -o "$3" -c "$4" 2>"$3.err" || : >"$3"; }

for c in site_a site_b site_c coord; do
	cluster $c || { t_fail "cluster $c"; t_done; exit 1; }
done
for db in "site_a nfpg" "site_b nfpg" "site_c nfpg" "site_c small" "coord ref"; do
	set -- $db
	PGPORT=$(eval echo "\$PORT_$1") "$PGBIN/createdb" "$2"
	on $1 $2 "CREATE EXTENSION nfpg" >/dev/null
	on $1 $2 "SELECT nfpg.setup()" >/dev/null
done
for n in $NODES; do
	on $n nfpg "CREATE ROLE nfpg_coord LOGIN PASSWORD '$PW' IN ROLE nfpg_reader" >/dev/null
done
"$PGBIN/createdb" -p "$PORT_coord" nfpg
t_eq "nodes ask the coordinator for a password on TCP" "scram-sha-256" \
	"$(on site_a nfpg "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' ORDER BY line_number LIMIT 1")"

# ---- 1. the flows: all in ref, each node its two exporters
EXP="198.18.0"	# exporter k of flowgen is $EXP.k; site_a 1-2, site_b 3-4, site_c 5-6
$FLOWGEN --count "$FLOWS" --seed 18 --exporters 6 --format csv --out "$T_DIR/flows.csv"
t_eq "flowgen wrote $FLOWS flows" "$FLOWS" "$(($(wc -l <"$T_DIR/flows.csv") - 1))"
PGPORT=$PORT_coord psql -qX -d ref -v ON_ERROR_STOP=1 -v csv="$T_DIR/flows.csv" -v exporter_prefix=$EXP. \
	-f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null
PGPORT=$PORT_coord psql -qX -d ref -c 'ANALYZE nfpg.flows' >/dev/null
t_eq "reference holds every flow" "$FLOWS" "$(ref "SELECT count(*) FROM nfpg.flows")"
TRUTH_BYTES=$(awk -F, 'NR > 1 { s += $11 } END { printf "%.0f", s }' "$T_DIR/flows.csv")
t_eq "reference bytes = the CSV's" "$TRUTH_BYTES" "$(ref "SELECT sum(bytes) FROM nfpg.flows")"

# Each node gets its exporters' rows as they are in ref (received included),
# the time partitions first, and its nfpg.exporters rows as nfpgd would
# have made them, for discovery.
i=0
for n in $NODES; do
	e1=$EXP.$((2 * i + 1)) e2=$EXP.$((2 * i + 2))
	i=$((i + 1))
	on $n nfpg "SELECT nfpg.ensure_partitions('2024-03-11 09:00+00', '2024-03-11 10:00+00')" >/dev/null
	PGPORT=$PORT_coord psql -qX -d ref -c "\\copy (SELECT * FROM nfpg.flows WHERE exporter IN ('$e1', '$e2')) TO STDOUT" |
		PGPORT=$(eval echo "\$PORT_$n") psql -qX -v ON_ERROR_STOP=1 -c "\\copy nfpg.flows FROM STDIN"
	on $n nfpg "ANALYZE nfpg.flows" >/dev/null
	t_eq "$n holds its exporters' flows" \
		"$(ref "SELECT count(*) || ' ' || sum(bytes) FROM nfpg.flows WHERE exporter IN ('$e1', '$e2')")" \
		"$(on $n nfpg "SELECT count(*) || ' ' || sum(bytes) FROM nfpg.flows")"
	[ $n = site_c ] && continue		# site_c's exporters are named to node_add
	on $n nfpg "INSERT INTO nfpg.exporters (exporter, source_id, export_version, first_seen, last_seen, flows)
		SELECT exporter, source_id, 9, min(first_seen), max(last_seen), count(*) FROM nfpg.flows GROUP BY 1, 2" >/dev/null
done

# The coordinator; every node over TCP as nfpg_coord with its password.
co "CREATE EXTENSION postgres_fdw" >/dev/null
co "CREATE EXTENSION nfpg" >/dev/null
t_eq "setup_coordinator" "ok" "$(co "SELECT nfpg.setup_coordinator()" >/dev/null && echo ok)"
t_eq "coordinator's nfpg.flows is partitioned by exporter" "l exporter" \
	"$(co "SELECT p.partstrat::text || ' ' || a.attname FROM pg_partitioned_table p
		JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
		WHERE p.partrelid = 'nfpg.flows'::regclass")"
for n in $NODES; do
	co "CREATE SERVER $n FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$(eval echo "\$PORT_$n")', dbname 'nfpg')" >/dev/null
	co "CREATE USER MAPPING FOR PUBLIC SERVER $n OPTIONS (user 'nfpg_coord', password '$PW')" >/dev/null
done
co "SELECT nfpg.node_add('site_a')" >/dev/null
co "SELECT nfpg.node_add('site_b')" >/dev/null
co "SELECT nfpg.node_add('site_c', exporters => '{$EXP.5,$EXP.6}')" >/dev/null
NODE_LIST="SELECT node || ' ' || (SELECT array_agg(e ORDER BY e) FROM unnest(exporters) e)::text
	|| ' ' || partition::text FROM nfpg.node_list() ORDER BY node"
t_eq "node_list: discovered (site_a, site_b) and named (site_c) exporters, a partition each" \
	"site_a {$EXP.1,$EXP.2} nfpg.flows_node_site_a
site_b {$EXP.3,$EXP.4} nfpg.flows_node_site_b
site_c {$EXP.5,$EXP.6} nfpg.flows_node_site_c" "$(co "$NODE_LIST")"
t_eq "node_add set extensions and async_capable on each server" "3" \
	"$(co "SELECT count(*) FROM pg_foreign_server WHERE srvname IN ('site_a', 'site_b', 'site_c')
		AND 'extensions=nfpg' = ANY (srvoptions) AND 'async_capable=true' = ANY (srvoptions)")"
t_eq "no flow stored on the coordinator itself" "0" \
	"$(co "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'nfpg.flows'::regclass AND c.relkind <> 'f'")"
t_eq "coordinator: count and bytes = the reference's" \
	"$(ref "SELECT count(*) || ' ' || sum(bytes) FROM nfpg.flows")" \
	"$(co "SELECT count(*) || ' ' || sum(bytes) FROM nfpg.flows")"

# ---- 2. the filter corpus, coordinator against reference
# The coordinator runs each filter as its own query, in two psql sessions,
# a rejected filter printing no line: count(*) and sum(bytes) GROUP BY
# exporter, so that, with partitionwise aggregation, each node runs the
# whole aggregate with the filter as SQL (part 4 checks the plan; the
# whole-rows checks below fetch rows instead).  The reference computes
# every filter it accepts in one pass (FILTER (WHERE nf_filter(...))), side
# by side with it: 230 scans of 1M flows would take the test's time.
{
	cat "$NFPG_TOP/test/data/nfdump-ref/filters.txt"
	cat <<'FILTERS'
proto tcp and dst port 587
src net 10.10/16 and dst port 445
net 172.16/16 or src net 2001:db8:10::/48
proto tcp and flags S and not flags A and packets < 3 and bytes < 100
dst port in [ 445 4899 5900 ] and packets <= 2
src host 198.51.100.53 or dst host 10.10.3.8
icmp-type 8 and bytes > 1000
duration > 10000 and bps > 100k
if 1 and not out if 2
FILTERS
	seq -s ' or port ' 1 1000 | sed 's/^/port /'
} | sed "s/'/''/g; s/.*/'&'/" >"$T_DIR/corpus.lit"	# one SQL literal a line
nfilters=$(wc -l <"$T_DIR/corpus.lit")
# two sessions, round robin, as the one pass leaves a core idle
sed 's/.*/SELECT &, exporter, count(*), sum(bytes) FROM nfpg.flows WHERE nfpg.nf_filter(&) GROUP BY exporter ORDER BY exporter;/' \
	"$T_DIR/corpus.lit" | split -n r/2 - "$T_DIR/corpus.sql."
t0=$(date +%s)
for part in aa ab; do
	{ echo "SET enable_partitionwise_aggregate = on;"; cat "$T_DIR/corpus.sql.$part"; } |
		PGPORT=$PORT_coord psql -qXAt -d nfpg >"$T_DIR/corpus.co.$part" 2>"$T_DIR/corpus.co.$part.err" &
done
# the filters the reference accepts, as literals again, then the one pass
sed 's/.*/SELECT quote_literal(&::text) WHERE nfpg.nf_filter_sql(&) IS NOT NULL;/' "$T_DIR/corpus.lit" |
	PGPORT=$PORT_coord psql -qXAt -d ref 2>/dev/null >"$T_DIR/corpus.ok"
{
	echo "SELECT x.filter, t.exporter, x.count, x.bytes FROM (SELECT exporter"
	awk '{ printf ", count(*) FILTER (WHERE nfpg.nf_filter(%s)) c%d, sum(bytes) FILTER (WHERE nfpg.nf_filter(%s)) s%d\n", $0, NR, $0, NR }' "$T_DIR/corpus.ok"
	echo "FROM nfpg.flows GROUP BY exporter) t, LATERAL (VALUES"
	awk '{ printf "%s(%d, %s, c%d, s%d)\n", (NR > 1 ? ", " : ""), NR, $0, NR, NR }' "$T_DIR/corpus.ok"
	echo ") x(n, filter, count, bytes) WHERE x.count > 0 ORDER BY x.n, t.exporter;"
} >"$T_DIR/corpus.ref.sql"
PGPORT=$PORT_coord psql -qXAt -d ref -v ON_ERROR_STOP=1 -f "$T_DIR/corpus.ref.sql" 2>"$T_DIR/corpus.ref.err" | sort >"$T_DIR/corpus.ref"
t1=$(date +%s)
wait
echo "# filter corpus: coordinator $(($(date +%s) - t0)) s, reference $((t1 - t0)) s, side by side"
sort "$T_DIR/corpus.co.aa" "$T_DIR/corpus.co.ab" >"$T_DIR/corpus.co"
cat "$T_DIR/corpus.co.aa.err" "$T_DIR/corpus.co.ab.err" >"$T_DIR/corpus.co.err"
ok=$(wc -l <"$T_DIR/corpus.ok")
[ "$ok" -gt 200 ] && t_ok "$ok of $nfilters filters accepted by the reference" ||
	t_fail "only $ok of $nfilters filters accepted by the reference"
t_eq "the coordinator rejects the others" $((nfilters - ok)) "$(grep -c 'ERROR:' "$T_DIR/corpus.co.err")"
compared=$(cut -d'|' -f1 "$T_DIR/corpus.ref" | sort -u | wc -l)
[ "$compared" -gt 100 ] && t_ok "$compared filters select flows" || t_fail "only $compared filters select flows: $(head -3 "$T_DIR/corpus.ref.err")"
if cmp -s "$T_DIR/corpus.ref" "$T_DIR/corpus.co"; then
	t_ok "every filter: coordinator count(*) and sum(bytes) = the reference's"
else
	t_fail "filters differ (< reference, > coordinator)"
	diff "$T_DIR/corpus.ref" "$T_DIR/corpus.co" | head -10 | cut -c1-200 | sed 's/^/# /'
	head -3 "$T_DIR/corpus.co.err" | sed 's/^/# coordinator: /'
fi
# Whole rows (every column) for a few filters, as multisets: sorted dumps.
for f in 'proto tcp and dst port 587' 'src net 10.10/16 and dst port 445' \
		'dst port in [ 445 4899 5900 ] and packets <= 2' 'icmp-type 8 and bytes > 1000'; do
	sql="COPY (SELECT * FROM nfpg.flows WHERE nfpg.nf_filter('$f')) TO STDOUT"
	PGPORT=$PORT_coord psql -qX -d ref -c "$sql" | sort >"$T_DIR/rows.ref"
	PGPORT=$PORT_coord psql -qX -d nfpg -c "$sql" | sort >"$T_DIR/rows.co"
	n=$(wc -l <"$T_DIR/rows.ref")
	if [ "$n" -gt 0 ] && cmp -s "$T_DIR/rows.ref" "$T_DIR/rows.co"; then t_ok "'$f': the same $n rows"
	else t_fail "'$f': rows differ ($n in ref, $(wc -l <"$T_DIR/rows.co") on the coordinator)"
		diff "$T_DIR/rows.ref" "$T_DIR/rows.co" | head -4 | sed 's/^/# /'; fi
done

# ---- 3. nf_stat, nf_aggregate, nf_summary: identical output
# same WHAT SQL: the query's output on the coordinator = on the reference.
same() {
	out coord ref "$T_DIR/q.ref" "$2"
	out coord nfpg "$T_DIR/q.co" "$2"
	rows=$(($(wc -l <"$T_DIR/q.ref") - 2))
	if [ "$rows" -gt 0 ] && cmp -s "$T_DIR/q.ref" "$T_DIR/q.co"; then t_ok "$1: identical ($rows rows)"
	else t_fail "$1: differs ($rows rows on the reference)"
		diff "$T_DIR/q.ref" "$T_DIR/q.co" | head -6 | cut -c1-200 | sed 's/^/# /'
		head -2 "$T_DIR/q.co.err" "$T_DIR/q.ref.err" | sed 's/^/# /'; fi
}
W="'2024-03-11 09:10+00', '2024-03-11 09:40+00'"
same "-s ip/bytes" "SELECT * FROM nfpg.nf_stat('ip', 'bytes', 10) ORDER BY rank"
same "-s dstport/flows" "SELECT * FROM nfpg.nf_stat('dstport', 'flows', 20) ORDER BY rank"
same "-s srcip/packets -n 0 (every group)" "SELECT * FROM nfpg.nf_stat('srcip', 'packets', 0) ORDER BY rank"
same "-s proto" "SELECT * FROM nfpg.nf_stat('proto', 'flows', 0) ORDER BY rank"
same "-s record/bytes" "SELECT * FROM nfpg.nf_stat('record', 'bytes', 15) ORDER BY rank"
same "-s dstip/bytes 'proto tcp and dst port 443' -t window" \
	"SELECT * FROM nfpg.nf_stat('dstip', 'bytes', 10, 'proto tcp and dst port 443', $W) ORDER BY rank"
same "-s srcport/bps:a (ascending)" "SELECT * FROM nfpg.nf_stat('srcport', 'bps:a', 10) ORDER BY rank"
same "-A srcip4/24,dstip4/24 -s record/bytes -n 15" \
	"SELECT * FROM nfpg.nf_aggregate('srcip4/24,dstip4/24', 'bytes', 15)"
same "-a -n 0 with a filter and -t (every group)" \
	"SELECT * FROM nfpg.nf_aggregate(NULL, NULL, 0, 'proto udp', $W)"
same "-A srcip,dstport -s record/packets 'dst port in [ 445 4899 5900 ]'" \
	"SELECT * FROM nfpg.nf_aggregate('srcip,dstport', 'packets', 25, 'dst port in [ 445 4899 5900 ]')"
same "nfdump -s ip/bytes -s dstport/flows 'proto tcp'" \
	"SELECT * FROM nfpg.nfdump(stats => '{ip/bytes,dstport/flows}', filter => 'proto tcp')"
same "nfdump -A srcip4/24,dstport -O bytes -n 20" \
	"SELECT * FROM nfpg.nfdump(fields => 'srcip4/24,dstport', print_order => 'bytes', top => 20)"
# Flows printed: -O bytes leaves flows of equal bytes in any order, on one
# server too (parallel scans), so the lines are compared sorted.
out coord ref "$T_DIR/q.ref" "SELECT * FROM nfpg.nfdump(filter => 'icmp-type 8 and bytes > 1000', print_order => 'bytes')"
out coord nfpg "$T_DIR/q.co" "SELECT * FROM nfpg.nfdump(filter => 'icmp-type 8 and bytes > 1000', print_order => 'bytes')"
rows=$(wc -l <"$T_DIR/q.ref")
[ "$rows" -gt 100 ] && [ "$(sort "$T_DIR/q.ref" | md5sum)" = "$(sort "$T_DIR/q.co" | md5sum)" ] &&
	t_ok "nfdump 'icmp-type 8 and bytes > 1000' -O bytes (flows printed): the same $rows lines" ||
	t_fail "nfdump 'icmp-type 8 and bytes > 1000' -O bytes: lines differ ($rows on the reference)"
same "summary" "SELECT * FROM nfpg.nf_summary()"
same "summary with a filter and -t" "SELECT * FROM nfpg.nf_summary('proto tcp', $W)"

# ---- 4. the plans: partial states (or sums) from each node, scanned
# asynchronously, and no flow's row on the wire.  plpgsql hides the query
# it EXECUTEs from EXPLAIN; auto_explain logs nested statements and, at
# NOTICE, sends them to psql.
plan() {	# NAME SQL: the plans of SQL and of the statements it runs, in $T_DIR/plan.NAME
	PGPORT=$PORT_coord psql -qX -d nfpg -v ON_ERROR_STOP=1 >"$T_DIR/plan.$1" 2>&1 <<SQL
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_verbose = on;
SET auto_explain.log_level = notice;
$2;
SQL
}
plan stat "SELECT * FROM nfpg.nf_stat('ip', 'bytes', 10)"
t_eq "EXPLAIN -s ip/bytes: one Async Foreign Scan per node" 3 "$(grep -c 'Async Foreign Scan' "$T_DIR/plan.stat")"
t_eq "EXPLAIN -s ip/bytes: each node computes the partial state (Remote SQL)" 3 \
	"$(grep -c 'Remote SQL: SELECT nfpg.nf_topn_state(' "$T_DIR/plan.stat")"
t_eq "EXPLAIN -s ip/bytes: no other Remote SQL (no node ships flows' rows)" 3 "$(grep -c 'Remote SQL:' "$T_DIR/plan.stat")"
for n in $NODES; do
	grep -q "Relations: Aggregate on (nfpg.flows_node_$n)" "$T_DIR/plan.stat" &&
		t_ok "EXPLAIN -s ip/bytes: $n's partition aggregated remotely" || t_fail "EXPLAIN: no remote aggregate on flows_node_$n"
done
grep -E 'Foreign Scan|Remote SQL' "$T_DIR/plan.stat" | head -2 | cut -c1-160 | sed 's/^/# /'
plan agg "SELECT * FROM nfpg.nf_aggregate('srcip4/24,dstip4/24', 'bytes', 15, 'proto tcp')"
t_eq "EXPLAIN -A srcip4/24,dstip4/24 'proto tcp': a state from each node, filtered there" "3 3 3" \
	"$(grep -c 'Async Foreign Scan' "$T_DIR/plan.agg") $(grep -c 'Remote SQL:' "$T_DIR/plan.agg") $(grep -c 'Remote SQL: SELECT nfpg.nf_topn_state(.* WHERE .*proto = 6' "$T_DIR/plan.agg")"
plan summary "SELECT * FROM nfpg.nf_summary('proto udp')"
t_eq "EXPLAIN nf_summary 'proto udp': sums from each node, filtered there" "3 3 3" \
	"$(grep -c 'Async Foreign Scan' "$T_DIR/plan.summary") $(grep -c 'Remote SQL:' "$T_DIR/plan.summary") $(grep -c 'Remote SQL: SELECT sum(.* WHERE .*proto = 17' "$T_DIR/plan.summary")"
grep 'Remote SQL' "$T_DIR/plan.summary" | head -1 | cut -c1-160 | sed 's/^/# /'
# rows_shipped NAME: how many remote queries of the plan select plain
# columns (no aggregate or function call before FROM): flows' rows.
rows_shipped() { sed -n 's/^ *Remote SQL: SELECT \(.*\) FROM nfpg\.flows.*/\1/p' "$T_DIR/plan.$1" | grep -vc '(' || :; }
plan nfdump "SELECT * FROM nfpg.nfdump(stats => '{ip/bytes,dstport/flows}', filter => 'proto tcp')"
n=$(grep -c 'Remote SQL:' "$T_DIR/plan.nfdump")
[ "$n" -ge 3 ] && t_eq "EXPLAIN nfdump -s ip/bytes -s dstport/flows: $n remote queries, none ships rows" 0 "$(rows_shipped nfdump)" ||
	t_fail "EXPLAIN nfdump(): $n remote queries"
t_eq "EXPLAIN nf_stat, nf_aggregate: no remote query ships rows" "0 0" "$(rows_shipped stat) $(rows_shipped agg)"
plan prune "SELECT count(*) FROM nfpg.flows WHERE exporter = '$EXP.3'"
t_eq "EXPLAIN WHERE exporter = site_b's: only site_b is asked" "1 0" \
	"$(grep -c 'Foreign Scan' "$T_DIR/plan.prune") $(grep -c 'flows_node_site_[ac]' "$T_DIR/plan.prune")"
grep -q 'flows_node_site_b' "$T_DIR/plan.prune" && t_ok "EXPLAIN WHERE exporter = site_b's: site_b's partition" ||
	t_fail "EXPLAIN WHERE exporter = site_b's: no scan of site_b"
t_eq "WHERE exporter = site_b's: the reference's count" "$(ref "SELECT count(*) FROM nfpg.flows WHERE exporter = '$EXP.3'")" \
	"$(co "SELECT count(*) FROM nfpg.flows WHERE exporter = '$EXP.3'")"
plan filter "SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter('proto tcp and dst port 587')"
t_eq "EXPLAIN of a filter query: each node gets the filter as SQL" "3 3" \
	"$(grep -c 'Async Foreign Scan' "$T_DIR/plan.filter") $(grep -c 'Remote SQL: .* WHERE .*dst_port = 587' "$T_DIR/plan.filter")"
grep 'Remote SQL' "$T_DIR/plan.filter" | head -1 | cut -c1-160 | sed 's/^/# /'
plan pwagg "SET enable_partitionwise_aggregate = on;
	SELECT exporter, count(*), sum(bytes) FROM nfpg.flows WHERE nfpg.nf_filter('proto tcp and dst port 587') GROUP BY exporter"
t_eq "EXPLAIN, partitionwise GROUP BY exporter: each node returns its counts and sums" "3 3" \
	"$(grep -c 'Async Foreign Scan' "$T_DIR/plan.pwagg") $(grep -c 'Remote SQL: SELECT exporter, count(\*), sum(bytes) FROM nfpg.flows WHERE .*dst_port = 587.* GROUP BY 1' "$T_DIR/plan.pwagg")"

# ---- 5. a non-superuser reader, password over TCP
co "CREATE ROLE viewer LOGIN PASSWORD 'viewer-$PW' IN ROLE nfpg_reader" >/dev/null
viewer() { PGPASSWORD="viewer-$PW" psql -qXAt -h 127.0.0.1 -p "$PORT_coord" -U viewer -d nfpg -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
t_eq "coordinator asks for a password on TCP" "scram-sha-256" \
	"$(co "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' ORDER BY line_number LIMIT 1")"
t_eq "viewer logs in over TCP with its password, is no superuser" "off" "$(viewer "SHOW is_superuser")"
case $(PGPASSWORD=wrong psql -qXAt -h 127.0.0.1 -p "$PORT_coord" -U viewer -d nfpg -c "SELECT 1" 2>&1) in
*"password authentication failed"*) t_ok "viewer: a wrong password is refused" ;;
*) t_fail "viewer: a wrong password was not refused" ;; esac
t_eq "viewer: nf_stat = the reference's" \
	"$(ref "SELECT string_agg(value || ':' || bytes, ' ' ORDER BY rank) FROM nfpg.nf_stat('ip', 'bytes', 10)")" \
	"$(viewer "SELECT string_agg(value || ':' || bytes, ' ' ORDER BY rank) FROM nfpg.nf_stat('ip', 'bytes', 10)")"
t_eq "viewer: a filter query = the reference's" \
	"$(ref "SELECT count(*) || ' ' || sum(bytes) FROM nfpg.flows WHERE nfpg.nf_filter('proto udp and port 53')")" \
	"$(viewer "SELECT count(*) || ' ' || sum(bytes) FROM nfpg.flows WHERE nfpg.nf_filter('proto udp and port 53')")"

# ---- 6. a node down: an error naming it, never a smaller total
pg_ctl_ site_b stop
for sql in "SELECT * FROM nfpg.nf_stat('ip', 'bytes', 10) ORDER BY rank" "SELECT count(*) FROM nfpg.flows" \
		"SELECT * FROM nfpg.nf_summary()" "SELECT * FROM nfpg.nfdump(stats => '{proto}')"; do
	out coord nfpg "$T_DIR/down" "$sql"
	t_eq "site_b down: no row from '$sql'" 0 "$(wc -c <"$T_DIR/down")"
	grep -q 'could not connect to server "site_b"' "$T_DIR/down.err" && t_ok "site_b down: the error names site_b" ||
		t_fail "site_b down: error '$(head -2 "$T_DIR/down.err")'"
done
pg_ctl_ site_b start
same "-s ip/bytes once site_b is back" "SELECT * FROM nfpg.nf_stat('ip', 'bytes', 10) ORDER BY rank"

# ---- 8. node_remove and node_drain: a small fourth node (site_c's cluster,
# database small) with 2000 flows of a seventh exporter
on site_c small "SELECT nfpg.ensure_partitions('2024-03-11 09:00+00', '2024-03-11 10:00+00')" >/dev/null
PGPORT=$PORT_coord psql -qX -d ref -c "\\copy (SELECT * FROM nfpg.flows WHERE exporter = '$EXP.1' LIMIT 2000) TO STDOUT" |
	PGPORT=$PORT_site_c psql -qX -d small -v ON_ERROR_STOP=1 -c "\\copy nfpg.flows FROM STDIN"
on site_c small "UPDATE nfpg.flows SET exporter = '$EXP.7'" >/dev/null
on site_c small "INSERT INTO nfpg.exporters (exporter, source_id, export_version, first_seen, last_seen, flows)
	SELECT exporter, source_id, 9, min(first_seen), max(last_seen), count(*) FROM nfpg.flows GROUP BY 1, 2" >/dev/null
co "CREATE SERVER site_d FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$PORT_site_c', dbname 'small')" >/dev/null
co "CREATE USER MAPPING FOR PUBLIC SERVER site_d OPTIONS (user 'nfpg_coord', password '$PW')" >/dev/null
TOTALS="SELECT count(*) || ' ' || sum(bytes) || ' ' || sum(packets) FROM nfpg.flows"
SUMMARY="SELECT row(s.*)::text FROM nfpg.nf_summary() s"
STAT="SELECT string_agg(value || ':' || bytes, ' ' ORDER BY rank) FROM nfpg.nf_stat('ip', 'bytes', 5)"
without=$(co "$TOTALS")
small=$(on site_c small "$TOTALS")
# add A B: the sum of two "count bytes packets" lines
add() { echo "$1 $2" | awk '{ printf "%.0f %.0f %.0f", $1 + $4, $2 + $5, $3 + $6 }'; }
t_eq "before site_d: the coordinator's totals are the reference's" "$(ref "$TOTALS")" "$without"
co "SELECT nfpg.node_add('site_d')" >/dev/null
t_eq "node_add site_d: its exporter discovered" "{$EXP.7}" \
	"$(co "SELECT exporters::text FROM nfpg.node_list() WHERE node = 'site_d'")"
t_eq "node_add site_d: the coordinator's totals are the sum of both" "$(add "$without" "$small")" "$(co "$TOTALS")"
co "SELECT nfpg.node_remove('site_d')" >/dev/null
t_eq "node_remove: site_d gone from node_list" "0" "$(co "SELECT count(*) FROM nfpg.node_list() WHERE node = 'site_d'")"
t_eq "node_remove: no partition left for it" "" "$(co "SELECT to_regclass('nfpg.flows_node_site_d')")"
t_eq "node_remove: the coordinator's totals are back" "$without" "$(co "$TOTALS")"
t_eq "node_remove: the flows stay on the node" "$small" "$(on site_c small "$TOTALS")"

co "SELECT nfpg.node_add('site_d')" >/dev/null
with=$(co "$TOTALS") with_summary=$(co "$SUMMARY") with_stat=$(co "$STAT")
t_eq "site_d added again" "$(add "$without" "$small")" "$with"
PGPORT=$PORT_site_c psql -qX -d small -c "COPY (SELECT * FROM nfpg.flows) TO STDOUT" | sort >"$T_DIR/drain.before"
# The coordinator's login on the nodes only reads; the drain writes into
# site_a, so the DBA running it maps itself to a role that may insert there.
on site_a nfpg "CREATE ROLE nfpg_drain LOGIN PASSWORD '$PW' IN ROLE nfpg_loader, nfpg_reader" >/dev/null
co "CREATE USER MAPPING FOR CURRENT_USER SERVER site_a OPTIONS (user 'nfpg_drain', password '$PW')" >/dev/null
t_eq "node_drain: 2000 flows copied" 2000 "$(co "SELECT nfpg.node_drain('site_d', 'site_a')" 2>"$T_DIR/drain.err")"
head -c 400 "$T_DIR/drain.err" | sed 's/^/# /'
t_eq "node_drain: totals unchanged" "$with" "$(co "$TOTALS")"
t_eq "node_drain: nf_summary unchanged" "$with_summary" "$(co "$SUMMARY")"
t_eq "node_drain: nf_stat unchanged" "$with_stat" "$(co "$STAT")"
t_eq "node_drain: site_d gone, site_a took its exporter" \
	"site_a {$EXP.1,$EXP.2,$EXP.7} nfpg.flows_node_site_a
site_b {$EXP.3,$EXP.4} nfpg.flows_node_site_b
site_c {$EXP.5,$EXP.6} nfpg.flows_node_site_c" "$(co "$NODE_LIST")"
PGPORT=$PORT_site_a psql -qX -c "COPY (SELECT * FROM nfpg.flows WHERE exporter = '$EXP.7') TO STDOUT" | sort >"$T_DIR/drain.after"
if [ -s "$T_DIR/drain.before" ] && cmp -s "$T_DIR/drain.before" "$T_DIR/drain.after"; then
	t_ok "node_drain: site_a holds site_d's rows, every column, once"
else t_fail "node_drain: site_a's copy differs ($(wc -l <"$T_DIR/drain.after") of $(wc -l <"$T_DIR/drain.before") rows)"; fi

# ---- 7. real collectors; site_b's cluster stops in the middle of its stream
nfpgd_start() {	# NODE LISTEN LOG: nfpgd into NODE over TCP with a password; sets LOADER_PID
	"$NFPGD" -l "$2" -s "$T_DIR/spool.$1" \
		-d "host=127.0.0.1 port=$(eval echo "\$PORT_$1") dbname=nfpg user=nfpgd password=$PW connect_timeout=2" \
		-o flush_interval=200 -o retry_interval=1 -o statement_timeout=20 -o exporter_interval=1 -o stats_interval=1 2>"$3" &
	LOADER_PID=$!
	for _ in $(seq 100); do grep -q "listening on" "$3" && return 0; sleep 0.1; done
	return 1
}
for n in site_a site_b; do
	on $n nfpg "CREATE ROLE nfpgd LOGIN PASSWORD '$PW' IN ROLE nfpg_loader" >/dev/null
done
FA=$(free_port) FB=$(free_port)
nfpgd_start site_a "[::1]:$FA" "$T_DIR/nfpgd.site_a.log" || t_fail "nfpgd for site_a did not start"
LOADER1_PID=$LOADER_PID
nfpgd_start site_b "127.0.0.1:$FB" "$T_DIR/nfpgd.site_b.log" || t_fail "nfpgd for site_b did not start"
LOADER2_PID=$LOADER_PID LOADER_PID=$LOADER1_PID
# flows of the next hour, so that they are told apart from part 1's
$FLOWGEN --format v9 --count 20000 --seed 71 --start 2024-03-11T10:00:00 --duration 600 \
	--rate 4000 --dest "[::1]:$FA" --csv "$T_DIR/a.csv" -q &
GA=$!
$FLOWGEN --format v9 --count 60000 --seed 72 --start 2024-03-11T10:00:00 --duration 600 \
	--rate 6000 --dest "127.0.0.1:$FB" --csv "$T_DIR/b.csv" -q &
GB=$!
sleep 3
before=$(on site_b nfpg "SELECT count(*) FROM nfpg.flows WHERE exporter = '127.0.0.1'")
pg_ctl_ site_b stop
echo "# site_b stopped after $before of 60000 flows; down 4 s"
sleep 4
pg_ctl_ site_b start
wait $GA; wait $GB
[ "$before" -gt 0 ] && [ "$before" -lt 60000 ] && t_ok "site_b stopped mid-stream" ||
	t_fail "site_b did not stop mid-stream ($before of 60000 loaded)"
NA=$(($(wc -l <"$T_DIR/a.csv") - 1)) NB=$(($(wc -l <"$T_DIR/b.csv") - 1))
BYTES_A=$(awk -F, 'NR > 1 { s += $11 } END { printf "%.0f", s }' "$T_DIR/a.csv")
BYTES_B=$(awk -F, 'NR > 1 { s += $11 } END { printf "%.0f", s }' "$T_DIR/b.csv")
t_eq "site_b: every flow loaded once after the outage" "$NB" \
	"$(PGPORT=$PORT_site_b wait_count "$NB" "SELECT count(*) FROM nfpg.flows WHERE exporter = '127.0.0.1'" 60)"
t_eq "site_a: every flow loaded" "$NA" \
	"$(PGPORT=$PORT_site_a wait_count "$NA" "SELECT count(*) FROM nfpg.flows WHERE exporter = '::1'" 60)"
grep -q "database unavailable" "$T_DIR/nfpgd.site_b.log" && t_ok "site_b's nfpgd noticed the outage" ||
	t_fail "no outage in site_b's nfpgd log"
# nfpgd reports its exporters every exporter_interval (1 s here)
t_eq "site_a's nfpg.exporters lists ::1" 1 "$(PGPORT=$PORT_site_a wait_count 1 "SELECT count(*) FROM nfpg.exporters WHERE exporter = '::1'" 20)"
t_eq "site_b's nfpg.exporters lists 127.0.0.1" 1 "$(PGPORT=$PORT_site_b wait_count 1 "SELECT count(*) FROM nfpg.exporters WHERE exporter = '127.0.0.1'" 20)"
t_eq "node_list does not know the collectors' exporters yet" "0" \
	"$(co "SELECT count(*) FROM nfpg.node_list() WHERE '127.0.0.1' = ANY (exporters) OR '::1' = ANY (exporters)")"
t_eq "node_sync returns the exporters it added" "site_a ::1
site_b 127.0.0.1" "$(co "SELECT node || ' ' || host(exporter) FROM nfpg.node_sync() ORDER BY 1")"
t_eq "node_sync lists ::1 for site_a and 127.0.0.1 for site_b" "site_a ::1
site_b 127.0.0.1" "$(co "SELECT node || ' ' || host(e) FROM nfpg.node_list(), unnest(exporters) e
	WHERE e IN ('127.0.0.1', '::1') ORDER BY 1")"
t_eq "coordinator: site_b's exporter = the generator's flows and bytes, once" "$NB $BYTES_B" \
	"$(co "SELECT count(*) || ' ' || sum(bytes) FROM nfpg.flows WHERE exporter = '127.0.0.1'")"
t_eq "coordinator: site_a's exporter = the generator's flows and bytes" "$NA $BYTES_A" \
	"$(co "SELECT count(*) || ' ' || sum(bytes) FROM nfpg.flows WHERE exporter = '::1'")"
sum=0
for n in $NODES; do sum=$((sum + $(on $n nfpg "SELECT count(*) FROM nfpg.flows"))); done
total=$((FLOWS + 2000 + NA + NB))
t_eq "coordinator's total = the nodes' sum = every flow sent" "$total $total" "$(co "SELECT count(*) FROM nfpg.flows") $sum"
t_eq "site_b: nothing left in the spool" 0 "$(find "$T_DIR/spool.site_b" -maxdepth 1 -name '*.copy.bz2' | wc -l)"
sleep 1.5	# the next statistics line (stats_interval 1 s)
spooled=$(grep "stats:" "$T_DIR/nfpgd.site_b.log" | tail -1 | sed -n 's/.* \([0-9]*\) flows spooled, \([0-9]*\) replayed.*/\1 \2/p')
case $spooled in
"0 "*|"") t_fail "site_b: nothing went through the spool ($spooled)" ;;
*) t_eq "site_b: every spooled flow replayed" "${spooled% *}" "${spooled#* }" ;;
esac
# Row for row, through the coordinator: the generator's CSV for site_b.
PGPORT=$PORT_coord psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TABLE truth_b (first_ms bigint, last_ms bigint, proto smallint, srcaddr inet,
	dstaddr inet, srcport integer, dstport integer, tcp_flags smallint, tos smallint,
	packets bigint, bytes bigint, src_as bigint, dst_as bigint, input integer, output integer,
	nexthop inet, src_mask smallint, dst_mask smallint, exporter bigint);
\copy truth_b FROM '$T_DIR/b.csv' WITH (FORMAT csv, HEADER)
SQL
PGPORT=$PORT_coord t_same_rows "site_b through the coordinator = the generator's CSV" \
	"SELECT 'epoch'::timestamptz + first_ms * interval '1 ms', 'epoch'::timestamptz + last_ms * interval '1 ms',
		proto, srcaddr, dstaddr, srcport, dstport, tcp_flags, tos, packets, bytes, exporter FROM truth_b" \
	"SELECT first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, tcp_flags, src_tos, packets,
		bytes, source_id FROM nfpg.flows WHERE exporter = '127.0.0.1'"
kill "$LOADER1_PID" "$LOADER2_PID"; wait "$LOADER1_PID" "$LOADER2_PID"; LOADER_PID= LOADER2_PID=
t_done
