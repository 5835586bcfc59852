#!/bin/sh
# real_exporters.sh: exporters nobody here wrote, from Debian packages, read
# a pcap of real packets (test/tools/mkpcap.py) and export to nfpgd on
# 127.0.0.1; the flows in nfpg.flows must match the pcap's ground truth
# (test/tools/pcapflowcheck.py: keys, packets, bytes, TCP flags, times).
#
#   softflowd 1.1.0  NetFlow v5, v9, IPFIX (absolute ms)
#   fprobe 1.1       NetFlow v5 (absolute times shifted by design: not compared)
#   pmacctd 1.7.7    nfprobe NetFlow v9 and IPFIX; sfprobe sFlow v5 (needs
#                    about 65 s to flush: NFPG_SKIP_SFLOW=1 skips it)
#
# The options per exporter are those of the project's notes on each
# exporter's semantics (bidirectional flow tracking: --session-times
# --ignore-tos; sFlow counts frame bytes: --l2-bytes 18).  nfdump 1.7.1
# loses ICMP type/code for some of these layouts; nfpgd must not, so no
# --icmp-type-lost option is given.
#
# Then the same export is sent to nfcapd and the two collectors' records
# are compared directly: every non-ICMP record (nfcapd's ICMP decoding is
# the known-broken part) must be identical in key, packets, bytes and, for
# exporters whose times come from the pcap, first/last milliseconds.  (fprobe
# dates flows by the wall clock, so its times differ between two runs; sFlow
# is not compared: sfcapd stamps arrival times and needs another 66 s.)
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3				# the Debian python, which has scapy
TOOLS=$NFPG_TOP/test/tools

for tool in softflowd fprobe pmacctd; do
	command -v $tool >/dev/null || { echo "# $tool not installed"; t_fail "$tool missing"; }
done
pg_start || { t_fail "cluster start"; t_done; exit 1; }
pg_loader_role
PORT=$(free_port)
LOG="$T_DIR/nfpgd.log"
$PY "$TOOLS/mkpcap.py" --out "$T_DIR/t.pcap" --truth "$T_DIR/t.csv" >/dev/null 2>&1 ||
	{ t_fail "mkpcap.py"; t_done; exit 1; }

: >"$LOG"
"$NFPGD" -l "127.0.0.1:$PORT" -s "$T_DIR/spool" -o flush_interval=200 -o exporter_interval=1 \
	-d "host=$PGHOST port=$PGPORT dbname=nfpg user=nfpgd" 2>"$LOG" &
LOADER_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$LOG" && break; sleep 0.1; done

# settle: until the row count has not changed for 1.5 s.
settle() {
	last=-1
	for _ in $(seq 60); do
		n=$(q "SELECT count(*) FROM nfpg.flows")
		[ "$n" = "$last" ] && [ "$n" -gt 0 ] && return 0
		last=$n
		sleep 1.5
	done
}

# check NAME CHECK-OPTIONS...: the table against the truth, then empty it.
check() {
	name=$1; shift
	settle
	psql -qXA -c "COPY (SELECT (extract(epoch FROM first_seen) * 1000)::bigint AS first_ms,
		(extract(epoch FROM last_seen) * 1000)::bigint AS last_ms, proto, host(src_addr) AS srcaddr,
		host(dst_addr) AS dstaddr, src_port AS srcport, dst_port AS dstport, tcp_flags,
		src_tos AS tos, packets, bytes FROM nfpg.flows) TO STDOUT (FORMAT csv, HEADER)" \
		>"$T_DIR/$name.csv"
	versions=$(q "SELECT string_agg(DISTINCT export_version::text, ',') FROM nfpg.flows")
	if $PY "$TOOLS/pcapflowcheck.py" --truth "$T_DIR/t.csv" --decoded "$T_DIR/$name.csv" "$@" \
		>"$T_DIR/$name.check" 2>&1; then
		t_ok "$name: $(($(wc -l <"$T_DIR/$name.csv") - 1)) records match the pcap (export version $versions)"
	else
		t_fail "$name: differs from the pcap's truth (export version $versions)"
		sed 's/^/#   /' "$T_DIR/$name.check" | head -30
	fi
	q "TRUNCATE nfpg.flows" >/dev/null
}

EXACT="--session-times --ignore-tos --time-tol-ms 2 --require-times"

# versus_nfcapd NAME TIMES(yes|no) COMMAND: run COMMAND (with @PORT@) into a
# fresh nfcapd and compare its non-ICMP records with $T_DIR/NAME.csv.
versus_nfcapd() {
	name=$1 times=$2 cmd=$3
	dir=$T_DIR/nfcapd.$name; mkdir -p "$dir"
	nport=$(free_port)
	nfcapd -w "$dir" -p "$nport" -b 127.0.0.1 -t 3600 >"$dir.log" 2>&1 & npid=$!
	sleep 1
	eval "$(echo "$cmd" | sed "s/@PORT@/$nport/g")" >/dev/null 2>&1
	sleep 1.5; kill "$npid"; wait "$npid" 2>/dev/null
	TZ=UTC nfdump -R "$dir" -o json 2>/dev/null | $PY -c '
import json, sys
for r in [r for r in json.load(sys.stdin) if r.get("type") in ("FLOW", "EVENT") and "proto" in r]:
    src = r.get("src4_addr") or r.get("src6_addr"); dst = r.get("dst4_addr") or r.get("dst6_addr")
    print("%s,%s,%s,%s,%s,%s,%s,%s,%s" % (r["proto"], src, dst, r.get("src_port", 0), r.get("dst_port", 0),
          r["in_packets"], r["in_bytes"], r["first"], r["last"]))' >"$dir.csv"
	psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS got, ref;
CREATE TABLE got (first_ms bigint, last_ms bigint, proto int, src inet, dst inet, sp int, dp int,
	flags int, tos int, packets bigint, bytes bigint);
\copy got FROM '$T_DIR/$name.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE ref (proto int, src inet, dst inet, sp int, dp int, packets bigint, bytes bigint,
	first timestamp, last timestamp);
\copy ref FROM '$dir.csv' WITH (FORMAT csv)
SQL
	if [ "$times" = yes ]; then
		T1=", first_ms, last_ms"
		T2=", (extract(epoch FROM first) * 1000)::bigint, (extract(epoch FROM last) * 1000)::bigint"
	else
		T1= T2=
	fi
	A="SELECT proto, src, dst, sp, dp, packets, bytes $T1 FROM got WHERE proto NOT IN (1, 58)"
	B="SELECT proto, src, dst, sp, dp, packets, bytes $T2 FROM ref WHERE proto NOT IN (1, 58)"
	nref=$(q "SELECT count(*) FROM ref WHERE proto NOT IN (1, 58)")
	diff=$(q "SELECT (SELECT count(*) FROM ($A EXCEPT ALL $B) x) + (SELECT count(*) FROM ($B EXCEPT ALL $A) y)")
	if [ "$nref" -gt 0 ] && [ "$diff" = 0 ]; then
		t_ok "$name: the same $nref non-ICMP records as nfcapd"
	else
		t_fail "$name: $diff records differ from nfcapd's $nref"
		q "$A EXCEPT ALL $B LIMIT 3" | sed 's/^/#   nfpgd only:  /'
		q "$B EXCEPT ALL $A LIMIT 3" | sed 's/^/#   nfcapd only: /'
	fi
}

# run NAME TIMES COMMAND CHECK-OPTIONS...: COMMAND into nfpgd, then nfcapd.
run() {
	name=$1 times=$2 cmd=$3; shift 3
	eval "$(echo "$cmd" | sed "s/@PORT@/$PORT/g")" >/dev/null 2>&1
	check "$name" "$@"
	versus_nfcapd "$name" "$times" "$cmd"
}

SF="softflowd -r $T_DIR/t.pcap -n 127.0.0.1:@PORT@ -a -p $T_DIR/sf.pid"
run softflowd_v5 yes "$SF -v 5" --v4-only $EXACT
run softflowd_v9 yes "$SF -v 9" $EXACT
run softflowd_ipfix yes "$SF -v 10 -A milli" $EXACT
run fprobe_v5 no "fprobe -l 2 -q 100000 -i - 127.0.0.1:@PORT@ <$T_DIR/t.pcap" --v4-only

# nfprobe_conf VERSION PORT: the pmacctd config for that receiver port.
nfprobe_conf() { sed "s/@P@/$2/" "$T_DIR/nfprobe$1.conf.in" >"$T_DIR/nfprobe$1.conf"; }
for v in 9 10; do
	cat >"$T_DIR/nfprobe$v.conf.in" <<CONF
daemonize: false
pcap_savefile: $T_DIR/t.pcap
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:@P@
nfprobe_version: $v
aggregate: src_host, dst_host, src_port, dst_port, proto, tos, tcpflags
CONF
	run "pmacctd_nfprobe_v$v" yes "nfprobe_conf $v @PORT@ && pmacctd -f $T_DIR/nfprobe$v.conf" $EXACT
done

if [ -z "${NFPG_SKIP_SFLOW:-}" ]; then
	cat >"$T_DIR/sfprobe.conf" <<CONF
daemonize: false
pcap_savefile: $T_DIR/t.pcap
pcap_savefile_wait: true
plugins: sfprobe
sfprobe_receiver: 127.0.0.1:$PORT
sfprobe_agentip: 127.0.0.1
CONF
	timeout -s INT 66 pmacctd -f "$T_DIR/sfprobe.conf" >"$T_DIR/sfprobe.log" 2>&1
	check pmacctd_sfprobe_sflow --l2-bytes 18
fi

kill -TERM "$LOADER_PID"; wait "$LOADER_PID"; LOADER_PID=
grep "totals:" "$LOG" | sed 's/^/# /'
t_eq "no datagram rejected or dropped" "" "$(grep "totals:" "$LOG" | grep -v " 0 dropped datagrams .* 0 rejected datagrams")"
t_done
