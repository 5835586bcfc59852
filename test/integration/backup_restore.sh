#!/bin/sh
# backup_restore.sh: a populated nfpg database survives pg_dump/pg_restore,
# and the scheduled job runs on a cluster that asks for passwords.
#
# Two clusters set up as Debian sets one up: peer on the socket,
# scram-sha-256 on TCP (never trust).  On A: nfpgd (logging in with a
# password over TCP) loads 20000 flowgen flows, profiles with a channel,
# an alert, a plugin and changed settings are made, nf_run builds the
# series; nf_schedule refuses to make a job that could not connect (pg_cron
# on TCP without background workers).  A is dumped in custom format and in
# directory format with -j 2; B (pg_cron in background-worker mode) restores
# both.  Checks: every partition's count and sums, the series, profiles,
# alerts, plugins, settings, exporters and partition registry equal A's;
# every partition attached, every index valid; DROP EXTENSION still refused.
# Then nfpgd loads 10000 more flows into the restored database and the
# pg_cron job (background worker, no password) builds their slots.
. "$(dirname "$0")/../lib.sh"
set -u
T_DIR=$(mktemp -d /tmp/nfpg-it.XXXXXX)
PW=loader-secret-$$

# cluster NAME BGWORKERS: initdb with Debian's authentication, start it;
# sets PORT_<NAME>.
cluster() {
	_d="$T_DIR/$1"
	_p=$(free_port)
	"$PGBIN/initdb" -D "$_d" -U "$(id -un)" --auth-local=peer --auth-host=scram-sha-256 >"$_d.initdb.log" 2>&1 || return 1
	cat >>"$_d/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $_p
unix_socket_directories = '$T_DIR'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'nfpg'
cron.use_background_workers = $2
max_worker_processes = 16
timezone = 'UTC'
fsync = off
CONF
	"$PGBIN/pg_ctl" -D "$_d" -l "$_d.log" -w start >/dev/null || return 1
	eval "PORT_$1=$_p"
}
stop_clusters() {
	for c in A B; do [ -d "$T_DIR/$c" ] && "$PGBIN/pg_ctl" -D "$T_DIR/$c" -m fast -w stop >/dev/null 2>&1; done
	return 0
}
pg_stop() { stop_clusters; }
export PGHOST="$T_DIR" PGDATABASE=nfpg

# nfpgd PORT_PG FLOWPORT LOG: the loader over TCP with a password.
nfpgd_start() {
	"$NFPGD" -l "127.0.0.1:$2" -s "$T_DIR/spool.$1" \
		-d "host=127.0.0.1 port=$1 dbname=nfpg user=nfpgd password=$PW" 2>"$3" &
	LOADER_PID=$!
	for _ in $(seq 100); do grep -q "listening on" "$3" && return 0; sleep 0.1; done
	return 1
}
nfpgd_stop() { kill "$LOADER_PID"; wait "$LOADER_PID"; LOADER_PID=; }

cluster A off || { t_fail "cluster A"; t_done; exit 1; }
export PGPORT=$PORT_A
"$PGBIN/createdb" nfpg
q "CREATE EXTENSION pg_cron" >/dev/null
q "CREATE EXTENSION nfpg" >/dev/null
q "SELECT nfpg.setup()" >/dev/null
q "CREATE ROLE nfpgd LOGIN PASSWORD '$PW' IN ROLE nfpg_loader" >/dev/null
t_eq "TCP asks for a password" "scram-sha-256" \
	"$(q "SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' ORDER BY line_number LIMIT 1")"

# The job could never connect: nf_schedule says so and makes no job.
ERR=$(q "SELECT nfpg.nf_schedule()" 2>&1)
case $ERR in *"over TCP"*"password"*) t_ok "nf_schedule refuses a job that cannot connect";;
	*) t_fail "nf_schedule on TCP+scram without background workers: $ERR";; esac
t_eq "no job made" "0" "$(q "SELECT count(*) FROM cron.job")"
t_eq "schedule_status names the problem" "no job: run SELECT nfpg.nf_schedule()" \
	"$(q "SELECT problem FROM nfpg.schedule_status()")"

NOW=$(date +%s)
S0=$(( (NOW / 300) * 300 - 3600 ))		# A's flows: [S0, S0 + 20 min)
S1=$(( S0 + 2100 ))						# B's flows: [S1, S1 + 10 min), after A's last run
FLOWPORT=$(free_port)
nfpgd_start "$PORT_A" "$FLOWPORT" "$T_DIR/nfpgd.A.log" || t_fail "nfpgd on A"
$FLOWGEN --count 20000 --start "$S0" --duration 1200 --format v9 --exporters 2 --dest "127.0.0.1:$FLOWPORT" --rate 40000 -q
t_eq "A: nfpgd loaded 20000 flows over TCP with a password" 20000 "$(wait_count 20000)"
nfpgd_stop
q "SELECT nfpg.nf_profile_drop('live')" >/dev/null	# setup() made one from now on
q "SELECT nfpg.nf_profile_create('live', 'any', to_timestamp($S0))" >/dev/null
q "SELECT nfpg.nf_profile_create('web', 'proto tcp and dst port in [ 80 443 ]', to_timestamp($S0))" >/dev/null
q "SELECT nfpg.nf_channel_add('web', 'inside', 'src net 10.0.0.0/8', -1::smallint, '#ff0000')" >/dev/null
q "SELECT nfpg.nf_alert_create('many', 'live', 'flows', '>', 100)" >/dev/null
q "SELECT nfpg.nf_plugin_register('hostclass', 'nfpg.hostclass_plugin(text, timestamptz)', '{live}')" >/dev/null
q "UPDATE nfpg.nfsen_settings SET max_lifetime = '30 days'" >/dev/null
q "UPDATE nfpg.settings SET premake = '2 hours'" >/dev/null
q "SELECT nfpg.nf_run(to_timestamp($S0 + 1800))" >/dev/null
t_eq "A: 5 slots of live built" 5 "$(q "SELECT count(*) FROM nfpg.profile_series WHERE profile = 'live' AND channel = '*'")"
q "SELECT nfpg.index_partitions('0 s')" >/dev/null

fingerprint() {	# DB
	psql -qXAt -d "$1" -v ON_ERROR_STOP=1 <<'SQL'
SELECT tableoid::regclass, count(*), sum(bytes), sum(packets), sum(flows) FROM nfpg.flows GROUP BY 1 ORDER BY 1;
SELECT md5(string_agg(s::text, ',' ORDER BY profile, channel, slot)) FROM nfpg.profile_series s;
SELECT md5(string_agg(s::text, ',' ORDER BY profile, slot)) FROM nfpg.profile_slots s;
SELECT profile, filter, filter_sql, kind, tstart FROM nfpg.profiles ORDER BY 1;
SELECT * FROM nfpg.profile_channels ORDER BY 1, 2;
SELECT * FROM nfpg.alerts ORDER BY 1;
SELECT alert, slot, value, fired FROM nfpg.alert_log ORDER BY 1, 2;
SELECT plugin, function, profile FROM nfpg.plugins JOIN nfpg.plugin_profiles USING (plugin) ORDER BY 1;
SELECT plugin, profile, slot, status FROM nfpg.plugin_runs ORDER BY 1, 2, 3;
SELECT * FROM nfpg.settings;
SELECT * FROM nfpg.nfsen_settings;
SELECT exporter, source_id, export_version, flows FROM nfpg.exporters ORDER BY 1, 2, 3;
SELECT relid, lower_bound, upper_bound, indexed IS NOT NULL FROM nfpg.partitions ORDER BY 2;
SELECT count(*) FROM nfpg.runs;
SQL
}
fingerprint nfpg >"$T_DIR/fp.A"
# Roles are the cluster's, not the database's: the recipe (docs/operations.md)
# carries them with pg_dumpall --globals-only.
"$PGBIN/pg_dumpall" --globals-only -f "$T_DIR/globals.sql" || t_fail "pg_dumpall --globals-only"
"$PGBIN/pg_dump" -Fc -d nfpg -f "$T_DIR/nfpg.dump" || t_fail "pg_dump -Fc"
"$PGBIN/pg_dump" -Fd -j 2 -d nfpg -f "$T_DIR/nfpg.dir" || t_fail "pg_dump -Fd -j 2"

cluster B on || { t_fail "cluster B"; t_done; exit 1; }
export PGPORT=$PORT_B
psql -qX -d postgres -f "$T_DIR/globals.sql" >/dev/null 2>&1	# "role postgres already exists" is expected
t_eq "B: the loader's login role came with the globals" "t" \
	"$(psql -qXAt -d postgres -c "SELECT pg_has_role('nfpgd', 'nfpg_loader', 'MEMBER')" 2>&1)"
"$PGBIN/createdb" nfpg
"$PGBIN/pg_restore" -d nfpg "$T_DIR/nfpg.dump" >"$T_DIR/restore.log" 2>&1
t_eq "pg_restore (custom format): no error" "0 " "$? $(grep -i error "$T_DIR/restore.log" | head -3)"
# pg_cron can only live in cron.database_name: the second copy goes without it.
"$PGBIN/createdb" nfpg2
"$PGBIN/pg_restore" -l "$T_DIR/nfpg.dir" | grep -v -E 'pg_cron|[[:space:]]cron[[:space:]]' >"$T_DIR/list"
"$PGBIN/pg_restore" -j 2 -L "$T_DIR/list" -d nfpg2 "$T_DIR/nfpg.dir" >"$T_DIR/restore2.log" 2>&1
t_eq "pg_restore -j 2 (directory format): no error" "0 " "$? $(grep -i error "$T_DIR/restore2.log" | head -3)"

for db in nfpg nfpg2; do
	fingerprint $db >"$T_DIR/fp.$db"
	if cmp -s "$T_DIR/fp.A" "$T_DIR/fp.$db"; then t_ok "$db: flows, series, profiles, alerts, plugins, settings, exporters equal A's"
	else t_fail "$db differs from A"; diff "$T_DIR/fp.A" "$T_DIR/fp.$db" | head -10; fi
	t_eq "$db: every registered partition attached" "0" \
		"$(psql -qXAt -d $db -c "SELECT count(*) FROM nfpg.partitions p WHERE NOT EXISTS
			(SELECT 1 FROM pg_inherits i WHERE i.inhrelid = p.relid AND i.inhparent = 'nfpg.flows'::regclass)")"
	t_eq "$db: every index valid, lookup indexes there" "0 true" \
		"$(psql -qXAt -d $db -c "SELECT count(*) FILTER (WHERE NOT indisvalid) || ' ' || (count(*) > 20)
			FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 'nfpg'::regnamespace")"
	t_eq "$db: DROP EXTENSION without CASCADE refused" "refused" \
		"$(psql -qXAt -d $db -c "DROP EXTENSION nfpg" >/dev/null 2>&1 && echo dropped || echo refused)"
done

# The restored database goes on: nfpgd with the restored login role and
# password, then the job, in a background worker, builds the new slots.
nfpgd_start "$PORT_B" "$FLOWPORT" "$T_DIR/nfpgd.B.log" || t_fail "nfpgd on B"
$FLOWGEN --count 10000 --seed 2 --start "$S1" --duration 600 --format v9 --exporters 2 --dest "127.0.0.1:$FLOWPORT" --rate 40000 -q
t_eq "B: 10000 more flows loaded into the restored database" 30000 "$(wait_count 30000)"
nfpgd_stop
JOB=$(q "SELECT nfpg.nf_schedule('* * * * *')" 2>&1)
t_eq "B: nf_schedule accepts background-worker mode" "1" "$(q "SELECT count(*) FROM cron.job WHERE jobname = 'nfpg'")"
i=0
while [ $i -lt 130 ]; do
	[ "$(q "SELECT count(*) FROM nfpg.profile_series WHERE profile = 'live' AND channel = '*' AND slot >= to_timestamp($S1)")" -ge 2 ] && break
	sleep 2; i=$((i + 2))
done
t_ok "waited ${i}s for the scheduled job"
t_eq "B: the job ran in a background worker and succeeded" "t" \
	"$(q "SELECT count(*) > 0 FROM cron.job_run_details WHERE status = 'succeeded'")"
t_eq "B: new slots = direct counts" "" \
	"$(q "SELECT s.slot FROM nfpg.profile_series s
		  JOIN (SELECT nfpg.nf_slot(first_seen) slot, sum(flows) flows, sum(bytes) bytes FROM nfpg.flows GROUP BY 1) d USING (slot)
		  WHERE s.profile = 'live' AND s.channel = '*' AND s.slot >= to_timestamp($S1)
			AND (s.flows, s.bytes) IS DISTINCT FROM (d.flows, d.bytes)")"
t_eq "B: schedule_status reports no problem" "" "$(q "SELECT problem FROM nfpg.schedule_status()")"

t_done
