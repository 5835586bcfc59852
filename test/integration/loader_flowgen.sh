#!/bin/sh
# loader_flowgen.sh: nfpgd end to end.  flowgen sends NetFlow v9 and IPFIX
# (from 127.0.0.1) and NetFlow v5 (from ::1, exercising the IPv6 socket), three
# exporters each, 100k flows each; nfpg.flows must then hold exactly the
# flows of the generator's CSVs, every field equal (multiset comparison,
# EXCEPT ALL both ways).  Also: the loader's role cannot read flows, the
# exporters table adds up, SIGHUP reloads the config file, the pidfile
# appears and goes, SIGTERM exits cleanly with nothing lost.
. "$(dirname "$0")/../lib.sh"

COUNT=${NFPG_FLOWGEN_COUNT:-100000}
RATE=${NFPG_FLOWGEN_RATE:-50000}

pg_start || { t_fail "cluster start"; t_done; exit 1; }
pg_loader_role
PORT=$(free_port)
SPOOL="$T_DIR/spool"

CONF="$T_DIR/nfpgd.conf"
cat >"$CONF" <<EOF
# test configuration
listen = 127.0.0.1:$PORT [::1]:$PORT
conninfo = host=$PGHOST port=$PGPORT dbname=nfpg user=nfpgd
stats_interval = 2
flush_interval = 200
exporter_interval = 1
instance = flowgen-test
EOF
: >"$T_DIR/nfpgd.log"
"$NFPGD" -c "$CONF" -s "$SPOOL" -p "$T_DIR/nfpgd.pid" 2>"$T_DIR/nfpgd.log" &
LOADER_PID=$!

# wait_log PATTERN: up to 10 s for the loader's log to show PATTERN.
wait_log() {
	for _ in $(seq 100); do
		grep -q "$1" "$T_DIR/nfpgd.log" && return 0
		sleep 0.1
	done
	return 1
}
wait_log "listening on udp \[::1\]" && t_ok "loader listens on IPv4 and IPv6" ||
	{ t_fail "loader did not start"; cat "$T_DIR/nfpgd.log"; t_done; exit 1; }

$FLOWGEN --format v9 --exporters 3 --count "$COUNT" --seed 11 --rate "$RATE" \
	--dest "127.0.0.1:$PORT" --csv "$T_DIR/v9.csv" -q
$FLOWGEN --format v5 --exporters 3 --count "$COUNT" --seed 12 --rate "$RATE" \
	--dest "[::1]:$PORT" --csv "$T_DIR/v5.csv" -q
$FLOWGEN --format ipfix --exporters 3 --count "$COUNT" --seed 13 --rate "$RATE" \
	--dest "127.0.0.1:$PORT" --csv "$T_DIR/ipfix.csv" -q
EXPECTED=$(( $(wc -l <"$T_DIR/v9.csv") + $(wc -l <"$T_DIR/v5.csv") + $(wc -l <"$T_DIR/ipfix.csv") - 3 ))

# Flows arrive within flush_interval; allow a slow shared machine 60 s.
n=0
t_eq "row count equals the CSVs" "$EXPECTED" "$(wait_count "$EXPECTED")"

t_eq "pidfile holds the pid" "$LOADER_PID" "$(cat "$T_DIR/nfpgd.pid")"
sed -i 's/^flush_interval = 200/flush_interval = 300/; s/^instance = .*/instance = renamed/' "$CONF"
kill -HUP "$LOADER_PID"
wait_log "configuration reloaded" && t_ok "SIGHUP reloads" || t_fail "no reload on SIGHUP"
grep -q "reload: flush_interval changed" "$T_DIR/nfpgd.log" && t_ok "reloadable key applied" ||
	t_fail "flush_interval not reloaded"
grep -q "reload: instance changed; restart nfpgd to apply it" "$T_DIR/nfpgd.log" &&
	t_ok "non-reloadable key reported" || t_fail "instance change not reported"
echo "bogus = 1" >>"$CONF"
kill -HUP "$LOADER_PID"
wait_log "reload failed, keeping the current settings: .*nfpgd.conf:8: unknown setting" &&
	t_ok "bad config file on reload is refused" || t_fail "bad config file not refused"

kill -TERM "$LOADER_PID"
wait "$LOADER_PID"
t_eq "loader exits 0 on SIGTERM" 0 $?
LOADER_PID=
[ -e "$T_DIR/nfpgd.pid" ] && t_fail "pidfile left behind" || t_ok "pidfile removed at exit"
t_eq "batch ids carry the instance name" 0 \
	"$(q "SELECT count(*) FROM nfpg.loader_batches WHERE batch_id NOT LIKE 'flowgen-test/%'")"
grep -q "stats: .* flows/s in" "$T_DIR/nfpgd.log" && t_ok "periodic statistics line" ||
	t_fail "no statistics line in the log"
grep "totals:" "$T_DIR/nfpgd.log" | sed 's/^/# /'
grep -q "totals: .* 0 lost, 0 dropped datagrams" "$T_DIR/nfpgd.log" &&
	t_ok "nothing lost or dropped" || t_fail "loader lost or dropped flows"

# The ground truth, as rows of nfpg.flows' columns.
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TABLE truth_csv (first_ms bigint, last_ms bigint, proto smallint, srcaddr inet,
	dstaddr inet, srcport integer, dstport integer, tcp_flags smallint, tos smallint,
	packets bigint, bytes bigint, src_as bigint, dst_as bigint, input integer, output integer,
	nexthop inet, src_mask smallint, dst_mask smallint, exporter bigint);
\copy truth_csv FROM '$T_DIR/v9.csv' WITH (FORMAT csv, HEADER)
ALTER TABLE truth_csv ADD COLUMN version smallint;
UPDATE truth_csv SET version = 9;
\copy truth_csv (first_ms, last_ms, proto, srcaddr, dstaddr, srcport, dstport, tcp_flags, tos, packets, bytes, src_as, dst_as, input, output, nexthop, src_mask, dst_mask, exporter) FROM '$T_DIR/v5.csv' WITH (FORMAT csv, HEADER)
UPDATE truth_csv SET version = 5 WHERE version IS NULL;
\copy truth_csv (first_ms, last_ms, proto, srcaddr, dstaddr, srcport, dstport, tcp_flags, tos, packets, bytes, src_as, dst_as, input, output, nexthop, src_mask, dst_mask, exporter) FROM '$T_DIR/ipfix.csv' WITH (FORMAT csv, HEADER)
UPDATE truth_csv SET version = 10 WHERE version IS NULL;
CREATE VIEW truth AS
SELECT 'epoch'::timestamptz + first_ms * interval '1 ms' AS first_seen,
	   'epoch'::timestamptz + last_ms * interval '1 ms' AS last_seen,
	   proto, srcaddr AS src_addr, dstaddr AS dst_addr, srcport AS src_port,
	   dstport AS dst_port, tcp_flags, tos AS src_tos, packets, bytes, src_as, dst_as,
	   input AS in_if, output AS out_if, nexthop AS next_hop, src_mask, dst_mask,
	   exporter AS source_id, version AS export_version,
	   CASE version WHEN 5 THEN inet '::1' ELSE inet '127.0.0.1' END AS exporter
FROM truth_csv;
CREATE VIEW loaded AS
SELECT first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, tcp_flags,
	   src_tos, packets, bytes, src_as, dst_as, in_if, out_if, next_hop, src_mask, dst_mask,
	   source_id, export_version, exporter
FROM nfpg.flows;
SQL
t_eq "truth has every flow" "$EXPECTED" "$(q "SELECT count(*) FROM truth")"
t_same_rows "table = truth" "SELECT * FROM truth" "SELECT * FROM loaded"
t_eq "received time is set" 0 "$(q "SELECT count(*) FROM nfpg.flows WHERE received < now() - interval '10 minutes' OR received > now()")"
t_eq "nothing in the default partition" 0 "$(q "SELECT count(*) FROM nfpg.flows_default")"

# Exporters: 3 v9 and 3 IPFIX on 127.0.0.1, 3 v5 on ::1; every flow counted.
t_eq "nine exporters reported" "9" "$(q "SELECT count(*) FROM nfpg.exporters")"
t_eq "exporter flow counts add up" "$EXPECTED" "$(q "SELECT sum(flows) FROM nfpg.exporters")"
t_eq "no sequence failures" 0 "$(q "SELECT sum(sequence_failures) FROM nfpg.exporters")"
t_eq "exporter versions" "5|3
9|3
10|3" "$(q "SELECT export_version, count(*) FROM nfpg.exporters GROUP BY 1 ORDER BY 1")"
t_eq "batch ids recorded" "$EXPECTED" "$(q "SELECT sum(flows) FROM nfpg.loader_batches")"
t_eq "spool empty" 0 "$(find "$SPOOL" -name "*.copy.bz2" | wc -l)"

# Least privilege: the loader's role cannot read or drop anything.
for sql in "SELECT count(*) FROM nfpg.flows" "SELECT count(*) FROM nfpg.flows_default" \
	"SELECT count(*) FROM nfpg.loader_batches" "DROP TABLE nfpg.flows_default" \
	"DELETE FROM nfpg.flows"; do
	if out=$(psql -qXAt -U nfpgd -c "$sql" 2>&1); then
		t_fail "loader role could run: $sql"
	else
		case $out in
		*"permission denied"*|*"must be owner"*) t_ok "loader role refused: $sql" ;;
		*) t_fail "loader role: $sql: unexpected error: $out" ;;
		esac
	fi
done
t_done
