\echo Use "ALTER EXTENSION nfpg UPDATE" to load this file. \quit
--------------------------------------------------------------------------------
-- 0.9 -> 0.10: packed hours in port runs
--
-- pack_partition() writes an hour's flows ordered by 5-minute slot, then by
-- service port (the lower of the two ports), then first_seen, where it
-- wrote them in first_seen order: a port's flows fill a few blocks of each
-- slot, which the blocks' Bloom filters tell apart, so a port lookup over
-- packed hours reads about a tenth of the blocks (docs/packing.md).  The
-- packed partition says so with a new option, order 'slot_port', from which
-- the planner estimates the blocks a port condition reads.  Hours packed
-- before keep their order and are read as before until packed again
-- (nfpg.pack_partition() on a packed hour re-packs it).  The segments'
-- format did not change: a 0.9 library reads an hour packed by 0.10 (and
-- ignores the option), but its validator refuses the option where a dump
-- is restored, so going back needs ALTER FOREIGN TABLE ... OPTIONS (DROP
-- "order") on those hours first.
--
-- nf_format(f, format) is planned as nf_format_columns(format, ..., the
-- columns the format prints): a flow printed without forming its whole row
-- (format_support.c).  Until this script runs, a 0.10 library plans it as
-- 0.9 did.  nf_format is costed as what it is, a quarter of the planner's
-- unit a flow, so that a query printing many flows runs in parallel workers.
--------------------------------------------------------------------------------

-- What nf_format's planner support writes in place of nf_format(f, format)
-- when the scan gives the columns the format reads one by one (format.c):
-- columns is the set of those columns (format.h, FlowCol bits), the values
-- follow in that order.
CREATE FUNCTION nfpg.nf_format_columns(format text, plain boolean, long_v6 boolean, columns bigint,
									   VARIADIC "any")
RETURNS text
AS 'MODULE_PATHNAME', 'nf_format_columns'
LANGUAGE C STABLE PARALLEL SAFE COST 100;
COMMENT ON FUNCTION nfpg.nf_format_columns(text, boolean, boolean, bigint, "any") IS
'Internal to nf_format(): the planner writes it for nf_format(f, format) so that a flow is formatted from the columns its format prints, without forming the whole row';

-- a flow formatted costs about a quarter of the planner's unit (35_format.sql)
ALTER FUNCTION nfpg.nf_format(record, text) COST 100;
ALTER FUNCTION nfpg.nf_format(record, text, boolean, boolean) COST 100;

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
		-- an hour packed before 0.10 was in first_seen order: now in port runs
		EXECUTE format('ALTER FOREIGN TABLE %s OPTIONS (SET rows %L, %s "order" %L)', part, n::text,
					   CASE WHEN EXISTS (SELECT FROM pg_foreign_table t, unnest(t.ftoptions) o
										  WHERE t.ftrelid = part AND o LIKE 'order=%') THEN 'SET' ELSE 'ADD' END,
					   'slot_port');
		new_rel := part;
	ELSE
		-- keep the grants of the heap partition (the loader's INSERT)
		SELECT c.relacl, c.relowner INTO acl, owner FROM pg_class c WHERE c.oid = part;
		EXECUTE format('DROP TABLE %s', part);
		EXECUTE format('CREATE FOREIGN TABLE nfpg.%I PARTITION OF nfpg.flows FOR VALUES FROM (%L) TO (%L) '
					   'SERVER nfpg_packed OPTIONS (segments %L, late %L, rows %L, "order" %L)',
					   name, p.lower_bound, p.upper_bound,
					   format('nfpg.%I', seg), format('nfpg.%I', late), n::text, 'slot_port');
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
COMMENT ON FUNCTION nfpg.pack_build(regclass, regclass, integer, integer, integer) IS 'Internal to pack_partition(): write the rows of src, in port runs (5-minute slot, service port, first_seen), as compressed segments into the segment table dst; returns the flows and the n_distinct of the address and port columns';
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
