--------------------------------------------------------------------------------
-- Collector counters
--
-- What nfpgd refused, dropped, spooled or lost, in SQL rather than only in
-- its log: per loader instance in total, and per source address for what
-- can be pinned on one (datagrams denied by the allow-list, dropped because
-- the queue was full, rejected by the decoders, flows outside the first_seen
-- window).  nfpgd reports every exporter_interval and at exit through
-- collector_report() and collector_report_source(), the only way the loader
-- role can touch the table; nfpg_reader reads nfpg.collector_stats.
--
-- nfpgd sends its counts since it started, whole, so a report that fails
-- loses nothing and a report sent twice counts nothing twice.  Each run of a
-- loader (its boot time) has its own rows; the first report of a new run
-- folds the rows of the earlier runs into one row per address with boot
-- '-infinity', so totals survive restarts and the table stays small.  The
-- table is capped (10,000 rows): a loader role cannot grow it without bound.
-- Like the other loader functions, the two run as nfpg_owner (90_grants.sql),
-- which may change exactly this table here; every name is qualified.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.collector_counters (
	instance			text NOT NULL,
	boot				timestamptz NOT NULL,
	exporter			inet,
	since				timestamptz NOT NULL,
	updated				timestamptz NOT NULL,
	denied				bigint NOT NULL DEFAULT 0,
	rejected			bigint NOT NULL DEFAULT 0,
	queue_drops			bigint NOT NULL DEFAULT 0,
	out_of_window		bigint NOT NULL DEFAULT 0,
	datagrams			bigint,
	flows				bigint,
	socket_drops		bigint,
	loaded_flows		bigint,
	spooled_flows		bigint,
	replayed_flows		bigint,
	lost_flows			bigint,
	failed_batches		bigint,
	duplicate_batches	bigint,
	queue_bytes			bigint,
	queued_batches		bigint,
	spool_files			bigint,
	spool_bytes			bigint,
	quarantine_files	bigint,
	quarantine_bytes	bigint,
	writers_connected	integer,
	CONSTRAINT collector_counters_key UNIQUE NULLS NOT DISTINCT (instance, boot, exporter)
);
COMMENT ON TABLE nfpg.collector_counters IS 'nfpgd''s counters per loader run, in total (exporter NULL) and per source address; read nfpg.collector_stats';
COMMENT ON COLUMN nfpg.collector_counters.boot IS 'Start of the nfpgd run the counts are from; -infinity: the earlier runs, folded';
COMMENT ON COLUMN nfpg.collector_counters.exporter IS 'Source address the counts are for; NULL: the whole collector';

-- The totals of one run (exporter NULL), and the gauges.
CREATE FUNCTION nfpg.collector_report(
	p_instance text, p_boot timestamptz,
	p_datagrams bigint, p_flows bigint, p_denied bigint, p_rejected bigint,
	p_queue_drops bigint, p_socket_drops bigint, p_out_of_window bigint,
	p_loaded_flows bigint, p_spooled_flows bigint, p_replayed_flows bigint,
	p_lost_flows bigint, p_failed_batches bigint, p_duplicate_batches bigint,
	p_queue_bytes bigint, p_queued_batches bigint, p_spool_files bigint, p_spool_bytes bigint,
	p_quarantine_files bigint, p_quarantine_bytes bigint, p_writers_connected integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_instance IS NULL OR p_boot IS NULL OR NOT pg_catalog.isfinite(p_boot) THEN
		RAISE EXCEPTION 'collector_report: instance and a finite boot time are required'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE nfpg.collector_counters c SET
		updated = pg_catalog.now(), datagrams = p_datagrams, flows = p_flows, denied = p_denied,
		rejected = p_rejected, queue_drops = p_queue_drops, socket_drops = p_socket_drops,
		out_of_window = p_out_of_window, loaded_flows = p_loaded_flows,
		spooled_flows = p_spooled_flows, replayed_flows = p_replayed_flows,
		lost_flows = p_lost_flows, failed_batches = p_failed_batches,
		duplicate_batches = p_duplicate_batches, queue_bytes = p_queue_bytes,
		queued_batches = p_queued_batches, spool_files = p_spool_files,
		spool_bytes = p_spool_bytes, quarantine_files = p_quarantine_files,
		quarantine_bytes = p_quarantine_bytes, writers_connected = p_writers_connected
	 WHERE c.instance = p_instance AND c.boot = p_boot AND c.exporter IS NULL;
	IF FOUND THEN
		RETURN;
	END IF;

	-- The first report of a new run: fold the earlier runs into one row per address.
	WITH old AS (
		DELETE FROM nfpg.collector_counters c
		 WHERE c.instance = p_instance AND c.boot < p_boot
		RETURNING c.*)
	INSERT INTO nfpg.collector_counters AS f
		(instance, boot, exporter, since, updated, denied, rejected, queue_drops, out_of_window,
		 datagrams, flows, socket_drops, loaded_flows, spooled_flows, replayed_flows,
		 lost_flows, failed_batches, duplicate_batches)
	SELECT p_instance, '-infinity', o.exporter, min(o.since), max(o.updated),
		   sum(o.denied), sum(o.rejected), sum(o.queue_drops), sum(o.out_of_window),
		   sum(o.datagrams), sum(o.flows), sum(o.socket_drops), sum(o.loaded_flows),
		   sum(o.spooled_flows), sum(o.replayed_flows), sum(o.lost_flows),
		   sum(o.failed_batches), sum(o.duplicate_batches)
	  FROM old o
	 GROUP BY o.exporter;

	IF (SELECT pg_catalog.count(*) FROM nfpg.collector_counters) >= 10000 THEN
		RAISE EXCEPTION 'nfpg.collector_counters is full (10000 rows)'
			USING ERRCODE = 'program_limit_exceeded';
	END IF;
	INSERT INTO nfpg.collector_counters
		(instance, boot, exporter, since, updated, datagrams, flows, denied, rejected,
		 queue_drops, socket_drops, out_of_window, loaded_flows, spooled_flows,
		 replayed_flows, lost_flows, failed_batches, duplicate_batches, queue_bytes,
		 queued_batches, spool_files, spool_bytes, quarantine_files, quarantine_bytes,
		 writers_connected)
	VALUES (p_instance, p_boot, NULL, p_boot, pg_catalog.now(), p_datagrams, p_flows, p_denied,
			p_rejected, p_queue_drops, p_socket_drops, p_out_of_window, p_loaded_flows,
			p_spooled_flows, p_replayed_flows, p_lost_flows, p_failed_batches,
			p_duplicate_batches, p_queue_bytes, p_queued_batches, p_spool_files, p_spool_bytes,
			p_quarantine_files, p_quarantine_bytes, p_writers_connected);
END
$$;
COMMENT ON FUNCTION nfpg.collector_report(text, timestamptz, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, integer) IS 'nfpgd: set the totals of one loader run (counts since its start, and the current queue and spool sizes)';

-- One source address's counts in one run; after collector_report() of that run.
CREATE FUNCTION nfpg.collector_report_source(
	p_instance text, p_boot timestamptz, p_exporter inet,
	p_denied bigint, p_rejected bigint, p_queue_drops bigint, p_out_of_window bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_instance IS NULL OR p_boot IS NULL OR NOT pg_catalog.isfinite(p_boot) OR p_exporter IS NULL THEN
		RAISE EXCEPTION 'collector_report_source: instance, a finite boot time and an address are required'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE nfpg.collector_counters c SET
		updated = pg_catalog.now(), denied = p_denied, rejected = p_rejected,
		queue_drops = p_queue_drops, out_of_window = p_out_of_window
	 WHERE c.instance = p_instance AND c.boot = p_boot AND c.exporter = p_exporter;
	IF FOUND THEN
		RETURN;
	END IF;
	IF (SELECT pg_catalog.count(*) FROM nfpg.collector_counters) >= 10000 THEN
		RAISE EXCEPTION 'nfpg.collector_counters is full (10000 rows)'
			USING ERRCODE = 'program_limit_exceeded';
	END IF;
	INSERT INTO nfpg.collector_counters
		(instance, boot, exporter, since, updated, denied, rejected, queue_drops, out_of_window)
	VALUES (p_instance, p_boot, p_exporter, p_boot, pg_catalog.now(), p_denied, p_rejected,
			p_queue_drops, p_out_of_window);
END
$$;
COMMENT ON FUNCTION nfpg.collector_report_source(text, timestamptz, inet, bigint, bigint, bigint, bigint) IS 'nfpgd: set one source address''s counts in one loader run';

-- Every run added up; the gauges are the current run's (folded rows have none).
CREATE VIEW nfpg.collector_stats AS
SELECT c.instance,
	   c.exporter,
	   pg_catalog.min(c.since) AS since,
	   pg_catalog.max(c.boot) FILTER (WHERE c.boot > '-infinity') AS running_since,
	   pg_catalog.max(c.updated) AS updated,
	   pg_catalog.sum(c.datagrams)::bigint AS datagrams,
	   pg_catalog.sum(c.flows)::bigint AS flows,
	   pg_catalog.sum(c.denied)::bigint AS denied,
	   pg_catalog.sum(c.rejected)::bigint AS rejected,
	   pg_catalog.sum(c.queue_drops)::bigint AS queue_drops,
	   pg_catalog.sum(c.socket_drops)::bigint AS socket_drops,
	   pg_catalog.sum(c.out_of_window)::bigint AS out_of_window,
	   pg_catalog.sum(c.loaded_flows)::bigint AS loaded_flows,
	   pg_catalog.sum(c.spooled_flows)::bigint AS spooled_flows,
	   pg_catalog.sum(c.replayed_flows)::bigint AS replayed_flows,
	   pg_catalog.sum(c.lost_flows)::bigint AS lost_flows,
	   pg_catalog.sum(c.failed_batches)::bigint AS failed_batches,
	   pg_catalog.sum(c.duplicate_batches)::bigint AS duplicate_batches,
	   pg_catalog.max(c.queue_bytes) AS queue_bytes,
	   pg_catalog.max(c.queued_batches) AS queued_batches,
	   pg_catalog.max(c.spool_files) AS spool_files,
	   pg_catalog.max(c.spool_bytes) AS spool_bytes,
	   pg_catalog.max(c.quarantine_files) AS quarantine_files,
	   pg_catalog.max(c.quarantine_bytes) AS quarantine_bytes,
	   pg_catalog.max(c.writers_connected) AS writers_connected
  FROM nfpg.collector_counters c
 GROUP BY c.instance, c.exporter;
COMMENT ON VIEW nfpg.collector_stats IS 'nfpgd''s counters per loader instance, in total (exporter NULL) and per source address, added up over its runs (docs/loader.md)';
COMMENT ON COLUMN nfpg.collector_stats.since IS 'Start of the first run counted';
COMMENT ON COLUMN nfpg.collector_stats.running_since IS 'Start of the current (or last) run; NULL for an address the current run has not counted';
COMMENT ON COLUMN nfpg.collector_stats.updated IS 'Time of the last report';
COMMENT ON COLUMN nfpg.collector_stats.datagrams IS 'Datagrams received (all sources, allowed or not)';
COMMENT ON COLUMN nfpg.collector_stats.flows IS 'Flows decoded';
COMMENT ON COLUMN nfpg.collector_stats.denied IS 'Datagrams from sources outside allow_exporters, dropped before decoding';
COMMENT ON COLUMN nfpg.collector_stats.rejected IS 'Datagrams the decoders refused (malformed, unknown version)';
COMMENT ON COLUMN nfpg.collector_stats.queue_drops IS 'Datagrams dropped because the datagram queue and its overflow file were full';
COMMENT ON COLUMN nfpg.collector_stats.socket_drops IS 'Datagrams the kernel dropped (socket receive buffer full)';
COMMENT ON COLUMN nfpg.collector_stats.out_of_window IS 'Flows whose first_seen was outside the accepted window, kept in spool_dir/quarantine instead of nfpg.flows';
COMMENT ON COLUMN nfpg.collector_stats.loaded_flows IS 'Flows committed directly';
COMMENT ON COLUMN nfpg.collector_stats.spooled_flows IS 'Flows written to the spool';
COMMENT ON COLUMN nfpg.collector_stats.replayed_flows IS 'Flows committed from the spool';
COMMENT ON COLUMN nfpg.collector_stats.lost_flows IS 'Flows neither committed nor spooled (spool full or unwritable)';
COMMENT ON COLUMN nfpg.collector_stats.failed_batches IS 'Batches moved to spool_dir/failed (corrupt, or refused by the database)';
COMMENT ON COLUMN nfpg.collector_stats.duplicate_batches IS 'Spooled batches found already loaded';
COMMENT ON COLUMN nfpg.collector_stats.queue_bytes IS 'Datagram bytes waiting to be decoded, at the last report';
COMMENT ON COLUMN nfpg.collector_stats.queued_batches IS 'Batches waiting for a writer, at the last report';
COMMENT ON COLUMN nfpg.collector_stats.spool_files IS 'Spool files waiting for replay, at the last report';
COMMENT ON COLUMN nfpg.collector_stats.quarantine_files IS 'Files in spool_dir/quarantine, at the last report';
COMMENT ON COLUMN nfpg.collector_stats.writers_connected IS 'Writers with a database connection, at the last report';

SELECT pg_catalog.pg_extension_config_dump('nfpg.collector_counters', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON nfpg.collector_counters TO nfpg_owner;
ALTER FUNCTION nfpg.collector_report(text, timestamptz, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, integer) OWNER TO nfpg_owner;
ALTER FUNCTION nfpg.collector_report_source(text, timestamptz, inet, bigint, bigint, bigint, bigint) OWNER TO nfpg_owner;
REVOKE ALL ON FUNCTION nfpg.collector_report(text, timestamptz, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.collector_report_source(text, timestamptz, inet, bigint, bigint, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nfpg.collector_report(text, timestamptz, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, integer) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.collector_report_source(text, timestamptz, inet, bigint, bigint, bigint, bigint) TO nfpg_loader;
GRANT SELECT ON nfpg.collector_stats TO nfpg_reader;
