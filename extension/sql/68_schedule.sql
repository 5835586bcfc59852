--------------------------------------------------------------------------------
-- The scheduled run (NfSen's nfsend loop): one pg_cron job
--
-- nf_run() does, in one transaction, what NfSen does every 5 minutes:
--   1. premake flows partitions (ensure_partitions);
--   2. for every profile, build the finished slots not built yet, then run
--      the profile's plugins and alerts for each of those slots in order;
--   3. seal finished partitions: nfpg.index_partitions() (20_filter.sql)
--      builds the host and port indexes of partitions that ended over an
--      hour ago (if it is missing, the step is skipped and says so); when
--      the setting nfpg.pack_after is an interval (ALTER DATABASE ... SET
--      nfpg.pack_after = '2 hours'), one partition that ended that long ago
--      is packed per run (nfpg.pack_partitions, 66_pack.sql);
--   4. aging: nf_expire() for flows, nf_expire_series() for profile data.
-- A slot is done when nfpg.profile_slots has it, and plugin runs and alert
-- evaluations are keyed by slot too, so a late run catches up every missed
-- slot and a repeated run finds nothing to do.  Two runs never overlap: the
-- second returns at once.  Each profile and each step runs in its own
-- subtransaction, so one failure is recorded in nfpg.runs and the rest of
-- the run goes on.
--
-- nf_schedule() creates the pg_cron job; it is not done by CREATE EXTENSION
-- because pg_cron lives in one database per cluster and must be created
-- there first.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.runs (
	run					bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	started				timestamptz NOT NULL DEFAULT clock_timestamp(),
	finished			timestamptz,
	run_time			timestamptz NOT NULL,
	slots				integer NOT NULL DEFAULT 0,
	plugin_failures		integer NOT NULL DEFAULT 0,
	alerts_fired		integer NOT NULL DEFAULT 0,
	partitions_dropped	integer NOT NULL DEFAULT 0,
	series_deleted		bigint NOT NULL DEFAULT 0,
	indexed				text,
	errors				text[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE nfpg.runs IS 'One row per nf_run(): what it did and what failed';
COMMENT ON COLUMN nfpg.runs.run IS 'Run number';
COMMENT ON COLUMN nfpg.runs.started IS 'When the run started';
COMMENT ON COLUMN nfpg.runs.finished IS 'When the run finished';
COMMENT ON COLUMN nfpg.runs.run_time IS 'The time the run worked for (its now argument)';
COMMENT ON COLUMN nfpg.runs.slots IS 'Profile slots built (summed over profiles)';
COMMENT ON COLUMN nfpg.runs.plugin_failures IS 'Plugin calls that failed';
COMMENT ON COLUMN nfpg.runs.alerts_fired IS 'Alerts that fired (and were sent with NOTIFY)';
COMMENT ON COLUMN nfpg.runs.partitions_dropped IS 'Flows partitions dropped by aging';
COMMENT ON COLUMN nfpg.runs.series_deleted IS 'Profile series rows deleted by series aging';
COMMENT ON COLUMN nfpg.runs.indexed IS 'Outcome of the partition index step: how many partitions were indexed, or why it was skipped; and how many were packed when nfpg.pack_after is set';
COMMENT ON COLUMN nfpg.runs.errors IS 'Errors of steps that failed and were skipped (profile build, index, aging)';

-- One profile's pending slots: build, then plugins and alerts slot by slot.
CREATE FUNCTION nfpg.nf_profile_update(profile text, now timestamptz DEFAULT now(),
									   OUT slots integer, OUT plugin_failures integer,
									   OUT alerts_fired integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pending		timestamptz[] := nfpg.nf_profile_pending(profile, now);
	s			timestamptz;
BEGIN
	slots := nfpg.nf_profile_build_slots(profile, pending);
	plugin_failures := 0;
	alerts_fired := 0;
	FOREACH s IN ARRAY pending LOOP
		plugin_failures := plugin_failures + nfpg.nf_plugins_run(profile, s);
		alerts_fired := alerts_fired + nfpg.nf_alerts_run(profile, s);
	END LOOP;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_update(text, timestamptz) IS 'Build a profile''s finished slots not built yet and run its plugins and alerts for each';

CREATE FUNCTION nfpg.nf_run(now timestamptz DEFAULT now())
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

	-- 1. Partitions ahead of the data; on a coordinator, whose partitions
	-- are its nodes, the exporters the nodes have seen since.
	BEGIN
		IF nfpg.is_coordinator() THEN
			PERFORM nfpg.node_sync();
		ELSE
			PERFORM nfpg.ensure_partitions(now);
		END IF;
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
COMMENT ON FUNCTION nfpg.nf_run(timestamptz) IS 'The scheduled job: update continuous and pending historical profiles, run plugins and alerts, index finished partitions, apply aging; each slot once';

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

CREATE FUNCTION nfpg.nf_unschedule()
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	gone		boolean := false;
BEGIN
	IF to_regnamespace('cron') IS NOT NULL THEN
		EXECUTE 'SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = $1 AND username = current_user'
		INTO gone USING 'nfpg';
	END IF;
	RETURN coalesce(gone, false);
END
$$;
COMMENT ON FUNCTION nfpg.nf_unschedule() IS 'Remove the pg_cron job created by nf_schedule(); false when there was none';

REVOKE ALL ON FUNCTION nfpg.nf_profile_update(text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_run(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_schedule(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nfpg.schedule_status() TO nfpg_reader, nfpg_admin;
REVOKE ALL ON FUNCTION nfpg.nf_unschedule() FROM PUBLIC;
