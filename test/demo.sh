#!/bin/sh
# test/demo.sh: README command 1 -- nfpg's main job on an embedded default.
#
#   test/demo.sh [start]   install what is missing, build, start a private
#                          PostgreSQL cluster under .nfpg/ with the extension,
#                          start nfpgd on 127.0.0.1:9995, send sample traffic,
#                          start nfpg-web on http://127.0.0.1:8080/
#   test/demo.sh stop      stop the loader and the cluster
#   test/demo.sh status
#
# Run as root on Debian 12 (PostgreSQL itself runs as the postgres user).
# Running start twice does no harm: what runs is left running.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
STATE=$TOP/.nfpg
PGDATA=$STATE/pgdata
PGPORT=${NFPG_DEMO_PGPORT:-5440}
FLOWPORT=${NFPG_DEMO_FLOWPORT:-9995}
PGBIN=/usr/lib/postgresql/15/bin

. "$TOP/test/packages.sh"

say() { echo "nfpg-demo: $*"; }
as_pg() { runuser -u postgres -- "$@"; }
sql() { as_pg psql -qXAt -h "$STATE" -p "$PGPORT" -d nfpg -v ON_ERROR_STOP=1 -c "$1"; }

build() {
	say "building and installing the extension and nfpgd"
	make -s -C "$TOP" with_llvm=no >"$STATE/build.log" 2>&1 &&
		make -s -C "$TOP" with_llvm=no install >>"$STATE/build.log" 2>&1 ||
		{ cat "$STATE/build.log"; exit 1; }
}

# postgres must be able to reach $STATE: give search (x) permission on
# ancestors that lack it, the least that makes the path traversable.
open_path() {
	d=$STATE
	while [ "$d" != / ]; do
		d=$(dirname "$d")
		as_pg test -x "$d" || { say "allowing postgres to traverse $d (chmod o+x)"; chmod o+x "$d"; }
	done
}

start_cluster() {
	mkdir -p "$STATE"
	chown postgres: "$STATE"
	open_path
	if [ ! -f "$PGDATA/PG_VERSION" ]; then
		say "creating a private cluster in $PGDATA"
		as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 >"$STATE/initdb.log"
		cat >>"$PGDATA/postgresql.conf" <<CONF
# nfpg demo
port = $PGPORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$STATE'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'nfpg'
# pg_cron runs jobs in background workers: no connection, so no password
# (docs/operations.md, "The scheduled job").
cron.use_background_workers = on
max_worker_processes = 16
timezone = 'UTC'
CONF
	fi
	if as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
		say "PostgreSQL already running on port $PGPORT"
	else
		as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$STATE/postgres.log" -w start >/dev/null
		say "PostgreSQL started on port $PGPORT (socket in $STATE)"
	fi
	as_pg psql -qXAt -h "$STATE" -p "$PGPORT" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'nfpg'" | grep -q 1 ||
		as_pg "$PGBIN/createdb" -h "$STATE" -p "$PGPORT" nfpg
	sql "CREATE EXTENSION IF NOT EXISTS nfpg"
	sql "SELECT nfpg.setup()" >/dev/null
	# nfdump users type nf_filter(...), not nfpg.nf_filter(...).
	sql "ALTER DATABASE nfpg SET search_path = \"\$user\", public, nfpg"
	# One pg_cron job keeps partitions, profiles, indexes and aging current.
	sql "CREATE EXTENSION IF NOT EXISTS pg_cron"
	sql "SELECT nfpg.nf_schedule()" >/dev/null
	# The loader logs in as nfpgd: a member of nfpg_loader and nothing more.
	sql "SELECT 1 FROM pg_roles WHERE rolname = 'nfpgd'" | grep -q 1 ||
		sql "CREATE ROLE nfpgd LOGIN IN ROLE nfpg_loader"
}

loader_running() {
	[ -f "$STATE/nfpgd.pid" ] && kill -0 "$(cat "$STATE/nfpgd.pid")" 2>/dev/null
}

start_loader() {
	if loader_running; then
		say "nfpgd already running (pid $(cat "$STATE/nfpgd.pid"))"
		return
	fi
	mkdir -p "$STATE/spool"
	chown postgres: "$STATE/spool"
	as_pg sh -c "setsid '$TOP/loader/nfpgd' --listen 127.0.0.1:$FLOWPORT --pidfile '$STATE/nfpgd.pid' \
		--conninfo 'host=$STATE port=$PGPORT dbname=nfpg user=nfpgd application_name=nfpgd' \
		--spool-dir '$STATE/spool' >'$STATE/nfpgd.log' 2>&1 &"
	sleep 1
	loader_running || { cat "$STATE/nfpgd.log"; exit 1; }
	say "nfpgd listening on 127.0.0.1 UDP $FLOWPORT (log $STATE/nfpgd.log)"
}

send_sample() {
	now=$(date +%s)
	before=$(sql "SELECT count(*) FROM nfpg.flows")
	say "sending 20000 sample NetFlow v9 flows of the last 15 minutes from 2 exporters"
	python3 "$TOP/test/tools/flowgen.py" --count 20000 --format v9 --exporters 2 \
		--start $((now - 900)) --duration 900 --seed "$now" --rate 20000 \
		--dest "127.0.0.1:$FLOWPORT" -q
	i=0
	while [ $i -lt 30 ]; do
		n=$(sql "SELECT count(*) FROM nfpg.flows")
		[ "$n" -ge $((before + 20000)) ] && break
		sleep 1; i=$((i + 1))
	done
	say "nfpg.flows now holds $n flows"
}

# nfpg-web, the browser console, beside nfpgd: it logs people in with their
# own PostgreSQL role over TCP (scram), so the demo makes one, "analyst", a
# member of nfpg_reader, with a random password kept in .nfpg/web-password.
WEBPORT=${NFPG_DEMO_WEBPORT:-8080}
web_running() {
	[ -f "$STATE/nfpg-web.pid" ] && kill -0 "$(cat "$STATE/nfpg-web.pid")" 2>/dev/null
}
start_web() {
	[ -s "$STATE/web-password" ] || (umask 077; head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$STATE/web-password")
	sql "SELECT 1 FROM pg_roles WHERE rolname = 'analyst'" | grep -q 1 ||
		sql "CREATE ROLE analyst LOGIN IN ROLE nfpg_reader"
	sql "ALTER ROLE analyst PASSWORD '$(cat "$STATE/web-password")'"
	sql "SELECT nfpg.nf_live_profile(now() - interval '1 hour')" >/dev/null
	sql "SELECT nfpg.nf_run()" >/dev/null	# build the finished slots now, not in 5 minutes
	web_running && { say "nfpg-web already running (pid $(cat "$STATE/nfpg-web.pid"))"; return; }
	as_pg sh -c "setsid '$TOP/web/nfpg-web' --listen 127.0.0.1:$WEBPORT --pidfile '$STATE/nfpg-web.pid' \
		--conninfo 'host=127.0.0.1 port=$PGPORT dbname=nfpg' --static '$TOP/web/static' \
		>'$STATE/nfpg-web.log' 2>&1 &"
	sleep 1
	web_running || { cat "$STATE/nfpg-web.log"; exit 1; }
	say "nfpg-web on http://127.0.0.1:$WEBPORT/ (log $STATE/nfpg-web.log)"
}

cmd_start() {
	[ "$(id -u)" -eq 0 ] || { say "run as root (it installs packages and runs PostgreSQL as postgres)"; exit 1; }
	mkdir -p "$STATE"
	install_missing $NFPG_RUN_PACKAGES
	build
	start_cluster
	start_loader
	send_sample
	start_web
	cat <<EOT

Connect:  runuser -u postgres -- psql -h $STATE -p $PGPORT nfpg
Try:      SELECT dst_port, count(*) AS flows, sum(bytes) AS bytes
            FROM nfpg.flows WHERE first_seen > now() - interval '1 hour'
            GROUP BY 1 ORDER BY 3 DESC LIMIT 10;
nfdump:   runuser -u postgres -- env PGHOST=$STATE PGPORT=$PGPORT PGDATABASE=nfpg \\
            $PGBIN/nfpg-dump -R /any -s ip/bytes -n 10 'proto tcp'
Browse:   http://127.0.0.1:$WEBPORT/  (role analyst, password $(cat "$STATE/web-password"))
          from elsewhere: ssh -L $WEBPORT:127.0.0.1:$WEBPORT this-host, or a TLS proxy (docs/web.md)
Stop:     $TOP/test/demo.sh stop
Exporters can send NetFlow/IPFIX to 127.0.0.1 UDP port $FLOWPORT, as to nfcapd.
EOT
}

cmd_stop() {
	web_running && kill -TERM "$(cat "$STATE/nfpg-web.pid")" && say "nfpg-web stopped"
	if loader_running; then
		# SIGTERM flushes into the database: let it finish before stopping that.
		kill -TERM "$(cat "$STATE/nfpgd.pid")"
		for _ in $(seq 300); do loader_running || break; sleep 0.1; done
		say "nfpgd stopped"
	fi
	rm -f "$STATE/nfpgd.pid"
	if [ -f "$PGDATA/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
		as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
		say "PostgreSQL stopped"
	fi
}

cmd_status() {
	loader_running && say "nfpgd running (pid $(cat "$STATE/nfpgd.pid"))" || say "nfpgd not running"
	as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1 && say "PostgreSQL running on port $PGPORT" || say "PostgreSQL not running"
}

case "${1:-start}" in
	start) cmd_start ;;
	stop) cmd_stop ;;
	status) cmd_status ;;
	*) echo "usage: $0 [start|stop|status]"; exit 2 ;;
esac
