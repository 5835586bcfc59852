#!/bin/sh
# loader_slow.sh: a database that is up but slow, or refusing, loses nothing.
#
# Slow: an ACCESS EXCLUSIVE lock on nfpg.flows is held for 8 s while flows
#   arrive; with statement_timeout = 2 the writers' statements are cancelled,
#   their batches spooled and replayed once the lock is gone.
# Refusing: INSERT on nfpg.flows is revoked from nfpg_loader for a while
#   (as a misconfiguration would); batches spool with "permission denied"
#   and are loaded once the grant is back.
# Both times every flow must be in the table exactly once.
. "$(dirname "$0")/../lib.sh"

pg_start || { t_fail "cluster start"; t_done; exit 1; }
pg_loader_role
LOG="$T_DIR/nfpgd.log"
loader_start "$LOG" -o statement_timeout=2 -o retry_interval=1 -o flush_interval=200 \
	-o stats_interval=1 || { t_fail "nfpgd did not start"; cat "$LOG"; t_done; exit 1; }
PORT=$LOADER_PORT

# Slow.
psql -qX -c "BEGIN; LOCK TABLE nfpg.flows IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT;" >/dev/null &
LOCK_PID=$!
sleep 0.5
$FLOWGEN --format v9 --exporters 2 --count 20000 --seed 41 --rate 5000 \
	--dest "127.0.0.1:$PORT" --csv "$T_DIR/a.csv" -q
wait "$LOCK_PID"
A=$(($(wc -l <"$T_DIR/a.csv") - 1))
t_eq "slow database: every flow loaded" "$A" "$(wait_count "$A")"
grep -q "canceling statement due to statement timeout" "$LOG" && t_ok "statement_timeout fired" ||
	t_fail "no statement timeout in the log"

# Refusing.
q "REVOKE INSERT ON nfpg.flows FROM nfpg_loader" >/dev/null
$FLOWGEN --format v9 --exporters 2 --count 20000 --seed 42 --rate 10000 \
	--dest "127.0.0.1:$PORT" --csv "$T_DIR/b.csv" -q
sleep 2
t_eq "refused: nothing loaded meanwhile" "$A" "$(q "SELECT count(*) FROM nfpg.flows")"
grep -q "permission denied for table flows" "$LOG" && t_ok "refusal logged" || t_fail "no refusal in the log"
q "GRANT INSERT ON nfpg.flows TO nfpg_loader" >/dev/null
B=$(($(wc -l <"$T_DIR/b.csv") - 1))
t_eq "refusing database: every flow loaded after the grant" "$((A + B))" "$(wait_count $((A + B)))"
sleep 2

kill -TERM "$LOADER_PID"; wait "$LOADER_PID"; LOADER_PID=
grep "totals:" "$LOG" | sed 's/^/# /'
t_eq "nothing lost" "" "$(grep "totals:" "$LOG" | grep -v " 0 lost, 0 dropped")"
grep -q "totals: .* 0 spooled" "$LOG" && t_fail "nothing went through the spool" ||
	t_ok "batches went through the spool"

psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TABLE truth_csv (first_ms bigint, last_ms bigint, proto smallint, srcaddr inet,
	dstaddr inet, srcport integer, dstport integer, tcp_flags smallint, tos smallint,
	packets bigint, bytes bigint, src_as bigint, dst_as bigint, input integer, output integer,
	nexthop inet, src_mask smallint, dst_mask smallint, exporter bigint);
\copy truth_csv FROM '$T_DIR/a.csv' WITH (FORMAT csv, HEADER)
\copy truth_csv FROM '$T_DIR/b.csv' WITH (FORMAT csv, HEADER)
SQL
TRUTH="SELECT first_ms, srcaddr, dstaddr, srcport, dstport, proto, packets, bytes, exporter FROM truth_csv"
LOADED="SELECT (extract(epoch FROM first_seen) * 1000)::bigint, src_addr, dst_addr, src_port, dst_port,
	proto, packets, bytes, source_id FROM nfpg.flows"
t_same_rows "every flow exactly once" "$TRUTH" "$LOADED"
t_eq "spool empty" 0 "$(find "$T_DIR/spool" -maxdepth 1 -name '*.copy.bz2' | wc -l)"
t_done
