#!/bin/sh
# loader_hardening.sh: nfpgd facing senders it should not trust and a spool
# directory and pidfile it should not trust either.
#
# 1. Allow-list and first_seen window.  nfpgd takes datagrams from 127.0.0.2
#    only.  From 127.0.0.1 come random datagrams (half of them with a real
#    version number) and a whole valid v5 export; from 127.0.0.2 a valid
#    export dated now, one dated 40 days ahead and one 40 days back.  The
#    table must equal the generator's CSV of the current export and nothing
#    else: no row, partition or nfpg.exporters entry from 127.0.0.1, no
#    partition for the far dates.  nfpg.collector_stats, read by a login that
#    is only in nfpg_reader, must count every denied datagram (in total and
#    for 127.0.0.1) and every out-of-window flow (in total and for
#    127.0.0.2), and the quarantine files must hold exactly those flows.
# 2. A second run adds to the totals (the runs are folded, not replaced);
#    SIGHUP opens the listener's port to 127.0.0.1 (its flows then load) and
#    refuses an entry that names no listener, keeping the current list.
# 3. A symbolic link at spool_dir/.overflow, and pidfiles that are a link,
#    name a running process or hold something else: nfpgd refuses to start
#    with a clear message and leaves the files alone; a pidfile of a dead
#    process is taken over and removed at exit.
. "$(dirname "$0")/../lib.sh"

pg_start || { t_fail "cluster start"; t_done; exit 1; }
pg_loader_role
q "CREATE ROLE watcher LOGIN IN ROLE nfpg_reader" >/dev/null
q "CREATE TABLE truth_csv (first_ms bigint, last_ms bigint, proto smallint, srcaddr inet,
	dstaddr inet, srcport integer, dstport integer, tcp_flags smallint, tos smallint,
	packets bigint, bytes bigint, src_as bigint, dst_as bigint, input integer, output integer,
	nexthop inet, src_mask smallint, dst_mask smallint, exporter bigint);
   CREATE TABLE quarantined (LIKE nfpg.flows)" >/dev/null
TRUTH="SELECT 'epoch'::timestamptz + first_ms * interval '1 ms', 'epoch'::timestamptz + last_ms * interval '1 ms',
	proto, srcaddr, dstaddr, srcport, dstport, packets, bytes FROM truth_csv"
# as the reader login, over TCP
rq() { psql -qXAt -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$PGPORT dbname=nfpg user=watcher" -c "$1"; }

# send.py SRC PORT (pcap FILE | random N SEED): datagrams to 127.0.0.1:PORT from address SRC
cat >"$T_DIR/send.py" <<'PY'
import random, socket, struct, sys, time
src, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
def pcap(name):
    with open(name, "rb") as f:
        f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            pkt = f.read(struct.unpack("<I", h[8:12])[0])
            yield pkt[(pkt[0] & 15) * 4 + 8:]
if mode == "pcap":
    grams = list(pcap(sys.argv[4]))
else:
    rng = random.Random(int(sys.argv[5]))
    grams = []
    for _ in range(int(sys.argv[4])):
        g = bytearray(rng.randbytes(rng.randrange(4, 1400)))
        if rng.random() < 0.5:
            g[0:2] = struct.pack("!H", rng.choice((1, 5, 7, 9, 10)))
        grams.append(bytes(g))
for i, g in enumerate(grams):
    s.sendto(g, ("127.0.0.1", port))
    if i % 20 == 19:
        time.sleep(0.01)		# stay within the socket buffer
print(len(grams))
PY
send() { python3 "$T_DIR/send.py" "$@"; }

NOW=$(date +%s)
$FLOWGEN --format v5 --count 3000 --seed 11 --start $((NOW - 1200)) --duration 600 \
	--pcap "$T_DIR/now.pcap" --csv "$T_DIR/now.csv" -q
$FLOWGEN --format v5 --count 400 --seed 12 --start $((NOW + 40 * 86400)) --duration 600 \
	--pcap "$T_DIR/future.pcap" -q
$FLOWGEN --format v9 --count 300 --seed 13 --start $((NOW - 40 * 86400)) --duration 600 \
	--pcap "$T_DIR/past.pcap" -q
psql -qX -c "\\copy truth_csv FROM '$T_DIR/now.csv' WITH (FORMAT csv, HEADER)"

# ---- 1. allow-list and window
loader_start "$T_DIR/nfpgd.1.log" -n 127.0.0.2 -o flow_window_past=604800 -o exporter_interval=1 ||
	t_fail "nfpgd did not start"
grep -q "accepting datagrams from 127.0.0.2/32 only" "$T_DIR/nfpgd.1.log" &&
	t_ok "the allow-list is logged at start" || t_fail "no allow-list line in the log"
denied=$(send 127.0.0.1 "$LOADER_PORT" random 3000 5)
denied=$((denied + $(send 127.0.0.1 "$LOADER_PORT" pcap "$T_DIR/now.pcap")))
allowed=$(send 127.0.0.2 "$LOADER_PORT" pcap "$T_DIR/now.pcap")
allowed=$((allowed + $(send 127.0.0.2 "$LOADER_PORT" pcap "$T_DIR/future.pcap")))
allowed=$((allowed + $(send 127.0.0.2 "$LOADER_PORT" pcap "$T_DIR/past.pcap")))
wait_count 3000 >/dev/null
sleep 2		# let stragglers (there must be none) arrive
t_eq "denied datagrams counted in SQL before exit" "$denied" \
	"$(wait_count "$denied" "SELECT coalesce(max(denied), 0) FROM nfpg.collector_stats WHERE exporter IS NULL" 20)"
kill -TERM "$LOADER_PID"; wait "$LOADER_PID"; LOADER_PID=

t_same_rows "table = CSV of the allowed, current export" "$TRUTH" \
	"SELECT first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, packets, bytes FROM nfpg.flows"
t_eq "no row from the denied source" 0 "$(q "SELECT count(*) FROM nfpg.flows WHERE exporter <> '127.0.0.2'")"
t_eq "no exporter entry for the denied source" "127.0.0.2" \
	"$(q "SELECT string_agg(DISTINCT host(exporter), ',') FROM nfpg.exporters")"
t_eq "partitions only around now (the current export and premake)" 0 \
	"$(q "SELECT count(*) FROM nfpg.partitions WHERE lower_bound < now() - interval '2 hours'
		  OR lower_bound > now() + interval '4 hours'")"
t_eq "no datagram lost by the kernel (the counts above are exact)" 0 \
	"$(rq "SELECT socket_drops + queue_drops FROM nfpg.collector_stats WHERE exporter IS NULL")"

t_eq "reader: denied in total" "$denied" "$(rq "SELECT denied FROM nfpg.collector_stats WHERE exporter IS NULL")"
t_eq "reader: denied for 127.0.0.1" "$denied" \
	"$(rq "SELECT denied FROM nfpg.collector_stats WHERE exporter = '127.0.0.1'")"
t_eq "reader: datagrams received" "$((denied + allowed))" \
	"$(rq "SELECT datagrams FROM nfpg.collector_stats WHERE exporter IS NULL")"
t_eq "reader: out-of-window flows in total" 700 \
	"$(rq "SELECT out_of_window FROM nfpg.collector_stats WHERE exporter IS NULL")"
t_eq "reader: out-of-window flows for 127.0.0.2" 700 \
	"$(rq "SELECT out_of_window FROM nfpg.collector_stats WHERE exporter = '127.0.0.2'")"
t_eq "reader: loaded, lost" "3000|0" \
	"$(rq "SELECT loaded_flows || '|' || lost_flows FROM nfpg.collector_stats WHERE exporter IS NULL")"
rq "SELECT nfpg.collector_report_source('x', now(), '10.0.0.1', 1, 1, 1, 1)" 2>"$T_DIR/err" &&
	t_fail "the reader may report counters" || t_ok "the reader may not report counters"
rq "SELECT count(*) FROM nfpg.collector_counters" 2>/dev/null &&
	t_fail "the reader reads the table behind the view" || t_ok "the reader reads the view only"

for f in "$T_DIR"/spool/quarantine/*.copy.bz2; do
	[ -e "$f" ] || continue
	cols=$(bzcat "$f" | head -c 4000 | strings | grep -m1 first_seen)
	bzcat "$f" | psql -qX -v ON_ERROR_STOP=1 -c "COPY quarantined ($cols) FROM STDIN (FORMAT binary)"
done
t_eq "quarantine files hold the 700 flows" 700 "$(q "SELECT count(*) FROM quarantined")"
t_eq "... all far from now" 0 \
	"$(q "SELECT count(*) FROM quarantined WHERE first_seen BETWEEN now() - interval '30 days' AND now() + interval '30 days'")"
t_eq "nothing in the replay spool" 0 "$(find "$T_DIR/spool" -maxdepth 1 -name '*.bz2' | wc -l)"

# ---- 2. a second run adds up; SIGHUP changes the allow-list (for this listener's port)
echo "allow_exporters = 127.0.0.2" >"$T_DIR/nfpgd.conf"
loader_start "$T_DIR/nfpgd.2.log" -c "$T_DIR/nfpgd.conf" -o exporter_interval=1 || t_fail "second start"
more=$(send 127.0.0.1 "$LOADER_PORT" random 200 6)
wait_count "$((denied + more))" "SELECT coalesce(max(denied), 0) FROM nfpg.collector_stats WHERE exporter IS NULL" 20 >/dev/null
echo "allow_exporters = 127.0.0.2, 127.0.0.0/29@$LOADER_PORT" >"$T_DIR/nfpgd.conf"
kill -HUP "$LOADER_PID"
for _ in $(seq 50); do grep -q "from 127.0.0.2/32, 127.0.0.0/29 only" "$T_DIR/nfpgd.2.log" && break; sleep 0.1; done
sleep 0.5		# the receiver swaps the lists in at its next turn (<= 200 ms)
send 127.0.0.1 "$LOADER_PORT" pcap "$T_DIR/now.pcap" >/dev/null
t_eq "after SIGHUP the added source is loaded" 3000 \
	"$(wait_count 3000 "SELECT count(*) FROM nfpg.flows WHERE exporter = '127.0.0.1'" 30)"
echo "allow_exporters = 127.0.0.2@9" >"$T_DIR/nfpgd.conf"
kill -HUP "$LOADER_PID"
for _ in $(seq 50); do grep -q "reload failed" "$T_DIR/nfpgd.2.log" && break; sleep 0.1; done
grep -q 'reload failed, keeping the current settings: allow_exporters: "@9" names no listen address' \
	"$T_DIR/nfpgd.2.log" && t_ok "an entry for no listener: reload refused" ||
	t_fail "bad allow-list reload: $(grep reload "$T_DIR/nfpgd.2.log")"
kill -TERM "$LOADER_PID"; wait "$LOADER_PID"; LOADER_PID=
t_eq "second run: denied adds up over runs" "$((denied + more))" \
	"$(rq "SELECT denied FROM nfpg.collector_stats WHERE exporter IS NULL")"
t_eq "second run: earlier run folded into one row per address" "2|2" \
	"$(q "SELECT count(*) FILTER (WHERE exporter IS NULL) || '|' || count(*) FILTER (WHERE exporter = '127.0.0.1')
		  FROM nfpg.collector_counters")"

# ---- 3. files nfpgd must not follow, overwrite or delete
# refused ARGS...: nfpgd must exit 1 within 10 s; its log in $T_DIR/refused.log
refused() {
	timeout 10 "$NFPGD" -l "127.0.0.1:$(free_port)" -d "host=$PGHOST port=$PGPORT dbname=nfpg user=nfpgd" \
		"$@" 2>"$T_DIR/refused.log"
	echo $?
}
echo "precious" >"$T_DIR/victim"
mkdir -m 0700 "$T_DIR/spool2"
ln -s "$T_DIR/victim" "$T_DIR/spool2/.overflow"
t_eq "symlinked .overflow: refused" 1 "$(refused -s "$T_DIR/spool2")"
grep -q "overflow.*symbolic link; refusing to follow it" "$T_DIR/refused.log" &&
	t_ok "symlinked .overflow: clear message" || t_fail "symlinked .overflow: $(cat "$T_DIR/refused.log")"
t_eq "symlinked .overflow: target untouched" "precious" "$(cat "$T_DIR/victim")"

sleep 300 &
live=$!
echo "$live" >"$T_DIR/nfpgd.pid"
t_eq "pidfile of a running process: refused" 1 "$(refused -s "$T_DIR/spool" -p "$T_DIR/nfpgd.pid")"
grep -q "names process $live, which is running" "$T_DIR/refused.log" &&
	t_ok "pidfile of a running process: clear message" || t_fail "pidfile: $(cat "$T_DIR/refused.log")"
t_eq "pidfile of a running process: untouched" "$live" "$(cat "$T_DIR/nfpgd.pid")"
kill "$live"

echo "my notes" >"$T_DIR/nfpgd.pid"
t_eq "pidfile with other content: refused" 1 "$(refused -s "$T_DIR/spool" -p "$T_DIR/nfpgd.pid")"
t_eq "pidfile with other content: untouched" "my notes" "$(cat "$T_DIR/nfpgd.pid")"
rm -f "$T_DIR/nfpgd.pid"

ln -s "$T_DIR/victim" "$T_DIR/nfpgd.pid"
t_eq "symlinked pidfile: refused" 1 "$(refused -s "$T_DIR/spool" -p "$T_DIR/nfpgd.pid")"
grep -q "pidfile .* is a symbolic link; refusing to follow it" "$T_DIR/refused.log" &&
	t_ok "symlinked pidfile: clear message" || t_fail "symlinked pidfile: $(cat "$T_DIR/refused.log")"
t_eq "symlinked pidfile: target untouched" "precious" "$(cat "$T_DIR/victim")"
rm -f "$T_DIR/nfpgd.pid"

sh -c 'exit 0' &
dead=$!
wait "$dead"
echo "$dead" >"$T_DIR/nfpgd.pid"
loader_start "$T_DIR/nfpgd.3.log" -p "$T_DIR/nfpgd.pid" || t_fail "stale pidfile: did not start"
t_eq "stale pidfile taken over" "$LOADER_PID" "$(cat "$T_DIR/nfpgd.pid")"
kill -TERM "$LOADER_PID"; wait "$LOADER_PID"; LOADER_PID=
[ -e "$T_DIR/nfpgd.pid" ] && t_fail "pidfile left at exit" || t_ok "pidfile removed at exit"

t_done
