--------------------------------------------------------------------------------
-- Exporters
--
-- One row per exporter identity (address, protocol version, source id /
-- observation domain) -- the version too, as nfcapd keeps v5, v9 and IPFIX
-- exporters apart even on one router -- kept by the loader through
-- exporter_report(), which adds the counts seen since its previous report.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.exporters (
	exporter			inet NOT NULL,
	source_id			bigint NOT NULL,
	export_version		smallint NOT NULL,
	first_seen			timestamptz NOT NULL,
	last_seen			timestamptz NOT NULL,
	packets				bigint NOT NULL DEFAULT 0,
	flows				bigint NOT NULL DEFAULT 0,
	sequence_failures	bigint NOT NULL DEFAULT 0,
	templates			integer NOT NULL DEFAULT 0,
	sampling_interval	integer,
	PRIMARY KEY (exporter, export_version, source_id)
);
COMMENT ON TABLE nfpg.exporters IS 'Exporters seen by the loader, one row per address, protocol version and source id / observation domain';
COMMENT ON COLUMN nfpg.exporters.exporter IS 'UDP source address of the exporter';
COMMENT ON COLUMN nfpg.exporters.source_id IS 'NetFlow v9 source id, IPFIX observation domain id, v5 engine type<<8|engine id, sFlow sub-agent id';
COMMENT ON COLUMN nfpg.exporters.export_version IS 'Export protocol: 1, 5, 7, 9, 10 (IPFIX) or 0x85 (sFlow v5)';
COMMENT ON COLUMN nfpg.exporters.first_seen IS 'When the loader first heard from this exporter';
COMMENT ON COLUMN nfpg.exporters.last_seen IS 'When the loader last heard from this exporter';
COMMENT ON COLUMN nfpg.exporters.packets IS 'Export datagrams received';
COMMENT ON COLUMN nfpg.exporters.flows IS 'Flow records received';
COMMENT ON COLUMN nfpg.exporters.sequence_failures IS 'Sequence number gaps, counted as nfcapd counts them';
COMMENT ON COLUMN nfpg.exporters.templates IS 'Templates currently known (v9 / IPFIX)';
COMMENT ON COLUMN nfpg.exporters.sampling_interval IS 'Sampling interval announced by the exporter (1 in N); NULL when unsampled';

CREATE FUNCTION nfpg.exporter_report(exporter inet, source_id bigint, export_version smallint,
									 seen timestamptz, packets bigint, flows bigint,
									 sequence_failures bigint, templates integer,
									 sampling_interval integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO nfpg.exporters AS e
		(exporter, source_id, export_version, first_seen, last_seen, packets, flows,
		 sequence_failures, templates, sampling_interval)
	VALUES (exporter, source_id, export_version, seen, seen, packets, flows,
			sequence_failures, templates, sampling_interval)
	ON CONFLICT ON CONSTRAINT exporters_pkey DO UPDATE SET
		last_seen = greatest(e.last_seen, excluded.last_seen),
		packets = e.packets + excluded.packets,
		flows = e.flows + excluded.flows,
		sequence_failures = e.sequence_failures + excluded.sequence_failures,
		templates = excluded.templates,
		sampling_interval = excluded.sampling_interval;
END;
COMMENT ON FUNCTION nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer) IS 'Add the loader''s counts since its last report to an exporter''s row';
