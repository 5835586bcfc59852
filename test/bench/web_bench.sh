#!/bin/sh
# test/bench/web_bench.sh: how fast nfpg-web answers (issue 16's targets).
# Not part of the test suite.
#
#   sh test/bench/web_bench.sh              as postgres, extension installed,
#                                           nfpg-web built (make web)
#   NFPG_WEB_BENCH_FLOWS=10000000 ...       the issue's 10M flows (default 200000)
#   NFPG_WEB_BENCH_RUNS=7                   timed runs per query (default 7)
#
# Data: a day of flowgen flows, half of them in one hour (the "busy hour"),
# the other half over the 23 hours before it; the 'live' profile's series
# built for the whole day (288 slots); the partitions' lookup indexes built,
# as the scheduler does for closed partitions.  Then, with one logged-in
# session (the connection stays open, as for a user of the page):
#   overview   /api/rates, 24 h of the live profile       target < 100 ms
#   graph      /api/graph of a selective filter over the
#              busy hour (dst port 53), 5-minute buckets   target < 1 s
#   topn       /api/stat -s ip/bytes -n 10 over the busy
#              hour, and nf_stat itself in psql            target <= 1.2x
# Each is run once to warm up, then RUNS times; the median is printed: the
# HTTP time seen by curl on the loopback (daemon + database) and, for Top-N,
# nf_stat's time in one psql session (\timing).
set -eu
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"
N=${NFPG_WEB_BENCH_FLOWS:-200000}
RUNS=${NFPG_WEB_BENCH_RUNS:-7}
HALF=$((N / 2))

pg_start
cat >>"$T_DIR/data/postgresql.conf" <<CONF
shared_buffers = 1GB
work_mem = 256MB
max_parallel_workers_per_gather = 2
random_page_cost = 1.1
CONF
sed -i 's/^\(host.*\)trust$/\1scram-sha-256/' "$T_DIR/data/pg_hba.conf"
"$PGBIN/pg_ctl" -D "$T_DIR/data" -m fast -w restart >/dev/null

# 1. a day of flows: the busy hour ended an hour ago
BUSY_TO=$(( ($(date +%s) / 3600) * 3600 - 3600 ))
BUSY_FROM=$((BUSY_TO - 3600))
DAY_FROM=$((BUSY_TO - 86400))
$FLOWGEN --count "$HALF" --seed 1 --start "$BUSY_FROM" --duration 3600 --format csv --out "$T_DIR/busy.csv" -q
$FLOWGEN --count "$((N - HALF))" --seed 2 --start "$DAY_FROM" --duration $((86400 - 3600)) --format csv \
	--out "$T_DIR/day.csv" -q
for f in busy day; do
	psql -qX -v csv="$T_DIR/$f.csv" -f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null
done
rm -f "$T_DIR/busy.csv" "$T_DIR/day.csv"
q "SELECT nfpg.nf_live_profile(to_timestamp($DAY_FROM))" >/dev/null
q "SELECT nfpg.nf_profile_build('live', to_timestamp($DAY_FROM), to_timestamp($BUSY_TO))" >/dev/null
q "SELECT nfpg.index_partitions('0', 100)" >/dev/null
q "VACUUM ANALYZE nfpg.flows" >/dev/null
q "CREATE ROLE bench_web LOGIN PASSWORD 'bench-pw' IN ROLE nfpg_reader" >/dev/null
echo "flows: $(q "SELECT count(*) FROM nfpg.flows") ($(q "SELECT count(*) FROM nfpg.flows WHERE first_seen >= to_timestamp($BUSY_FROM) AND first_seen < to_timestamp($BUSY_TO)") in the busy hour); series slots: $(q "SELECT count(*) FROM nfpg.profile_series WHERE profile = 'live'")"

# 2. nfpg-web and one session
WEB_PORT=$(free_port)
"$NFPG_TOP/web/nfpg-web" --listen "127.0.0.1:$WEB_PORT" --conninfo "host=127.0.0.1 port=$PGPORT dbname=nfpg" \
	--static "$NFPG_TOP/web/static" 2>"$T_DIR/web.log" &
WEB_PID=$!
trap 'kill $WEB_PID 2>/dev/null; t_cleanup' EXIT INT TERM
sleep 0.5
JAR="$T_DIR/jar"
curl -s -o /dev/null -c "$JAR" -H 'X-Requested-With: nfpg' -d user=bench_web -d password=bench-pw \
	"http://127.0.0.1:$WEB_PORT/api/login"

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# http NAME PATH: median time_total in ms of RUNS GETs (after one warm-up)
http() {
	curl -s -o "$T_DIR/$1.json" -b "$JAR" -w '%{http_code}' "http://127.0.0.1:$WEB_PORT$2" | grep -q 200 ||
		{ echo "$1: $(cat "$T_DIR/$1.json")"; exit 1; }
	for _ in $(seq "$RUNS"); do
		curl -s -o /dev/null -b "$JAR" -w '%{time_total}\n' "http://127.0.0.1:$WEB_PORT$2"
	done | awk '{ print $1 * 1000 }' | median
}

# sqltime SQL: median server time in ms of RUNS runs in one psql session
sqltime() {
	{ printf '%s\n' '\timing on'; for _ in $(seq $((RUNS + 1))); do printf '%s\n' "$1"; done; } |
		PGPASSWORD=bench-pw psql -qXAt -h 127.0.0.1 -p "$PGPORT" -U bench_web -d nfpg -o /dev/null 2>&1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n +2 | median
}

DAY="from=$(iso "$DAY_FROM")&to=$(iso "$BUSY_TO")"
BUSY="from=$(iso "$BUSY_FROM")&to=$(iso "$BUSY_TO")"
OVERVIEW=$(http overview "/api/rates?profile=live&$DAY")
GRAPH=$(http graph "/api/graph?profile=live&filter=dst%20port%2053&bucket=5%20minutes&$BUSY")
TOPN=$(http topn "/api/stat?profile=live&stat=ip&order=bytes&n=10&$BUSY")
NFSTAT=$(sqltime "SELECT * FROM nfpg.nf_stat('ip', 'bytes', 10, 'any', to_timestamp($BUSY_FROM), to_timestamp($BUSY_TO));")
OVERVIEW_SQL=$(sqltime "SELECT count(*) FROM nfpg.nf_profile_rates('live', to_timestamp($DAY_FROM), to_timestamp($BUSY_TO));")

cat <<EOT
web_bench: $N flows, $RUNS runs each, median ms (curl on loopback through nfpg-web; psql \\timing)
  overview 24h (/api/rates, $(python3 -c "import json; print(len(json.load(open('$T_DIR/overview.json'))))") slots)   $OVERVIEW ms  (SQL alone $OVERVIEW_SQL ms; target < 100)
  graph 'dst port 53', busy hour (/api/graph)     $GRAPH ms  (target < 1000)
  Top-N -s ip/bytes, busy hour (/api/stat)        $TOPN ms
  nf_stat itself, same query, psql                $NFSTAT ms
  ratio Top-N page / nf_stat                      $(awk "BEGIN { printf \"%.2f\", $TOPN / $NFSTAT }")  (target <= 1.2)
  machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)
EOT
