--------------------------------------------------------------------------------
-- nfpg 0.1 -> 0.2: the user's data leaves the extension
--
-- Run after the files new in 0.2 (the nfpg.flow type, roles, config dump
-- marks, setup()) and before the grants (Makefile).  0.1 made nfpg.flows in
-- CREATE EXTENSION, so pg_dump skipped it, DROP EXTENSION dropped it and its
-- partitions, and the extension's tables were not dumped.  Here the table
-- leaves the extension, becomes a typed table of nfpg.flow and, with its
-- partitions, passes to nfpg_owner; the functions that named its row type
-- take nfpg.flow instead; the partition functions lose their temporary
-- table and gain the accepted time window.  Every row stays where it is.
--------------------------------------------------------------------------------

ALTER EXTENSION nfpg DROP TABLE nfpg.flows;
ALTER EXTENSION nfpg DROP TABLE nfpg.flows_default;
ALTER TABLE nfpg.flows OF nfpg.flow;
COMMENT ON TABLE nfpg.flows IS 'One row per flow record (nfdump record), partitioned by first_seen; a typed table of nfpg.flow, made by nfpg.setup()';
COMMENT ON TABLE nfpg.flows_default IS 'Flows for which no time partition existed when they arrived (emptied by ensure_partitions()), and flows outside the accepted window of nfpg.settings';
DO $$
DECLARE
	r	regclass;
BEGIN
	FOR r IN SELECT inhrelid::regclass FROM pg_catalog.pg_inherits WHERE inhparent = 'nfpg.flows'::regclass LOOP
		EXECUTE format('ALTER TABLE %s OWNER TO nfpg_owner', r);
	END LOOP;
END
$$;
ALTER TABLE nfpg.flows OWNER TO nfpg_owner;
GRANT SELECT ON nfpg.flows TO nfpg_admin;

ALTER TABLE nfpg.settings
	ADD COLUMN accept_past interval NOT NULL DEFAULT '10 years' CHECK (accept_past >= '1 hour'),
	ADD COLUMN accept_future interval NOT NULL DEFAULT '1 day' CHECK (accept_future >= '1 hour');
COMMENT ON TABLE nfpg.settings IS 'Installation settings (one row, made by nfpg.setup())';
COMMENT ON COLUMN nfpg.settings.accept_past IS 'Partitions are made only for times after now() minus this; older flows stay in nfpg.flows_default';
COMMENT ON COLUMN nfpg.settings.accept_future IS 'Partitions are made only for times before now() plus this; later flows stay in nfpg.flows_default';

-- The row type of nfpg.flows is no longer the extension's: nfpg.flow instead;
-- nf_format(record, text) takes its rows.
DROP FUNCTION nfpg.nf_format(nfpg.flows, text);
COMMENT ON FUNCTION nfpg.nf_format(record, text) IS
'One flow as nfdump -o prints it: line, long, extended, biline, bilong, gline, glong, nsel, nel (add 6 for full IPv6), csv, pipe, or fmt:<%tokens> (STABLE: times follow the session TimeZone). Takes a row of nfpg.flows, nf_aggregate() or any row with nfpg.flows column names (columns it lacks print as absent fields)';
DROP AGGREGATE nfpg.nf_topn_records(text, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any");
DROP FUNCTION nfpg.nf_topn_records_final(internal);
DROP FUNCTION nfpg.nf_aggregate(text, text, integer, text, timestamptz, timestamptz, boolean, boolean);
DROP FUNCTION nfpg.nf_profile_flows(text, timestamptz, timestamptz, text);

CREATE FUNCTION nfpg.nf_topn_records_final(internal)
RETURNS nfpg.flow[] AS 'MODULE_PATHNAME', 'nf_topn_records_final' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_records_final(internal) IS 'Final function of nf_topn_records: the top groups as aggregated flow records';

CREATE AGGREGATE nfpg.nf_topn_records(spec text, flows integer, packets bigint, bytes bigint,
	out_packets bigint, out_bytes bigint, first_seen timestamptz, last_seen timestamptz,
	tcp_flags smallint, tos smallint, VARIADIC keys "any") (
	SFUNC = nfpg.nf_topn_trans,
	STYPE = internal,
	FINALFUNC = nfpg.nf_topn_records_final,
	COMBINEFUNC = nfpg.nf_topn_combine,
	SERIALFUNC = nfpg.nf_topn_serial,
	DESERIALFUNC = nfpg.nf_topn_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE nfpg.nf_topn_records(text, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any") IS
'Aggregated flow records (nfdump -a/-A/-b/-B) ranked by an order key, parallel safe. spec = ''a|A|b|B ORDER[:a|:d] N COLUMN[/4:L|/6:L],...'' naming the nfpg.flows column each key fills';

CREATE FUNCTION nfpg.nf_aggregate(fields text DEFAULT NULL, order_by text DEFAULT NULL,
	top integer DEFAULT 0, filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL,
	t_to timestamptz DEFAULT NULL, bidirectional boolean DEFAULT false,
	guess_direction boolean DEFAULT false)
RETURNS SETOF nfpg.flow
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	mode	text;
	keys	text;
	names	text;
	k		record;
	seen	text[] := '{}';
BEGIN
	IF top IS NULL OR top < 0 THEN
		RAISE EXCEPTION 'nf_aggregate: top must be 0 (all) or more' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF order_by IS NOT NULL AND order_by !~ '^[a-z]+(:[ad])?$' THEN
		RAISE EXCEPTION 'nf_aggregate: bad order key "%"', order_by USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF fields IS NOT NULL AND (bidirectional OR guess_direction) THEN
		RAISE EXCEPTION 'nf_aggregate: can not set custom aggregation in bidir mode'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF fields IS NULL THEN
		mode := CASE WHEN guess_direction THEN 'B' WHEN bidirectional THEN 'b' ELSE 'a' END;
		keys := 'src_addr, dst_addr, src_port, dst_port, proto';
		names := 'src_addr,dst_addr,src_port,dst_port,proto';
	ELSE
		mode := 'A';
		FOREACH fields IN ARRAY string_to_array(fields, ',') LOOP
			k := nfpg.nf_aggregate_key(fields);
			IF split_part(k.spec, '/', 1) = ANY (seen) THEN
				RAISE EXCEPTION 'nf_aggregate: duplicate aggregation mask "%"', btrim(fields)
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
			seen := seen || split_part(k.spec, '/', 1);
			keys := concat_ws(', ', keys, k.expr);
			names := concat_ws(',', names, k.spec);
		END LOOP;
		IF keys IS NULL THEN
			RAISE EXCEPTION 'nf_aggregate: no aggregation field in "%"', fields
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Name fields as nfdump -A does, e.g. ''srcip,dstport'', or pass NULL for -a.';
		END IF;
	END IF;
	RETURN QUERY EXECUTE format(
		'SELECT * FROM unnest((SELECT nfpg.nf_topn_records($1, flows, packets, bytes, out_packets,'
		' out_bytes, first_seen, last_seen, tcp_flags, src_tos, %s) FROM nfpg.flows WHERE %s))',
		keys, nfpg.nf_stat_where(filter, t_from, t_to))
		USING format('%s %s %s %s', mode, coalesce(lower(order_by), '-'), top, names), t_from, t_to;
END
$$;
COMMENT ON FUNCTION nfpg.nf_aggregate(text, text, integer, text, timestamptz, timestamptz, boolean, boolean) IS
'nfdump -a (fields NULL), -A fields (e.g. ''srcip4/24,dstport''), -b (bidirectional), -B (guess_direction), ordered like -O/-s record (order_by, default tstart) and limited to top (0 = all); returns aggregated nfpg.flows rows for nf_format()';

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

GRANT EXECUTE ON FUNCTION nfpg.nf_aggregate(text, text, integer, text, timestamptz, timestamptz, boolean, boolean)
	TO nfpg_reader;

-- ensure_partitions and loader_target change language: SQL (BEGIN ATOMIC) bodies cannot be
-- replaced by plpgsql ones in place.
DROP FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz);
DROP FUNCTION nfpg.loader_target(timestamptz, timestamptz);
CREATE FUNCTION nfpg.loader_target(first_min timestamptz, first_max timestamptz)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- plpgsql, not a SQL-standard body: nfpg.flows is the user's table, made
	-- by setup() after CREATE EXTENSION, so it cannot be bound at creation.
	RETURN (SELECT p.relid::text
			  FROM nfpg.partitions p
			  JOIN pg_inherits i ON i.inhrelid = p.relid AND i.inhparent = 'nfpg.flows'::regclass
			 WHERE p.lower_bound <= first_min AND p.upper_bound > first_max
			   AND pg_catalog.has_table_privilege(session_user, 'nfpg.flows', 'INSERT'));
END
$$;
COMMENT ON FUNCTION nfpg.loader_target(timestamptz, timestamptz) IS 'The attached partition of nfpg.flows holding first_seen values first_min to first_max, or NULL (the loader then COPYs into nfpg.flows)';
GRANT EXECUTE ON FUNCTION nfpg.loader_target(timestamptz, timestamptz) TO nfpg_loader;
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

CREATE OR REPLACE FUNCTION nfpg.create_partition(lo timestamptz, hi timestamptz)
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

CREATE OR REPLACE FUNCTION nfpg.make_partitions(from_ts timestamptz, to_ts timestamptz)
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

CREATE OR REPLACE FUNCTION nfpg.rescue_default()
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

CREATE OR REPLACE FUNCTION nfpg.loader_batches_expire(keep interval)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	WITH gone AS (DELETE FROM nfpg.loader_batches
				   WHERE loaded < now() - greatest(keep, interval '1 day') RETURNING 1)
	SELECT count(*) FROM gone;
END;
COMMENT ON FUNCTION nfpg.loader_batches_expire(interval) IS 'Forget loaded batch ids older than keep (at least one day); returns how many were removed';

-- nf_schedule checks that its job can connect; schedule_status() reports.
DROP FUNCTION nfpg.nf_schedule(text);
-- pg_cron runs a job by connecting to the database as the job's owner.  By
-- default it connects over TCP to localhost, which on a stock cluster asks
-- for a password that pg_cron does not have: every run then fails before
-- nf_run starts, visible only in cron.job_run_details.  Two settings avoid
-- that without storing a password: cron.use_background_workers = on (jobs
-- run in background workers, no connection at all; the choice the demo and
-- docs/operations.md make) or cron.host set to the socket directory (peer or
-- trust on the socket).  nf_schedule refuses a setup whose job cannot
-- connect, naming the setting, unless check is false (a .pgpass file of the
-- server's OS user, which nfpg cannot see, makes TCP work too).
CREATE FUNCTION nfpg.nf_schedule(schedule text DEFAULT '*/5 * * * *', check_connection boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	job			bigint;
	host		text := current_setting('cron.host', true);
	trusted		boolean;
BEGIN
	IF to_regnamespace('cron') IS NULL THEN
		RAISE EXCEPTION 'pg_cron is not installed in this database'
			USING ERRCODE = 'undefined_object',
				  HINT = 'Preload pg_cron (shared_preload_libraries), set cron.database_name to this database, then CREATE EXTENSION pg_cron.';
	END IF;
	IF check_connection AND current_setting('cron.use_background_workers', true) IS DISTINCT FROM 'on'
	   AND left(coalesce(host, 'localhost'), 1) <> '/' THEN
		-- Would the first pg_hba.conf line for a TCP connection from the
		-- server to itself let the job in without a password?
		BEGIN
			SELECT r.auth_method = 'trust' INTO trusted
			  FROM pg_catalog.pg_hba_file_rules r
			 WHERE r.type LIKE 'host%' AND r.error IS NULL
			   AND ('all' = ANY (r.database) OR current_database() = ANY (r.database))
			   AND ('all' = ANY (r.user_name) OR current_user = ANY (r.user_name))
			   AND CASE WHEN r.address IN ('all', 'samehost', 'samenet', 'localhost') THEN true
						WHEN r.address ~ '^[0-9.]+$'
							THEN (inet '127.0.0.1' & r.netmask::inet) = (r.address::inet & r.netmask::inet)
						WHEN r.address ~ '^[0-9a-fA-F:]+$'
							THEN (inet '::1' & r.netmask::inet) = (r.address::inet & r.netmask::inet)
						ELSE false END
			 ORDER BY r.line_number LIMIT 1;
		EXCEPTION WHEN insufficient_privilege THEN
			trusted := NULL;		-- pg_hba.conf unreadable: cannot tell
		END;
		IF NOT coalesce(trusted, true) THEN
			RAISE EXCEPTION 'pg_cron would connect to "%" over TCP, and pg_hba.conf asks that connection for a password pg_cron does not have: the job would never run',
				coalesce(host, 'localhost')
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Set cron.use_background_workers = on (and max_worker_processes high enough) in postgresql.conf and restart, or set cron.host to the socket directory; or call nf_schedule(..., check_connection => false) if the server''s OS user has a .pgpass file.';
		END IF;
	END IF;
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job USING 'nfpg', schedule, 'SELECT nfpg.nf_run()';
	RETURN job;
END
$$;
COMMENT ON FUNCTION nfpg.nf_schedule(text, boolean) IS 'Create (or change) the one pg_cron job "nfpg" that runs nf_run(); default every 5 minutes; refuses when the job could not connect (check_connection)';

-- The scheduler's health in one row: a job that pg_cron cannot start never
-- reaches nf_run, so nfpg.runs alone cannot show it.
CREATE FUNCTION nfpg.schedule_status(OUT jobid bigint, OUT schedule text, OUT active boolean,
									 OUT mode text, OUT last_attempt timestamptz, OUT last_status text,
									 OUT last_message text, OUT last_run_finished timestamptz, OUT problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	mode := CASE WHEN current_setting('cron.use_background_workers', true) = 'on' THEN 'background worker'
				 ELSE 'connection to ' || coalesce(current_setting('cron.host', true), 'localhost') END;
	SELECT max(r.finished) INTO last_run_finished FROM nfpg.runs r;
	IF to_regnamespace('cron') IS NULL THEN
		problem := 'pg_cron is not installed in this database';
		RETURN;
	END IF;
	EXECUTE 'SELECT jobid, schedule, active FROM cron.job WHERE jobname = $1 ORDER BY jobid LIMIT 1'
		INTO jobid, schedule, active USING 'nfpg';
	IF jobid IS NULL THEN
		problem := 'no job: run SELECT nfpg.nf_schedule()';
		RETURN;
	END IF;
	EXECUTE 'SELECT start_time, status, return_message FROM cron.job_run_details WHERE jobid = $1
			 ORDER BY runid DESC LIMIT 1'
		INTO last_attempt, last_status, last_message USING jobid;
	problem := CASE
		WHEN NOT active THEN 'the job is not active'
		WHEN last_status = 'failed' THEN 'the last attempt failed: ' || coalesce(last_message, '')
		WHEN last_attempt < now() - interval '15 minutes' OR (last_attempt IS NULL
			 AND coalesce(last_run_finished, '-infinity') < now() - interval '15 minutes')
			THEN 'no attempt in the last 15 minutes'
		END;
END
$$;
COMMENT ON FUNCTION nfpg.schedule_status() IS 'Health of the scheduled job: pg_cron''s job, its last attempt and message (a failed connection shows here), the last finished nf_run, and the problem if any';

REVOKE ALL ON FUNCTION nfpg.nf_schedule(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nfpg.schedule_status() TO nfpg_reader, nfpg_admin;

-- Foreign keys between the dumped tables become triggers (58_profile_links.sql):
-- pg_restore -j loads those tables in parallel.  The functions that make
-- rows check the profile instead.
ALTER TABLE nfpg.profile_channels DROP CONSTRAINT profile_channels_profile_fkey;
ALTER TABLE nfpg.profile_series DROP CONSTRAINT profile_series_profile_fkey;
ALTER TABLE nfpg.profile_slots DROP CONSTRAINT profile_slots_profile_fkey;
ALTER TABLE nfpg.plugin_profiles DROP CONSTRAINT plugin_profiles_plugin_fkey;
ALTER TABLE nfpg.plugin_profiles DROP CONSTRAINT plugin_profiles_profile_fkey;
ALTER TABLE nfpg.plugin_runs DROP CONSTRAINT plugin_runs_plugin_fkey;
ALTER TABLE nfpg.plugin_runs DROP CONSTRAINT plugin_runs_profile_fkey;
ALTER TABLE nfpg.alerts DROP CONSTRAINT alerts_profile_fkey;
ALTER TABLE nfpg.alert_log DROP CONSTRAINT alert_log_alert_fkey;
ALTER TABLE nfpg.hostclass_series DROP CONSTRAINT hostclass_series_profile_fkey;
CREATE OR REPLACE FUNCTION nfpg.nf_channel_add(profile text, channel text, filter text,
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

CREATE OR REPLACE FUNCTION nfpg.nf_alert_create(alert text, profile text, metric text, op text,
									 threshold numeric, channel text DEFAULT '*',
									 average_slots integer DEFAULT NULL,
									 filter text DEFAULT NULL,
									 notify_channel text DEFAULT 'nfpg_alert',
									 description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles p WHERE p.profile = $2) THEN
		RAISE EXCEPTION 'profile "%" does not exist', $2 USING ERRCODE = 'undefined_object';
	END IF;
	IF filter IS NULL AND channel <> '*' AND NOT EXISTS (
		SELECT 1 FROM nfpg.profile_channels c WHERE c.profile = $2 AND c.channel = $6) THEN
		RAISE EXCEPTION 'profile "%" has no channel "%"', $2, $6 USING ERRCODE = 'undefined_object';
	END IF;
	INSERT INTO nfpg.alerts (alert, profile, channel, filter, filter_sql, metric, op, threshold,
							 average_slots, notify_channel, description)
	VALUES (alert, profile, channel, filter, nfpg.nf_filter_sql(filter), metric, op, threshold,
			average_slots, notify_channel, description);
	RETURN alert;
END
$$;
COMMENT ON FUNCTION nfpg.nf_alert_create(text, text, text, text, numeric, text, integer, text, text, text) IS 'Define an alert on a profile: metric op threshold (absolute, or percent change against the average of average_slots previous slots), over a channel''s series or over flows matching filter';

CREATE OR REPLACE FUNCTION nfpg.nf_plugin_register(plugin text, function regprocedure,
										profiles text[], description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE oid = function AND pronargs = 2
					  AND proargtypes[0] = 'text'::regtype AND proargtypes[1] = 'timestamptz'::regtype) THEN
		RAISE EXCEPTION 'plugin function % must take (text, timestamp with time zone)', function
			USING ERRCODE = 'invalid_function_definition';
	END IF;
	-- The plugin will run with the rights of its function's owner: a role
	-- may only register what it could call itself.
	IF NOT has_function_privilege(function, 'EXECUTE') THEN
		RAISE EXCEPTION 'permission denied to register plugin function %', function
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF EXISTS (SELECT 1 FROM unnest(profiles) x WHERE x NOT IN (SELECT p.profile FROM nfpg.profiles p)) THEN
		RAISE EXCEPTION 'profile "%" does not exist',
			(SELECT x FROM unnest(profiles) x WHERE x NOT IN (SELECT p.profile FROM nfpg.profiles p) LIMIT 1)
			USING ERRCODE = 'undefined_object';
	END IF;
	INSERT INTO nfpg.plugins AS p (plugin, function, description)
	VALUES (plugin, function, description)
	ON CONFLICT ON CONSTRAINT plugins_pkey
	DO UPDATE SET function = excluded.function, description = excluded.description;
	INSERT INTO nfpg.plugin_profiles (plugin, profile)
	SELECT plugin, unnest(profiles)
	ON CONFLICT DO NOTHING;
	RETURN plugin;
END
$$;
COMMENT ON FUNCTION nfpg.nf_plugin_register(text, regprocedure, text[], text) IS 'Register (or update) a plugin function f(profile text, slot timestamptz) for the given profiles';

-- Plugins run with the rights of their function's owner (nfpg_admin).
CREATE OR REPLACE FUNCTION nfpg.nf_plugin_call(plugin text, function regprocedure, profile text, slot timestamptz)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t0			timestamptz := clock_timestamp();
	state		text;
	msg			text;
	owner		text;
	prev_role	text := current_setting('role');
BEGIN
	BEGIN
		SELECT p.proowner::regrole::text INTO owner FROM pg_proc p WHERE p.oid = function;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'the plugin function no longer exists' USING ERRCODE = 'undefined_function';
		END IF;
		-- With the lesser rights of the job's owner (often a superuser) and
		-- the function's owner: a plugin written by an nfpg_admin member runs
		-- as that member.  An error rolls the subtransaction back, the role
		-- setting included.
		IF owner <> current_user AND NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = owner) THEN
			PERFORM set_config('role', owner, true);
		END IF;
		EXECUTE format('SELECT %s($1, $2)', function::oid::regproc) USING profile, slot;
		PERFORM set_config('role', prev_role, true);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		RAISE WARNING 'plugin "%" failed for profile "%" slot %: %', plugin, profile, slot, msg;
		INSERT INTO nfpg.plugin_runs VALUES (plugin, profile, slot, 'failed', state || ': ' || msg,
											 t0, clock_timestamp() - t0);
		RETURN false;
	END;
	INSERT INTO nfpg.plugin_runs VALUES (plugin, profile, slot, 'ok', NULL, t0, clock_timestamp() - t0);
	RETURN true;
END
$$;
COMMENT ON FUNCTION nfpg.nf_plugin_call(text, regprocedure, text, timestamptz) IS 'Call one plugin for one slot in a subtransaction and log the outcome; false when it failed';

-- nf_stat accepts nfdump's spelling 'ip/bytes' (the order after the slash wins)
CREATE OR REPLACE FUNCTION nfpg.nf_stat(stat_type text, order_by text DEFAULT 'flows', top integer DEFAULT 10,
	filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL, t_to timestamptz DEFAULT NULL)
RETURNS TABLE (rank bigint, value text, proto smallint, first_seen timestamptz, last_seen timestamptz,
	duration interval, flows bigint, flows_pct double precision, packets bigint,
	packets_pct double precision, bytes bigint, bytes_pct double precision,
	pps bigint, bps bigint, bpp bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k		record;
	spec	text;
BEGIN
	-- nfdump's spelling 'ip/bytes': the order after the slash wins
	IF position('/' IN stat_type) > 0 THEN
		order_by := split_part(stat_type, '/', 2);
		stat_type := split_part(stat_type, '/', 1);
	END IF;
	k := nfpg.nf_stat_keys(stat_type);
	IF top IS NULL OR top < 0 THEN
		RAISE EXCEPTION 'nf_stat: top must be 0 (all) or more' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF order_by IS NULL OR order_by !~ '^[a-z]+(:[ad])?$' THEN
		RAISE EXCEPTION 'nf_stat: bad order key "%"', order_by USING ERRCODE = 'invalid_parameter_value';
	END IF;
	spec := format('%s %s %s %s', CASE WHEN k.two_sided THEN 'stat2' ELSE 'stat' END,
				   lower(order_by), top, k.fields);
	RETURN QUERY EXECUTE format(
		'SELECT s.ord, s.value, s.proto, s.first_seen, s.last_seen, s.duration, s.flows,'
		' s.flows_pct, s.packets, s.packets_pct, s.bytes, s.bytes_pct, s.pps, s.bps, s.bpp'
		' FROM unnest((SELECT nfpg.nf_topn($1, flows, packets, bytes, out_packets, out_bytes,'
		' first_seen, last_seen, tcp_flags, src_tos, %s) FROM nfpg.flows WHERE %s))'
		' WITH ORDINALITY AS s(value, proto, first_seen, last_seen, duration, flows, flows_pct,'
		' packets, packets_pct, bytes, bytes_pct, pps, bps, bpp, ord)',
		k.keys, nfpg.nf_stat_where(filter, t_from, t_to))
		USING spec, t_from, t_to;
END
$$;
COMMENT ON FUNCTION nfpg.nf_stat(text, text, integer, text, timestamptz, timestamptz) IS
'nfdump -s stat_type/order_by -n top [filter] [-t t_from-t_to]: the Top-N table with nfdump''s counting rules, percentages and rates (order_by may end in :a or :d; top 0 = all)';

-- Packed partitions (66_pack.sql, new in 0.2): aging sizes and drops them
-- with their storage tables, and nf_run packs one finished partition per run
-- when nfpg.pack_after is set.  (Copies of 60_aging.sql and 68_schedule.sql.)
CREATE OR REPLACE FUNCTION nfpg.nf_expire(now timestamptz DEFAULT now())
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
CREATE OR REPLACE FUNCTION nfpg.nf_run(now timestamptz DEFAULT now())
RETURNS nfpg.runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			nfpg.runs;
	p			record;
	u			record;
	n			integer;
	msg			text;
BEGIN
	r.run_time := now;
	r.started := clock_timestamp();
	r.slots := 0;
	r.plugin_failures := 0;
	r.alerts_fired := 0;
	r.partitions_dropped := 0;
	r.series_deleted := 0;
	r.errors := '{}';
	IF NOT pg_try_advisory_xact_lock('nfpg.profiles'::regclass::oid::bigint) THEN
		r.errors := ARRAY['another nf_run was active; nothing done'];
		RETURN r;
	END IF;

	-- 1. Partitions ahead of the data.
	BEGIN
		PERFORM nfpg.ensure_partitions(now);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		r.errors := r.errors || ('partitions: ' || msg);
	END;

	-- 2. Profiles, their plugins and alerts.
	FOR p IN SELECT x.profile FROM nfpg.profiles x ORDER BY x.profile LOOP
		BEGIN
			u := nfpg.nf_profile_update(p.profile, now);
			r.slots := r.slots + u.slots;
			r.plugin_failures := r.plugin_failures + u.plugin_failures;
			r.alerts_fired := r.alerts_fired + u.alerts_fired;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			RAISE WARNING 'profile "%" not updated: %', p.profile, msg;
			r.errors := r.errors || format('profile %s: %s', p.profile, msg);
		END;
	END LOOP;

	-- 3. Seal finished partitions.
	IF to_regproc('nfpg.index_partitions') IS NULL THEN
		r.indexed := 'skipped: nfpg.index_partitions() not installed';
	ELSE
		BEGIN
			EXECUTE 'SELECT nfpg.index_partitions()' INTO n;
			r.indexed := format('ok: %s partitions indexed', n);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			r.indexed := 'failed';
			r.errors := r.errors || ('index: ' || msg);
		END;
	END IF;
	IF nullif(current_setting('nfpg.pack_after', true), '') IS NOT NULL THEN
		BEGIN
			n := nfpg.pack_partitions(current_setting('nfpg.pack_after')::interval, 1, now);
			r.indexed := r.indexed || format('; packed %s partitions', n);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			r.errors := r.errors || ('pack: ' || msg);
		END;
	END IF;

	-- 4. Aging.
	BEGIN
		SELECT count(*) INTO r.partitions_dropped FROM nfpg.nf_expire(now);
		r.series_deleted := nfpg.nf_expire_series(now);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		r.errors := r.errors || ('aging: ' || msg);
	END;

	r.finished := clock_timestamp();
	INSERT INTO nfpg.runs (started, finished, run_time, slots, plugin_failures, alerts_fired,
						   partitions_dropped, series_deleted, indexed, errors)
	VALUES (r.started, r.finished, r.run_time, r.slots, r.plugin_failures, r.alerts_fired,
			r.partitions_dropped, r.series_deleted, r.indexed, r.errors)
	RETURNING run INTO r.run;
	RETURN r;
END
$$;
COMMENT ON COLUMN nfpg.runs.indexed IS 'Outcome of the partition index step: how many partitions were indexed, or why it was skipped; and how many were packed when nfpg.pack_after is set';
