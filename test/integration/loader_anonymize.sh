#!/bin/sh
# loader_anonymize.sh: the loader's privacy option.  With anonymize_key_file
# set, every source, destination and next-hop address in nfpg.flows must be
# the Crypto-PAn image that nfpg.anonymize() gives with the same key (IPv4
# and IPv6), the exporter address is kept, every other field is unchanged,
# and the key never appears in the log.  A bad key stops the loader at start.
. "$(dirname "$0")/../lib.sh"

KEY=0x1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202
pg_start || { t_fail "cluster start"; t_done; exit 1; }
pg_loader_role
printf '%s\n' "$KEY" >"$T_DIR/key"
chmod 600 "$T_DIR/key"
LOG="$T_DIR/nfpgd.log"
loader_start "$LOG" -o anonymize_key_file="$T_DIR/key" -o flush_interval=200 ||
	{ t_fail "nfpgd did not start"; cat "$LOG"; t_done; exit 1; }
PORT=$LOADER_PORT

$FLOWGEN --format v9 --count 5000 --seed 31 --ipv6-share 0.3 --rate 20000 \
	--dest "127.0.0.1:$PORT" --csv "$T_DIR/truth.csv" -q
EXPECTED=$(($(wc -l <"$T_DIR/truth.csv") - 1))
wait_count "$EXPECTED" >/dev/null
kill -TERM "$LOADER_PID"; wait "$LOADER_PID"; LOADER_PID=
t_eq "every flow loaded" "$EXPECTED" "$(q "SELECT count(*) FROM nfpg.flows")"
grep -q "anonymizing addresses with Crypto-PAn" "$LOG" && t_ok "anonymization announced" ||
	t_fail "anonymization not announced"

psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TABLE truth_csv (first_ms bigint, last_ms bigint, proto smallint, srcaddr inet,
	dstaddr inet, srcport integer, dstport integer, tcp_flags smallint, tos smallint,
	packets bigint, bytes bigint, src_as bigint, dst_as bigint, input integer, output integer,
	nexthop inet, src_mask smallint, dst_mask smallint, exporter bigint);
\copy truth_csv FROM '$T_DIR/truth.csv' WITH (FORMAT csv, HEADER)
SQL
COLS="first_seen, last_seen, proto, src_port, dst_port, packets, bytes, source_id"
TRUTH="SELECT 'epoch'::timestamptz + first_ms * interval '1 ms', 'epoch'::timestamptz + last_ms * interval '1 ms',
	proto, srcport, dstport, packets, bytes, exporter,
	nfpg.anonymize(srcaddr, '$KEY'), nfpg.anonymize(dstaddr, '$KEY'), nfpg.anonymize(nexthop, '$KEY'),
	inet '127.0.0.1' FROM truth_csv"
LOADED="SELECT $COLS, src_addr, dst_addr, next_hop, exporter FROM nfpg.flows"
t_same_rows "table = truth with anonymized addresses" "$TRUTH" "$LOADED"
t_eq "no real source address stored" 0 \
	"$(q "SELECT count(*) FROM nfpg.flows f JOIN truth_csv t ON f.src_addr = t.srcaddr")"
n6=$(q "SELECT count(*) FROM nfpg.flows WHERE family(src_addr) = 6")
[ "$n6" -gt 0 ] && t_ok "IPv6 flows covered ($n6)" || t_fail "no IPv6 flows in the test"
grep -qi "1522178d33a4cf80" "$LOG" && t_fail "the key appears in the log" || t_ok "key not logged"

# A bad key: the loader refuses to start, without echoing the key.
printf 'not-a-key-secret\n' >"$T_DIR/badkey"
"$NFPGD" -l "127.0.0.1:$(free_port)" -s "$T_DIR/spool" -o anonymize_key_file="$T_DIR/badkey" \
	2>"$T_DIR/bad.log"
t_eq "bad key: exit status 1" 1 $?
grep -q "anonymization: key file" "$T_DIR/bad.log" && t_ok "bad key reported" ||
	t_fail "bad key not reported: $(cat "$T_DIR/bad.log")"
grep -q "not-a-key-secret" "$T_DIR/bad.log" && t_fail "bad key echoed" || t_ok "bad key not echoed"
t_done
