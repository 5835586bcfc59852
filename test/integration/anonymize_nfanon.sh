#!/bin/sh
# test/integration/anonymize_nfanon.sh: nfpg.anonymize() against real nfanon.
#
# flowgen sends NetFlow v9 to a real nfcapd, which writes an nfcapd file;
# nfanon (nfdump 1.7.1) anonymizes that file with a key, and nfdump prints
# the addresses before and after.  The same flows go into nfpg.flows from
# flowgen's ground-truth CSV.  For every IPv4 flow, nfpg.anonymize() with
# the same key must give nfanon's source, destination, next hop and
# received-from (exporter) address, both row by row on nfdump's pairs and
# as a whole over nfpg.flows.  Run for nfanon's two key forms.  IPv6 is not
# compared: nfanon 1.7.1's IPv6 is not standard Crypto-PAn (see
# docs/anonymize.md); its agreement count is printed for information only.
. "$(dirname "$0")/../lib.sh"

FLOWS=3000
NFCAPD_PID=

cleanup() {
	[ -n "$NFCAPD_PID" ] && kill "$NFCAPD_PID" 2>/dev/null
	t_cleanup
}
trap cleanup EXIT INT TERM

pg_start || { t_fail "start a cluster"; t_done; exit 1; }
W=$T_DIR/anon
mkdir -p "$W/cap"

# 1. Real nfcapd, fed by flowgen over UDP on loopback.
port=$(free_port)
start_nfcapd "$W/cap" "$port"
$FLOWGEN --count $FLOWS --format v9 --dest 127.0.0.1:"$port" --rate 50000 --csv "$W/truth.csv" -q
stop_nfcapd "$port"
# one file even if the run crossed nfcapd's hourly rotation
capfile=$W/cap.nf
nfdump -R "$W/cap" -w "$capfile" >/dev/null 2>&1 && t_ok "nfcapd wrote $(ls "$W/cap" | wc -l) file(s)" ||
	t_fail "no nfcapd file"
t_eq "nfcapd stored every flow" "$FLOWS" "$(nfdump -r "$capfile" -I 2>/dev/null | awk '/^Flows:/ {print $2}')"

psql -qX -v ON_ERROR_STOP=1 -v csv="$W/truth.csv" -f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null
t_eq "flows loaded into nfpg.flows" "$FLOWS" "$(q 'SELECT count(*) FROM nfpg.flows')"

dump() {
	nfdump -r "$1" -q -N -6 -o 'fmt:%sa,%da,%nh,%ra' | tr -d ' '
}
dump "$capfile" >"$W/orig.csv"
q "CREATE TABLE orig (n serial, sa inet, da inet, nh inet, ra inet); CREATE TABLE anon (n serial, sa inet, da inet, nh inet, ra inet)"
q "\\copy orig (sa, da, nh, ra) FROM '$W/orig.csv' WITH (FORMAT csv)"
t_eq "nfdump prints the flows flowgen sent" "0|0" "$(q "
	SELECT (SELECT count(*) FROM (SELECT src_addr, dst_addr, next_hop FROM nfpg.flows
								  EXCEPT ALL SELECT sa, da, nh FROM orig) a),
		   (SELECT count(*) FROM (SELECT sa, da, nh FROM orig
								  EXCEPT ALL SELECT src_addr, dst_addr, next_hop FROM nfpg.flows) b)")"
nv4=$(q "SELECT count(*) FROM orig WHERE family(sa) = 4")
nv6=$(q "SELECT count(*) FROM orig WHERE family(sa) = 6")
[ "$nv4" -gt 1000 ] && [ "$nv6" -gt 100 ] && t_ok "$nv4 IPv4 and $nv6 IPv6 flows" ||
	t_fail "too few flows of a family: $nv4 IPv4, $nv6 IPv6"

# 2. nfanon with each key form; nfpg must agree on every IPv4 address.
for key in 0x1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202 \
		   nfpg-integration-nfanon-key-0001; do
	rm -f "$W/anon.nf"
	nfanon -q -K "$key" -r "$capfile" -w "$W/anon.nf" >"$W/nfanon.log" 2>&1 ||
		{ t_fail "nfanon -K $key"; cat "$W/nfanon.log"; continue; }
	dump "$W/anon.nf" >"$W/anon.csv"
	q "TRUNCATE anon RESTART IDENTITY"
	q "\\copy anon (sa, da, nh, ra) FROM '$W/anon.csv' WITH (FORMAT csv)"
	t_eq "nfanon kept every flow ($key)" "$FLOWS" "$(q 'SELECT count(*) FROM anon')"
	t_eq "nfanon actually changed the IPv4 addresses ($key)" "0" "$(q "
		SELECT count(*) FROM orig o JOIN anon a USING (n)
		WHERE family(o.sa) = 4 AND (o.sa = a.sa OR o.da = a.da OR o.ra = a.ra)")"
	t_eq "IPv4 row by row: anonymize(x, '$key') = nfanon (src, dst, next hop, exporter)" "$nv4|$nv4|$nv4|$nv4" "$(q "
		SELECT count(*) FILTER (WHERE nfpg.anonymize(o.sa, '$key') = a.sa),
			   count(*) FILTER (WHERE nfpg.anonymize(o.da, '$key') = a.da),
			   count(*) FILTER (WHERE nfpg.anonymize(o.nh, '$key') = a.nh),
			   count(*) FILTER (WHERE nfpg.anonymize(o.ra, '$key') = a.ra)
		FROM orig o JOIN anon a USING (n) WHERE family(o.sa) = 4")"
	t_eq "IPv4 over nfpg.flows: same anonymized flows as nfanon's file ($key)" "$nv4|0|0" "$(q "
		WITH mine AS (
			SELECT nfpg.anonymize(src_addr, '$key') AS sa, nfpg.anonymize(dst_addr, '$key') AS da,
				   nfpg.anonymize(next_hop, '$key') AS nh, nfpg.anonymize(exporter, '$key') AS ra
			FROM nfpg.flows WHERE family(src_addr) = 4)
		SELECT (SELECT count(*) FROM mine),
			   (SELECT count(*) FROM (SELECT * FROM mine EXCEPT ALL
									  SELECT sa, da, nh, ra FROM anon WHERE family(sa) = 4) x),
			   (SELECT count(*) FROM (SELECT sa, da, nh, ra FROM anon WHERE family(sa) = 4
									  EXCEPT ALL SELECT * FROM mine) y)")"
	echo "# IPv6 sources where nfanon 1.7.1 equals standard Crypto-PAn ($key): $(q "
		SELECT count(*) FILTER (WHERE nfpg.anonymize(o.sa, '$key') = a.sa) || ' of ' || count(*)
		FROM orig o JOIN anon a USING (n) WHERE family(o.sa) = 6")"
done

t_done
