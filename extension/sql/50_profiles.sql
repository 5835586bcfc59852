--------------------------------------------------------------------------------
-- Profiles (NfSen in SQL, part 1): profiles, channels, 5-minute series
--
-- A profile is a named nfdump filter over nfpg.flows; its channels are
-- sub-filters within it (NfSen's channels).  For every profile and every
-- 5-minute slot, nfpg.profile_series holds one row per channel, plus the
-- channel '*' for the whole profile, with flows, packets and bytes split
-- by protocol (TCP, UDP, ICMP incl. ICMPv6, other): the numbers behind
-- NfSen's graphs, in a plain table BI tools can chart.
--
-- A flow belongs to the slot of its first_seen (the partition key, so a slot
-- reads only its own partition).  A slot is built once it is finished:
-- slot_delay after its end, the time late flows need to arrive (flows are
-- exported when they end, up to an active timeout after they start).
--
-- Filters are compiled once, when the profile or channel is created, by
-- nf_filter_sql() into a SQL condition over nfpg.flows columns; that is what
-- gets stored and run.  Only compiled conditions are spliced into queries
-- (format %s); every value travels as a parameter (USING).  Building a slot
-- deletes and re-inserts its rows, so a rebuild is idempotent;
-- nfpg.profile_slots records which slots are done, so the scheduled run
-- (nf_run, 68_schedule.sql) processes each slot once even when late or
-- repeated.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.nfsen_settings (
	singleton			boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	slot_delay			interval NOT NULL DEFAULT '5 minutes' CHECK (slot_delay >= '0'),
	max_lifetime		interval CHECK (max_lifetime > '0'),
	max_size			bigint CHECK (max_size > 0),
	watermark			integer NOT NULL DEFAULT 95 CHECK (watermark BETWEEN 1 AND 100),
	traffic_ratio		numeric NOT NULL DEFAULT 3 CHECK (traffic_ratio > 0),
	traffic_min_bytes	bigint NOT NULL DEFAULT 10000 CHECK (traffic_min_bytes >= 0),
	responder_min_peers	integer NOT NULL DEFAULT 10 CHECK (responder_min_peers > 0),
	connector_min_peers	integer NOT NULL DEFAULT 10 CHECK (connector_min_peers > 0)
);
COMMENT ON TABLE nfpg.nfsen_settings IS 'NfSen settings of the installation (one row): slot processing, aging, host-class thresholds';
COMMENT ON COLUMN nfpg.nfsen_settings.singleton IS 'Always true: keeps the table at one row';
COMMENT ON COLUMN nfpg.nfsen_settings.slot_delay IS 'How long after a 5-minute slot ends it is built, so late-exported flows are in';
COMMENT ON COLUMN nfpg.nfsen_settings.max_lifetime IS 'Aging: flows partitions whose data are all older than this are dropped (NULL: no limit; nfexpire -t)';
COMMENT ON COLUMN nfpg.nfsen_settings.max_size IS 'Aging: when the flows partitions take this many bytes or more, the oldest are dropped (NULL: no limit; nfexpire -s)';
COMMENT ON COLUMN nfpg.nfsen_settings.watermark IS 'Aging: once a limit is hit, drop down to this percentage of max_size and max_lifetime (nfexpire -w, default 95)';
COMMENT ON COLUMN nfpg.nfsen_settings.traffic_ratio IS 'Host classes: Traffic class when bytes sent >= traffic_ratio x bytes received';
COMMENT ON COLUMN nfpg.nfsen_settings.traffic_min_bytes IS 'Host classes: and at least this many bytes sent in the slot';
COMMENT ON COLUMN nfpg.nfsen_settings.responder_min_peers IS 'Host classes: Responder class when the host answered at least this many distinct peers in the slot';
COMMENT ON COLUMN nfpg.nfsen_settings.connector_min_peers IS 'Host classes: Connector class when the host opened connections to at least this many distinct peers in the slot';

CREATE TABLE nfpg.profiles (
	profile				text PRIMARY KEY CHECK (profile ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
	filter				text NOT NULL,
	filter_sql			text NOT NULL,
	kind				text NOT NULL DEFAULT 'continuous' CHECK (kind IN ('continuous', 'historical')),
	tstart				timestamptz NOT NULL,
	tend				timestamptz,
	series_lifetime		interval CHECK (series_lifetime > '0'),
	description			text,
	created				timestamptz NOT NULL DEFAULT now(),
	CHECK ((kind = 'historical') = (tend IS NOT NULL)),
	CHECK (tend IS NULL OR tend > tstart)
);
COMMENT ON TABLE nfpg.profiles IS 'NfSen profiles: named nfdump filters whose 5-minute series are kept in nfpg.profile_series';
COMMENT ON COLUMN nfpg.profiles.profile IS 'Profile name';
COMMENT ON COLUMN nfpg.profiles.filter IS 'nfdump filter of the profile, as given';
COMMENT ON COLUMN nfpg.profiles.filter_sql IS 'The filter compiled by nf_filter_sql(): a condition over nfpg.flows columns';
COMMENT ON COLUMN nfpg.profiles.kind IS 'continuous: kept current by nf_run every 5 minutes; historical: built once for [tstart, tend)';
COMMENT ON COLUMN nfpg.profiles.tstart IS 'First slot of the profile';
COMMENT ON COLUMN nfpg.profiles.tend IS 'End (exclusive) of a historical profile; NULL for a continuous one';
COMMENT ON COLUMN nfpg.profiles.series_lifetime IS 'Series slots older than this are deleted by nf_expire_series() (NULL: kept)';
COMMENT ON COLUMN nfpg.profiles.description IS 'Free text for people';
COMMENT ON COLUMN nfpg.profiles.created IS 'When the profile was created';

CREATE TABLE nfpg.profile_channels (
	profile				text NOT NULL,
	channel				text NOT NULL CHECK (channel ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
	filter				text NOT NULL,
	filter_sql			text NOT NULL,
	sign				smallint NOT NULL DEFAULT 1 CHECK (sign IN (-1, 1)),
	colour				text,
	PRIMARY KEY (profile, channel)
);
COMMENT ON TABLE nfpg.profile_channels IS 'Channels of a profile (NfSen): sub-filters applied within the profile filter';
COMMENT ON COLUMN nfpg.profile_channels.profile IS 'The profile the channel belongs to';
COMMENT ON COLUMN nfpg.profile_channels.channel IS 'Channel name (''*'' is reserved for the whole profile)';
COMMENT ON COLUMN nfpg.profile_channels.filter IS 'nfdump filter of the channel, as given';
COMMENT ON COLUMN nfpg.profile_channels.filter_sql IS 'The channel filter compiled by nf_filter_sql()';
COMMENT ON COLUMN nfpg.profile_channels.sign IS 'NfSen graph side: 1 above the axis, -1 below';
COMMENT ON COLUMN nfpg.profile_channels.colour IS 'NfSen graph colour (e.g. #1f77b4), for front ends';

CREATE TABLE nfpg.profile_series (
	profile				text NOT NULL,
	channel				text NOT NULL,
	slot				timestamptz NOT NULL,
	flows				bigint NOT NULL,
	flows_tcp			bigint NOT NULL,
	flows_udp			bigint NOT NULL,
	flows_icmp			bigint NOT NULL,
	flows_other			bigint NOT NULL,
	packets				bigint NOT NULL,
	packets_tcp			bigint NOT NULL,
	packets_udp			bigint NOT NULL,
	packets_icmp		bigint NOT NULL,
	packets_other		bigint NOT NULL,
	bytes				bigint NOT NULL,
	bytes_tcp			bigint NOT NULL,
	bytes_udp			bigint NOT NULL,
	bytes_icmp			bigint NOT NULL,
	bytes_other			bigint NOT NULL,
	PRIMARY KEY (profile, channel, slot)
);
COMMENT ON TABLE nfpg.profile_series IS 'Per profile, channel and 5-minute slot: flows, packets, bytes in total and by protocol (NfSen''s graph data); channel ''*'' is the whole profile';
COMMENT ON COLUMN nfpg.profile_series.profile IS 'Profile name';
COMMENT ON COLUMN nfpg.profile_series.channel IS 'Channel name, or ''*'' for the whole profile';
COMMENT ON COLUMN nfpg.profile_series.slot IS 'Start of the 5-minute slot; a flow counts in the slot of its first_seen';
COMMENT ON COLUMN nfpg.profile_series.flows IS 'Flows (sum of nfpg.flows.flows) of all protocols';
COMMENT ON COLUMN nfpg.profile_series.flows_tcp IS 'Flows with proto 6';
COMMENT ON COLUMN nfpg.profile_series.flows_udp IS 'Flows with proto 17';
COMMENT ON COLUMN nfpg.profile_series.flows_icmp IS 'Flows with proto 1 or 58 (ICMP, ICMPv6; as nfdump counts them)';
COMMENT ON COLUMN nfpg.profile_series.flows_other IS 'Flows of any other protocol';
COMMENT ON COLUMN nfpg.profile_series.packets IS 'Packets of all protocols';
COMMENT ON COLUMN nfpg.profile_series.packets_tcp IS 'Packets of TCP flows';
COMMENT ON COLUMN nfpg.profile_series.packets_udp IS 'Packets of UDP flows';
COMMENT ON COLUMN nfpg.profile_series.packets_icmp IS 'Packets of ICMP and ICMPv6 flows';
COMMENT ON COLUMN nfpg.profile_series.packets_other IS 'Packets of other protocols';
COMMENT ON COLUMN nfpg.profile_series.bytes IS 'Bytes of all protocols';
COMMENT ON COLUMN nfpg.profile_series.bytes_tcp IS 'Bytes of TCP flows';
COMMENT ON COLUMN nfpg.profile_series.bytes_udp IS 'Bytes of UDP flows';
COMMENT ON COLUMN nfpg.profile_series.bytes_icmp IS 'Bytes of ICMP and ICMPv6 flows';
COMMENT ON COLUMN nfpg.profile_series.bytes_other IS 'Bytes of other protocols';
CREATE INDEX profile_series_slot ON nfpg.profile_series (slot);
COMMENT ON INDEX nfpg.profile_series_slot IS 'Time-range queries over all profiles (dashboards, series aging)';

CREATE TABLE nfpg.profile_slots (
	profile				text NOT NULL,
	slot				timestamptz NOT NULL,
	built				timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (profile, slot)
);
COMMENT ON TABLE nfpg.profile_slots IS 'Bookkeeping: the slots of each profile that have been built (and whose plugins and alerts have run)';
COMMENT ON COLUMN nfpg.profile_slots.profile IS 'Profile name';
COMMENT ON COLUMN nfpg.profile_slots.slot IS 'Start of the built slot';
COMMENT ON COLUMN nfpg.profile_slots.built IS 'When the slot was last built';

--------------------------------------------------------------------------------
-- Slot arithmetic
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_slot(ts timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN nfpg.partition_slot(ts, '5 minutes');
COMMENT ON FUNCTION nfpg.nf_slot(timestamptz) IS 'Start of the 5-minute NfSen slot containing ts';

CREATE FUNCTION nfpg.nf_slots(from_ts timestamptz, to_ts timestamptz)
RETURNS SETOF timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE ROWS 288
RETURN generate_series(nfpg.nf_slot(from_ts), to_ts - interval '1 microsecond', interval '5 minutes');
COMMENT ON FUNCTION nfpg.nf_slots(timestamptz, timestamptz) IS 'The 5-minute slots overlapping [from_ts, to_ts)';

--------------------------------------------------------------------------------
-- Defining profiles and channels
--------------------------------------------------------------------------------

-- The filter is compiled (and so validated: a bad filter raises the
-- compiler's error with its position) before anything is stored.
CREATE FUNCTION nfpg.nf_profile_create(profile text, filter text DEFAULT 'any',
									   tstart timestamptz DEFAULT NULL,
									   tend timestamptz DEFAULT NULL,
									   series_lifetime interval DEFAULT NULL,
									   description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	compiled	text := nfpg.nf_filter_sql(filter);
	start_slot	timestamptz := nfpg.nf_slot(coalesce(tstart, now()));
BEGIN
	IF tend IS NOT NULL AND tstart IS NULL THEN
		RAISE EXCEPTION 'a historical profile needs tstart as well as tend'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO nfpg.profiles (profile, filter, filter_sql, kind, tstart, tend, series_lifetime, description)
	VALUES (profile, filter, compiled,
			CASE WHEN tend IS NULL THEN 'continuous' ELSE 'historical' END,
			start_slot, tend, series_lifetime, description);
	RETURN profile;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_create(text, text, timestamptz, timestamptz, interval, text) IS 'Create a profile: continuous from tstart (default now) when tend is NULL, else historical for [tstart, tend); the filter is validated and compiled';

CREATE FUNCTION nfpg.nf_channel_add(profile text, channel text, filter text,
									sign smallint DEFAULT 1, colour text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	compiled	text := nfpg.nf_filter_sql(filter);
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles p WHERE p.profile = $1) THEN
		RAISE EXCEPTION 'profile "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	INSERT INTO nfpg.profile_channels (profile, channel, filter, filter_sql, sign, colour)
	VALUES (profile, channel, filter, compiled, sign, colour);
	RETURN channel;
END
$$;
COMMENT ON FUNCTION nfpg.nf_channel_add(text, text, text, smallint, text) IS 'Add a channel (sub-filter within the profile filter) to a profile; slots built before it have no rows for it until rebuilt';

CREATE FUNCTION nfpg.nf_channel_drop(profile text, channel text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.profile_series s WHERE s.profile = $1 AND s.channel = $2;
	DELETE FROM nfpg.profile_channels c WHERE c.profile = $1 AND c.channel = $2;
	RETURN FOUND;
END
$$;
COMMENT ON FUNCTION nfpg.nf_channel_drop(text, text) IS 'Remove a channel and its series';

CREATE FUNCTION nfpg.nf_profile_drop(profile text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.profiles p WHERE p.profile = $1;
	RETURN FOUND;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_drop(text) IS 'Remove a profile with its channels, series, bookkeeping, plugin runs and alerts';

--------------------------------------------------------------------------------
-- Building series
--------------------------------------------------------------------------------

-- The compiled condition of a profile, or of one of its channels within it.
CREATE FUNCTION nfpg.nf_profile_condition(profile text, channel text DEFAULT '*')
RETURNS text
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cond		text;
	chan_cond	text;
BEGIN
	SELECT p.filter_sql INTO cond FROM nfpg.profiles p WHERE p.profile = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'profile "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF $2 = '*' THEN
		RETURN cond;
	END IF;
	SELECT c.filter_sql INTO chan_cond FROM nfpg.profile_channels c
	 WHERE c.profile = $1 AND c.channel = $2;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'profile "%" has no channel "%"', $1, $2 USING ERRCODE = 'undefined_object';
	END IF;
	RETURN format('(%s) AND (%s)', cond, chan_cond);
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_condition(text, text) IS 'The SQL condition over nfpg.flows columns that selects a profile''s flows (channel ''*'') or a channel''s';

-- Rebuild the given slots of one profile in one pass over their flows:
-- every (slot, channel) pair gets a row, zeros where nothing matched, so
-- graphs have no holes.  Channel conditions are evaluated per row in a
-- VALUES list; a channel is named by its index, never by its text.
-- On a coordinator (74_nodes.sql) that join would fetch every flow of the
-- slots from the nodes; there each node sums its flows per slot, one
-- grouped query per channel that postgres_fdw ships whole, and the
-- coordinator adds the nodes' sums: the same numbers from a few rows.
CREATE FUNCTION nfpg.nf_profile_build_slots(profile text, slots timestamptz[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cond		text := nfpg.nf_profile_condition(profile);
	names		text[] := ARRAY['*'];
	tests		text := '(1, true)';
	conds		text[] := ARRAY['true'];
	matched		text;
	lo			timestamptz;
	hi			timestamptz;
	ch			record;
BEGIN
	SELECT min(s), max(s) + interval '5 minutes' INTO lo, hi FROM unnest(slots) s;
	IF lo IS NULL THEN
		RETURN 0;
	END IF;
	FOR ch IN SELECT c.channel, c.filter_sql FROM nfpg.profile_channels c
			   WHERE c.profile = $1 ORDER BY c.channel
	LOOP
		names := names || ch.channel;
		conds := conds || ch.filter_sql;
		tests := tests || format(', (%s, %s)', cardinality(names), ch.filter_sql);
	END LOOP;

	-- m: per slot and channel index, the sums of the matching flows
	IF nfpg.is_coordinator() THEN
		-- each node's sums as one bare foreign scan (the channel index a
		-- constant of it), so the nodes are asked at once
		SELECT string_agg(format(
				'SELECT nfpg.nf_slot(first_seen) AS slot, %s AS idx,'
				' sum(flows) AS fl, sum(flows) FILTER (WHERE proto = 6) AS fl_tcp,'
				' sum(flows) FILTER (WHERE proto = 17) AS fl_udp, sum(flows) FILTER (WHERE proto IN (1, 58)) AS fl_icmp,'
				' sum(flows) FILTER (WHERE proto NOT IN (1, 6, 17, 58)) AS fl_other,'
				' sum(packets) AS pk, sum(packets) FILTER (WHERE proto = 6) AS pk_tcp,'
				' sum(packets) FILTER (WHERE proto = 17) AS pk_udp, sum(packets) FILTER (WHERE proto IN (1, 58)) AS pk_icmp,'
				' sum(packets) FILTER (WHERE proto NOT IN (1, 6, 17, 58)) AS pk_other,'
				' sum(bytes) AS by, sum(bytes) FILTER (WHERE proto = 6) AS by_tcp,'
				' sum(bytes) FILTER (WHERE proto = 17) AS by_udp, sum(bytes) FILTER (WHERE proto IN (1, 58)) AS by_icmp,'
				' sum(bytes) FILTER (WHERE proto NOT IN (1, 6, 17, 58)) AS by_other'
				' FROM %s WHERE first_seen >= $4 AND first_seen < $5 AND (%s) AND (%s) GROUP BY 1',
				c.idx, src, cond, c.test), ' UNION ALL ')
		  INTO matched
		  FROM unnest(conds) WITH ORDINALITY c(test, idx), nfpg.nf_flow_sources() src;
	ELSE
		matched := format('SELECT nfpg.nf_slot(first_seen) AS slot, t.idx, flows AS fl,'
			' CASE WHEN proto = 6 THEN flows END AS fl_tcp, CASE WHEN proto = 17 THEN flows END AS fl_udp,'
			' CASE WHEN proto IN (1, 58) THEN flows END AS fl_icmp,'
			' CASE WHEN proto NOT IN (1, 6, 17, 58) THEN flows END AS fl_other,'
			' packets AS pk, CASE WHEN proto = 6 THEN packets END AS pk_tcp,'
			' CASE WHEN proto = 17 THEN packets END AS pk_udp, CASE WHEN proto IN (1, 58) THEN packets END AS pk_icmp,'
			' CASE WHEN proto NOT IN (1, 6, 17, 58) THEN packets END AS pk_other,'
			' bytes AS by, CASE WHEN proto = 6 THEN bytes END AS by_tcp,'
			' CASE WHEN proto = 17 THEN bytes END AS by_udp, CASE WHEN proto IN (1, 58) THEN bytes END AS by_icmp,'
			' CASE WHEN proto NOT IN (1, 6, 17, 58) THEN bytes END AS by_other'
			' FROM nfpg.flows, LATERAL (VALUES %s) t(idx, hit)'
			' WHERE first_seen >= $4 AND first_seen < $5 AND (%s) AND t.hit', tests, cond);
	END IF;

	DELETE FROM nfpg.profile_series s WHERE s.profile = $1 AND s.slot = ANY (slots);
	EXECUTE format($q$
		INSERT INTO nfpg.profile_series
		SELECT $1, c.channel, s.slot,
			   coalesce(sum(m.fl), 0), coalesce(sum(m.fl_tcp), 0), coalesce(sum(m.fl_udp), 0),
			   coalesce(sum(m.fl_icmp), 0), coalesce(sum(m.fl_other), 0),
			   coalesce(sum(m.pk), 0), coalesce(sum(m.pk_tcp), 0), coalesce(sum(m.pk_udp), 0),
			   coalesce(sum(m.pk_icmp), 0), coalesce(sum(m.pk_other), 0),
			   coalesce(sum(m.by), 0), coalesce(sum(m.by_tcp), 0), coalesce(sum(m.by_udp), 0),
			   coalesce(sum(m.by_icmp), 0), coalesce(sum(m.by_other), 0)
		  FROM unnest($2::timestamptz[]) s(slot)
		 CROSS JOIN unnest($3::text[]) WITH ORDINALITY c(channel, idx)
		  LEFT JOIN (%s) m
			ON m.slot = s.slot AND m.idx = c.idx
		 GROUP BY c.channel, s.slot
	$q$, matched)
	USING profile, slots, names, lo, hi;

	INSERT INTO nfpg.profile_slots AS ps (profile, slot)
	SELECT $1, s FROM unnest(slots) s
	ON CONFLICT ON CONSTRAINT profile_slots_pkey DO UPDATE SET built = clock_timestamp();
	RETURN cardinality(slots);
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_build_slots(text, timestamptz[]) IS 'Rebuild the series of the given slots of a profile (all channels) and mark them built; idempotent';

CREATE FUNCTION nfpg.nf_profile_build(profile text, from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
RETURN nfpg.nf_profile_build_slots(profile, ARRAY(SELECT nfpg.nf_slots(from_ts, to_ts)));
COMMENT ON FUNCTION nfpg.nf_profile_build(text, timestamptz, timestamptz) IS 'Rebuild a profile''s series for every slot overlapping [from_ts, to_ts) (plugins and alerts are not re-run); returns the number of slots';

-- Slots of a profile that are finished at "now" and not built yet: for a
-- continuous profile everything after its newest built slot, for a
-- historical one every missing slot of its window.
CREATE FUNCTION nfpg.nf_profile_pending(profile text, now timestamptz DEFAULT now())
RETURNS timestamptz[]
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT coalesce(array_agg(s ORDER BY s), '{}')
	  FROM nfpg.profiles p,
		   nfpg.nf_slots(CASE WHEN p.kind = 'continuous'
							  THEN coalesce((SELECT max(b.slot) + interval '5 minutes'
											   FROM nfpg.profile_slots b
											  WHERE b.profile = p.profile), p.tstart)
							  ELSE p.tstart END,
						 least(p.tend, nfpg.nf_slot(now - (SELECT slot_delay FROM nfpg.nfsen_settings))
									   - interval '5 minutes' + interval '1 microsecond')) s
	 WHERE p.profile = nf_profile_pending.profile
	   AND NOT EXISTS (SELECT 1 FROM nfpg.profile_slots b WHERE b.profile = p.profile AND b.slot = s);
END;
COMMENT ON FUNCTION nfpg.nf_profile_pending(text, timestamptz) IS 'Finished slots of a profile not built yet at time now (a slot is finished slot_delay after its end)';

--------------------------------------------------------------------------------
-- Drill-down: from a profile and a time range to its flows and Top-N
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_profile_flows(profile text, from_ts timestamptz, to_ts timestamptz,
									  channel text DEFAULT '*')
RETURNS SETOF nfpg.flow
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY EXECUTE format(
		'SELECT * FROM nfpg.flows WHERE first_seen >= $1 AND first_seen < $2 AND (%s) ORDER BY first_seen',
		nfpg.nf_profile_condition(profile, channel))
	USING from_ts, to_ts;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_flows(text, timestamptz, timestamptz, text) IS 'Drill-down: the flows of a profile (or one of its channels) with first_seen in [from_ts, to_ts), in time order';

-- The nfdump filter text of a profile or of a channel within it, for
-- functions that take nfdump filters (nf_stat, nf_hostclass, ...).
CREATE FUNCTION nfpg.nf_profile_filter(profile text, channel text DEFAULT '*')
RETURNS text
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f			text;
	chan_f		text;
BEGIN
	SELECT p.filter INTO f FROM nfpg.profiles p WHERE p.profile = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'profile "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF $2 = '*' THEN
		RETURN f;
	END IF;
	SELECT c.filter INTO chan_f FROM nfpg.profile_channels c WHERE c.profile = $1 AND c.channel = $2;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'profile "%" has no channel "%"', $1, $2 USING ERRCODE = 'undefined_object';
	END IF;
	RETURN format('(%s) and (%s)', f, chan_f);
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_filter(text, text) IS 'The nfdump filter of a profile (channel ''*'') or of one of its channels within it';

-- Top-N drill-down is nf_stat (nfdump -s) over the profile's filter; the
-- time window is nfdump's -t (flows lying entirely inside it).
CREATE FUNCTION nfpg.nf_profile_stat(profile text, stat_type text, from_ts timestamptz,
									 to_ts timestamptz, order_by text DEFAULT 'flows',
									 top integer DEFAULT 10, channel text DEFAULT '*')
RETURNS TABLE (rank bigint, value text, proto smallint, first_seen timestamptz,
			   last_seen timestamptz, duration interval, flows bigint,
			   flows_pct double precision, packets bigint, packets_pct double precision,
			   bytes bigint, bytes_pct double precision, pps bigint, bps bigint, bpp bigint)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY SELECT * FROM nfpg.nf_stat(stat_type, order_by, top,
											nfpg.nf_profile_filter(profile, channel),
											from_ts, to_ts);
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_stat(text, text, timestamptz, timestamptz, text, integer, text) IS 'Drill-down: nfdump -s stat_type/order_by -n top over a profile''s (or channel''s) flows in the -t window [from_ts, to_ts]';

REVOKE ALL ON FUNCTION nfpg.nf_profile_create(text, text, timestamptz, timestamptz, interval, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_channel_add(text, text, text, smallint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_channel_drop(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_profile_drop(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_profile_build_slots(text, timestamptz[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_profile_build(text, timestamptz, timestamptz) FROM PUBLIC;
