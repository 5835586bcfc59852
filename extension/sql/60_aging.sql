--------------------------------------------------------------------------------
-- Aging (NfSen / nfexpire in SQL)
--
-- nfexpire deletes whole 5-minute files, oldest first; nfpg drops whole
-- flows partitions, oldest first, so aging costs a catalog change instead
-- of a DELETE.  The limits live in nfpg.nfsen_settings, as nfexpire keeps
-- them in .nfstat:
--   max_size      the partitions' disk usage (tables, TOAST and indexes);
--   max_lifetime  a partition is older than it when all its data are, that
--                 is when its upper bound is;
--   watermark     nothing happens until a limit is reached; then partitions
--                 are dropped until the size is below watermark% of
--                 max_size and none is older than watermark% of
--                 max_lifetime (nfexpire -w; size before lifetime).
-- Only partitions that have ended are candidates: the current and future
-- partitions, and the default partition, are never dropped.
-- Dropping holds the same advisory lock as make_partitions (10_partitions.sql),
-- so partitions are never created and dropped at the same time.
--
-- Profile series age separately, per profile (series_lifetime), by
-- nf_expire_series(): series are small and usually outlive the flows.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_expire(now timestamptz DEFAULT now())
RETURNS TABLE (partition text, lower_bound timestamptz, upper_bound timestamptz,
			   size bigint, reason text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '30s'
AS $$
DECLARE
	s			nfpg.nfsen_settings;
	total		bigint;
	p			record;
	over_size	boolean;
	over_age	boolean;
BEGIN
	SELECT * INTO s FROM nfpg.nfsen_settings;
	IF s.max_size IS NULL AND s.max_lifetime IS NULL THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock('nfpg.flows'::regclass::oid::bigint);

	SELECT coalesce(sum(nfpg.partition_size(r.relid)), 0) + pg_total_relation_size('nfpg.flows_default')
	  INTO total FROM nfpg.partitions r;
	-- 1. Is a limit reached at all?
	IF NOT ((s.max_size IS NOT NULL AND total >= s.max_size)
			OR (s.max_lifetime IS NOT NULL AND EXISTS (
				SELECT 1 FROM nfpg.partitions r WHERE r.upper_bound <= now - s.max_lifetime))) THEN
		RETURN;
	END IF;
	-- 2. Drop oldest first down to the watermark.
	FOR p IN SELECT r.relid, r.lower_bound, r.upper_bound, nfpg.partition_size(r.relid) AS bytes
			   FROM nfpg.partitions r WHERE r.upper_bound <= now ORDER BY r.lower_bound
	LOOP
		over_size := s.max_size IS NOT NULL AND total >= s.max_size * s.watermark / 100.0;
		over_age := s.max_lifetime IS NOT NULL
					AND p.upper_bound <= now - s.max_lifetime * s.watermark / 100.0;
		EXIT WHEN NOT (over_size OR over_age);
		partition := p.relid::text;
		lower_bound := p.lower_bound;
		upper_bound := p.upper_bound;
		size := p.bytes;
		reason := CASE WHEN over_size THEN 'size' ELSE 'lifetime' END;
		PERFORM nfpg.drop_partition(p.relid);	-- packed or not (66_pack.sql)
		total := total - p.bytes;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION nfpg.nf_expire(timestamptz) IS 'Aging: drop the oldest ended flows partitions while nfsen_settings.max_size or max_lifetime is exceeded, down to the watermark; returns what was dropped';

CREATE FUNCTION nfpg.nf_expire_series(now timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p			record;
	n			bigint;
	total		bigint := 0;
BEGIN
	FOR p IN SELECT x.profile, now - x.series_lifetime AS cutoff FROM nfpg.profiles x
			  WHERE x.series_lifetime IS NOT NULL
	LOOP
		DELETE FROM nfpg.profile_series s WHERE s.profile = p.profile AND s.slot < p.cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		total := total + n;
		DELETE FROM nfpg.plugin_runs s WHERE s.profile = p.profile AND s.slot < p.cutoff;
		DELETE FROM nfpg.alert_log l USING nfpg.alerts a
		 WHERE a.alert = l.alert AND a.profile = p.profile AND l.slot < p.cutoff;
		DELETE FROM nfpg.hostclass_series s WHERE s.profile = p.profile AND s.slot < p.cutoff;
	END LOOP;
	RETURN total;
END
$$;
COMMENT ON FUNCTION nfpg.nf_expire_series(timestamptz) IS 'Aging of profile data: delete the series, plugin runs, alert evaluations and host-class counts of slots older than each profile''s series_lifetime; returns the series rows deleted';

REVOKE ALL ON FUNCTION nfpg.nf_expire(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_expire_series(timestamptz) FROM PUBLIC;
