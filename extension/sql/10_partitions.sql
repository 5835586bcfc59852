--------------------------------------------------------------------------------
-- Partitions
--
-- Partitions are created ahead of need by ensure_partitions() (the loader
-- calls it as time advances; pg_cron may too).  A row for which no partition
-- exists yet lands in the default partition and is moved into its proper
-- partition when that partition is created, so nothing is ever rejected.
-- Partitions are built with CREATE TABLE + ATTACH, which locks the parent in
-- SHARE UPDATE EXCLUSIVE mode only: running COPYs and queries go on.
-- nfpg.partitions records every partition's bounds, so the width can change
-- without new partitions overlapping old ones.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.settings (
	singleton			boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	partition_width		interval NOT NULL DEFAULT '1 hour'
		CHECK (partition_width >= '1 minute' AND partition_width <= '31 days'),
	premake				interval NOT NULL DEFAULT '3 hours'
		CHECK (premake >= '0'),
	accept_past			interval NOT NULL DEFAULT '10 years'
		CHECK (accept_past >= '1 hour'),
	accept_future		interval NOT NULL DEFAULT '1 day'
		CHECK (accept_future >= '1 hour'),
	pack_zstd_level		integer NOT NULL DEFAULT -1
		CHECK (pack_zstd_level BETWEEN -7 AND 19 AND pack_zstd_level <> 0)
);
-- The row is made by nfpg.setup(), not here, so that a restored dump's row
-- (93_config_dump.sql) is the only one.
COMMENT ON TABLE nfpg.settings IS 'Installation settings (one row, made by nfpg.setup())';
COMMENT ON COLUMN nfpg.settings.partition_width IS 'Time span of a new flows partition; partitions are aligned to multiples of it since the epoch';
COMMENT ON COLUMN nfpg.settings.premake IS 'How far ahead of the newest flow ensure_partitions() creates partitions';
COMMENT ON COLUMN nfpg.settings.accept_past IS 'Partitions are made only for times after now() minus this; older flows stay in nfpg.flows_default';
COMMENT ON COLUMN nfpg.settings.accept_future IS 'Partitions are made only for times before now() plus this; later flows stay in nfpg.flows_default';
COMMENT ON COLUMN nfpg.settings.pack_zstd_level IS 'zstd level of pack_partition() when none is given, as the scheduled pack job calls it: -1 to -7 (zstd''s fast levels: literals not entropy-coded, read faster), or 1 to 19 (a packed hour about a sixth smaller at 3); -1 on a new install, 3 on one updated from 0.8';

CREATE TABLE nfpg.partitions (
	relid				regclass PRIMARY KEY,
	lower_bound			timestamptz NOT NULL,
	upper_bound			timestamptz NOT NULL,
	created				timestamptz NOT NULL DEFAULT now(),
	indexed				timestamptz,
	CHECK (lower_bound < upper_bound),
	EXCLUDE USING gist (tstzrange(lower_bound, upper_bound) WITH &&)
);
COMMENT ON TABLE nfpg.partitions IS 'Every partition of nfpg.flows except the default one, with its time range';
COMMENT ON COLUMN nfpg.partitions.indexed IS 'When the lookup indexes were built on this partition (NULL: only BRIN on time)';

CREATE FUNCTION nfpg.partition_slot(ts timestamptz, width interval)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN to_timestamp(floor(extract(epoch FROM ts) / extract(epoch FROM width)) * extract(epoch FROM width));
COMMENT ON FUNCTION nfpg.partition_slot(timestamptz, interval) IS 'Start of the partition slot of the given width that contains ts';

-- SECURITY DEFINER, owned by nfpg_owner (90_grants.sql): every name is
-- schema-qualified and no temporary object is used, since a caller's
-- pg_temp comes first for unqualified table names whatever search_path says.
CREATE FUNCTION nfpg.create_partition(lo timestamptz, hi timestamptz)
RETURNS regclass
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	part		text := format('flows_%s', to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD_HH24MI'));
	rel			regclass;
	rescued		bigint;
	grantee		regrole;
BEGIN
	EXECUTE format('CREATE TABLE nfpg.%I (LIKE nfpg.flows INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
	rel := format('nfpg.%I', part)::regclass;
	-- Rows already waiting in the default partition for this range would
	-- make ATTACH fail: move them into the new table before it is attached.
	EXECUTE format('WITH moved AS (DELETE FROM nfpg.flows_default WHERE first_seen >= $1 AND first_seen < $2 RETURNING *)'
				   ' INSERT INTO %s SELECT * FROM moved', rel) USING lo, hi;
	GET DIAGNOSTICS rescued = ROW_COUNT;
	-- The CHECK lets ATTACH skip scanning the new table.
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (first_seen >= %L AND first_seen < %L)',
				   rel, part || '_range', lo, hi);
	EXECUTE format('ALTER TABLE nfpg.flows ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', rel, lo, hi);
	EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', rel, part || '_range');
	-- The loader COPYs into partitions directly (nfpg.loader_target): every
	-- role that may insert into nfpg.flows may insert into its partitions.
	FOR grantee IN SELECT DISTINCT a.grantee::regrole
					 FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
					WHERE c.oid = 'nfpg.flows'::regclass AND a.privilege_type = 'INSERT' AND a.grantee <> 0
	LOOP
		EXECUTE format('GRANT INSERT ON %s TO %s', rel, grantee);
	END LOOP;
	INSERT INTO nfpg.partitions (relid, lower_bound, upper_bound) VALUES (rel, lo, hi);
	IF rescued > 0 THEN
		RAISE NOTICE 'moved % flows from nfpg.flows_default into %', rescued, rel;
	END IF;
	RETURN rel;
END
$$;
COMMENT ON FUNCTION nfpg.create_partition(timestamptz, timestamptz) IS 'Create one flows partition for [lo, hi), moving matching rows out of the default partition';

CREATE FUNCTION nfpg.make_partitions(from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	width		interval := (SELECT partition_width FROM nfpg.settings);
	slot		timestamptz := nfpg.partition_slot(from_ts, width);
	hi			timestamptz;
	taken_hi	timestamptz;
	made		integer := 0;
	gone		record;
BEGIN
	-- One creator at a time; the others wait and then find the work done.
	PERFORM pg_advisory_xact_lock('nfpg.flows'::regclass::oid::bigint);
	-- A registered partition that was dropped or detached by hand would keep
	-- its slot taken forever and its flows in flows_default: forget it, so
	-- the slot is made again below.
	FOR gone IN DELETE FROM nfpg.partitions p
				 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
									WHERE i.inhrelid = p.relid AND i.inhparent = 'nfpg.flows'::regclass)
				RETURNING p.lower_bound, p.upper_bound
	LOOP
		RAISE WARNING 'nfpg: the partition for [%, %) is no longer attached to nfpg.flows; it will be made again',
			gone.lower_bound, gone.upper_bound;
	END LOOP;
	WHILE slot <= to_ts LOOP
		SELECT max(upper_bound) INTO taken_hi FROM nfpg.partitions
		 WHERE lower_bound <= slot AND upper_bound > slot;
		IF taken_hi IS NOT NULL THEN
			slot := taken_hi;
			CONTINUE;
		END IF;
		-- Clip against a neighbour made when the width was different.
		SELECT least(slot + width, min(lower_bound)) INTO hi FROM nfpg.partitions
		 WHERE lower_bound > slot;
		hi := coalesce(hi, slot + width);
		PERFORM nfpg.create_partition(slot, hi);
		made := made + 1;
		slot := hi;
	END LOOP;
	RETURN made;
END
$$;
COMMENT ON FUNCTION nfpg.make_partitions(timestamptz, timestamptz) IS 'Create the missing partitions covering [from_ts, to_ts]; returns how many were created';

-- The loader's entry point.  Only times inside the accepted window (now()
-- minus accept_past to now() plus accept_future) get partitions, so flows
-- stamped decades away by a broken or hostile exporter cannot make
-- thousands of tables: they stay in nfpg.flows_default (docs/operations.md).
CREATE FUNCTION nfpg.ensure_partitions(from_ts timestamptz, to_ts timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s		nfpg.settings;
	lo		timestamptz;
	hi		timestamptz;
BEGIN
	SELECT * INTO STRICT s FROM nfpg.settings;
	lo := greatest(from_ts, now() - s.accept_past);
	hi := least(coalesce(to_ts, from_ts) + s.premake, now() + s.accept_future);
	IF lo IS NULL OR hi IS NULL OR lo > hi THEN
		RETURN 0;
	END IF;
	RETURN nfpg.make_partitions(lo, hi);
END
$$;
COMMENT ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) IS 'Create the missing partitions covering [from_ts, to_ts] plus the premake window, within the accepted window of settings.accept_past/accept_future; the loader calls it as time advances';

CREATE FUNCTION nfpg.rescue_default()
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	lo		timestamptz;
	made	integer := 0;
BEGIN
	-- Only the slots that hold rows, not everything between oldest and newest.
	FOR lo IN SELECT DISTINCT nfpg.partition_slot(f.first_seen, s.partition_width)
			  FROM nfpg.flows_default f, nfpg.settings s
			 WHERE f.first_seen >= now() - s.accept_past AND f.first_seen < now() + s.accept_future
			 ORDER BY 1
	LOOP
		made := made + nfpg.make_partitions(lo, lo);
	END LOOP;
	RETURN made;
END
$$;
COMMENT ON FUNCTION nfpg.rescue_default() IS 'Create partitions for the rows waiting in nfpg.flows_default within the accepted window, moving the rows into them';
