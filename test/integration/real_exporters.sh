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

softflowd -r "$T_DIR/t.pcap" -n "127.0.0.1:$PORT" -v 5 -a -p "$T_DIR/sf.pid" >/dev/null 2>&1
check softflowd_v5 --v4-only $EXACT
softflowd -r "$T_DIR/t.pcap" -n "127.0.0.1:$PORT" -v 9 -a -p "$T_DIR/sf.pid" >/dev/null 2>&1
check softflowd_v9 $EXACT
softflowd -r "$T_DIR/t.pcap" -n "127.0.0.1:$PORT" -v 10 -a -A milli -p "$T_DIR/sf.pid" >/dev/null 2>&1
check softflowd_ipfix $EXACT

fprobe -l 2 -q 100000 -i - "127.0.0.1:$PORT" <"$T_DIR/t.pcap" >/dev/null 2>&1
check fprobe_v5 --v4-only

for v in 9 10; do
	cat >"$T_DIR/nfprobe$v.conf" <<CONF
daemonize: false
pcap_savefile: $T_DIR/t.pcap
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:$PORT
nfprobe_version: $v
aggregate: src_host, dst_host, src_port, dst_port, proto, tos, tcpflags
CONF
	pmacctd -f "$T_DIR/nfprobe$v.conf" >"$T_DIR/nfprobe$v.log" 2>&1
	check "pmacctd_nfprobe_v$v" $EXACT
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
