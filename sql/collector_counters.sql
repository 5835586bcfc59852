-- nfpgd's counters in SQL (17_counters.sql): collector_report() sets a run's
-- totals and gauges, collector_report_source() one address's counts; a
-- report sent again counts nothing twice; the first report of a new run
-- folds the earlier runs into one row per address, so the view adds runs
-- up; bad arguments and a full table are refused; nfpg_loader may report
-- but not read, nfpg_reader may read the view but not report.
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.collector_counters;

-- Run 1 of instance c1: two reports (counts since its start, sent whole).
SELECT nfpg.collector_report('c1', '2026-01-01 10:00+00', 100, 900, 40, 3, 2, 1, 7,
	800, 50, 10, 5, 1, 0, 4096, 2, 3, 30000, 1, 500, 2);
SELECT nfpg.collector_report_source('c1', '2026-01-01 10:00+00', '192.0.2.66', 40, 0, 0, 0);
SELECT nfpg.collector_report_source('c1', '2026-01-01 10:00+00', '192.0.2.1', 0, 3, 2, 7);
SELECT nfpg.collector_report('c1', '2026-01-01 10:00+00', 150, 1200, 60, 3, 2, 1, 7,
	1100, 50, 50, 5, 1, 0, 0, 0, 0, 0, 1, 500, 2);
SELECT nfpg.collector_report_source('c1', '2026-01-01 10:00+00', '192.0.2.66', 60, 0, 0, 0);
SELECT exporter, since, running_since, datagrams, flows, denied, rejected, queue_drops,
	   socket_drops, out_of_window, loaded_flows, lost_flows, spool_files, writers_connected
  FROM nfpg.collector_stats ORDER BY exporter NULLS FIRST;

-- Run 2 starts: run 1 is folded into one row per address, and the view adds up.
SELECT nfpg.collector_report('c1', '2026-01-02 08:00+00', 10, 90, 5, 0, 0, 0, 0,
	90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 500, 2);
SELECT nfpg.collector_report_source('c1', '2026-01-02 08:00+00', '192.0.2.66', 5, 0, 0, 0);
SELECT exporter, boot, denied, datagrams FROM nfpg.collector_counters ORDER BY exporter NULLS FIRST, boot;
SELECT exporter, since, running_since, datagrams, denied, rejected, out_of_window, loaded_flows,
	   spool_files, writers_connected
  FROM nfpg.collector_stats ORDER BY exporter NULLS FIRST;
-- Run 3: the folded row absorbs run 2.
SELECT nfpg.collector_report('c1', '2026-01-03 08:00+00', 1, 1, 1, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
SELECT exporter, boot, denied FROM nfpg.collector_counters ORDER BY exporter NULLS FIRST, boot;
SELECT denied, datagrams FROM nfpg.collector_stats WHERE exporter IS NULL;

-- Refused arguments.
SELECT nfpg.collector_report(NULL, now(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
SELECT nfpg.collector_report('c1', 'infinity', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
SELECT nfpg.collector_report_source('c1', '2026-01-03 08:00+00', NULL, 1, 0, 0, 0);

-- The table is capped: a loader cannot grow it without bound.
INSERT INTO nfpg.collector_counters (instance, boot, exporter, since, updated)
SELECT 'filler', '2026-01-01', ('10.0.0.0'::inet + i), '2026-01-01', now()
  FROM generate_series(1, 10000 - (SELECT count(*) FROM nfpg.collector_counters)::int) i;
SELECT nfpg.collector_report_source('c1', '2026-01-03 08:00+00', '198.51.100.1', 1, 0, 0, 0);
SELECT nfpg.collector_report('c1', '2026-01-03 08:00+00', 2, 2, 2, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);	-- an existing row is still updated
SELECT denied FROM nfpg.collector_stats WHERE instance = 'c1' AND exporter IS NULL;
DELETE FROM nfpg.collector_counters WHERE instance = 'filler';

-- Privileges.
SET ROLE nfpg_loader;
SELECT nfpg.collector_report_source('c1', '2026-01-03 08:00+00', '192.0.2.9', 1, 0, 0, 0);
SELECT count(*) FROM nfpg.collector_counters;
SELECT count(*) FROM nfpg.collector_stats;
DELETE FROM nfpg.collector_counters;
RESET ROLE;
SET ROLE nfpg_reader;
SELECT exporter, denied FROM nfpg.collector_stats ORDER BY exporter NULLS FIRST;
SELECT nfpg.collector_report_source('c1', '2026-01-03 08:00+00', '192.0.2.10', 1, 0, 0, 0);
SELECT count(*) FROM nfpg.collector_counters;
RESET ROLE;
TRUNCATE nfpg.collector_counters;
