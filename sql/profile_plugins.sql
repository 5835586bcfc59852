-- Plugins: the registry, one call per new slot, failure isolation (a failing
-- plugin is logged and skipped for that slot, the others and the rest of the
-- run go on), and a profile whose build fails does not stop the others.
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.flows;
DELETE FROM nfpg.profiles;
DELETE FROM nfpg.plugins;
UPDATE nfpg.settings SET partition_width = '1 hour', premake = '0';
UPDATE nfpg.nfsen_settings SET slot_delay = '5 minutes', max_size = NULL, max_lifetime = NULL;
SELECT nfpg.ensure_partitions('2024-03-11 09:00+00', '2024-03-11 10:00+00') >= 0 AS partitions;
-- One TCP flow of 1000 bytes per minute, 09:00 to 09:29.
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
						packets, bytes, exporter)
SELECT '2024-03-11 09:00+00'::timestamptz + i * interval '1 minute',
	   '2024-03-11 09:00+00'::timestamptz + i * interval '1 minute', 6,
	   '10.0.0.1', '192.0.2.1', 40000 + i, 80, 10, 1000, '192.0.2.254'
  FROM generate_series(0, 29) i;

SELECT nfpg.nf_profile_create('web', 'dst port 80', '2024-03-11 09:00+00');
SELECT nfpg.nf_profile_create('other', 'dst port 25', '2024-03-11 09:00+00');

-- Three plugins: one writes what it saw, one fails on the 09:10 slot after
-- writing (its write must be rolled back), one runs after the failing one.
-- Plugins run with search_path = pg_catalog, pg_temp: they qualify names.
CREATE TABLE plugin_seen (plugin text, profile text, slot timestamptz, flows bigint);
CREATE FUNCTION a_counter(profile text, slot timestamptz) RETURNS void LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO plugin_seen SELECT 'a_counter', profile, slot, s.flows FROM nfpg.profile_series s
	 WHERE s.profile = a_counter.profile AND s.channel = '*' AND s.slot = a_counter.slot;
END;
CREATE FUNCTION b_flaky(profile text, slot timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.plugin_seen VALUES ('b_flaky', profile, slot, NULL);
	IF slot = '2024-03-11 09:10+00' THEN
		RAISE EXCEPTION 'b_flaky cannot handle %', slot;
	END IF;
	RETURN 1;
END $$;
CREATE FUNCTION c_after(profile text, slot timestamptz) RETURNS void LANGUAGE sql
BEGIN ATOMIC
	INSERT INTO plugin_seen VALUES ('c_after', profile, slot, NULL);
END;
CREATE FUNCTION wrong_args(profile text) RETURNS void LANGUAGE sql BEGIN ATOMIC SELECT; END;

SELECT nfpg.nf_plugin_register('a_counter', 'a_counter(text, timestamptz)', '{web}', 'flows per slot');
SELECT nfpg.nf_plugin_register('b_flaky', 'b_flaky(text, timestamptz)', '{web,other}');
SELECT nfpg.nf_plugin_register('c_after', 'c_after(text, timestamptz)', '{web}');
SELECT nfpg.nf_plugin_register('wrong', 'wrong_args(text)', '{web}');
SELECT nfpg.nf_plugin_register('nosuch', 'a_counter(text, timestamptz)', '{nosuch}');
SELECT plugin, function, enabled, description FROM nfpg.plugins ORDER BY plugin;
SELECT * FROM nfpg.plugin_profiles ORDER BY plugin, profile;

-- Run at 09:22: slots 09:00 .. 09:10 of both profiles.
SELECT slots, plugin_failures, errors FROM nfpg.nf_run('2024-03-11 09:22+00');
SELECT * FROM plugin_seen ORDER BY slot, plugin, profile;
SELECT plugin, profile, slot, status, message FROM nfpg.plugin_runs ORDER BY slot, plugin, profile;

-- Repeated run: nothing is called again, the failed slot is not retried.
SELECT slots, plugin_failures, errors FROM nfpg.nf_run('2024-03-11 09:22+00');
SELECT count(*) AS calls FROM plugin_seen;

-- A disabled plugin is skipped; the next slots run the others.
UPDATE nfpg.plugins SET enabled = false WHERE plugin = 'c_after';
SELECT slots, plugin_failures, errors FROM nfpg.nf_run('2024-03-11 09:27+00');
SELECT plugin, profile, slot, status FROM nfpg.plugin_runs
 WHERE slot = '2024-03-11 09:15+00' ORDER BY plugin, profile;

-- A profile whose build fails (its stored condition is broken here by hand)
-- is reported and skipped; the other profiles are built, and it catches up
-- once repaired.
-- (A stored filter_sql is always recompiled by a trigger; bypass it to
-- simulate a profile whose stored SQL no longer runs.)
ALTER TABLE nfpg.profiles DISABLE TRIGGER filter_compiled;
UPDATE nfpg.profiles SET filter_sql = 'no_such_column = 1' WHERE profile = 'other';
ALTER TABLE nfpg.profiles ENABLE TRIGGER filter_compiled;
SELECT slots, plugin_failures, errors FROM nfpg.nf_run('2024-03-11 09:37+00');
SELECT profile, max(slot) FROM nfpg.profile_slots GROUP BY 1 ORDER BY 1;
UPDATE nfpg.profiles SET filter = filter WHERE profile = 'other';
SELECT slots, plugin_failures, errors FROM nfpg.nf_run('2024-03-11 09:37+00');
SELECT profile, max(slot) FROM nfpg.profile_slots GROUP BY 1 ORDER BY 1;

-- A dropped plugin function is a failure like any other.
DROP FUNCTION a_counter(text, timestamptz);
SELECT slots, plugin_failures, errors FROM nfpg.nf_run('2024-03-11 09:42+00');
SELECT plugin, profile, slot, status, message FROM nfpg.plugin_runs
 WHERE slot = '2024-03-11 09:30+00' ORDER BY plugin, profile;

DELETE FROM nfpg.plugins;
DROP FUNCTION b_flaky(text, timestamptz), c_after(text, timestamptz), wrong_args(text);
DROP TABLE plugin_seen;
