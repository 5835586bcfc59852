#!/bin/sh
# profiles_cron.sh: NfSen in SQL with pg_cron really running the job.
#
# Loads 30 minutes of flowgen traffic that ended 15 minutes ago, defines
# profiles, a channel, an alert and the host-class plugin, adds an old
# partition past the lifetime, schedules nf_run every minute with
# nf_schedule(), and waits (at most ~2.5 minutes) for pg_cron to run it.
# Then checks that the job built the series (equal to direct counts), ran
# the plugin, fired the alert (a LISTENing session receives the NOTIFY),
# dropped the old partition and kept the new ones, and that a repeated run
# finds nothing left to do.
. "$(dirname "$0")/../lib.sh"
set -u

pg_start || { echo "cluster did not start"; exit 1; }
q "CREATE EXTENSION pg_cron" >/dev/null
t_eq "pg_cron installed" "1.4-1" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'")"

# 1. Traffic: 30000 flows in the six 5-minute slots that ended 15 to 20
# minutes ago, so all are finished (slot_delay 5 minutes) when the job runs.
NOW=$(date +%s)
START=$(( (NOW / 300) * 300 - 2700 ))
$FLOWGEN --count 30000 --start "$START" --duration 1800 --format csv --out "$T_DIR/flows.csv" -q
psql -qXt -v ON_ERROR_STOP=1 -v csv="$T_DIR/flows.csv" -f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null
t_eq "flows loaded" 30000 "$(q "SELECT count(*) FROM nfpg.flows")"

# 2. A week-old partition, beyond a 2-day lifetime.
q "SELECT nfpg.make_partitions(now() - interval '7 days', now() - interval '7 days')" >/dev/null
q "INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, exporter)
   VALUES (now() - interval '7 days', now() - interval '7 days', 6, '10.0.0.1', '10.0.0.2', '127.0.0.1')" >/dev/null
OLD=$(q "SELECT relid FROM nfpg.partitions ORDER BY lower_bound LIMIT 1")
RECENT=$(q "SELECT string_agg(relid::text, ' ' ORDER BY lower_bound) FROM nfpg.partitions WHERE lower_bound > now() - interval '1 day'")
q "UPDATE nfpg.nfsen_settings SET max_lifetime = '2 days'" >/dev/null

# 3. Profiles, a channel, an alert and a plugin.
q "SELECT nfpg.nf_profile_drop('live')" >/dev/null	# setup() made one from now on
q "SELECT nfpg.nf_profile_create('live', 'any', to_timestamp($START))" >/dev/null
q "SELECT nfpg.nf_profile_create('sober', 'proto tcp and dst port 587', to_timestamp($START))" >/dev/null
q "SELECT nfpg.nf_channel_add('sober', 'inside', 'src net 10.0.0.0/8')" >/dev/null
q "SELECT nfpg.nf_alert_create('sober_flows', 'sober', 'flows', '>', 5)" >/dev/null
q "SELECT nfpg.nf_plugin_register('hostclass', 'nfpg.hostclass_plugin(text, timestamptz)', '{live}')" >/dev/null

# 4. A session listening for alerts for the whole wait.
( echo "LISTEN nfpg_alert;"; i=0; while [ $i -lt 36 ]; do echo "SELECT pg_sleep(5);"; i=$((i + 1)); done ) |
	psql -qXAt >"$T_DIR/listen.out" 2>&1 &
LISTEN_PID=$!

# 5. The job, every minute.
JOB=$(q "SELECT nfpg.nf_schedule('* * * * *')")
t_eq "one nfpg job" "1|* * * * *|SELECT nfpg.nf_run()" \
	"$(q "SELECT count(*), min(schedule), min(command) FROM cron.job WHERE jobname = 'nfpg'")"
t_eq "nf_schedule again keeps one job" "$JOB 1" \
	"$(q "SELECT nfpg.nf_schedule('* * * * *')") $(q "SELECT count(*) FROM cron.job WHERE jobname = 'nfpg'")"

i=0
while [ $i -lt 150 ]; do
	[ "$(q "SELECT count(*) FROM nfpg.runs WHERE slots > 0")" -gt 0 ] && break
	sleep 2; i=$((i + 2))
done
t_ok "waited ${i}s for the job"
sleep 6
kill "$LISTEN_PID" 2>/dev/null
wait "$LISTEN_PID" 2>/dev/null

# 6. What the job did.
t_eq "the job ran under pg_cron and succeeded" "t" \
	"$(q "SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
		  WHERE j.jobname = 'nfpg' AND d.status = 'succeeded'")"
t_eq "the run recorded no errors" "0" "$(q "SELECT count(*) FROM nfpg.runs WHERE errors <> '{}'")"
t_eq "live: 6 slots built" "6" \
	"$(q "SELECT count(*) FROM nfpg.profile_series WHERE profile = 'live' AND channel = '*'
		  AND slot < to_timestamp($START + 1800)")"
t_eq "live series = direct counts" "" \
	"$(q "SELECT s.slot FROM nfpg.profile_series s
		  LEFT JOIN (SELECT nfpg.nf_slot(first_seen) slot, sum(flows) flows, sum(bytes) bytes,
							sum(packets) FILTER (WHERE proto = 17) packets_udp
					   FROM nfpg.flows GROUP BY 1) d USING (slot)
		  WHERE s.profile = 'live' AND s.channel = '*'
			AND (s.flows, s.bytes, s.packets_udp) IS DISTINCT FROM (coalesce(d.flows, 0), coalesce(d.bytes, 0), coalesce(d.packets_udp, 0))")"
t_eq "sober total = flows to tcp/587" \
	"$(q "SELECT count(*) FROM nfpg.flows WHERE proto = 6 AND dst_port = 587 AND first_seen >= to_timestamp($START)")" \
	"$(q "SELECT sum(flows) FROM nfpg.profile_series WHERE profile = 'sober' AND channel = '*'")"
t_eq "sober inside channel = flows from 10/8" \
	"$(q "SELECT count(*) FROM nfpg.flows WHERE proto = 6 AND dst_port = 587 AND src_addr << '10.0.0.0/8'")" \
	"$(q "SELECT sum(flows) FROM nfpg.profile_series WHERE profile = 'sober' AND channel = 'inside'")"
t_eq "hostclass plugin ran for every live slot" "ok 6" \
	"$(q "SELECT min(status) || ' ' || count(*) FROM nfpg.plugin_runs WHERE plugin = 'hostclass'
		  AND slot < to_timestamp($START + 1800)")"
t_eq "host-class counts stored for every live slot" "6" \
	"$(q "SELECT count(*) FROM nfpg.hostclass_series WHERE profile = 'live' AND slot < to_timestamp($START + 1800) AND t > 0")"
FIRED=$(q "SELECT count(*) FROM nfpg.alert_log WHERE alert = 'sober_flows' AND fired")
EXPECT=$(q "SELECT count(*) FROM nfpg.profile_series WHERE profile = 'sober' AND channel = '*' AND flows > 5")
t_eq "alert fired for every slot above 5 flows" "$EXPECT" "$FIRED"
[ "$FIRED" -gt 0 ] && t_ok "alert fired $FIRED times" || t_fail "alert never fired"
GOT=$(grep -c 'Asynchronous notification "nfpg_alert" with payload "{"alert" : "sober_flows"' "$T_DIR/listen.out")
t_eq "NOTIFY received by the listening session" "$FIRED" "$GOT"
t_eq "old partition dropped by aging" "" "$(q "SELECT relid FROM nfpg.partitions WHERE relid::text = '$OLD'")"
t_eq "old table gone" "0" "$(q "SELECT count(*) FROM pg_class WHERE oid::regclass::text = '$OLD'")"
t_eq "recent partitions kept" "$RECENT" \
	"$(q "SELECT string_agg(relid::text, ' ' ORDER BY lower_bound) FROM nfpg.partitions
		  WHERE lower_bound > now() - interval '1 day' AND relid::text = ANY (string_to_array('$RECENT', ' '))")"
t_eq "runs counted the drop" "1" "$(q "SELECT sum(partitions_dropped) FROM nfpg.runs")"

# 7. Idempotent: running again builds, calls and fires nothing new.
t_eq "a repeated run does nothing" "0|0|0" \
	"$(q "SELECT slots || '|' || plugin_failures || '|' || alerts_fired FROM nfpg.nf_run()")"
t_eq "each slot built once" "0" \
	"$(q "SELECT count(*) FROM (SELECT slot FROM nfpg.plugin_runs GROUP BY plugin, profile, slot HAVING count(*) > 1) x")"
t_eq "nf_unschedule" "t 0" "$(q "SELECT nfpg.nf_unschedule()") $(q "SELECT count(*) FROM cron.job")"
t_done
