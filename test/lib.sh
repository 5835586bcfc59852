# test/lib.sh: helpers for nfpg's integration tests (sourced, POSIX sh).
#
# Each test starts its own private cluster in a temporary directory as the
# user running it (never root: PostgreSQL refuses), creates the extension,
# and removes everything on exit.  Tests print "ok"/"not ok" lines and exit
# non-zero when any check failed.

NFPG_TOP=$(cd "$(dirname "$0")/../.." && pwd)
PGBIN=$("${PG_CONFIG:-pg_config}" --bindir)
FLOWGEN="python3 $NFPG_TOP/test/tools/flowgen.py"
NFPGD="$NFPG_TOP/loader/nfpgd"
NFPG_IMPORT="$NFPG_TOP/cli/nfpg-import"
T_FAILED=0
T_COUNT=0

t_ok()   { T_COUNT=$((T_COUNT + 1)); echo "ok $T_COUNT - $*"; }
t_fail() { T_COUNT=$((T_COUNT + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_COUNT - $*"; }

# t_eq WHAT EXPECTED ACTUAL
t_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1"; else t_fail "$1: expected '$2', got '$3'"; fi
}

t_done() {
	echo "# $T_COUNT checks, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
}

# A port free for TCP and UDP on 127.0.0.1, picked at random between 20000
# and the kernel's ephemeral range: a port the kernel hands out itself could
# be given again, between the pick and the bind, to the sending socket of a
# tool starting beside the collector (a collector that then did not start
# was seen once in real_exporters).
free_port() {
	python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(500):
    port = random.randint(20000, low - 1) if low > 21000 else 0
    t = socket.socket()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        t.bind(("127.0.0.1", port))
        u.bind(("127.0.0.1", t.getsockname()[1]))
    except OSError:
        continue
    print(t.getsockname()[1])
    break
else:
    raise SystemExit("free_port: no free port")
'
}

# pg_start: a private cluster under $T_DIR with pg_cron preloaded; exports
# PGHOST/PGPORT/PGDATABASE so psql and the loader find it.
pg_start() {
	T_DIR=${T_DIR:-$(mktemp -d /tmp/nfpg-it.XXXXXX)}
	export PGHOST="$T_DIR" PGPORT=$(free_port) PGDATABASE=nfpg
	"$PGBIN/initdb" -D "$T_DIR/data" -A trust -U "$(id -un)" >"$T_DIR/initdb.log" 2>&1 || return 1
	cat >>"$T_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$T_DIR'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'nfpg'
timezone = 'UTC'
fsync = off
CONF
	"$PGBIN/pg_ctl" -D "$T_DIR/data" -l "$T_DIR/postgres.log" -w start >/dev/null || return 1
	"$PGBIN/createdb" nfpg && psql -qX -c 'CREATE EXTENSION nfpg' -c 'SELECT nfpg.setup()' >/dev/null
}

pg_stop() {
	[ -n "${T_DIR:-}" ] && [ -d "$T_DIR/data" ] && "$PGBIN/pg_ctl" -D "$T_DIR/data" -m fast -w stop >/dev/null 2>&1
	return 0
}

# q SQL: one value, unaligned, no headers.
q() { psql -qXAt -v ON_ERROR_STOP=1 -c "$1"; }

# A LOGIN role for the loader, member of nfpg_loader and nothing else.
pg_loader_role() {
	q "CREATE ROLE nfpgd LOGIN IN ROLE nfpg_loader" >/dev/null
}

# loader_start LOG [OPTION...]: nfpgd on a free 127.0.0.1 port, logged in
# as the pg_loader_role role, spooling to $T_DIR/spool, logging to LOG;
# sets LOADER_PID and LOADER_PORT.  False unless it listens within 10 s.
loader_start() {
	_log=$1
	shift
	LOADER_PORT=$(free_port)
	"$NFPGD" -l "127.0.0.1:$LOADER_PORT" -s "$T_DIR/spool" \
		-d "host=$PGHOST port=$PGPORT dbname=nfpg user=nfpgd" "$@" 2>"$_log" &
	LOADER_PID=$!
	for _ in $(seq 100); do grep -q "listening on" "$_log" && return 0; sleep 0.1; done
	return 1
}

# wait_count N [SQL [SECONDS]]: poll SQL (a count; default: the rows of
# nfpg.flows) every 0.2 s until it reaches N or SECONDS (default 60) pass;
# prints the last count.
wait_count() {
	_sql=${2:-SELECT count(*) FROM nfpg.flows}
	_n=0
	for _ in $(seq $((${3:-60} * 5))); do
		_n=$(q "$_sql" 2>/dev/null) || _n=0	# the server may be restarting
		[ "$_n" -ge "$1" ] && break
		sleep 0.2
	done
	echo "$_n"
}

# t_same_rows WHAT TRUTH LOADED: the two queries return the same rows, as
# many times each (EXCEPT ALL both ways); a few differences go to the log.
t_same_rows() {
	t_eq "$1: no row missing" 0 "$(q "SELECT count(*) FROM (($2) EXCEPT ALL ($3)) x")"
	t_eq "$1: no row extra" 0 "$(q "SELECT count(*) FROM (($3) EXCEPT ALL ($2)) x")"
	q "(($2) EXCEPT ALL ($3)) LIMIT 3" | sed 's/^/# missing: /'
	q "(($3) EXCEPT ALL ($2)) LIMIT 3" | sed 's/^/# extra:   /'
}

# pack_flows: when NFPG_PACKED is set, pack every partition holding flows
# (66_pack.sql), so that the checks that follow run over packed hours; the
# *_packed.sh tests set it and run their row-store sibling.
pack_flows() {
	[ -n "${NFPG_PACKED:-}" ] || return 0
	q "SELECT nfpg.pack_partitions('0', 1000)" >/dev/null
	t_eq "every flow is in a packed hour" "$(q 'SELECT count(*) FROM nfpg.flows')" \
		"$(q 'SELECT coalesce(sum(flows), 0) FROM nfpg.pack_status() WHERE packed')"
}

# udp_queue PORT: the receive queue of the UDP socket bound to PORT, empty
# while nothing is bound.
udp_queue() {
	ss -Hlun "sport = :$1" | awk '{print $2}'
}

# start_nfcapd DIR PORT [OPTION...]: nfcapd on 127.0.0.1:PORT writing DIR
# (log: DIR.log), with the extra options (-z, -y, -j, -I ident), once it
# listens; sets NFCAPD_PID.
start_nfcapd() {
	_dir=$1 _port=$2
	shift 2
	nfcapd -w "$_dir" -p "$_port" -b 127.0.0.1 -t 3600 -B 4194304 "$@" >"$_dir.log" 2>&1 &
	NFCAPD_PID=$!
	i=0
	while [ -z "$(udp_queue "$_port")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

# stop_nfcapd PORT: once nfcapd has read every datagram, stop it.
stop_nfcapd() {
	i=0
	while [ "$(udp_queue "$1")" != 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 0.5
	kill "$NFCAPD_PID"
	wait "$NFCAPD_PID"
	NFCAPD_PID=
}

t_cleanup() {
	[ -n "${LOADER_PID:-}" ] && kill "$LOADER_PID" 2>/dev/null
	pg_stop
	[ -n "${T_DIR:-}" ] && [ -z "${T_KEEP:-}" ] && rm -rf "$T_DIR"
	return 0
}
trap t_cleanup EXIT INT TERM
