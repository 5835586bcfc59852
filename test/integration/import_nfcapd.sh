#!/bin/sh
# test/integration/import_nfcapd.sh: nfpg-import against real nfcapd files.
#
# flowgen sends the same flows (NetFlow v9 from two exporters, IPFIX and v5;
# fixed seeds) to nfpgd and to a real nfcapd 1.7.1, once per compression
# nfcapd offers (none, -z LZO, -y LZ4, -j bzip2; the Debian 1.7.1 build has no
# ZSTD, so a ZSTD file is made by recompressing the plain one's blocks with
# the zstd tool).  nfpg-import, logged in over TCP with a password as a
# member of nfpg_loader like nfpgd, loads each set of files; then:
#   - nfpg.flows holds exactly the rows nfpgd stored live (EXCEPT ALL both
#     ways) on every column but `received` (the collectors' clocks) and the
#     v5 masks nfcapd drops (docs/import.md);
#   - count, packets and bytes equal `nfdump -R ... -I`;
#   - importing again imports nothing; a changed file is reported, a moved
#     one recognised; truncated, corrupt, foreign and empty files are
#     reported by name and block and skipped, and --salvage keeps the
#     readable blocks;
#   - an nfdump 1.6 (layout 1) file, uncompressed and bzip2, built from the
#     documented layout (no 1.6 binary here) and checked by nfdump 1.7.1,
#     imports as flowgen's ground truth;
#   - an NfSen tree imports channel by channel with -x per channel.
. "$(dirname "$0")/../lib.sh"

FLOWS=${NFPG_IMPORT_FLOWS:-15000}
NFCAPD_PID=
WRITE="python3 $NFPG_TOP/test/tools/nfcapd_write.py"

cleanup() {
	[ -n "$NFCAPD_PID" ] && kill "$NFCAPD_PID" 2>/dev/null
	t_cleanup
}
trap cleanup EXIT INT TERM

pg_start || { t_fail "start a cluster"; t_done; exit 1; }
pg_loader_role
W=$T_DIR/w
mkdir -p "$W"
# nfpg-import logs in as nfpgd with a password over TCP (SCRAM), from a
# password file; the Unix socket stays trust for the test's own queries.
q "ALTER ROLE nfpgd PASSWORD 'imp0rt-Secret'" >/dev/null
sed -i 's/^\(host .*\)trust$/\1scram-sha-256/' "$T_DIR/data/pg_hba.conf"
"$PGBIN/pg_ctl" -D "$T_DIR/data" reload >/dev/null
echo "127.0.0.1:$PGPORT:nfpg:nfpgd:imp0rt-Secret" >"$T_DIR/pgpass"
chmod 600 "$T_DIR/pgpass"
CONN="host=127.0.0.1 port=$PGPORT dbname=nfpg user=nfpgd"
"$NFPG_IMPORT" -q -d "$CONN" -r "$NFPG_TOP/test/data/nfcapd/v17-plain.nf" >"$W/nopass.log" 2>&1
t_eq "without the password: exit 2" 2 $?
grep -q "password" "$W/nopass.log" && t_ok "the connection error is shown" || t_fail "no auth error: $(cat "$W/nopass.log")"
export PGPASSFILE="$T_DIR/pgpass"
q "CREATE ROLE outsider LOGIN" >/dev/null
"$NFPG_IMPORT" -q -d "host=$PGHOST port=$PGPORT dbname=nfpg user=outsider" \
	-R "$NFPG_TOP/test/data/nfcapd" >"$W/outsider.log" 2>&1
t_eq "a role without nfpg_loader's rights: exit 2" 2 $?
grep -q "permission denied" "$W/outsider.log" && grep -q "stopping" "$W/outsider.log" &&
	[ "$(grep -c "permission denied" "$W/outsider.log")" = 1 ] &&
	t_ok "... told so once, and the run stops" || { t_fail "outsider"; sed 's/^/# /' "$W/outsider.log"; }
import() { "$NFPG_IMPORT" -q -d "$CONN" "$@"; }

# send PORT: the three flowgen streams, the same every time.
send() {
	$FLOWGEN --format v9 --exporters 2 --count "$FLOWS" --seed 21 --rate 50000 \
		--dest "127.0.0.1:$1" --csv "$W/v9.csv" -q
	$FLOWGEN --format ipfix --count "$FLOWS" --seed 22 --rate 50000 --dest "127.0.0.1:$1" -q
	$FLOWGEN --format v5 --count "$FLOWS" --seed 23 --rate 50000 --dest "127.0.0.1:$1" -q
}

# 1. The live truth: nfpgd's rows, kept aside.
loader_start "$T_DIR/nfpgd.log" || { t_fail "nfpgd did not start"; t_done; exit 1; }
send "$LOADER_PORT"
total=$(wait_count $((FLOWS * 3)))
t_eq "nfpgd stored every flow" $((FLOWS * 3)) "$total"
kill "$LOADER_PID"; wait "$LOADER_PID"; LOADER_PID=
COLS="first_seen, last_seen, packets, bytes, source_id, src_as, dst_as, src_port, dst_port,
	in_if, out_if, flows, proto, tcp_flags, src_tos, engine_type, engine_id, export_version,
	src_addr, dst_addr, exporter, next_hop, next_as, prev_as, out_packets, out_bytes,
	sampling_interval, src_vlan, dst_vlan, dst_tos, fwd_status, direction, bgp_next_hop,
	in_src_mac, out_dst_mac, in_dst_mac, out_src_mac, mpls_labels,
	CASE WHEN export_version = 5 THEN NULL ELSE src_mask END AS src_mask,
	CASE WHEN export_version = 5 THEN NULL ELSE dst_mask END AS dst_mask"
q "CREATE TABLE live AS SELECT $COLS FROM nfpg.flows" >/dev/null
q "TRUNCATE nfpg.flows, nfpg.exporters" >/dev/null

# 2. The same flows through nfcapd, once per compression.
for c in plain:none lzo:-z lz4:-y bz2:-j; do
	name=${c%%:*} opt=${c#*:}
	[ "$opt" = none ] && opt=
	mkdir -p "$W/$name"
	port=$(free_port)
	start_nfcapd "$W/$name" "$port" -I "demo_$name" $opt
	send "$port"
	stop_nfcapd "$port"
done
plain=$(ls "$W/plain"/nfcapd.* | head -1)
mkdir -p "$W/zstd"
$WRITE zstd "$plain" "$W/zstd/$(basename "$plain")" && t_ok "ZSTD file written" || t_fail "ZSTD file"

# nfdump_totals DIR: "flows|packets|bytes" as nfdump -I counts them.
nfdump_totals() {
	nfdump -R "$1" -I | awk -F': *' '/^Flows:/ {f=$2} /^Packets:/ {p=$2} /^Bytes:/ {b=$2}
		END {print f "|" p "|" b}'
}
truth_totals=$(nfdump_totals "$W/plain")
t_eq "nfcapd stored every flow" $((FLOWS * 3)) "${truth_totals%%|*}"

for name in plain lzo lz4 bz2 zstd; do
	import -R "$W/$name" >"$W/import_$name.log" 2>&1
	t_eq "$name: nfpg-import exits 0" 0 $?
	[ "$name" = zstd ] || t_eq "$name: count, packets, bytes = nfdump -I" "$(nfdump_totals "$W/$name")" \
		"$(q "SELECT count(*) || '|' || sum(packets) || '|' || sum(bytes) FROM nfpg.flows")"
	t_same_rows "$name: imported rows = nfpgd's live rows" "SELECT * FROM live" \
		"SELECT $COLS FROM nfpg.flows"
	t_eq "$name: the file is recorded" "$(ls "$W/$name" | wc -l)|$((FLOWS * 3))|complete|2" "$(q "
		SELECT count(*) || '|' || sum(flows) || '|' || min(status) || '|' || min(layout)
		FROM nfpg.imported_files WHERE path LIKE '$W/$name/%'")"
	q "TRUNCATE nfpg.flows" >/dev/null
done
sed 's/^/# /' "$W/import_plain.log"
t_eq "compressions recorded" "LZ4|LZO|ZSTD|bzip2|none" \
	"$(q "SELECT string_agg(c, '|' ORDER BY c) FROM (SELECT DISTINCT compression COLLATE \"C\" AS c FROM nfpg.imported_files) x")"
t_eq "nfpg.exporters from the files' exporter records" "127.0.0.1|1|5
127.0.0.1|1|9
127.0.0.1|2|9
127.0.0.1|1|10" "$(q "SELECT host(exporter) || '|' || source_id || '|' || export_version FROM nfpg.exporters
	ORDER BY export_version = 10, export_version, source_id")"
t_eq "nfpg.exporters counts every imported flow" $((FLOWS * 15)) "$(q "SELECT sum(flows) FROM nfpg.exporters")"

# 3. Idempotent: the plain files again, under their own and another path.
q "TRUNCATE nfpg.flows" >/dev/null
q "DELETE FROM nfpg.imported_files WHERE path NOT LIKE '$W/plain/%'" >/dev/null
import -R "$W/plain" >"$W/again.log" 2>&1
t_eq "importing again exits 0" 0 $?
nplain=$(ls "$W/plain" | wc -l)
grep -q "0 imported, 0 salvaged, $nplain imported before" "$W/again.log" && t_ok "importing again imports nothing" ||
	{ t_fail "importing again"; sed 's/^/# /' "$W/again.log"; }
cp "$plain" "$W/moved.nf"
import -v -r "$W/moved.nf" >"$W/moved.log" 2>&1
grep -q "moved.nf: imported before ($plain" "$W/moved.log" && t_ok "a copy elsewhere is recognised" ||
	{ t_fail "moved file"; sed 's/^/# /' "$W/moved.log"; }
cp "$(ls "$W/lz4"/nfcapd.* | head -1)" "$plain"
import -R "$W/plain" >"$W/changed.log" 2>&1
t_eq "a changed file makes the exit status 1" 1 $?
grep -q "$plain: changed since it was imported" "$W/changed.log" && t_ok "a changed file is reported" ||
	{ t_fail "changed file"; sed 's/^/# /' "$W/changed.log"; }
t_eq "nothing was loaded by the re-runs" 0 "$(q "SELECT count(*) FROM nfpg.flows")"

# 4. Damaged and foreign files.
lz4=$(ls "$W/lz4"/nfcapd.* | head -1)
size=$(stat -c %s "$lz4")
mkdir -p "$W/bad"
head -c $((size / 2)) "$lz4" >"$W/bad/nfcapd.202403110900"
python3 - "$lz4" "$W/bad/nfcapd.202403110905" <<'PY'
import struct, sys
raw = bytearray(open(sys.argv[1], 'rb').read())
pos, n = 40, struct.unpack_from('<I', raw, 36)[0]
for i in range(n):                       # block 2's payload starts with garbage
    size = struct.unpack_from('<I', raw, pos + 4)[0]
    if i == 1:
        raw[pos + 12:pos + 12 + 64] = b'\xff' * 64
    pos += 12 + size
open(sys.argv[2], 'wb').write(raw)
PY
echo "just some text, not flows" >"$W/bad/nfcapd.202403110910"
: >"$W/bad/nfcapd.202403110915"
echo "first=0" >"$W/bad/.nfstat"
cp "$plain" "$W/bad/nfcapd.current.4242"
import -R "$W/bad" >"$W/bad.log" 2>&1
t_eq "damaged files make the exit status 1" 1 $?
sed 's/^/# /' "$W/bad.log"
grep -q "nfcapd.202403110900: block [0-9]* at offset [0-9]*: .*file truncated" "$W/bad.log" &&
	t_ok "truncated file reported with its block" || t_fail "truncated file not reported"
grep -q "nfcapd.202403110905: block 2 at offset [0-9]*: LZ4 data corrupt" "$W/bad.log" &&
	t_ok "corrupt block reported by number" || t_fail "corrupt block not reported"
grep -q "nfcapd.202403110910: not an nfcapd file" "$W/bad.log" && t_ok "foreign file reported" ||
	t_fail "foreign file not reported"
grep -q "nfcapd.202403110915: empty file" "$W/bad.log" && t_ok "empty file reported" ||
	t_fail "empty file not reported"
grep -q "current\|nfstat" "$W/bad.log" && t_fail "files being written were read" ||
	t_ok "nfcapd.current.* and .nfstat left alone"
grep -q "4 files: 0 imported, 0 salvaged, 0 imported before, 0 changed, 4 failed" "$W/bad.log" &&
	t_ok "summary counts 4 failed files" || t_fail "summary"
t_eq "nothing loaded from damaged files" "0|0" \
	"$(q "SELECT (SELECT count(*) FROM nfpg.flows) || '|' || (SELECT count(*) FROM nfpg.imported_files WHERE path LIKE '$W/bad/%')")"
import --salvage -R "$W/bad" >"$W/salvage.log" 2>&1
t_eq "salvage: status" "2|salvaged" "$(q "SELECT count(*) || '|' || min(status) FROM nfpg.imported_files
	WHERE path LIKE '$W/bad/%'")"
salvaged=$(q "SELECT sum(flows) FROM nfpg.imported_files WHERE path LIKE '$W/bad/%'")
[ "$salvaged" -gt 0 ] && [ "$salvaged" -lt $((FLOWS * 6)) ] && t_ok "salvage kept $salvaged flows of the readable blocks" ||
	t_fail "salvage kept $salvaged flows"
# Exporter records are state: flows after a lost block may have lost theirs.
FLOWCOLS="first_seen, last_seen, packets, bytes, src_port, dst_port, proto, src_addr, dst_addr"
t_eq "salvaged rows are a subset of the truth" 0 \
	"$(q "SELECT count(*) FROM ((SELECT $FLOWCOLS FROM nfpg.flows) EXCEPT ALL
		(SELECT $FLOWCOLS FROM live UNION ALL SELECT $FLOWCOLS FROM live)) x")"
t_eq "problems recorded" 2 "$(q "SELECT count(*) FROM nfpg.imported_files WHERE path LIKE '$W/bad/%' AND problems LIKE '%block%'")"
q "TRUNCATE nfpg.flows" >/dev/null

# 5. nfdump 1.6 files (layout 1), against flowgen's ground truth.
mkdir -p "$W/v16"
$WRITE v16 "$W/v9.csv" "$W/v16/nfcapd.202403110900" --ident legacy
$WRITE v16 "$W/v9.csv" "$W/v16/nfcapd.202403110905" --bz2 --ident legacy
v9truth=$(awk -F, 'NR > 1 {f++; p += $10; b += $11} END {print f "|" p "|" b}' "$W/v9.csv")
t_eq "nfdump 1.7.1 reads the 1.6 files as flowgen's truth" "$(echo "$v9truth" | awk -F'|' '{print $1*2 "|" $2*2 "|" $3*2}')" \
	"$(nfdump_totals "$W/v16")"
import -R "$W/v16" >"$W/v16.log" 2>&1
t_eq "1.6 files import" 0 $?
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TABLE truth_csv (first_ms bigint, last_ms bigint, proto smallint, srcaddr inet,
	dstaddr inet, srcport integer, dstport integer, tcp_flags smallint, tos smallint,
	packets bigint, bytes bigint, src_as bigint, dst_as bigint, input integer, output integer,
	nexthop inet, src_mask smallint, dst_mask smallint, exporter bigint);
\copy truth_csv FROM '$W/v9.csv' WITH (FORMAT csv, HEADER)
SQL
TRUTH="SELECT 'epoch'::timestamptz + first_ms * interval '1 ms', 'epoch'::timestamptz + last_ms * interval '1 ms',
	proto, srcaddr, dstaddr, srcport, dstport, tcp_flags, tos, packets, bytes, src_as, dst_as,
	input, output, nexthop, src_mask, dst_mask, exporter, inet '127.0.0.1', 9::smallint,
	'epoch'::timestamptz + (last_ms + 1000) * interval '1 ms' FROM truth_csv"
LOADED="SELECT first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, tcp_flags,
	src_tos, packets, bytes, src_as, dst_as, in_if, out_if, next_hop, src_mask, dst_mask,
	source_id, exporter, export_version, received FROM nfpg.flows"
t_same_rows "1.6 files = flowgen truth, twice" "$TRUTH UNION ALL $TRUTH" "$LOADED"
t_eq "1.6 files recorded" "2|1|legacy" "$(q "SELECT count(*) || '|' || min(layout) || '|' || min(ident)
	FROM nfpg.imported_files WHERE path LIKE '$W/v16/%'")"
q "TRUNCATE nfpg.flows" >/dev/null

# 6. An NfSen tree: two channels of profile live, one given an exporter by -x.
N=$W/nfsen/profiles-data
mkdir -p "$N/live/upstream/2024/03/11" "$N/live/campus/2024/03/11" "$N/other/campus"
cp "$W/v16/nfcapd.202403110900" "$N/live/upstream/2024/03/11/nfcapd.202403110900"
cp "$NFPG_TOP/test/data/nfcapd/v17-plain.nf" "$N/live/campus/2024/03/11/nfcapd.202403110900"
cp "$NFPG_TOP/test/data/nfcapd/v16-synthetic.nf" "$N/other/campus/nfcapd.202403110900"
echo "first=0" >"$N/live/campus/.nfstat"
cp "$plain" "$N/live/campus/nfcapd.current.99"
q "DELETE FROM nfpg.imported_files" >/dev/null
import -N "$W/nfsen" -x upstream=192.0.2.99 >"$W/nfsen.log" 2>&1
t_eq "NfSen tree imports" 0 $?
t_eq "NfSen: live's channels only, -x per channel" "127.0.0.1|12
192.0.2.99|$FLOWS" "$(q "SELECT host(exporter) || '|' || count(*) FROM nfpg.flows GROUP BY exporter ORDER BY exporter")"

t_done
