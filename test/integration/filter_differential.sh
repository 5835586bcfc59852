#!/bin/sh
# Differential test of nf_filter against nfdump 1.7.1 on flowgen traffic:
# flowgen sends IPFIX to a real nfcapd and writes the CSV of exactly what it
# encoded; the CSV is loaded into nfpg.flows.  Every filter of the reference
# corpus must select as many flows in nfpg as `nfdump -R` on nfcapd's files,
# except the deviations documented in docs/filter.md and the lines one of the
# two rejects (AS/geo without geo DB in nfdump; count/ident/geo in nfpg).
# The extra filters at the end include OR-lists that nfpg compiles into
# col = ANY(array) (one of 1,000 ports, one of 200 networks).
# FILTER_DIFF_FLOWS sets the number of flows (default 100000).
. "$(dirname "$0")/../lib.sh"

FLOWS=${FILTER_DIFF_FLOWS:-100000}
pg_start || { t_fail "cluster start"; t_done; exit 1; }

mkdir -p "$T_DIR/cap"
PORT=$(free_port)
nfcapd -w "$T_DIR/cap" -p "$PORT" -b 127.0.0.1 -t 3600 >"$T_DIR/nfcapd.log" 2>&1 &
NFCAPD_PID=$!
sleep 1
$FLOWGEN --count "$FLOWS" --format ipfix --dest "127.0.0.1:$PORT" --rate 50000 \
	--csv "$T_DIR/truth.csv" -q
sleep 2
kill "$NFCAPD_PID"
wait "$NFCAPD_PID" 2>/dev/null

psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TEMP TABLE truth (
	first_ms bigint, last_ms bigint, proto int, srcaddr inet, dstaddr inet,
	srcport int, dstport int, tcp_flags int, tos int, packets bigint, bytes bigint,
	src_as bigint, dst_as bigint, input int, output int, nexthop inet,
	src_mask int, dst_mask int, exporter int);
\copy truth FROM '$T_DIR/truth.csv' WITH (FORMAT csv, HEADER true)
SELECT nfpg.ensure_partitions(to_timestamp(min(first_ms) / 1000.0), to_timestamp(max(first_ms) / 1000.0)) FROM truth;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
						tcp_flags, src_tos, packets, bytes, src_as, dst_as, in_if, out_if,
						next_hop, src_mask, dst_mask, exporter, source_id, export_version)
SELECT to_timestamp(first_ms / 1000.0), to_timestamp(last_ms / 1000.0), proto, srcaddr, dstaddr,
	   srcport, dstport, tcp_flags, tos, packets, bytes, nullif(src_as, 0), nullif(dst_as, 0),
	   nullif(input, 0), nullif(output, 0), nullif(nexthop, '0.0.0.0'), nullif(src_mask, 0),
	   nullif(dst_mask, 0), '127.0.0.1', exporter, 10
FROM truth;
ANALYZE nfpg.flows;
SQL

pack_flows	# NFPG_PACKED: the same filters over packed hours (filter_differential_packed.sh)
total_nfpg=$(q "SELECT count(*) FROM nfpg.flows")
total_nfdump=$(TZ=UTC nfdump -R "$T_DIR/cap" -q -N -o 'fmt:%cnt' | grep -c .)
t_eq "nfcapd stored every flow flowgen sent" "$FLOWS" "$total_nfdump"
t_eq "nfpg holds every flow" "$FLOWS" "$total_nfpg"

# deviations from 1.7.1 (docs/filter.md), compared only by the corpus test
deviation() {
	case "$1" in
		'net ::/0'|'ip ::10.0.0.1'|'not (flags SA)'|'proto tcp and not flags SA'|\
		'flags S and not flags AFRPU'|'ip in [ 10.0.0.1 10.0.0.0/8 ]') return 0 ;;
	esac
	return 1
}

same=0 differ=0 skipped=0
while IFS= read -r f; do
	if deviation "$f"; then skipped=$((skipped + 1)); continue; fi
	n_nfpg=$(psql -qXAt -v ON_ERROR_STOP=1 -v f="$f" 2>/dev/null <<'SQL'
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(:'f')
SQL
	) || { skipped=$((skipped + 1)); continue; }
	out=$(TZ=UTC nfdump -R "$T_DIR/cap" -q -N -o 'fmt:%cnt' "$f" 2>/dev/null) || { skipped=$((skipped + 1)); continue; }
	n_nfdump=$(printf '%s\n' "$out" | grep -c '^ *[0-9]')
	if [ "$n_nfpg" = "$n_nfdump" ]; then
		same=$((same + 1))
	else
		differ=$((differ + 1))
		t_fail "'$f': nfpg $n_nfpg, nfdump $n_nfdump"
	fi
done <<FILTERS
$(cat "$NFPG_TOP/test/data/nfdump-ref/filters.txt")
tcp and dst port 587
proto tcp and dst port 587
src net 10.10/16 and dst port 445
net 172.16/16 or src net 2001:db8:10::/48
proto tcp and flags S and not flags A and packets < 3 and bytes < 100
dst port in [ 445 4899 5900 ] and packets <= 2
src host 198.51.100.53 or dst host 10.10.3.8
not proto tcp and not proto udp
icmp-type 8 and bytes > 1000
tos > 0 and (port 53 or port 123)
if 1 and not out if 2
duration > 10000 and bps > 100k
port 53 or port 123 or port 443 or port 80
host 10.10.3.8 or host 198.51.100.53 or net 10.20.0.0/16
not port 80 and not port 443 and proto tcp
dst port in [ 80 443 ] or dst port 53 or src port 53
proto udp or proto icmp or proto 58
ip in [ 10.10.3.8 ] or ip 10.10.3.9 or src ip 10.20.1.1
if 1 or if 2 or in if 10
$(seq -s ' or port ' 1 1000 | sed 's/^/port /')
$(seq 1 200 | sed 's|.*|net 10.10.&.0/24|' | paste -sd'|' | sed 's/|/ or /g')
FILTERS
echo "# $same filters agree, $differ differ, $skipped skipped (deviation or rejected by one side)"
t_eq "every comparable filter selects as many flows as nfdump" 0 "$differ"
[ "$same" -gt 150 ] && t_ok "$same filters compared" || t_fail "only $same filters compared"
t_done
