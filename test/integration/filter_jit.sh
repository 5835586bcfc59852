#!/bin/sh
# Big nfdump filters with JIT on (issue 14): every query nf_filter can
# produce must stay cancellable.  A cluster with jit = on and JIT forced for
# every plan (jit_above_cost = 0, inlining and optimisation too), 200,000
# flowgen flows in nfpg.flows (ground truth: flowgen's CSV), then:
#  - the JIT control: a small filter is JIT-compiled, in the leader and the
#    parallel workers (so the instance really JITs and the checks below mean
#    something);
#  - 12,000 "port N" terms (157 KB): an answer or an error well within 5 s
#    under statement_timeout = '2s', the rows of flowgen's CSV;
#  - 12,000 "port > N" terms (24,000 comparisons): refused by
#    nfpg.filter_max_terms, within 5 s;
#  - 1,000 "net" terms (2,000 comparisons, the default limit) over the
#    200,000 rows: no JIT in leader or workers, the rows of the hand-written
#    SQL and the count of the CSV; the same through nf_stat (EXECUTE of
#    nf_filter_sql: auto_explain shows the nested plan without JIT);
#  - raising nfpg.filter_max_terms (SET before the library is loaded) lets a
#    bigger filter through, not JIT-compiled, within 5 s under a 2 s timeout.
. "$(dirname "$0")/../lib.sh"

FLOWS=200000
T_START=$(date +%s)
phase() { echo "# $(($(date +%s) - T_START)) s: $*"; }	# progress, to the log
pg_start || { t_fail "cluster start"; t_done; exit 1; }

# JIT on and forced: the test must not depend on the build's or the
# regress configuration's defaults.
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
ALTER SYSTEM SET jit = on;
ALTER SYSTEM SET jit_above_cost = 0;
ALTER SYSTEM SET jit_inline_above_cost = 0;
ALTER SYSTEM SET jit_optimize_above_cost = 0;
SELECT pg_reload_conf();
SQL
t_eq "JIT provider" llvmjit "$(q 'SHOW jit_provider')"
t_eq "this PostgreSQL can JIT (llvmjit.so of the postgresql-15 package)" t "$(q 'SELECT pg_jit_available()')"

phase "flowgen"
$FLOWGEN --count "$FLOWS" --format csv --out "$T_DIR/truth.csv" -q
psql -qX -v ON_ERROR_STOP=1 -v csv="$T_DIR/truth.csv" -f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null
q "SELECT nfpg.index_partitions()" >/dev/null
q "ANALYZE nfpg.flows"
t_eq "nfpg holds every flow" "$FLOWS" "$(q 'SELECT count(*) FROM nfpg.flows')"

phase "loaded"
# The filters, in nfdump's own syntax.
python3 - "$T_DIR" <<'PY'
import sys
d = sys.argv[1]
def write(name, terms):
    with open(f"{d}/{name}.txt", "w") as f:
        f.write(" or ".join(terms))
write("ports12k", [f"port {i}" for i in range(1, 12001)])
write("ranges12k", [f"port > {i}" for i in range(1, 12001)])
# 1,000 networks of flowgen's inside ranges (10.10/16, 10.20/16, ...): odd /24s
nets = [f"10.{10 + 10 * (k // 128)}.{2 * (k % 128) + 1}.0/24" for k in range(1500)]
write("nets1000", [f"net {n}" for n in nets[:1000]])
write("nets1500", [f"net {n}" for n in nets])
PY
t_eq "the 12,000-term filter is about 157 KB" 1 "$(($(wc -c <"$T_DIR/ports12k.txt") / 1000 / 150))"

# What flowgen sent, filtered by the same rules in Python.
truth() {	# truth ports12k|nets1000|nets1500
	python3 - "$T_DIR/truth.csv" "$1" <<'PY'
import csv, sys
rows = csv.DictReader(open(sys.argv[1]))
kind = sys.argv[2]
n = 0
if kind == "ports12k":
    for r in rows:
        n += 1 <= int(r["srcport"]) <= 12000 or 1 <= int(r["dstport"]) <= 12000
else:
    count = 1000 if kind == "nets1000" else 1500
    nets = {(10 + 10 * (k // 128), 2 * (k % 128) + 1) for k in range(count)}
    def inside(a):
        p = a.split(".")
        return len(p) == 4 and p[0] == "10" and (int(p[1]), int(p[2])) in nets
    for r in rows:
        n += inside(r["srcaddr"]) or inside(r["dstaddr"])
print(n)
PY
}

# run NAME SQLFILE: run a psql script, print elapsed ms; output in NAME.out
now_ms() { date +%s%3N; }
run() {
	_t0=$(now_ms)
	psql -qXAt -f "$2" >"$T_DIR/$1.out" 2>&1
	echo $(($(now_ms) - _t0))
}

# JSON EXPLAIN ANALYZE VERBOSE: "JIT" appears for the leader and, per worker,
# under "Workers"; check_plan prints "<jit objects> <workers launched>".
check_plan() {
	python3 - "$1" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
start = text.index("[")
plan = json.loads(text[start:text.rindex("]") + 1])
def walk(o, acc):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "JIT":
                acc[0] += 1
            if k == "Workers Launched":
                acc[1] += v
            walk(v, acc)
    elif isinstance(o, list):
        for v in o:
            walk(v, acc)
acc = [0, 0]
walk(plan, acc)
print(acc[0], acc[1])
PY
}

phase "JIT control"
# -- JIT control: a small filter, parallel workers forced
PARALLEL="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"
cat >"$T_DIR/small.sql" <<SQL
$PARALLEL
EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter('proto tcp and dst port 443');
SQL
run small "$T_DIR/small.sql" >/dev/null
set -- $(check_plan "$T_DIR/small.out")
t_eq "control: a small filter is JIT-compiled (leader and workers)" yes "$([ "$1" -ge 2 ] && [ "$2" -ge 1 ] && echo yes || echo "no: $1 JIT, $2 workers")"

phase "12,000 port N"
# -- 12,000 "port N": two arrays; an answer (or a cancel) within 5 s under a
# 2 s timeout, and the flows of the CSV
cat >"$T_DIR/ports_timed.sql" <<SQL
\set f \`cat $T_DIR/ports12k.txt\`
SET statement_timeout = '2s';
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(:'f');
SQL
cat >"$T_DIR/ports.sql" <<SQL
\set f \`cat $T_DIR/ports12k.txt\`
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(:'f');
SQL
ms=$(run ports_timed "$T_DIR/ports_timed.sql")
run ports "$T_DIR/ports.sql" >/dev/null
expected=$(truth ports12k)
echo "# 12,000 port terms, statement_timeout 2 s: $ms ms: $(cut -c1-100 "$T_DIR/ports_timed.out")"
t_eq "12,000 port terms: answered or cancelled within 5 s (statement_timeout 2 s)" yes \
	"$([ "$ms" -lt 5000 ] && grep -Eqx "$expected|.*canceling statement due to statement timeout" "$T_DIR/ports_timed.out" && echo yes || echo "no: $ms ms")"
t_eq "12,000 port terms: the flows of flowgen's CSV" "$expected" "$(cat "$T_DIR/ports.out")"

phase "12,000 port > N"
# -- 12,000 "port > N": 24,000 comparisons, refused
cat >"$T_DIR/ranges.sql" <<SQL
\set f \`cat $T_DIR/ranges12k.txt\`
SET statement_timeout = '2s';
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(:'f');
SQL
ms=$(run ranges "$T_DIR/ranges.sql")
t_eq "24,000 comparisons: refused within 5 s" yes "$([ "$ms" -lt 5000 ] && echo yes || echo "no: $ms ms")"
t_eq "24,000 comparisons: the error names the size and the limit" 1 \
	"$(grep -c 'compiles to 24000 terms, more than nfpg.filter_max_terms (2000)' "$T_DIR/ranges.out")"
t_eq "24,000 comparisons: the hint says how to raise it" 1 \
	"$(grep -c 'SET nfpg.filter_max_terms = 24000' "$T_DIR/ranges.out")"

phase "1,000 networks (2,000 comparisons, at the default limit)"
# -- 1,000 networks (2,000 comparisons, at the default limit): no JIT, right rows
HAND=$(python3 -c "
import sys
nets = open('$T_DIR/nets1000.txt').read().split(' or ')
print(' OR '.join(f\"src_addr <<= '{n[4:]}' OR dst_addr <<= '{n[4:]}'\" for n in nets))")
cat >"$T_DIR/nets.sql" <<SQL
\set f \`cat $T_DIR/nets1000.txt\`
$PARALLEL
EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(:'f');
SQL
ms=$(run nets "$T_DIR/nets.sql")
set -- $(check_plan "$T_DIR/nets.out")
t_eq "1,000 nets: not JIT-compiled, with parallel workers" "0 yes" "$1 $([ "$2" -ge 1 ] && echo yes || echo no)"
echo "# 1,000 nets, EXPLAIN ANALYZE with 2 workers: $ms ms"
# (the rows kept in tables: the statements are longer than one command-line
# argument may be, and the 2,000 comparisons run once each way; JIT off:
# this only collects the rows, JIT is checked above)
{
	echo "CREATE TABLE hand1000 AS SELECT first_seen, src_addr, dst_addr, src_port, dst_port, bytes FROM nfpg.flows WHERE $HAND;"
	echo "CREATE TABLE filter1000 AS SELECT first_seen, src_addr, dst_addr, src_port, dst_port, bytes FROM nfpg.flows WHERE nfpg.nf_filter('$(cat "$T_DIR/nets1000.txt")');"
} >"$T_DIR/rows.sql"
PGOPTIONS="-c jit=off" psql -qX -v ON_ERROR_STOP=1 -f "$T_DIR/rows.sql" >/dev/null
t_same_rows "1,000 nets = the hand-written SQL" "SELECT * FROM hand1000" "SELECT * FROM filter1000"
t_eq "1,000 nets: the flows of flowgen's CSV" "$(truth nets1000)" "$(q "SELECT count(*) FROM filter1000")"

phase "the same filter through nf_stat (nf_filter_sql + EXECUTE)"
# -- the same filter through nf_stat (nf_filter_sql + EXECUTE): the nested
# plan is not JIT-compiled; a small filter's nested plan is.
log_lines=$(wc -l <"$T_DIR/postgres.log")
cat >"$T_DIR/stat.sql" <<SQL
\set f \`cat $T_DIR/nets1000.txt\`
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_analyze = on;
SET auto_explain.log_format = json;
SELECT count(*) FROM nfpg.nf_stat('ip', filter => 'proto tcp');
SELECT 'marker';
SELECT count(*) FROM nfpg.nf_stat('ip', filter => :'f');
SQL
run stat "$T_DIR/stat.sql" >/dev/null
tail -n +"$((log_lines + 1))" "$T_DIR/postgres.log" >"$T_DIR/stat.log"
# plans logged for the statements nf_stat EXECUTEs, before and after the marker
set -- $(python3 - "$T_DIR/stat.log" <<'PY'
import sys
text = open(sys.argv[1]).read()
before, after = text.split("SELECT 'marker'", 1)
def nested(part):
    entries = part.split("LOG:  duration:")[1:]
    # the statistic's own query, the one holding the filter (nf_stat runs
    # small catalog queries too, which the test's jit_above_cost compiles)
    inner = [e for e in entries if '"Query Text": "SELECT count(*) FROM nfpg.nf_stat' not in e
             and 'nfpg.nf_topn(' in e]
    return len(inner), sum('"JIT"' in e for e in inner)
print(*nested(before), *nested(after))
PY
)
t_eq "nf_stat, small filter: its nested query is JIT-compiled" yes "$([ "$1" -ge 1 ] && [ "$2" -ge 1 ] && echo yes || echo "no: $2 of $1")"
t_eq "nf_stat, 1,000 nets: its nested query is not" yes "$([ "$3" -ge 1 ] && [ "$4" -eq 0 ] && echo yes || echo "no: $4 of $3")"

phase "raising the limit lets a bigger filter through"
# -- raising the limit lets a bigger filter through: 1,500 nets = 3,000
# comparisons; SET before the library is loaded (a new session), JIT forced,
# statement_timeout 2 s; an answer or a cancel within 5 s.
cat >"$T_DIR/raise.sql" <<SQL
\set f \`cat $T_DIR/nets1500.txt\`
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(:'f');
SET nfpg.filter_max_terms = 3000;
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(:'f');
SQL
cat >"$T_DIR/raise_first.sql" <<SQL
SET nfpg.filter_max_terms = 3000;
SET statement_timeout = '2s';
\set f \`cat $T_DIR/nets1500.txt\`
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(:'f');
SQL
run raise "$T_DIR/raise.sql" >/dev/null
t_eq "1,500 nets, default limit: refused" 1 "$(grep -c 'compiles to 3000 terms, more than nfpg.filter_max_terms (2000)' "$T_DIR/raise.out")"
ms=$(run raise_first "$T_DIR/raise_first.sql")
echo "# 1,500 nets, limit raised, first query of the session: $ms ms: $(cut -c1-100 "$T_DIR/raise_first.out")"
t_eq "1,500 nets, limit raised: done or cancelled within 5 s" yes "$([ "$ms" -lt 5000 ] && echo yes || echo "no: $ms ms")"
expected=$(truth nets1500)
t_eq "1,500 nets, limit raised: the flows of flowgen's CSV (or a timeout)" yes \
	"$(grep -qx "$expected" "$T_DIR/raise.out" && grep -Eqx "$expected|.*canceling statement due to statement timeout" "$T_DIR/raise_first.out" && echo yes || echo "no: $(tail -1 "$T_DIR/raise.out") / $(cut -c1-80 "$T_DIR/raise_first.out")")"
cat >"$T_DIR/raise_plan.sql" <<SQL
SET nfpg.filter_max_terms = 3000;
\set f \`cat $T_DIR/nets1500.txt\`
EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(:'f');
SQL
run raise_plan "$T_DIR/raise_plan.sql" >/dev/null
set -- $(check_plan "$T_DIR/raise_plan.out")
t_eq "1,500 nets, limit raised, first query of the session: not JIT-compiled" 0 "$1"

phase "end"
t_done
