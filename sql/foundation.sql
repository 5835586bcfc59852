-- The foundation: the extension, the flows table and its types, partitions,
-- the default partition, exporters, and the loader role's privileges.
SET timezone = 'UTC';
\set VERBOSITY terse
-- Start from no partitions, whatever earlier tests left.
DO $$
DECLARE r regclass;
BEGIN
	FOR r IN SELECT relid FROM nfpg.partitions LOOP
		EXECUTE format('DROP TABLE %s', r);
	END LOOP;
	DELETE FROM nfpg.partitions;
END $$;
TRUNCATE nfpg.flows, nfpg.exporters;

SELECT extname, extversion, extnamespace::regnamespace FROM pg_extension WHERE extname = 'nfpg';

-- Every column, its type and nullability (the narrowest type holding the values).
SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
       col_description(a.attrelid, a.attnum) IS NOT NULL AS commented
FROM pg_attribute a
WHERE a.attrelid = 'nfpg.flows'::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;

-- Partitions for a window that crosses midnight: 22:00 to 01:59 (premake 0 to count exactly).
UPDATE nfpg.settings SET premake = '0';
SELECT nfpg.ensure_partitions('2024-03-11 22:15+00', '2024-03-12 01:30+00');
SELECT relid, lower_bound, upper_bound FROM nfpg.partitions ORDER BY lower_bound;
-- Asking again creates nothing.
SELECT nfpg.ensure_partitions('2024-03-11 22:00+00', '2024-03-12 01:59+00');
-- Every partition has the BRIN index on first_seen.
SELECT c.relname, am.amname
FROM nfpg.partitions p JOIN pg_class c ON c.oid = p.relid
JOIN pg_index i ON i.indrelid = p.relid JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
ORDER BY 1;

-- A flow each side of midnight goes to its own partition.
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, exporter)
VALUES ('2024-03-11 23:59:59.999+00', '2024-03-12 00:00:00.5+00', 6, '10.0.0.1', '10.0.0.2', '127.0.0.1'),
       ('2024-03-12 00:00:00.000+00', '2024-03-12 00:00:01+00', 17, '2001:db8::1', '2001:db8::2', '::1');
SELECT tableoid::regclass, first_seen, src_addr, flows FROM nfpg.flows ORDER BY first_seen;

-- Millisecond precision is kept.
SELECT to_char(last_seen, 'HH24:MI:SS.MS') FROM nfpg.flows WHERE proto = 6;

-- A flow far outside every partition is not lost: it waits in the default
-- partition and moves into its own partition when that is created.
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, exporter)
VALUES ('2031-07-01 12:34:56+00', '2031-07-01 12:35:00+00', 1, '192.0.2.1', '192.0.2.2', '127.0.0.1');
SELECT tableoid::regclass, count(*) FROM nfpg.flows GROUP BY 1 ORDER BY 1;
SELECT nfpg.rescue_default();
SELECT tableoid::regclass, count(*) FROM nfpg.flows GROUP BY 1 ORDER BY 1;
SELECT count(*) AS left_in_default FROM nfpg.flows_default;
-- ensure_partitions also moves rows waiting in the default partition.
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, exporter)
VALUES ('2032-01-01 00:10+00', '2032-01-01 00:10+00', 6, '192.0.2.1', '192.0.2.2', '127.0.0.1');
SELECT nfpg.ensure_partitions('2032-01-01 00:00+00');
SELECT tableoid::regclass FROM nfpg.flows WHERE first_seen >= '2032-01-01';

-- A changed width never overlaps existing partitions: the 2-hour slots
-- 00:00-02:00 are covered by 1-hour partitions, so the first new one is 02:00-04:00.
UPDATE nfpg.settings SET partition_width = '2 hours';
SELECT nfpg.ensure_partitions('2024-03-12 01:00+00', '2024-03-12 03:00+00');
SELECT relid, lower_bound, upper_bound FROM nfpg.partitions
WHERE lower_bound >= '2024-03-12 00:00+00' AND lower_bound < '2025-01-01' ORDER BY lower_bound;
UPDATE nfpg.settings SET partition_width = '1 hour', premake = '3 hours';

-- Exporters: reports add up; the version and templates are current values.
SELECT nfpg.exporter_report('192.0.2.9', 256, 9::smallint, '2024-03-11 10:00+00', 10, 300, 0, 2, NULL);
SELECT nfpg.exporter_report('192.0.2.9', 256, 9::smallint, '2024-03-11 10:05+00', 5, 150, 1, 3, 100);
SELECT exporter, source_id, export_version, first_seen, last_seen, packets, flows,
       sequence_failures, templates, sampling_interval FROM nfpg.exporters;

-- The loader role can append flows, create partitions and report exporters,
-- but it cannot read flows, change them or drop anything.
CREATE ROLE regress_nfpgd LOGIN IN ROLE nfpg_loader;
SET ROLE regress_nfpgd;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, exporter)
VALUES ('2024-03-11 22:30+00', '2024-03-11 22:30+00', 6, '10.9.9.9', '10.8.8.8', '127.0.0.1');
SELECT nfpg.ensure_partitions('2024-03-13 00:00+00', '2024-03-13 00:00+00');
SELECT nfpg.exporter_report('192.0.2.10', 0, 5::smallint, '2024-03-11 10:00+00', 1, 30, 0, 0, NULL);
SELECT count(*) FROM nfpg.flows;
SELECT count(*) FROM nfpg.flows_20240311_2200;
SELECT count(*) FROM nfpg.exporters;
UPDATE nfpg.flows SET bytes = 0;
DELETE FROM nfpg.flows;
TRUNCATE nfpg.flows;
DROP TABLE nfpg.flows_20240311_2200;
DROP TABLE nfpg.flows;
ALTER TABLE nfpg.flows DETACH PARTITION nfpg.flows_20240311_2200;
SELECT nfpg.create_partition('2040-01-01', '2040-01-02');
SELECT nfpg.rescue_default();
RESET ROLE;
SELECT count(*) AS flows_after_loader FROM nfpg.flows;
DROP ROLE regress_nfpgd;

-- Clean up for the tests that follow.
TRUNCATE nfpg.flows, nfpg.exporters;
DO $$
DECLARE r regclass;
BEGIN
	FOR r IN SELECT relid FROM nfpg.partitions LOOP
		EXECUTE format('DROP TABLE %s', r);
	END LOOP;
	DELETE FROM nfpg.partitions;
END $$;
