--------------------------------------------------------------------------------
-- Profiles (NfSen in SQL, part 2): plugins and alerts
--
-- Plugins are NfSen's backend plugins: SQL functions f(profile text, slot
-- timestamptz) registered for profiles and called by nf_run once for every
-- new slot of those profiles, after the slot's series are built.  They run
-- with search_path = pg_catalog, pg_temp, like every nfpg function: a plugin
-- names its tables with their schema or sets its own search_path.  Each call
-- runs in its own subtransaction: a plugin that fails is rolled back, logged
-- in nfpg.plugin_runs and as a WARNING, and is not retried for that slot;
-- the other plugins and the rest of the run go on.
--
-- Alerts are conditions evaluated for every new slot of their profile, over
-- one of the profile's series (a channel's flows, packets, bytes, total or
-- per protocol) or over the flows of the slot matching an extra filter.  A
-- condition is an absolute threshold (value > 1000) or, with average_slots,
-- a change against the rolling average of the previous slots (value more
-- than threshold percent above it).  Every evaluation is stored in
-- nfpg.alert_log; when the condition holds the row says fired and a NOTIFY
-- carrying a JSON description goes to the alert's notification channel.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.plugins (
	plugin				text PRIMARY KEY,
	function			regprocedure NOT NULL,
	enabled				boolean NOT NULL DEFAULT true,
	description			text
);
COMMENT ON TABLE nfpg.plugins IS 'Plugin registry: SQL functions f(profile text, slot timestamptz) called by nf_run for each new slot';
COMMENT ON COLUMN nfpg.plugins.plugin IS 'Plugin name';
COMMENT ON COLUMN nfpg.plugins.description IS 'Free text for people';
COMMENT ON COLUMN nfpg.plugins.function IS 'The function called as f(profile, slot)';
COMMENT ON COLUMN nfpg.plugins.enabled IS 'false: the plugin is skipped';

CREATE TABLE nfpg.plugin_profiles (
	plugin				text NOT NULL,
	profile				text NOT NULL,
	PRIMARY KEY (plugin, profile)
);
COMMENT ON TABLE nfpg.plugin_profiles IS 'Which profiles each plugin runs for';
COMMENT ON COLUMN nfpg.plugin_profiles.plugin IS 'Plugin name';
COMMENT ON COLUMN nfpg.plugin_profiles.profile IS 'A profile the plugin runs for';

CREATE TABLE nfpg.plugin_runs (
	plugin				text NOT NULL,
	profile				text NOT NULL,
	slot				timestamptz NOT NULL,
	status				text NOT NULL CHECK (status IN ('ok', 'failed')),
	message				text,
	ran					timestamptz NOT NULL DEFAULT clock_timestamp(),
	duration			interval,
	PRIMARY KEY (plugin, profile, slot)
);
COMMENT ON TABLE nfpg.plugin_runs IS 'One row per plugin call: its slot, status and, when it failed, the error';
COMMENT ON COLUMN nfpg.plugin_runs.plugin IS 'Plugin name';
COMMENT ON COLUMN nfpg.plugin_runs.profile IS 'Profile the call was for';
COMMENT ON COLUMN nfpg.plugin_runs.slot IS 'Slot the call was for';
COMMENT ON COLUMN nfpg.plugin_runs.status IS 'ok, or failed (rolled back, not retried for this slot)';
COMMENT ON COLUMN nfpg.plugin_runs.ran IS 'When the call started';
COMMENT ON COLUMN nfpg.plugin_runs.duration IS 'How long the call took';
COMMENT ON COLUMN nfpg.plugin_runs.message IS 'Error message (SQLSTATE: text) of a failed call';

CREATE FUNCTION nfpg.nf_plugin_register(plugin text, function regprocedure,
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

-- One plugin call, isolated: its effects are rolled back if it fails.
CREATE FUNCTION nfpg.nf_plugin_call(plugin text, function regprocedure, profile text, slot timestamptz)
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

-- Every enabled plugin of the profile that has not run for this slot yet.
CREATE FUNCTION nfpg.nf_plugins_run(profile text, slot timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p			record;
	failed		integer := 0;
BEGIN
	FOR p IN SELECT g.plugin, g.function FROM nfpg.plugins g
			   JOIN nfpg.plugin_profiles pp ON pp.plugin = g.plugin
			  WHERE pp.profile = $1 AND g.enabled
				AND NOT EXISTS (SELECT 1 FROM nfpg.plugin_runs r
								 WHERE r.plugin = g.plugin AND r.profile = $1 AND r.slot = $2)
			  ORDER BY g.plugin
	LOOP
		IF NOT nfpg.nf_plugin_call(p.plugin, p.function, profile, slot) THEN
			failed := failed + 1;
		END IF;
	END LOOP;
	RETURN failed;
END
$$;
COMMENT ON FUNCTION nfpg.nf_plugins_run(text, timestamptz) IS 'Run the plugins of a profile for one slot (each once); returns how many failed';

--------------------------------------------------------------------------------
-- Alerts
--------------------------------------------------------------------------------

CREATE TABLE nfpg.alerts (
	alert				text PRIMARY KEY,
	profile				text NOT NULL,
	channel				text NOT NULL DEFAULT '*',
	filter				text,
	filter_sql			text,
	metric				text NOT NULL CHECK (metric ~ '^(flows|packets|bytes)(_tcp|_udp|_icmp|_other)?$'),
	op					text NOT NULL CHECK (op IN ('>', '>=', '<', '<=')),
	threshold			numeric NOT NULL,
	average_slots		integer CHECK (average_slots > 0),
	notify_channel		text NOT NULL DEFAULT 'nfpg_alert',
	enabled				boolean NOT NULL DEFAULT true,
	description			text,
	CHECK ((filter IS NULL) = (filter_sql IS NULL))
);
COMMENT ON TABLE nfpg.alerts IS 'Alert conditions, evaluated by nf_run for every new slot of their profile';
COMMENT ON COLUMN nfpg.alerts.alert IS 'Alert name';
COMMENT ON COLUMN nfpg.alerts.profile IS 'Profile whose slots the alert tests';
COMMENT ON COLUMN nfpg.alerts.enabled IS 'false: the alert is not evaluated';
COMMENT ON COLUMN nfpg.alerts.description IS 'Free text for people';
COMMENT ON COLUMN nfpg.alerts.channel IS 'Channel whose series is tested (''*'': the whole profile); ignored when filter is set';
COMMENT ON COLUMN nfpg.alerts.filter IS 'Optional nfdump filter: the value is then summed over the slot''s flows matching the profile and this filter';
COMMENT ON COLUMN nfpg.alerts.filter_sql IS 'The filter compiled by nf_filter_sql()';
COMMENT ON COLUMN nfpg.alerts.metric IS 'flows, packets or bytes, optionally _tcp, _udp, _icmp or _other';
COMMENT ON COLUMN nfpg.alerts.op IS 'Comparison of the value with the threshold: >, >=, <, <=';
COMMENT ON COLUMN nfpg.alerts.threshold IS 'Absolute threshold, or with average_slots a change in percent of the rolling average (100: double, -50: half)';
COMMENT ON COLUMN nfpg.alerts.average_slots IS 'NULL: absolute threshold; N: compare with the average of the N previous slots'' values';
COMMENT ON COLUMN nfpg.alerts.notify_channel IS 'LISTEN channel the NOTIFY goes to when the alert fires';

CREATE TABLE nfpg.alert_log (
	alert				text NOT NULL,
	slot				timestamptz NOT NULL,
	value				numeric NOT NULL,
	reference			numeric,
	fired				boolean NOT NULL,
	evaluated			timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (alert, slot)
);
COMMENT ON TABLE nfpg.alert_log IS 'Every evaluation of every alert: the slot, the value, the reference it was compared with, and whether it fired';
COMMENT ON COLUMN nfpg.alert_log.alert IS 'Alert name';
COMMENT ON COLUMN nfpg.alert_log.slot IS 'Slot evaluated';
COMMENT ON COLUMN nfpg.alert_log.evaluated IS 'When it was evaluated';
COMMENT ON COLUMN nfpg.alert_log.value IS 'The measured value of the slot';
COMMENT ON COLUMN nfpg.alert_log.reference IS 'What the value was compared with: the threshold, or the threshold applied to the rolling average (NULL: no history yet)';
COMMENT ON COLUMN nfpg.alert_log.fired IS 'The condition held: a NOTIFY was sent';

CREATE FUNCTION nfpg.nf_alert_create(alert text, profile text, metric text, op text,
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

-- The value of an alert's metric for one slot.  The metric is checked by the
-- table's CHECK; it picks a column or a fixed expression, never user text.
CREATE FUNCTION nfpg.nf_alert_value(a nfpg.alerts, slot timestamptz)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	counter		text := split_part(a.metric, '_', 1);
	protos		text := CASE split_part(a.metric, '_', 2)
						WHEN 'tcp' THEN 'proto = 6'
						WHEN 'udp' THEN 'proto = 17'
						WHEN 'icmp' THEN 'proto IN (1, 58)'
						WHEN 'other' THEN 'proto NOT IN (1, 6, 17, 58)'
						ELSE 'true' END;
	v			numeric;
BEGIN
	IF a.filter_sql IS NULL THEN
		EXECUTE format('SELECT %I FROM nfpg.profile_series WHERE profile = $1 AND channel = $2 AND slot = $3',
					   a.metric)
		INTO v USING a.profile, a.channel, slot;
	ELSE
		EXECUTE format('SELECT sum(%I) FROM nfpg.flows
						 WHERE first_seen >= $1 AND first_seen < $1 + interval ''5 minutes''
						   AND (%s) AND (%s) AND %s',
					   counter, nfpg.nf_profile_condition(a.profile), a.filter_sql, protos)
		INTO v USING slot;
	END IF;
	RETURN coalesce(v, 0);
END
$$;
COMMENT ON FUNCTION nfpg.nf_alert_value(nfpg.alerts, timestamptz) IS 'The value an alert tests for one slot';

CREATE FUNCTION nfpg.nf_alerts_run(profile text, slot timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a			nfpg.alerts;
	v			numeric;
	ref			numeric;
	hit			boolean;
	msg			text;
	fired		integer := 0;
BEGIN
	FOR a IN SELECT * FROM nfpg.alerts x
			  WHERE x.profile = $1 AND x.enabled
				AND NOT EXISTS (SELECT 1 FROM nfpg.alert_log l WHERE l.alert = x.alert AND l.slot = $2)
			  ORDER BY x.alert
	LOOP
		BEGIN
			v := nfpg.nf_alert_value(a, slot);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			RAISE WARNING 'alert "%" not evaluated for slot %: %', a.alert, slot, msg;
			CONTINUE;
		END;
		IF a.average_slots IS NULL THEN
			ref := a.threshold;
		ELSE
			SELECT trim_scale(avg(l.value) * (1 + a.threshold / 100)) INTO ref FROM nfpg.alert_log l
			 WHERE l.alert = a.alert
			   AND l.slot >= $2 - a.average_slots * interval '5 minutes' AND l.slot < $2;
		END IF;
		hit := CASE a.op WHEN '>' THEN v > ref WHEN '>=' THEN v >= ref
						 WHEN '<' THEN v < ref WHEN '<=' THEN v <= ref END;
		hit := coalesce(hit, false);
		INSERT INTO nfpg.alert_log (alert, slot, value, reference, fired) VALUES (a.alert, $2, v, ref, hit);
		IF hit THEN
			PERFORM pg_notify(a.notify_channel, json_build_object(
				'alert', a.alert, 'profile', a.profile, 'channel', a.channel, 'slot', slot,
				'metric', a.metric, 'op', a.op, 'value', v, 'reference', ref)::text);
			fired := fired + 1;
		END IF;
	END LOOP;
	RETURN fired;
END
$$;
COMMENT ON FUNCTION nfpg.nf_alerts_run(text, timestamptz) IS 'Evaluate the alerts of a profile for one slot (each once), log them and NOTIFY the ones that fire; returns how many fired';

REVOKE ALL ON FUNCTION nfpg.nf_plugin_register(text, regprocedure, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_plugin_call(text, regprocedure, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_plugins_run(text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_alert_create(text, text, text, text, numeric, text, integer, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_alerts_run(text, timestamptz) FROM PUBLIC;
