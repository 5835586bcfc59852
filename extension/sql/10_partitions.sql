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
		CHECK (premake >= '0')
);
INSERT INTO nfpg.settings DEFAULT VALUES;
COMMENT ON TABLE nfpg.settings IS 'Installation settings (one row)';
COMMENT ON COLUMN nfpg.settings.partition_width IS 'Time span of a new flows partition; partitions are aligned to multiples of it since the epoch';
COMMENT ON COLUMN nfpg.settings.premake IS 'How far ahead of the newest flow ensure_partitions() creates partitions';

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

CREATE TABLE nfpg.flows_default PARTITION OF nfpg.flows DEFAULT;
COMMENT ON TABLE nfpg.flows_default IS 'Flows for which no time partition existed when they arrived; emptied by ensure_partitions()';

-- Every partition, present and future, gets a BRIN index on time: flows
-- arrive roughly in time order, so a tiny BRIN serves time windows.
CREATE INDEX flows_first_seen_brin ON nfpg.flows USING brin (first_seen) WITH (pages_per_range = 32);

CREATE FUNCTION nfpg.partition_slot(ts timestamptz, width interval)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN to_timestamp(floor(extract(epoch FROM ts) / extract(epoch FROM width)) * extract(epoch FROM width));
COMMENT ON FUNCTION nfpg.partition_slot(timestamptz, interval) IS 'Start of the partition slot of the given width that contains ts';

CREATE FUNCTION nfpg.create_partition(lo timestamptz, hi timestamptz)
RETURNS regclass
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	part		text := format('flows_%s', to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD_HH24MI'));
	rel			regclass;
	rescued		bigint := 0;
BEGIN
	-- Rows already waiting in the default partition for this range would
	-- make ATTACH fail; take them out and put them back once it exists.
	IF EXISTS (SELECT 1 FROM nfpg.flows_default WHERE first_seen >= lo AND first_seen < hi) THEN
		CREATE TEMP TABLE IF NOT EXISTS nfpg_rescue (LIKE nfpg.flows) ON COMMIT DROP;
		WITH moved AS (
			DELETE FROM nfpg.flows_default WHERE first_seen >= lo AND first_seen < hi RETURNING *)
		INSERT INTO nfpg_rescue SELECT * FROM moved;
		GET DIAGNOSTICS rescued = ROW_COUNT;
	END IF;

	EXECUTE format('CREATE TABLE nfpg.%I (LIKE nfpg.flows INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
	rel := format('nfpg.%I', part)::regclass;
	-- The CHECK lets ATTACH skip scanning the new (empty) table.
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (first_seen >= %L AND first_seen < %L)',
				   rel, part || '_range', lo, hi);
	EXECUTE format('ALTER TABLE nfpg.flows ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', rel, lo, hi);
	EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', rel, part || '_range');
	-- The loader COPYs into partitions directly (nfpg.loader_target).
	EXECUTE format('GRANT INSERT ON %s TO nfpg_loader', rel);
	INSERT INTO nfpg.partitions (relid, lower_bound, upper_bound) VALUES (rel, lo, hi);

	IF rescued > 0 THEN
		INSERT INTO nfpg.flows SELECT * FROM nfpg_rescue;
		TRUNCATE nfpg_rescue;
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
BEGIN
	-- One creator at a time; the others wait and then find the work done.
	PERFORM pg_advisory_xact_lock('nfpg.flows'::regclass::oid::bigint);
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

CREATE FUNCTION nfpg.ensure_partitions(from_ts timestamptz, to_ts timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN nfpg.make_partitions(from_ts, coalesce(to_ts, from_ts) + (SELECT premake FROM nfpg.settings));
COMMENT ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) IS 'Create the missing partitions covering [from_ts, to_ts] plus the premake window; the loader calls it as time advances';

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
			  FROM nfpg.flows_default f, nfpg.settings s ORDER BY 1
	LOOP
		made := made + nfpg.make_partitions(lo, lo);
	END LOOP;
	RETURN made;
END
$$;
COMMENT ON FUNCTION nfpg.rescue_default() IS 'Create partitions for every row waiting in nfpg.flows_default, moving the rows into them';
