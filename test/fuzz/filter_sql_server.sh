# test/fuzz/filter_sql_server.sh: the private PostgreSQL that filter_sql_fuzz.c
# talks to (sourced by run.sh; POSIX sh).
#
# fuzz_server_start: initdb a cluster under a temporary directory, start it on
# a free 127.0.0.1 port, CREATE EXTENSION nfpg (and nfpg.setup() when the
# extension has it), load filter_sql_fuzz.sql, and export
# NFPG_FUZZ_CONNINFO for the harness.  fuzz_server_stop removes it all.
# PostgreSQL refuses to run as root: run as an ordinary user (or postgres).

fuzz_server_start() {
	_bin=$("${PG_CONFIG:-pg_config}" --bindir)
	FUZZ_PGDIR=$(mktemp -d /tmp/nfpg-fuzz-pg.XXXXXX)
	_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$_bin/initdb" -D "$FUZZ_PGDIR/data" -A trust -U fuzz >"$FUZZ_PGDIR/initdb.log" 2>&1 ||
		{ cat "$FUZZ_PGDIR/initdb.log"; return 1; }
	cat >>"$FUZZ_PGDIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $_port
unix_socket_directories = '$FUZZ_PGDIR'
timezone = 'UTC'
fsync = off
max_connections = 10
shared_buffers = 32MB
CONF
	"$_bin/pg_ctl" -D "$FUZZ_PGDIR/data" -l "$FUZZ_PGDIR/postgres.log" -w start >/dev/null || return 1
	NFPG_FUZZ_CONNINFO="host=$FUZZ_PGDIR port=$_port user=fuzz dbname=postgres"
	export NFPG_FUZZ_CONNINFO
	"$_bin/psql" -qX -v ON_ERROR_STOP=1 -d "$NFPG_FUZZ_CONNINFO" -f filter_sql_fuzz.sql >/dev/null
}

fuzz_server_stop() {
	_bin=$("${PG_CONFIG:-pg_config}" --bindir)
	"$_bin/pg_ctl" -D "$FUZZ_PGDIR/data" -m fast -w stop >/dev/null 2>&1
	# a server crash is a finding: keep its log next to the artifacts
	if grep -q 'terminated by signal' "$FUZZ_PGDIR/postgres.log"; then
		cp "$FUZZ_PGDIR/postgres.log" findings/filter-sql-postgres.log
	fi
	rm -rf "$FUZZ_PGDIR"
}
