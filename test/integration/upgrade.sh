#!/bin/sh
# upgrade.sh: ALTER EXTENSION nfpg UPDATE from every earlier release keeps
# the data and gives the schema of a fresh install.
#
# A database is made at version 0.1 (its install script ships as it was
# released), filled with flows in several partitions, profiles with a
# channel, their series, an alert and its log, a plugin and changed
# settings; then updated.  Checks: the version; every partition's count and
# sums, the series, profiles, alerts, plugins and settings unchanged; the
# table left the extension (DROP EXTENSION now needs CASCADE); the loader's
# functions work on the updated database; and the catalog of the updated
# database (test/sql/catalog.sql) equals that of a fresh CREATE EXTENSION +
# setup().  Keep a section per release as releases are added.
. "$(dirname "$0")/../lib.sh"
set -u

pg_start || { echo "cluster did not start"; exit 1; }
q "DROP EXTENSION nfpg CASCADE" >/dev/null 2>&1
"$PGBIN/createdb" fresh
psql -qX -d fresh -c 'CREATE EXTENSION nfpg' -c 'SELECT nfpg.setup()' >/dev/null

q "CREATE EXTENSION nfpg VERSION '0.1'" >/dev/null
t_eq "made at 0.1" "0.1" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"

# Data as 0.1 kept it: four hourly partitions, 20000 flows, profiles, series.
q "SELECT nfpg.ensure_partitions('2026-01-05 10:00+00', '2026-01-05 13:59+00')" >/dev/null
q "INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, packets, bytes, exporter)
   SELECT t, t + interval '2 s', CASE WHEN i % 3 = 0 THEN 17 ELSE 6 END,
		  ('10.1.' || (i % 200) || '.' || (i % 250))::inet, ('192.0.2.' || (i % 50))::inet,
		  1024 + i % 5000, CASE WHEN i % 7 = 0 THEN 587 ELSE 443 END, 1 + i % 20, 60 + i % 1500, '127.0.0.1'
	 FROM generate_series(1, 20000) i, LATERAL (SELECT '2026-01-05 10:00+00'::timestamptz + i * interval '0.7 s') x(t)" >/dev/null
q "SELECT nfpg.nf_profile_create('mail', 'dst port 587', '2026-01-05 10:00+00')" >/dev/null
q "SELECT nfpg.nf_channel_add('mail', 'udp', 'proto udp')" >/dev/null
q "SELECT nfpg.nf_profile_build('mail', '2026-01-05 10:00+00', '2026-01-05 13:00+00')" >/dev/null
q "SELECT nfpg.nf_alert_create('mail_burst', 'mail', 'flows', '>', 10)" >/dev/null
q "SELECT nfpg.nf_alerts_run('mail', '2026-01-05 10:05+00')" >/dev/null
q "SELECT nfpg.nf_plugin_register('hostclass', 'nfpg.hostclass_plugin(text, timestamptz)', '{mail}')" >/dev/null
q "UPDATE nfpg.settings SET premake = '5 hours'" >/dev/null
q "UPDATE nfpg.nfsen_settings SET max_lifetime = '90 days'" >/dev/null

fingerprint() {
	q "SELECT tableoid::regclass, count(*), sum(bytes), sum(packets) FROM nfpg.flows GROUP BY 1 ORDER BY 1"
	q "SELECT md5(string_agg(s::text, ',' ORDER BY profile, channel, slot)) FROM nfpg.profile_series s"
	q "SELECT profile, filter, filter_sql FROM nfpg.profiles ORDER BY 1"
	q "SELECT * FROM nfpg.profile_channels ORDER BY 1, 2"
	q "SELECT * FROM nfpg.alerts ORDER BY 1"
	q "SELECT alert, slot, value, fired FROM nfpg.alert_log ORDER BY 1, 2"
	q "SELECT plugin, function FROM nfpg.plugins ORDER BY 1"
	q "SELECT partition_width, premake FROM nfpg.settings"
	q "SELECT max_lifetime FROM nfpg.nfsen_settings"
	q "SELECT relid, lower_bound, upper_bound FROM nfpg.partitions ORDER BY 2"
}
fingerprint >"$T_DIR/before"
t_eq "0.1 data: 20000 flows in 4 partitions" "4 20000" "$(q "SELECT count(DISTINCT tableoid) || ' ' || count(*) FROM nfpg.flows")"
t_eq "0.1 data: series built" "1" "$(q "SELECT (count(*) > 0)::int FROM nfpg.profile_series")"

# --- 0.1 -> 0.2 ---------------------------------------------------------
q "ALTER EXTENSION nfpg UPDATE TO '0.2'" >"$T_DIR/update.log" 2>&1 || cat "$T_DIR/update.log"
t_eq "updated to 0.2" "0.2" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
fingerprint >"$T_DIR/after"
if cmp -s "$T_DIR/before" "$T_DIR/after"; then t_ok "flows, series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the update"; diff "$T_DIR/before" "$T_DIR/after" | head -20; fi
t_eq "setup() after the update adds only what is new in 0.2" "made the live profile" "$(q "SELECT nfpg.setup()")"
t_eq "DROP EXTENSION without CASCADE refused" "refused" \
	"$(q "DROP EXTENSION nfpg" >/dev/null 2>&1 && echo dropped || echo refused)"
t_eq "flows intact after the refused drop" "20000" "$(q "SELECT count(*) FROM nfpg.flows")"

# The loader's path on the updated database: a new partition, a claimed batch.
q "CREATE ROLE upd_loader LOGIN IN ROLE nfpg_loader" >/dev/null
t_eq "loader makes a partition after the update" "t" \
	"$(psql -qXAt -U upd_loader -c "SELECT nfpg.ensure_partitions(now()) > 0")"
t_eq "loader target is a partition it may COPY into" "t" \
	"$(psql -qXAt -U upd_loader -c "SELECT has_table_privilege('upd_loader', nfpg.loader_target(now(), now()), 'INSERT')")"

# --- 0.2 -> 0.3 ---------------------------------------------------------
fingerprint >"$T_DIR/before3"
q "ALTER EXTENSION nfpg UPDATE TO '0.3'" >"$T_DIR/update3.log" 2>&1 || cat "$T_DIR/update3.log"
t_eq "updated to 0.3" "0.3" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
fingerprint >"$T_DIR/after3"
if cmp -s "$T_DIR/before3" "$T_DIR/after3"; then t_ok "0.3: flows, series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the 0.3 update"; diff "$T_DIR/before3" "$T_DIR/after3" | head -20; fi
t_eq "0.3: nf_stat on the updated database equals the fresh one's on the same flows" \
	"$(q "SELECT md5(string_agg(s::text, '|')) FROM nfpg.nf_stat('ip', 'bytes', 20) s")" \
	"$(q "COPY (SELECT * FROM nfpg.flows) TO STDOUT" | psql -qX -d fresh -c "COPY nfpg.flows FROM STDIN" && psql -qXAt -d fresh -c "SELECT md5(string_agg(s::text, '|')) FROM nfpg.nf_stat('ip', 'bytes', 20) s")"
psql -qX -d fresh -c "TRUNCATE nfpg.flows" >/dev/null
t_eq "0.3: this server is not a coordinator" "f" "$(q "SELECT nfpg.is_coordinator()")"

# --- 0.3 -> 0.4 ---------------------------------------------------------
# The first hour packed at 0.3, so that the update meets a packed partition.
q "SELECT nfpg.pack_partition(relid) FROM nfpg.partitions ORDER BY lower_bound LIMIT 1" >/dev/null
fingerprint >"$T_DIR/before4"
stat_before=$(q "SELECT md5(string_agg(s::text, '|')) FROM nfpg.nf_stat('dstport', 'bytes', 20) s")
q "ALTER EXTENSION nfpg UPDATE TO '0.4'" >"$T_DIR/update4.log" 2>&1 || cat "$T_DIR/update4.log"
t_eq "updated to 0.4" "0.4" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
fingerprint >"$T_DIR/after4"
if cmp -s "$T_DIR/before4" "$T_DIR/after4"; then t_ok "0.4: flows (one hour packed), series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the 0.4 update"; diff "$T_DIR/before4" "$T_DIR/after4" | head -20; fi
t_eq "0.4: nf_stat over the packed hour (now aggregated in its scan) equals 0.3's" \
	"$stat_before" "$(q "SELECT md5(string_agg(s::text, '|')) FROM nfpg.nf_stat('dstport', 'bytes', 20) s")"
t_eq "0.4: the packed hour aggregates in its scan" "1" \
	"$(q "SELECT nfpg.nf_topn_plan_packed(); EXPLAIN (COSTS OFF) SELECT nfpg.nf_topn('stat bytes 20 dst_port', flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port) FROM nfpg.flows" | grep -A1 'Packed Partition' | grep -c 'Aggregate in Scan')"
q "SELECT nfpg.unpack_partition(relid) FROM nfpg.partitions ORDER BY lower_bound LIMIT 1" >/dev/null

# --- 0.4 -> 0.5 ---------------------------------------------------------
# An hour packed at 0.4 (which left packed hours without planner statistics)
# meets the update; the scheduled pack job analyzes it, a pack at 0.5 does it
# at once, and nf_format (now pruned to the printed columns) prints the same.
q "SELECT nfpg.pack_partition(relid) FROM nfpg.partitions ORDER BY lower_bound LIMIT 1" >/dev/null
fingerprint >"$T_DIR/before5"
printed() { q "SELECT md5(string_agg(nfpg.nf_format(f, 'extended') || nfpg.nf_format(f, 'fmt:%ra %sas %nh', true, true), '|'
	ORDER BY first_seen, src_addr, dst_addr, src_port)) FROM nfpg.flows f"; }
printed_before=$(printed)
q "ALTER EXTENSION nfpg UPDATE TO '0.5'" >"$T_DIR/update5.log" 2>&1 || cat "$T_DIR/update5.log"
t_eq "updated to 0.5" "0.5" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
fingerprint >"$T_DIR/after5"
if cmp -s "$T_DIR/before5" "$T_DIR/after5"; then t_ok "0.5: flows (one hour packed), series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the 0.5 update"; diff "$T_DIR/before5" "$T_DIR/after5" | head -20; fi
t_eq "0.5: nf_format prints what 0.4 printed, packed and heap hours" "$printed_before" "$(printed)"
# the planner's row count of the n-th hour, and its flows
packed_tuples() { q "SELECT c.reltuples FROM nfpg.partitions p JOIN pg_class c ON c.oid = p.relid ORDER BY p.lower_bound LIMIT 1 OFFSET $1"; }
hour_flows() { q "SELECT count(*) FROM nfpg.flows f JOIN nfpg.partitions p ON f.tableoid = p.relid GROUP BY p.lower_bound ORDER BY p.lower_bound LIMIT 1 OFFSET $1"; }
t_eq "0.5: the hour packed at 0.4 has no statistics yet" "-1" "$(packed_tuples 0)"
q "SELECT nfpg.pack_partitions('0', 4, '2026-01-05 11:00+00')" >/dev/null
t_eq "0.5: the pack job analyzed it" "$(hour_flows 0)" "$(packed_tuples 0)"
q "SELECT nfpg.pack_partition(relid) FROM nfpg.partitions ORDER BY lower_bound LIMIT 1 OFFSET 1" >/dev/null
t_eq "0.5: an hour packed at 0.5 is analyzed at once" "$(hour_flows 1)" "$(packed_tuples 1)"
q "SELECT nfpg.unpack_partition(relid) FROM nfpg.partitions ORDER BY lower_bound LIMIT 2" >/dev/null

# --- 0.5 -> 0.6 ---------------------------------------------------------
# An hour packed at 0.5 meets the update and keeps ANALYZE's own distinct
# counts; an hour packed at 0.6 gets the addresses and ports counted while
# packing as its columns' n_distinct, which ANALYZE keeps.
q "SELECT nfpg.pack_partition(relid) FROM nfpg.partitions ORDER BY lower_bound LIMIT 1" >/dev/null
fingerprint >"$T_DIR/before6"
q "ALTER EXTENSION nfpg UPDATE TO '0.6'" >"$T_DIR/update6.log" 2>&1 || cat "$T_DIR/update6.log"
t_eq "updated to 0.6" "0.6" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
fingerprint >"$T_DIR/after6"
if cmp -s "$T_DIR/before6" "$T_DIR/after6"; then t_ok "0.6: flows (one hour packed), series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the 0.6 update"; diff "$T_DIR/before6" "$T_DIR/after6" | head -20; fi
# the n_distinct options set on the n-th hour's address and port columns
nd_options() { q "SELECT count(*) FROM nfpg.partitions p JOIN pg_attribute a ON a.attrelid = p.relid
	WHERE a.attname IN ('src_addr', 'dst_addr', 'src_port', 'dst_port')
	AND EXISTS (SELECT FROM pg_options_to_table(a.attoptions) o WHERE o.option_name = 'n_distinct')
	AND p.lower_bound = (SELECT lower_bound FROM nfpg.partitions ORDER BY 1 LIMIT 1 OFFSET $1)"; }
t_eq "0.6: the hour packed at 0.5 has no distinct counts set" "0" "$(nd_options 0)"
q "SELECT nfpg.pack_partition(relid) FROM nfpg.partitions ORDER BY lower_bound LIMIT 1 OFFSET 1" >/dev/null
t_eq "0.6: an hour packed at 0.6 has its four set" "4" "$(nd_options 1)"
t_eq "0.6: ANALYZE keeps the distinct sources counted while packing (within 5 %)" "t" \
	"$(q "SELECT abs(-s.n_distinct * c.reltuples - t.d) <= 0.05 * t.d OR abs(s.n_distinct - t.d) <= 0.05 * t.d
		FROM nfpg.partitions p JOIN pg_class c ON c.oid = p.relid
		JOIN pg_stats s ON s.schemaname = 'nfpg' AND s.tablename = c.relname AND s.attname = 'src_addr',
		LATERAL (SELECT count(DISTINCT f.src_addr) AS d FROM nfpg.flows f WHERE f.tableoid = p.relid) t
		ORDER BY p.lower_bound LIMIT 1 OFFSET 1")"
q "SELECT nfpg.unpack_partition(relid) FROM nfpg.partitions ORDER BY lower_bound LIMIT 2" >/dev/null

# --- 0.6 -> 0.7 ---------------------------------------------------------
# nf_stat and nf_aggregate call nf_topn_plan (C) instead of
# nf_topn_plan_packed, and row-store hours aggregate in their scan
# (heap_agg.c): the same answers as before the update.
stat_before=$(q "SELECT md5(string_agg(s::text, '|')) FROM nfpg.nf_stat('ip', 'bytes', 20) s")
agg_before=$(q "SELECT md5(string_agg(nfpg.nf_format(a, 'line'), '|')) FROM nfpg.nf_aggregate('srcip4/24,dstport', 'bytes', 20, 'proto tcp') a")
fingerprint >"$T_DIR/before7"
q "ALTER EXTENSION nfpg UPDATE TO '0.7'" >"$T_DIR/update7.log" 2>&1 || cat "$T_DIR/update7.log"
t_eq "updated to 0.7" "0.7" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
fingerprint >"$T_DIR/after7"
if cmp -s "$T_DIR/before7" "$T_DIR/after7"; then t_ok "0.7: flows, series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the 0.7 update"; diff "$T_DIR/before7" "$T_DIR/after7" | head -20; fi
t_eq "0.7: nf_topn_plan_packed is gone" "" "$(q "SELECT to_regprocedure('nfpg.nf_topn_plan_packed()')")"
t_eq "0.7: nf_stat answers as at 0.6" "$stat_before" "$(q "SELECT md5(string_agg(s::text, '|')) FROM nfpg.nf_stat('ip', 'bytes', 20) s")"
t_eq "0.7: nf_aggregate answers as at 0.6" "$agg_before" \
	"$(q "SELECT md5(string_agg(nfpg.nf_format(a, 'line'), '|')) FROM nfpg.nf_aggregate('srcip4/24,dstport', 'bytes', 20, 'proto tcp') a")"
t_eq "0.7: the row-store hours aggregate in their scan" "t" \
	"$(q "SELECT nfpg.nf_topn_plan() IS NOT NULL; EXPLAIN (COSTS OFF) SELECT nfpg.nf_topn('stat bytes 20 dst_port', flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port) FROM nfpg.flows" | grep -q NfpgHeapAggregate && echo t || echo f)"

# --- 0.7 -> 0.8 ---------------------------------------------------------
# pack_partition's level, when none is given, comes from
# nfpg.settings.pack_zstd_level (3, as before); zstd's fast levels are taken.
fingerprint >"$T_DIR/before8"
q "ALTER EXTENSION nfpg UPDATE TO '0.8'" >"$T_DIR/update8.log" 2>&1 || cat "$T_DIR/update8.log"
t_eq "updated to 0.8" "0.8" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
fingerprint >"$T_DIR/after8"
if cmp -s "$T_DIR/before8" "$T_DIR/after8"; then t_ok "0.8: flows, series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the 0.8 update"; diff "$T_DIR/before8" "$T_DIR/after8" | head -20; fi
t_eq "0.8: the pack level setting is 3" "3" "$(q "SELECT pack_zstd_level FROM nfpg.settings")"
# the bytes of the 10:00 hour's address chunks, packed as asked
packed_bytes() {
	q "SELECT nfpg.pack_partition('nfpg.flows_20260105_1000' $1)" >/dev/null
	q "SELECT sum(octet_length(src_addr)) FROM nfpg.flows_20260105_1000_seg"
	q "SELECT nfpg.unpack_partition('nfpg.flows_20260105_1000')" >/dev/null
}
at3=$(packed_bytes ", 3"); atdefault=$(packed_bytes "")
q "UPDATE nfpg.settings SET pack_zstd_level = -1" >/dev/null
atsetting=$(packed_bytes ""); atm1=$(packed_bytes ", -1")
t_eq "0.8: no level given packs at the setting (3, then -1)" "$at3 $atm1" "$atdefault $atsetting"
t_eq "0.8: level -1 is another encoding than 3" "t" "$([ "$at3" != "$atm1" ] && echo t || echo f)"
q "UPDATE nfpg.settings SET pack_zstd_level = 3" >/dev/null
t_eq "0.8: flows unchanged by packing and unpacking" "$(sed -n 1,4p "$T_DIR/before8" | sort)" "$(fingerprint | sed -n 1,4p | sort)"

# --- 0.8 -> 0.9 ---------------------------------------------------------
# The library's codec groups addresses by family: an hour packed before the
# update reads the same after it, and packs again.  A new install packs at
# -1 by default; an updated one keeps its level.
hour_rows() { q "SELECT md5(string_agg(f::text, '|' ORDER BY f::text)) FROM nfpg.flows_20260105_1000 f"; }
rows_heap=$(hour_rows)
q "SELECT nfpg.pack_partition('nfpg.flows_20260105_1000')" >/dev/null
fingerprint >"$T_DIR/before9"
q "ALTER EXTENSION nfpg UPDATE TO '0.9'" >"$T_DIR/update9.log" 2>&1 || cat "$T_DIR/update9.log"
t_eq "updated to 0.9" "0.9" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
t_eq "0.9: an updated database keeps its pack level (3); a new one packs at -1" "3 -1" \
	"$(q "SELECT pack_zstd_level FROM nfpg.settings") $(psql -qXAt -d fresh -c "SELECT pack_zstd_level FROM nfpg.settings")"
fingerprint >"$T_DIR/after9"
if cmp -s "$T_DIR/before9" "$T_DIR/after9"; then t_ok "0.9: flows (one hour packed), series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the 0.9 update"; diff "$T_DIR/before9" "$T_DIR/after9" | head -20; fi
t_eq "0.9: the hour packed before the update has its rows" "$rows_heap" "$(hour_rows)"
q "SELECT nfpg.pack_partition('nfpg.flows_20260105_1000')" >/dev/null
t_eq "0.9: flows unchanged by packing the hour again" "$(sed -n 1,4p "$T_DIR/before9" | sort)" "$(fingerprint | sed -n 1,4p | sort)"
t_eq "0.9: the hour packed again has its rows" "$rows_heap" "$(hour_rows)"

# --- 0.9 -> 0.10 --------------------------------------------------------
# pack_partition() writes port runs and says so with the option order; an
# hour packed before the update has no option (the planner costs it as
# before) and gets it when packed again.
order_opt() { q "SELECT coalesce(string_agg(o, ','), 'none') FROM pg_foreign_table t, unnest(t.ftoptions) o
	WHERE t.ftrelid = 'nfpg.flows_20260105_1000'::regclass AND o LIKE 'order=%'"; }
t_eq "0.9: a packed hour has no order option" "none" "$(order_opt)"
fingerprint >"$T_DIR/before10"
q "ALTER EXTENSION nfpg UPDATE TO '0.10'" >"$T_DIR/update10.log" 2>&1 || cat "$T_DIR/update10.log"
t_eq "updated to 0.10" "0.10" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
fingerprint >"$T_DIR/after10"
if cmp -s "$T_DIR/before10" "$T_DIR/after10"; then t_ok "0.10: flows (one hour packed), series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the 0.10 update"; diff "$T_DIR/before10" "$T_DIR/after10" | head -20; fi
t_eq "0.10: the hour packed before the update keeps no order option" "none" "$(order_opt)"
t_eq "0.10: the hour packed before the update has its rows" "$rows_heap" "$(hour_rows)"
q "SELECT nfpg.pack_partition('nfpg.flows_20260105_1000')" >/dev/null
t_eq "0.10: packed again, the hour is in port runs" "order=slot_port" "$(order_opt)"
t_eq "0.10: the hour packed again has its rows" "$rows_heap" "$(hour_rows)"

# --- 0.10 -> 0.11 -------------------------------------------------------
# The library writes a block's columns in frames and reads both kinds of
# chunk (the catalog does not change for it); the update replaces nfdump(),
# whose -q plain dump counts nothing before the records.
magics() { q "SELECT string_agg(DISTINCT encode(substr(src_addr, 5 + 4 * get_byte(src_addr, 0), 4), 'escape'), ',')
	FROM nfpg.flows_20260105_1000_seg"; }
fingerprint >"$T_DIR/before11"
q "ALTER EXTENSION nfpg UPDATE TO '0.11'" >"$T_DIR/update11.log" 2>&1 || cat "$T_DIR/update11.log"
t_eq "updated to 0.11" "0.11" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
fingerprint >"$T_DIR/after11"
if cmp -s "$T_DIR/before11" "$T_DIR/after11"; then t_ok "0.11: flows (one hour packed), series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the 0.11 update"; diff "$T_DIR/before11" "$T_DIR/after11" | head -20; fi
t_eq "0.11: the hour packed before the update has its rows" "$rows_heap" "$(hour_rows)"
t_eq "0.11: its block's columns are in frames of 2,048 rows" "NFF1" "$(magics)"
n=$(q "SELECT count(*) FROM nfpg.flows")
t_eq "0.11: nfdump() with -q prints every flow's record and nothing else" "$n/$n" \
	"$(q "SELECT count(*) FROM nfpg.nfdump(format => 'line', quiet => true) l WHERE l ~ '^2026-'")/$(q "SELECT count(*) FROM nfpg.nfdump(format => 'line', quiet => true)")"

# --- 0.11 -> 0.12 -------------------------------------------------------
# The library computes count, min and max in a packed hour's scan, and
# writes a line's characters itself; the update replaces nf_dump_summary(),
# which now reads the Summary's "Total flows processed" and Time window that
# way: nfdump()'s output, over the packed hour and a row-store one, is the
# same before and after, and the plan of such a count shows the scan doing it.
dump() { q "SELECT md5(string_agg(l, E'\n')) FROM nfpg.nfdump(format => 'line', filter => 'proto tcp') l"; }
processed() { q "SELECT l FROM nfpg.nfdump(filter => 'proto tcp') l WHERE l LIKE 'Total flows processed:%'"; }
before_dump=$(dump)
before_processed=$(processed)
fingerprint >"$T_DIR/before12"
q "ALTER EXTENSION nfpg UPDATE TO '0.12'" >"$T_DIR/update12.log" 2>&1 || cat "$T_DIR/update12.log"
t_eq "updated to 0.12" "0.12" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
fingerprint >"$T_DIR/after12"
if cmp -s "$T_DIR/before12" "$T_DIR/after12"; then t_ok "0.12: flows (one hour packed), series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the 0.12 update"; diff "$T_DIR/before12" "$T_DIR/after12" | head -20; fi
t_eq "0.12: nfdump()'s records, Summary and Time window unchanged by the update" "$before_dump" "$(dump)"
t_eq "0.12: every flow counted as processed" \
	"Total flows processed: $(q "SELECT count(*) FROM nfpg.flows"), passed: $(q "SELECT count(*) FROM nfpg.flows WHERE proto = 6"), Blocks skipped: 0, Bytes read: 0" \
	"$before_processed"
t_eq "0.12: the packed hour counts its flows in its scan" "1" \
	"$(q "SET enable_partitionwise_aggregate = on; EXPLAIN SELECT count(*), min(first_seen), max(last_seen) FROM nfpg.flows" | grep -c 'Aggregate in Scan: count(\*), min(first_seen), max(last_seen)')"

# --- 0.12 -> 0.13 -------------------------------------------------------
# nfdump_records() gives nfpg-dump -q the query of a quiet plain dump's
# records, to run itself so they stream; nfdump() makes its records' query
# with the same function, and records that tie on received (a load's) come
# by partition, then place: the same order from run to run, a packed hour's
# rows included (their ctid is their place in the segments since 0.13's
# library).
lines() { q "SELECT md5(string_agg(l, E'\n' ORDER BY l)) FROM nfpg.nfdump(format => 'line', quiet => true, filter => 'proto tcp') l"; }
ordered() { q "SELECT md5(string_agg(l, E'\n')) FROM nfpg.nfdump(format => 'line', quiet => true, filter => 'proto tcp') l"; }
before_lines=$(lines)
# nfpg-dump 0.13 against the 0.12 catalog: no nfdump_records(), nfdump() prints
dumpq() { "$NFPG_TOP/cli/nfpg-dump" -R /any -q -o line 'proto tcp' | LC_ALL=C sort | md5sum | cut -c1-32; }
before_q=$(dumpq)
fingerprint >"$T_DIR/before13"
q "ALTER EXTENSION nfpg UPDATE TO '0.13'" >"$T_DIR/update13.log" 2>&1 || cat "$T_DIR/update13.log"
t_eq "updated to 0.13" "0.13" "$(q "SELECT extversion FROM pg_extension WHERE extname = 'nfpg'")"
fingerprint >"$T_DIR/after13"
if cmp -s "$T_DIR/before13" "$T_DIR/after13"; then t_ok "0.13: flows (one hour packed), series, profiles, alerts, plugins, settings unchanged"
else t_fail "data changed by the 0.13 update"; diff "$T_DIR/before13" "$T_DIR/after13" | head -20; fi
t_eq "0.13: nfdump() -q prints the same records after the update" "$before_lines" "$(lines)"
t_eq "0.13: nfpg-dump -q printed them at 0.12 (through nfdump()) as it streams them at 0.13" "$before_q" "$(dumpq)"
first=$(ordered)
t_eq "0.13: ... in the same order from run to run, the packed hour's too" "$first $first $first" "$(ordered) $(ordered) $(ordered)"
t_eq "0.13: nfdump_records()'s query returns nfdump()'s records in nfdump()'s order" "t" "$(q "
	CREATE FUNCTION pg_temp.streamed() RETURNS SETOF text LANGUAGE plpgsql AS \$\$
	DECLARE r record;
	BEGIN
		SELECT * INTO r FROM nfpg.nfdump_records(filter => 'proto tcp', format => 'line');
		RETURN QUERY EXECUTE r.query USING NULL::text, r.param2, r.param3, r.param4, r.param5;
	END \$\$;
	SELECT (SELECT array_agg(l) FROM pg_temp.streamed() l)
		 = (SELECT array_agg(l) FROM nfpg.nfdump(format => 'line', quiet => true, filter => 'proto tcp') l)")"
q "SELECT nfpg.unpack_partition('nfpg.flows_20260105_1000')" >/dev/null

psql -qXAt -f "$NFPG_TOP/test/sql/catalog.sql" >"$T_DIR/cat.updated"
psql -qXAt -d fresh -f "$NFPG_TOP/test/sql/catalog.sql" >"$T_DIR/cat.fresh"
t_eq "catalog facts compared" "t" "$([ "$(wc -l <"$T_DIR/cat.fresh")" -gt 300 ] && echo t || echo f)"
if diff "$T_DIR/cat.fresh" "$T_DIR/cat.updated" >"$T_DIR/cat.diff"; then t_ok "updated catalog equals a fresh 0.13 install"
else t_fail "updated catalog differs from a fresh 0.13 install ($(grep -c '^[<>]' "$T_DIR/cat.diff") lines)"; head -40 "$T_DIR/cat.diff"; fi

t_done
