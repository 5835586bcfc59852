#!/bin/sh
# loader_outage.sh: nothing is lost and nothing is loaded twice when
# PostgreSQL goes away.
#
# Phase 1: a NetFlow v9 stream (3 exporters) runs for about STREAM seconds;
#   PostgreSQL is stopped OUTAGE seconds (default 30) in the middle of it
#   and started again.  Batches go to the spool meanwhile and are replayed;
#   the table must equal the generator's CSV exactly (EXCEPT ALL both ways).
# Phase 2: more flows are spooled while PostgreSQL is down and the loader
#   is stopped; the restarted loader is SIGKILLed in the middle of a replay
#   transaction (held by a lock), started again, and must load every flow
#   once.  Finally a spool file that was already loaded is put back, as if
#   the loader had died between COMMIT and deleting it: it must be skipped.
#
# 1M flows in phase 1, as the issue asks; NFPG_OUTAGE_COUNT makes it smaller.
. "$(dirname "$0")/../lib.sh"

COUNT=${NFPG_OUTAGE_COUNT:-1000000}
STREAM=${NFPG_OUTAGE_STREAM:-50}
OUTAGE=${NFPG_OUTAGE_SECONDS:-30}
COUNT2=${NFPG_OUTAGE_COUNT2:-30000}

pg_start || { t_fail "cluster start"; t_done; exit 1; }
pg_loader_role
PORT=$(free_port)
SPOOL="$T_DIR/spool"
LOG="$T_DIR/nfpgd.log"
: >"$LOG"

start_loader() {
	"$NFPGD" -l "127.0.0.1:$PORT" -s "$SPOOL" \
		-d "host=$PGHOST port=$PGPORT dbname=nfpg user=nfpgd connect_timeout=2" \
		-o stats_interval=5 -o flush_interval=200 -o retry_interval=1 \
		-o statement_timeout=20 2>>"$LOG" &
	LOADER_PID=$!
	for _ in $(seq 100); do
		[ "$(grep -c "listening on" "$LOG")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

pg_ctl_() { "$PGBIN/pg_ctl" -D "$T_DIR/data" -l "$T_DIR/postgres.log" -w "$@" >/dev/null; }

start_loader 1 || { t_fail "loader did not start"; cat "$LOG"; t_done; exit 1; }

# ---- phase 1: outage in the middle of a stream
RATE=$((COUNT / STREAM))
$FLOWGEN --format v9 --exporters 3 --count "$COUNT" --seed 21 --rate "$RATE" \
	--dest "127.0.0.1:$PORT" --csv "$T_DIR/p1.csv" -q &
GEN_PID=$!
sleep $((STREAM / 5))
before=$(q "SELECT count(*) FROM nfpg.flows")
pg_ctl_ stop -m fast
echo "# PostgreSQL stopped after $before flows; down for $OUTAGE s"
sleep "$OUTAGE"
pg_ctl_ start
wait "$GEN_PID"
EXPECTED1=$(($(wc -l <"$T_DIR/p1.csv") - 1))
[ "$before" -gt 0 ] && [ "$before" -lt "$EXPECTED1" ] && t_ok "outage began mid-stream" ||
	t_fail "outage did not begin mid-stream ($before of $EXPECTED1 loaded)"
t_eq "phase 1: every flow loaded after the outage" "$EXPECTED1" "$(wait_count "$EXPECTED1" "" 120)"
grep -q "database unavailable" "$LOG" && t_ok "loader noticed the outage" || t_fail "no outage in the log"
# The statistics line comes every stats_interval: give it time to catch up.
for _ in $(seq 20); do
	spooled=$(grep "stats:" "$LOG" | tail -1 | sed -n 's/.* \([0-9]*\) flows spooled, \([0-9]*\) replayed.*/\1 \2/p')
	[ "${spooled% *}" = "${spooled#* }" ] && break
	sleep 0.5
done
echo "# spooled, replayed: $spooled"
case $spooled in
"0 "*|"") t_fail "nothing went through the spool" ;;
*) set -- $spooled; t_eq "every spooled flow replayed" "$1" "$2" ;;
esac

# ---- phase 2: spool while down, SIGKILL during replay, stale spool file
pg_ctl_ stop -m fast
$FLOWGEN --format v9 --exporters 3 --count "$COUNT2" --seed 22 --rate 20000 \
	--dest "127.0.0.1:$PORT" --csv "$T_DIR/p2.csv" -q
sleep 1
kill -TERM "$LOADER_PID"; wait "$LOADER_PID"
t_eq "loader exits 0 on SIGTERM with the database down" 0 $?
nfiles=$(find "$SPOOL" -maxdepth 1 -name '*.copy.bz2' | wc -l)
[ "$nfiles" -gt 1 ] && t_ok "flows spooled while down ($nfiles files)" || t_fail "spool has $nfiles files"
STALE=$(find "$SPOOL" -maxdepth 1 -name '*.copy.bz2' | sort | head -1)
cp "$STALE" "$T_DIR/stale.copy.bz2"
bzip2 -t "$STALE" && t_ok "spool files are valid bzip2" || t_fail "spool file is not bzip2"

pg_ctl_ start
# Hold the replay's first transaction inside loader_batch_claim, then kill.
psql -qX -c "BEGIN; LOCK TABLE nfpg.loader_batches IN SHARE MODE; SELECT pg_sleep(4); COMMIT;" >/dev/null &
LOCK_PID=$!
sleep 1
start_loader 2 || t_fail "loader did not restart"
sleep 1
waiting=$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'nfpgd' AND wait_event_type = 'Lock'")
[ "$waiting" -ge 1 ] && t_ok "replay blocked inside its transaction" || t_fail "replay not blocked ($waiting)"
kill -KILL "$LOADER_PID"; wait "$LOADER_PID" 2>/dev/null
wait "$LOCK_PID"
t_eq "nothing of phase 2 loaded before the kill" "$EXPECTED1" "$(q "SELECT count(*) FROM nfpg.flows")"

start_loader 3 || t_fail "loader did not restart after SIGKILL"
EXPECTED2=$(($(wc -l <"$T_DIR/p2.csv") - 1))
TOTAL=$((EXPECTED1 + EXPECTED2))
t_eq "phase 2: every flow loaded after SIGKILL and restart" "$TOTAL" "$(wait_count "$TOTAL" "" 60)"

cp "$T_DIR/stale.copy.bz2" "$STALE"
for _ in $(seq 50); do [ -e "$STALE" ] || break; sleep 0.2; done
[ -e "$STALE" ] && t_fail "stale spool file not removed" || t_ok "stale spool file removed"
grep -q "was already loaded" "$LOG" && t_ok "stale batch recognised as loaded" || t_fail "stale batch not recognised"
t_eq "still exactly once" "$TOTAL" "$(q "SELECT count(*) FROM nfpg.flows")"

kill -TERM "$LOADER_PID"; wait "$LOADER_PID"; LOADER_PID=

psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TABLE truth_csv (first_ms bigint, last_ms bigint, proto smallint, srcaddr inet,
	dstaddr inet, srcport integer, dstport integer, tcp_flags smallint, tos smallint,
	packets bigint, bytes bigint, src_as bigint, dst_as bigint, input integer, output integer,
	nexthop inet, src_mask smallint, dst_mask smallint, exporter bigint);
\copy truth_csv FROM '$T_DIR/p1.csv' WITH (FORMAT csv, HEADER)
\copy truth_csv FROM '$T_DIR/p2.csv' WITH (FORMAT csv, HEADER)
CREATE VIEW truth AS
SELECT 'epoch'::timestamptz + first_ms * interval '1 ms' AS f, 'epoch'::timestamptz + last_ms * interval '1 ms' AS l,
	   proto, srcaddr, dstaddr, srcport, dstport, tcp_flags, tos, packets, bytes, src_as, dst_as,
	   input, output, nexthop, src_mask, dst_mask, exporter
FROM truth_csv;
CREATE VIEW loaded AS
SELECT first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, tcp_flags, src_tos,
	   packets, bytes, src_as, dst_as, in_if, out_if, next_hop, src_mask, dst_mask, source_id
FROM nfpg.flows;
SQL
t_same_rows "every flow exactly once" "SELECT * FROM truth" "SELECT * FROM loaded"
t_eq "spool empty" 0 "$(find "$SPOOL" -maxdepth 1 -name '*.copy.bz2' | wc -l)"
t_eq "nothing quarantined" 0 "$(find "$SPOOL" -path '*failed*' -type f | wc -l)"
t_eq "no datagram dropped or lost" "" "$(grep "totals:" "$LOG" | grep -v " 0 lost, 0 dropped")"
t_done
