\echo Use "ALTER EXTENSION nfpg UPDATE" to load this file. \quit
--------------------------------------------------------------------------------
-- 0.7 -> 0.8: the zstd level of scheduled packing is a setting
--
-- zstd's negative ("fast") levels store literals without entropy coding: a
-- packed hour about a fifth larger (33.0 against 27.3 bytes a flow on
-- flowgen traffic), its columns decoded about twice as fast (docs/
-- packing.md).  pack_partition() accepts them, and its level, when none is
-- given (as the scheduled pack job calls it), comes from the new
-- nfpg.settings.pack_zstd_level, 3 as before.  pack_partition below is the
-- 0.8 body of 66_pack.sql.  The library also changed what the statistics'
-- partial states are hashed with (their version is 3): a coordinator and its
-- nodes (74_nodes.sql) must run the same release.
--------------------------------------------------------------------------------

ALTER TABLE nfpg.settings ADD COLUMN pack_zstd_level integer NOT NULL DEFAULT 3
	CHECK (pack_zstd_level BETWEEN -7 AND 19 AND pack_zstd_level <> 0);
COMMENT ON COLUMN nfpg.settings.pack_zstd_level IS 'zstd level of pack_partition() when none is given, as the scheduled pack job calls it: 1 to 19, or -1 to -7 (zstd''s fast levels: literals not entropy-coded, a packed hour about a fifth larger, read faster)';

CREATE OR REPLACE FUNCTION nfpg.pack_partition(part regclass, zstd_level integer DEFAULT NULL,
									block_rows integer DEFAULT 8192, segment_blocks integer DEFAULT 16)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p			nfpg.partitions;
	name		text;
	kind		"char";
	cols		text;
	seg			text;
	late		text;
	suffix		text := '';
	new_rel		regclass;
	acl			aclitem[];
	owner		oid;
	n			bigint;
	key_cols	text[];
	key_nd		float8[];
	t0			timestamptz := clock_timestamp();
BEGIN
	PERFORM pg_advisory_xact_lock('nfpg.flows'::regclass::oid::bigint);
	SELECT * INTO p FROM nfpg.partitions WHERE relid = part;
	SELECT c.relname, c.relkind INTO name, kind FROM pg_class c
	 WHERE c.oid = part AND c.relnamespace = 'nfpg'::regnamespace;
	IF p.relid IS NULL OR name IS NULL THEN
		RAISE EXCEPTION '% is not a time partition of nfpg.flows', part
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF kind = 'f' THEN
		-- repack: read the packed rows and the late ones, build beside them
		suffix := '_next';
		EXECUTE format('LOCK TABLE nfpg.%I IN SHARE MODE', name || '_late');
	ELSE
		EXECUTE format('LOCK TABLE %s IN SHARE MODE', part);
	END IF;
	seg := name || '_seg' || suffix;
	late := name || '_late' || suffix;

	-- segments: metadata, then one bytea per flows column, named as the column
	SELECT string_agg(format('%I bytea', a.attname), ', ' ORDER BY a.attnum) INTO cols
	  FROM pg_attribute a
	 WHERE a.attrelid = 'nfpg.flows'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
	EXECUTE format('CREATE TABLE nfpg.%I (seg_no integer NOT NULL, seg_rows integer NOT NULL, '
				   'seg_first_min timestamptz, seg_first_max timestamptz, seg_summary bytea NOT NULL, %s)',
				   seg, cols);
	-- the chunks are compressed already: no second try by TOAST
	SELECT string_agg(format('ALTER COLUMN %I SET STORAGE EXTERNAL', a.attname), ', ') INTO cols
	  FROM pg_attribute a
	 WHERE a.attrelid = format('nfpg.%I', seg)::regclass AND a.attnum > 0 AND a.atttypid = 'bytea'::regtype;
	EXECUTE format('ALTER TABLE nfpg.%I %s', seg, cols);
	EXECUTE format('CREATE TABLE nfpg.%I (LIKE nfpg.flows INCLUDING DEFAULTS)', late);

	SELECT b.flows, b.key_columns, b.key_distinct INTO n, key_cols, key_nd
	  FROM nfpg.pack_build(part, format('nfpg.%I', seg)::regclass, block_rows, segment_blocks,
						   coalesce(zstd_level, (SELECT s.pack_zstd_level FROM nfpg.settings s), 3)) b;

	SET LOCAL lock_timeout = '30s';
	IF kind = 'f' THEN
		EXECUTE format('DROP TABLE nfpg.%I, nfpg.%I', name || '_seg', name || '_late');
		EXECUTE format('ALTER TABLE nfpg.%I RENAME TO %I', seg, name || '_seg');
		EXECUTE format('ALTER TABLE nfpg.%I RENAME TO %I', late, name || '_late');
		EXECUTE format('ALTER FOREIGN TABLE %s OPTIONS (SET rows %L)', part, n::text);
		new_rel := part;
	ELSE
		-- keep the grants of the heap partition (the loader's INSERT)
		SELECT c.relacl, c.relowner INTO acl, owner FROM pg_class c WHERE c.oid = part;
		EXECUTE format('DROP TABLE %s', part);
		EXECUTE format('CREATE FOREIGN TABLE nfpg.%I PARTITION OF nfpg.flows FOR VALUES FROM (%L) TO (%L) '
					   'SERVER nfpg_packed OPTIONS (segments %L, late %L, rows %L)',
					   name, p.lower_bound, p.upper_bound,
					   format('nfpg.%I', seg), format('nfpg.%I', late), n::text);
		new_rel := format('nfpg.%I', name)::regclass;
		PERFORM nfpg.pack_copy_grants(acl, owner, new_rel);
		UPDATE nfpg.partitions SET relid = new_rel WHERE relid = p.relid;
	END IF;
	-- the planner's statistics of the hour: without them a host lookup is
	-- costed as a scan of every flow (a database-wide ANALYZE and autovacuum
	-- skip foreign tables); the distinct addresses and ports counted while
	-- packing replace ANALYZE's estimate from its sample, a tenth of the truth
	IF cardinality(key_cols) > 0 THEN
		SELECT string_agg(format('ALTER COLUMN %I SET (n_distinct = %s)', u.c, u.d), ', ') INTO cols
		  FROM unnest(key_cols, key_nd) u(c, d);
		EXECUTE format('ALTER FOREIGN TABLE %s %s', new_rel, cols);
	END IF;
	EXECUTE format('ANALYZE %s', new_rel);
	RAISE LOG 'nfpg: packed % (% flows) in %', new_rel, n, clock_timestamp() - t0;
	RETURN n;
END
$$;
COMMENT ON FUNCTION nfpg.pack_partition(regclass, integer, integer, integer) IS 'Pack a partition of nfpg.flows into compressed column segments (a packed partition), or re-pack a packed one merging its late flows; one transaction; returns the flows packed; zstd_level NULL: nfpg.settings.pack_zstd_level';
REVOKE ALL ON FUNCTION nfpg.pack_partition(regclass, integer, integer, integer) FROM PUBLIC;
--------------------------------------------------------------------------------
-- Grants of the foundation's objects to the roles of 05_roles.sql
--
-- The SECURITY DEFINER functions the loader calls run as nfpg_owner, which
-- owns nfpg.flows and its partitions (setup(), create_partition()) and may
-- change exactly the bookkeeping tables they keep: a flaw in one of them
-- gives its caller nfpg_owner's rights, never a superuser's.
--------------------------------------------------------------------------------

GRANT USAGE, CREATE ON SCHEMA nfpg TO nfpg_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON nfpg.settings, nfpg.partitions, nfpg.exporters,
	nfpg.loader_batches TO nfpg_owner;

DO $$
DECLARE
	f	regprocedure;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		'nfpg.create_partition(timestamptz, timestamptz)',
		'nfpg.make_partitions(timestamptz, timestamptz)',
		'nfpg.ensure_partitions(timestamptz, timestamptz)',
		'nfpg.rescue_default()',
		'nfpg.index_partitions(interval, integer, boolean)',
		'nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer)',
		'nfpg.loader_batch_claim(text, bigint)',
		'nfpg.loader_batches_expire(interval)',
		'nfpg.loader_target(timestamptz, timestamptz)']::regprocedure[]
	LOOP
		EXECUTE format('ALTER FUNCTION %s OWNER TO nfpg_owner', f);
		EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END
$$;

GRANT USAGE ON SCHEMA nfpg TO nfpg_loader, nfpg_reader, nfpg_admin;
GRANT EXECUTE ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer) TO nfpg_loader;

GRANT SELECT ON nfpg.exporters, nfpg.partitions, nfpg.settings, nfpg.nodes TO nfpg_reader, nfpg_admin;
--------------------------------------------------------------------------------
-- Grants for the NfSen objects (50_profiles .. 68_schedule)
--
-- Readers see profiles, series, alerts, plugin runs, host classes and runs.
-- nfpg_admin manages them without being a superuser: it may call the
-- functions that create, build and drop profiles, channels, alerts and
-- plugins, and edit their tables.  What nf_run later executes with the job
-- owner's rights cannot be smuggled in that way: a stored filter_sql is
-- always recompiled from the filter text (58_profile_links.sql), and a
-- plugin runs with the rights of its function's owner, which an admin can
-- only register when it may execute the function itself (55_plugins_alerts).
-- Partitions, aging and the schedule stay with the owner.
--------------------------------------------------------------------------------

GRANT SELECT ON nfpg.nfsen_settings, nfpg.profiles, nfpg.profile_channels, nfpg.profile_series,
	nfpg.profile_slots, nfpg.plugins, nfpg.plugin_profiles, nfpg.plugin_runs, nfpg.alerts,
	nfpg.alert_log, nfpg.hostclass_series, nfpg.runs
	TO nfpg_reader, nfpg_admin;
GRANT INSERT, UPDATE, DELETE ON nfpg.profiles, nfpg.profile_channels, nfpg.profile_series,
	nfpg.profile_slots, nfpg.plugins, nfpg.plugin_profiles, nfpg.plugin_runs, nfpg.alerts,
	nfpg.alert_log, nfpg.hostclass_series
	TO nfpg_admin;
GRANT UPDATE (slot_delay, traffic_ratio, traffic_min_bytes, responder_min_peers, connector_min_peers)
	ON nfpg.nfsen_settings TO nfpg_admin;
GRANT EXECUTE ON FUNCTION
	nfpg.nf_profile_create(text, text, timestamptz, timestamptz, interval, text),
	nfpg.nf_channel_add(text, text, text, smallint, text),
	nfpg.nf_channel_drop(text, text),
	nfpg.nf_profile_drop(text),
	nfpg.nf_profile_build_slots(text, timestamptz[]),
	nfpg.nf_profile_build(text, timestamptz, timestamptz),
	nfpg.nf_plugin_register(text, regprocedure, text[], text),
	nfpg.nf_plugin_call(text, regprocedure, text, timestamptz),
	nfpg.nf_plugins_run(text, timestamptz),
	nfpg.nf_alert_create(text, text, text, text, numeric, text, integer, text, text, text),
	nfpg.nf_alerts_run(text, timestamptz),
	nfpg.nf_profile_update(text, timestamptz),
	nfpg.hostclass_plugin(text, timestamptz)
	TO nfpg_admin;
--------------------------------------------------------------------------------
-- What pg_dump keeps
--
-- The tables of the extension hold the user's configuration and bookkeeping:
-- settings, the partition registry, exporters, loader batch ids, profiles
-- and their channels, series and slots, plugins, alerts and their logs, host
-- classes, scheduled runs.  pg_dump skips an extension's objects (CREATE
-- EXTENSION remakes them) unless they are marked here, in which case it dumps
-- their rows after CREATE EXTENSION, so pg_restore brings every row back.
-- pg_dump orders the rows of tables linked by foreign keys by those keys.
-- nfpg.flows and its partitions are not the extension's at all (setup(),
-- 95_setup.sql): pg_dump dumps them as any table.
--------------------------------------------------------------------------------

-- One call per statement: each call rewrites the pg_extension row.
DO $$
DECLARE
	t	regclass;
BEGIN
	FOREACH t IN ARRAY ARRAY['nfpg.settings', 'nfpg.partitions', 'nfpg.exporters', 'nfpg.loader_batches',
							 'nfpg.nfsen_settings', 'nfpg.profiles', 'nfpg.profile_channels',
							 'nfpg.profile_series', 'nfpg.profile_slots', 'nfpg.plugins',
							 'nfpg.plugin_profiles', 'nfpg.plugin_runs', 'nfpg.alerts', 'nfpg.alert_log',
							 'nfpg.hostclass_series', 'nfpg.runs', 'nfpg.runs_run_seq', 'nfpg.nodes']::regclass[]
	LOOP
		PERFORM pg_catalog.pg_extension_config_dump(t, '');
	END LOOP;
END
$$;
