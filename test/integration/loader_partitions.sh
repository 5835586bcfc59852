#!/bin/sh
# loader_partitions.sh: nfpgd COPYs a batch straight into the partition that
# holds it (nfpg.loader_target) and through nfpg.flows when it spans two.
# Then, with a registry that no longer matches the partitions' real bounds,
# the partition refuses the rows and the batch must still arrive, through
# nfpg.flows, exactly once and not quarantined.  Both times the table must
# equal the generator's CSV.
. "$(dirname "$0")/../lib.sh"

pg_start || { t_fail "cluster start"; t_done; exit 1; }
pg_loader_role
q "ALTER ROLE nfpgd SET log_statement = 'all'" >/dev/null
q "CREATE TABLE truth_csv (first_ms bigint, last_ms bigint, proto smallint, srcaddr inet,
	dstaddr inet, srcport integer, dstport integer, tcp_flags smallint, tos smallint,
	packets bigint, bytes bigint, src_as bigint, dst_as bigint, input integer, output integer,
	nexthop inet, src_mask smallint, dst_mask smallint, exporter bigint)" >/dev/null

TRUTH="SELECT 'epoch'::timestamptz + first_ms * interval '1 ms', 'epoch'::timestamptz + last_ms * interval '1 ms',
	proto, srcaddr, dstaddr, srcport, dstport, packets, bytes, nexthop FROM truth_csv"
LOADED="SELECT first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, packets, bytes,
	next_hop FROM nfpg.flows"

# run SEED: 6000 v9 flows starting 09:30 over an hour, in batches of about
# 2000 (cut by size: 3 s of flush interval is far longer than the send), so the one around 10:00 spans two partitions.
run() {
	q "TRUNCATE nfpg.flows, truth_csv" >/dev/null
	loader_start "$T_DIR/nfpgd.$1.log" -o batch_flows=2000 -o flush_interval=3000 ||
		t_fail "seed $1: nfpgd did not start"
	$FLOWGEN --format v9 --count 6000 --seed "$1" --start 2024-03-11T09:30:00 --duration 3600 \
		--rate 20000 --dest "127.0.0.1:$LOADER_PORT" --csv "$T_DIR/truth.$1.csv" -q
	psql -qX -c "\\copy truth_csv FROM '$T_DIR/truth.$1.csv' WITH (FORMAT csv, HEADER)"
	expected=$(q "SELECT count(*) FROM truth_csv")
	wait_count "$expected" >/dev/null
	kill -TERM "$LOADER_PID"; wait "$LOADER_PID"; LOADER_PID=
	t_same_rows "seed $1: table = CSV" "$TRUTH" "$LOADED"
	t_eq "seed $1: nothing spooled or quarantined" 0 "$(find "$T_DIR/spool" -name '*.bz2' | wc -l)"
}

run 41
copies() { grep -c "COPY $1 (" "$T_DIR/postgres.log"; }
n0900=$(copies nfpg.flows_20240311_0900) n1000=$(copies nfpg.flows_20240311_1000)
nparent=$(copies nfpg.flows)
[ "$n0900" -gt 0 ] && [ "$n1000" -gt 0 ] && t_ok "batches COPYed into their partitions ($n0900 + $n1000)" ||
	t_fail "no direct COPY: 09:00 $n0900, 10:00 $n1000"
[ "$nparent" -gt 0 ] && t_ok "batches spanning 10:00 went through nfpg.flows ($nparent)" ||
	t_fail "no batch went through nfpg.flows"
t_eq "rows where their partitions are" 0 "$(q "SELECT count(*) FROM nfpg.flows_default")"

# The registry claims the 09:00 partition runs to 11:00; the real bound is
# 10:00, so every batch with a flow after 10:00 is refused by it.
q "DELETE FROM nfpg.partitions WHERE relid = 'nfpg.flows_20240311_1000'::regclass;
   UPDATE nfpg.partitions SET upper_bound = '2024-03-11 11:00+00'
	WHERE relid = 'nfpg.flows_20240311_0900'::regclass" >/dev/null
run 42
n=$(grep -c "its partition refused it" "$T_DIR/nfpgd.42.log")
[ "$n" -gt 0 ] && t_ok "refused batches retried through nfpg.flows ($n)" ||
	t_fail "no batch was refused: the test did not test the fallback"
t_eq "refused rows landed in the 10:00 partition" \
	"$(q "SELECT count(*) FROM truth_csv WHERE first_ms >= 1710151200000")" \
	"$(q "SELECT count(*) FROM nfpg.flows_20240311_1000")"
t_done
