#!/bin/sh
# test/bench/anonymize_bench.sh: nfpg.anonymize() against nfanon on the same
# flows, side by side (a benchmark, not a test: it asserts nothing).
#
#   FLOWS=200000 test/bench/anonymize_bench.sh        (default size, ~1 minute)
#   FLOWS=10000000 test/bench/anonymize_bench.sh      (the issue's 10M flows)
#
# Run as an ordinary user (PostgreSQL refuses root), with PG_CONFIG pointing
# at a PostgreSQL where nfpg is installed; needs nfdump (nfcapd, nfanon),
# bc and /usr/bin/time.  As root, after test/check.sh:
#   cd $NFPG_WORK && runuser -u postgres -- env PG_CONFIG=$PG_CONFIG \
#       FLOWS=... sh test/bench/anonymize_bench.sh
#
# 1. flowgen sends FLOWS NetFlow v9 flows (IPv6 share 15%) to a real nfcapd;
#    the nfcapd files are merged into one and split by address family.  The
#    same flows (flowgen's ground-truth CSV) are loaded into nfpg.flows and
#    copied into one table per family.
# 2. nfanon rewrites 4 addresses per flowgen flow: source, destination, next
#    hop and the received-from (exporter) address (IPv4 even for IPv6 flows;
#    BGP next hop is absent).  The SQL side anonymizes the same 4 columns:
#      SELECT count(anonymize(src_addr, k)) + ... (dst_addr, next_hop, exporter)
# 3. Each side also runs without anonymization (nfdump -r -w copy; the same
#    SELECT with count(src_addr) ...), to show what is I/O and scan.
# 4. "uniq" rows: the SQL over distinct random addresses, so that nfpg's
#    table of recent results never hits (nfanon has none: its rate does not
#    depend on repetition); compared with nfanon on that family's flows.
#
# Times are CPU seconds (user + system) of the process doing the work:
# nfanon (single-threaded in 1.7.1), best of RUNS; the PostgreSQL backend
# with parallel query off, the average of RUNS runs after a warm-up run.
# CPU time is the "per core" measure and is less disturbed than wall time
# when other jobs share the machine.  Rates are addresses per second.
. "$(dirname "$0")/../lib.sh"

FLOWS=${FLOWS:-200000}
RUNS=${RUNS:-3}
KEY=0x1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202
NFCAPD_PID=

cleanup() {
	[ -n "$NFCAPD_PID" ] && kill "$NFCAPD_PID" 2>/dev/null
	t_cleanup
}
trap cleanup EXIT INT TERM

# cmd_cpu CMD...: CPU seconds (user + system) of CMD, best of RUNS.
cmd_cpu() {
	best=
	i=0
	while [ $i -lt "$RUNS" ]; do
		/usr/bin/time -f '%U %S' -o "$W/time" "$@" >/dev/null 2>&1 ||
			{ echo "bench: failed: $*" >&2; exit 1; }
		t=$(awk '{print $1 + $2}' "$W/time")
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" -eq 1 ]; then best=$t; fi
		i=$((i + 1))
	done
	echo "$best"
}

# sql_cpu QUERY: CPU seconds of the backend per run of QUERY, the average of
# RUNS runs in one session after a warm-up run (from the backend's
# /proc/PID/schedstat: time on a CPU, in nanoseconds).
sql_cpu() {
	{
		echo "SET max_parallel_workers_per_gather = 0;"
		echo "$1;"
		echo "SELECT pg_backend_pid() AS pid \\gset"
		echo "\\setenv BPID :pid"
		echo "\\! cut -d' ' -f1 /proc/\$BPID/schedstat >$W/cpu0"
		i=0
		while [ $i -lt "$RUNS" ]; do echo "$1;"; i=$((i + 1)); done
		echo "\\! cut -d' ' -f1 /proc/\$BPID/schedstat >$W/cpu1"
	} | psql -qXAt -v ON_ERROR_STOP=1 >/dev/null || { echo "bench: query failed: $1" >&2; exit 1; }
	echo "scale=4; ($(cat "$W/cpu1") - $(cat "$W/cpu0")) / 1000000000 / $RUNS" | bc
}

rate() { echo "scale=0; $1 / $2" | bc; }

# line LABEL FLOWS ADDRESSES NFANON_S COPY_S NFPG_S SELECT_S
line() {
	r_nfanon=$(rate "$3" "$4")
	r_nfpg=$(rate "$3" "$6")
	printf '%-7s %9s %10s | %9.3f %9.3f %11s | %9.3f %9.3f %11s | %6.1fx\n' \
		"$1" "$2" "$3" "$4" "$5" "$r_nfanon" "$6" "$7" "$r_nfpg" "$(echo "scale=2; $r_nfpg / $r_nfanon" | bc)"
}

anon_sql() {
	echo "SELECT count(nfpg.anonymize(src_addr, '$KEY')) + count(nfpg.anonymize(dst_addr, '$KEY'))
			   + count(nfpg.anonymize(next_hop, '$KEY')) + count(nfpg.anonymize(exporter, '$KEY'))
		FROM $1"
}

plain_sql() {
	echo "SELECT count(src_addr) + count(dst_addr) + count(next_hop) + count(exporter) FROM $1"
}

pg_start || { echo "bench: cannot start PostgreSQL" >&2; exit 1; }
W=$T_DIR/bench
mkdir -p "$W/cap"

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg); $(nfdump -V); $(openssl version | cut -d' ' -f1-2)"
echo "# generating $FLOWS flows (flowgen v9 -> nfcapd) ..."
port=$(free_port)
start_nfcapd "$W/cap" "$port"
$FLOWGEN --count "$FLOWS" --format v9 --dest 127.0.0.1:"$port" --csv "$W/truth.csv" -q
stop_nfcapd "$port"
nfdump -R "$W/cap" -w "$W/all.nf" >/dev/null
nfdump -r "$W/all.nf" -w "$W/v4.nf" 'ipv4' >/dev/null
nfdump -r "$W/all.nf" -w "$W/v6.nf" 'ipv6' >/dev/null
stored=$(nfdump -r "$W/all.nf" -I | awk '/^Flows:/ {print $2}')

echo "# loading the same flows into nfpg.flows ..."
psql -qX -v ON_ERROR_STOP=1 -v csv="$W/truth.csv" -f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null
q "CREATE TABLE flows_v4 AS SELECT * FROM nfpg.flows WHERE family(src_addr) = 4;
   CREATE TABLE flows_v6 AS SELECT * FROM nfpg.flows WHERE family(src_addr) = 6"
for t in nfpg.flows flows_v4 flows_v6; do q "VACUUM ANALYZE $t" >/dev/null; done
echo "# flows: flowgen $FLOWS, nfcapd stored $stored, nfpg.flows $(q 'SELECT count(*) FROM nfpg.flows')"

printf '%-7s %9s %10s | %9s %9s %11s | %9s %9s %11s | %7s\n' \
	family flows addresses "nfanon s" "nfdump -w" "nfanon a/s" "nfpg s" "SELECT" "nfpg a/s" ratio
for fam in all v4 v6; do
	case $fam in
		all) table=nfpg.flows ;;
		*) table=flows_$fam ;;
	esac
	nflows=$(nfdump -r "$W/$fam.nf" -I | awk '/^Flows:/ {print $2}')
	naddr=$(q "$(plain_sql "$table")")
	t_nfanon=$(cmd_cpu nfanon -q -K "$KEY" -r "$W/$fam.nf" -w "$W/anon.nf")
	t_copy=$(cmd_cpu nfdump -r "$W/$fam.nf" -w "$W/copy.nf")
	t_plain=$(sql_cpu "$(plain_sql "$table")")
	t_anon=$(sql_cpu "$(anon_sql "$table")")
	line "$fam" "$nflows" "$naddr" "$t_nfanon" "$t_copy" "$t_anon" "$t_plain"
	eval "nfanon_$fam=$t_nfanon copy_$fam=$t_copy naddr_$fam=$naddr"
done

q "CREATE TABLE uniq_v4 AS SELECT '0.0.0.0'::inet + (i * 2654435761 % 4294967296) AS a
   FROM generate_series(1, $naddr_v4) i;
   CREATE TABLE uniq_v6 AS SELECT regexp_replace(md5(i::text), '(.{4})(?!$)', '\1:', 'g')::inet AS a
   FROM generate_series(1, $naddr_v6) i"
for fam in v4 v6; do
	q "VACUUM ANALYZE uniq_$fam" >/dev/null
	t_plain=$(sql_cpu "SELECT count(a) FROM uniq_$fam")
	t_anon=$(sql_cpu "SELECT count(nfpg.anonymize(a, '$KEY')) FROM uniq_$fam")
	eval "line '$fam uniq' - \$naddr_$fam \$nfanon_$fam \$copy_$fam $t_anon $t_plain"
done
echo "# s = CPU seconds (nfanon: best of $RUNS; nfpg backend: mean of $RUNS); nfdump -w, SELECT: the same without"
echo "# anonymization; a/s = addresses per second, one core each; ratio = nfpg a/s / nfanon a/s."
echo "# Flows have 4 addresses (src, dst, next hop, exporter; the exporter of v6 flows is IPv4)."
echo "# uniq: distinct random addresses (nfpg's table of recent results never hits) vs nfanon on that family's flows."
