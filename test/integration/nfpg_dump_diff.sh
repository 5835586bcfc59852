#!/bin/sh
# test/integration/nfpg_dump_diff.sh: nfpg-dump against real nfdump 1.7.1.
#
# The same flowgen datagrams go through udptee.py to nfcapd (files) and to
# nfpgd (nfpg.flows); then `nfdump -R dir ARGS` and `nfpg-dump -R dir ARGS`
# run for every command line below and must print the same bytes and exit
# with the same code.  The only lines allowed to differ are documented in
# docs/coming-from-nfdump.md: "Sys: ..." (timing) and the "Bytes read: N"
# of the "Total flows processed" line (nfdump's file bytes; nfpg prints 0).
# nfpg-dump runs as a login role that is only a member of nfpg_reader,
# over TCP.
#
#   NFPG_DUMP_FLOWS   flows to generate (default 100000)
set -u
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"
N=${NFPG_DUMP_FLOWS:-100000}
export TZ=UTC
DUMP="$NFPG_TOP/cli/nfpg-dump"
[ -x "$DUMP" ] || make -s -C "$NFPG_TOP/cli" >/dev/null || { t_fail "build nfpg-dump"; t_done; exit 1; }

pg_start || { t_fail "cluster start"; t_done; exit 1; }
q "SELECT nfpg.setup()" >/dev/null 2>&1	# the 0.2 data model; 0.1 creates the table itself
pg_loader_role
q "CREATE ROLE analyst LOGIN PASSWORD 'analyst-pw' IN ROLE nfpg_reader" >/dev/null
# the analyst logs in with a password (scram) over TCP; the rest of the test stays on trust
{ echo "host nfpg analyst 127.0.0.1/32 scram-sha-256"; cat "$T_DIR/data/pg_hba.conf"; } >"$T_DIR/hba" &&
	mv "$T_DIR/hba" "$T_DIR/data/pg_hba.conf" && q "SELECT pg_reload_conf()" >/dev/null
W=$T_DIR/dump; mkdir -p "$W/cap"
# exporter counters reach nfpg.exporters every exporter_interval (10 s by
# default): -E below compares them, so they are reported each second here
loader_start "$W/nfpgd.log" -o flush_interval=200 -o exporter_interval=1 || { t_fail "nfpgd start"; t_done; exit 1; }
cport=$(free_port)
start_nfcapd "$W/cap" "$cport"
tport=$(free_port)
python3 "$NFPG_TOP/test/tools/udptee.py" --listen "127.0.0.1:$tport" --to "127.0.0.1:$cport" \
	--to "127.0.0.1:$LOADER_PORT" --ready "$W/tee.ready" 2>"$W/tee.log" & TEE=$!
for _ in $(seq 50); do [ -e "$W/tee.ready" ] && break; sleep 0.1; done
$FLOWGEN --count "$N" --seed 17 --format v9 --exporters 2 --dest "127.0.0.1:$tport" --rate 40000 -q
sleep 1; kill "$TEE"; wait "$TEE" 2>/dev/null
stop_nfcapd "$cport"
t_eq "nfpgd stored every flow" "$N" "$(wait_count "$N")"
t_eq "nfpgd reported every flow in its exporter counters" "$N" \
	"$(wait_count "$N" "SELECT coalesce(sum(flows), 0) FROM nfpg.exporters" 20)"
t_eq "nfcapd stored every flow" "$N" "$(nfdump -R "$W/cap" -I | sed -n 's/^Flows: //p')"
FILE=$(ls "$W/cap" | grep '^nfcapd\.[0-9]' | head -1)

# nfpg-dump the way an analyst runs it: TCP, password, a reader role
nfpgdump() {
	env PGHOST=127.0.0.1 PGUSER=analyst PGPASSWORD=analyst-pw PGDATABASE=nfpg \
		NFPG_DUMP_INTERVAL=3600 "$DUMP" "$@"
}
# csv's last two columns and json's export_sysid and received are nfdump's
# own exporter number (SysID; nfpg prints the exporter's source id) and the
# collector's receive time (each collector stamps its own): blanked on both
# sides, as documented
norm() { sed -e '/^Sys: /d' -e 's/, Bytes read: [0-9]*$/, Bytes read: 0/' \
	-e 's/^\t"export_sysid" : [0-9]*,/\t"export_sysid" : -,/' -e 's/^\t"received" : ".*",/\t"received" : -,/' \
	-e 's/^\(20[0-9-]* [0-9:]*,.*\),[0-9]*,[0-9-]* [0-9:.]*$/\1,-,-/' "$1"; }

# run_diff ARGS...: identical output (but for the two documented lines) and exit code
run_diff() {
	( cd "$W" && nfdump "$@" ) >"$W/nf.out" 2>"$W/nf.err"; nrc=$?
	( cd "$W" && nfpgdump "$@" ) >"$W/pg.out" 2>"$W/pg.err"; prc=$?
	norm "$W/nf.out" >"$W/nf.txt"; norm "$W/pg.out" >"$W/pg.txt"
	if [ "$nrc" = "$prc" ] && cmp -s "$W/nf.txt" "$W/pg.txt"; then
		t_ok "$*: $(wc -l <"$W/nf.txt") lines identical, exit $nrc"
	else
		t_fail "$*: exit $nrc/$prc, $(diff "$W/nf.txt" "$W/pg.txt" | grep -c '^[<>]') lines differ"
		diff "$W/nf.txt" "$W/pg.txt" | head -6 | sed 's/^/# /'
		head -3 "$W/pg.err" | sed 's/^/# stderr: /'
	fi
}
# run_unordered ARGS...: a long record dump: the same lines and exit code;
# records of the two exporters received in the same millisecond may come in
# another order (nfcapd's arrival order is not kept finer than that; documented)
run_unordered() {
	( cd "$W" && nfdump "$@" ) >"$W/nf.out" 2>&1; nrc=$?
	( cd "$W" && nfpgdump "$@" ) >"$W/pg.out" 2>&1; prc=$?
	norm "$W/nf.out" >"$W/nf.txt"; norm "$W/pg.out" >"$W/pg.txt"
	moved=$(diff "$W/nf.txt" "$W/pg.txt" | grep -c '^<')
	if [ "$nrc" = "$prc" ] && [ "$(LC_ALL=C sort "$W/nf.txt")" = "$(LC_ALL=C sort "$W/pg.txt")" ]; then
		t_ok "$*: $(wc -l <"$W/nf.txt") lines identical, $moved in another order, exit $nrc"
	else
		t_fail "$*: exit $nrc/$prc, the lines differ"
		diff "$W/nf.txt" "$W/pg.txt" | head -6 | sed 's/^/# /'
	fi
}
R="-R cap"
printf 'proto tcp and dst port 443\n# a comment, as nfdump allows\n' >"$W/filter.txt"

# statistics (-s, several -s, several orders, -n, -N, csv, pipe, -l/-L)
run_diff $R -s ip/bytes
run_diff $R -s srcip -n 20
run_diff $R -s dstport/packets -n 15
run_diff $R -s proto
run_diff $R -s ip/bytes/flows -n 5
run_diff $R -s srcip -s dstip -n 5 -N
run_diff $R -s ip -o csv -n 10
run_diff $R -s dstport -o pipe -n 10
run_diff $R -s srcip -o pipe -n 5
run_diff $R -s srcas/bytes -n 10
run_diff $R -s nhip -n 5
run_diff $R -s dstip/bps -n 5
run_diff $R -s dstport:p/bytes -n 8
run_diff $R -s dstip/bytes -n 5 -l +100
run_diff $R -s srcip/bytes -n 10 -L -100k -l +10
run_diff $R -s srcport -n 5 -q
run_diff $R -s ip -n 5 -6
run_diff $R -s ip -t 2024/03/11.09:00-2024/03/11.09:30 -n 5
run_diff $R -s srcip -n 5 'proto udp and dst port 53'
run_diff $R -f filter.txt -s srcip -n 5
# -s record, -a, -A, -b, -B with -O and -n
run_diff $R -s record/bytes -n 10 -o line
run_diff $R -s record/packets -n 5 -o extended
run_diff $R -A srcip4/24,dstip4/24 -O bytes -n 15 -o extended
run_diff $R -A srcip,dstport -O packets -n 20
run_diff $R -A dstport -O flows -n 10 -o 'fmt:%dp %pkt %byt %fl'
run_diff $R -a -O bytes -n 20 -o long
run_diff $R -b -O bytes -n 10
run_diff $R -B -O packets -n 10
# records: every output mode, -c, -O, -t, -q, -N, the default (nsel, as Debian's build)
run_diff $R -c 5
run_diff $R -o line -c 50
run_diff $R -o long -c 20 'proto udp'
run_diff $R -o extended -c 20 -N
run_diff $R -o csv -c 25
run_diff $R -o pipe -c 25
run_diff $R -o line6 -c 20 ipv6
run_diff $R -o bilong -c 10
run_diff $R -o json -c 40 'ipv6 or proto icmp'
run_diff $R -o json 'proto 200'
run_diff $R -s ip -n 3 -o json
run_diff $R -o 'fmt:%ts %td %pr %sap -> %dap %flg %tos %pkt %byt %bps %pps %bpp %fl' -c 30
run_diff $R -o 'fmt:%ts %sa %da %sp %dp %in %out %sas %das %smk %dmk %nh %ra' -c 30 'proto tcp'
run_unordered $R -o line -q -t 2024/03/11.09:10-2024/03/11.09:11 'proto udp'
run_diff $R -s proto/bytes -t 2024/03/11.09:10-2024/03/11.09:11
run_unordered $R -o line -t 2024/03/11.09:59:50
run_diff $R -O tstart -n 20 -o line
run_diff $R -O bytes -n 20 -o line 'proto tcp'
run_diff $R -q -o line -c 5
run_diff $R -q -o line 'proto tcp and dst port 1 and src port 1'
run_diff $R -q -o json 'proto tcp and dst port 1 and src port 1'
# -q plain dumps stream (nfdump_records): other modes, -O, -t; long dumps
# of several exporters show a few records moved (docs/coming-from-nfdump.md)
run_unordered $R -q -o csv 'proto udp'
run_unordered $R -q -o long 'proto tcp and port 443'
run_diff $R -q -O bytes -n 20 -o line 'proto tcp'
run_unordered $R -q -o extended -N -t 2024/03/11.09:20-2024/03/11.09:21
# which function each ran (track_functions): -q's records are the query of
# nfdump_records(), run by nfpg-dump; with a Summary, or -c, nfdump()
q "ALTER SYSTEM SET track_functions = 'pl'" >/dev/null && q "SELECT pg_reload_conf()" >/dev/null
calls() { q "SELECT coalesce(sum(calls) FILTER (WHERE funcname = 'nfdump_records'), 0) || ' '
	|| coalesce(sum(calls) FILTER (WHERE funcname = 'nfdump'), 0) FROM pg_stat_user_functions WHERE schemaname = 'nfpg'"; }
set -- $(calls)
( cd "$W" && nfpgdump $R -q -o line 'proto tcp' ) >/dev/null
set -- "$@" $(calls)
( cd "$W" && nfpgdump $R -q -c 3 -o line 'proto tcp'; nfpgdump $R -o line 'proto 200' ) >/dev/null
set -- "$@" $(calls)
t_eq "nfpg-dump -q ran nfdump_records(), not nfdump(); -q -c and a dump with its Summary ran nfdump()" \
	"1 0 0 2" "$(($3 - $1)) $(($4 - $2)) $(($5 - $3)) $(($6 - $4))"
run_diff $R -o line 'proto 200'
run_diff $R -c 10 -o line 'net 10.10.0.0/16 and not port 443'
# the fidelity gaps of issue 17, each a command line that showed it:
# -a/-b/-s record keep the first record's interfaces, AS, masks, next hop,
# router, engine (csv, pipe, fmt); -A with an IPv6 key prints the zeroed next
# hop as ::; -c N takes nfcapd's first N; -I ignores the filter and -t;
# -s record prints nsel without -o (the Debian build's default)
run_diff $R -a -O bytes -n 30 -o csv
run_diff $R -a -O packets -n 30 -o pipe
run_diff $R -b -O bytes -n 20 -o 'fmt:%sa %da %in %out %sas %das %smk %dmk %nh %ra %eng %tos'
run_diff $R -s record/bytes -n 10 -o csv
run_diff $R -A srcip,dstport -O bytes -n 20 -o csv
run_diff $R -A srcip,dstip -O bytes -n 10 -o 'fmt:%sa %da %nh %byt' ipv6
run_diff $R -o line -c 100
run_diff $R -I 'proto tcp'
run_diff $R -I -t 2024/03/11.09:10-2024/03/11.09:20
run_diff $R -s record/bytes -n 5
# corpus filters (test/data/nfdump-ref/filters.txt) over the same flows
for f in 'proto icmp' 'proto gre' 'proto esp' 'proto tcp or proto udp' 'ipv4' 'inet6' \
		'net 172.16/16' 'src net 10.0.0.0/8' 'port 53' 'dst port 443' 'src port > 1024' \
		'flags S and not flags A' 'packets > 100' 'bytes < 100' 'tos > 0' \
		'port in [ 80 443 ]' 'proto udp and not port 53'; do
	run_diff $R -s proto -n 0 "$f"
done
# -I, -r (one nfcapd file = its received-time slot), -E, -Z
run_diff $R -I
run_diff -r "cap/$FILE" -s proto -n 3
run_diff -E "cap/$FILE"
run_diff $R -Z 'proto tcp and port 80'
# -M: NfSen's source directories of a profile are its channels
q "SELECT nfpg.nf_profile_create('site'), nfpg.nf_channel_add('site', 'tcp', 'proto tcp'),
	nfpg.nf_channel_add('site', 'udp', 'proto udp')" >/dev/null
mkdir -p "$W/site/tcp" "$W/site/udp"
nfdump -r "$W/cap/$FILE" -w "$W/site/tcp/$FILE" 'proto tcp'
nfdump -r "$W/cap/$FILE" -w "$W/site/udp/$FILE" 'proto udp'
run_diff -M site/tcp:udp -r "$FILE" -s proto -s dstport -n 5
run_diff -M site/udp -R "$FILE" -o line -c 20 'port 53'

# the password is checked; a wrong one is the database's refusal, exit 250
env PGHOST=127.0.0.1 PGUSER=analyst PGPASSWORD=wrong PGDATABASE=nfpg "$DUMP" -R "$W/cap" -s proto \
	>/dev/null 2>"$W/err"; rc=$?
[ "$rc" = 250 ] && grep -q 'password authentication failed' "$W/err" && t_ok "wrong password: refused, exit 250" ||
	t_fail "wrong password: exit $rc $(cat "$W/err")"
# an option that works on files only is refused by name
nfpgdump -R "$W/cap" -w "$W/out" >/dev/null 2>"$W/err"; rc=$?
[ "$rc" = 255 ] && grep -q 'option -w works on nfcapd files' "$W/err" && t_ok "-w: refused, exit 255" ||
	t_fail "-w: exit $rc $(cat "$W/err")"
# a bad filter exits 254 as nfdump's does
nfpgdump -R "$W/cap" -Z 'proto tcp and port' >/dev/null 2>"$W/err"; rc=$?
t_eq "bad filter: exit 254" 254 "$rc"
grep -q 'syntax error' "$W/err" && t_ok "bad filter: the message names the error" || t_fail "bad filter message: $(cat "$W/err")"
nfpgdump -R "$W/cap" -s foo >/dev/null 2>"$W/err"; rc=$?
[ "$rc" -eq 1 ] && grep -q "Unknown stat: 'foo'" "$W/err" && t_ok "-s foo: Unknown stat, exit $rc" || t_fail "-s foo: exit $rc $(cat "$W/err")"
nfpgdump -R "$W/cap" -t 2024/13/01 >/dev/null 2>"$W/err"; rc=$?
[ "$rc" -ne 0 ] && grep -q 'Month out of range' "$W/err" && t_ok "-t 2024/13/01: Month out of range" || t_fail "-t bad month: exit $rc $(cat "$W/err")"

# the SQL face: nfdump's spelling, time format, typed columns, scaled numbers
t_eq "nf_number" "440.8 M|1.5 G|999999|52413" \
	"$(q "SELECT concat_ws('|', nfpg.nf_number(440760799), nfpg.nf_number(1500000000), nfpg.nf_number(999999), nfpg.nf_number(52413))")"
t_eq "nf_time: nfdump's -t format in the session time zone" "2024-03-11 09:00:00+00" \
	"$(q "SELECT nfpg.nf_time('2024/03/11.09:00')")"
want=$(nfdump -R "$W/cap" -s dstport/bytes -n 5 -o csv -q | sed -n '2,6p' | cut -d, -f4,5,6,7,11 | tr '\n' ' ')
have=$(q "SELECT string_agg(concat_ws(',', proto, num, flows, flows_pct, bytes_pct), ' ' ORDER BY rank) || ' ' FROM nfpg.nf_top('dstport/bytes', 5)")
t_eq "nf_top('dstport/bytes'): integer ports, 'any', percentages as nfdump rounds them" "$want" "$have"
t_eq "nf_top: typed columns" "inet|bigint|numeric" \
	"$(q "SELECT concat_ws('|', pg_typeof(addr), pg_typeof(num), pg_typeof(flows_pct)) FROM nfpg.nf_top('ip/bytes', 1)")"

t_eq "nf_stat accepts nfdump's spelling 'ip/bytes'" \
	"$(q "SELECT string_agg(value || bytes, ' ' ORDER BY rank) FROM nfpg.nf_stat('ip', 'bytes', 5)")" \
	"$(q "SELECT string_agg(value || bytes, ' ' ORDER BY rank) FROM nfpg.nf_stat('ip/bytes', top => 5)")"

# NetFlow v5 masks: nfcapd 1.7.1 drops them, nfpgd keeps them (docs/filter.md,
# loader-fields.md).  500 v5 flows from exporter 127.0.0.2 to both collectors;
# nfpg-dump -M with an address selects that exporter.
mkdir -p "$W/cap5"; c5=$(free_port); start_nfcapd "$W/cap5" "$c5"
t5=$(free_port); rm -f "$W/tee.ready"
python3 "$NFPG_TOP/test/tools/udptee.py" --listen "127.0.0.1:$t5" --source 127.0.0.2 --to "127.0.0.1:$c5" \
	--to "127.0.0.1:$LOADER_PORT" --ready "$W/tee.ready" 2>>"$W/tee.log" & TEE=$!
for _ in $(seq 50); do [ -e "$W/tee.ready" ] && break; sleep 0.1; done
$FLOWGEN --count 500 --seed 5 --format v5 --dest "127.0.0.1:$t5" --csv "$W/v5.csv" -q
sleep 1; kill "$TEE"; wait "$TEE" 2>/dev/null
stop_nfcapd "$c5"
t_eq "nfpgd stored the v5 flows" $((N + 500)) "$(wait_count $((N + 500)))"
masks() { awk -F, 'NR > 1 && NF > 5 { print $5 }' | sort -un | tr '\n' ' '; }
truth=$(awk -F, 'NR > 1 { print $17 }' "$W/v5.csv" | sort -un | tr '\n' ' ')
t_eq "v5: nfdump sees only mask 0 (nfcapd dropped them)" "0 " \
	"$(cd "$W" && nfdump -R cap5 -q -s srcmask -n 0 -o csv | masks)"
t_eq "v5: nfpg-dump sees the masks flowgen sent" "$truth" \
	"$(cd "$W" && nfpgdump -M /data/127.0.0.2 -R cap5 -q -s srcmask -n 0 -o csv | masks)"
t_eq "v5: a streamed -q dump of that exporter (-M) prints its 500 flows and no other" "500 500" \
	"$(cd "$W" && nfpgdump -M /data/127.0.0.2 -R cap5 -q -o csv >"$W/m.csv"; echo "$(wc -l <"$W/m.csv") $(grep -c ',127.0.0.2,' "$W/m.csv")")"

t_done
