--------------------------------------------------------------------------------
-- setup(): the user's data, made once per database
--
-- CREATE EXTENSION nfpg installs code and the (dumped) configuration tables;
-- it does not make nfpg.flows.  If it did, pg_restore -- which runs CREATE
-- EXTENSION and then the dump's own CREATE TABLE nfpg.flows -- would fail,
-- and DROP EXTENSION would drop every flow with the extension.  So:
--
--   CREATE EXTENSION nfpg;
--   SELECT nfpg.setup();
--
-- setup() makes nfpg.flows as a typed table of the extension's nfpg.flow,
-- its default partition and time BRIN index, owned by nfpg_owner (the role
-- the partition functions run as), with the loader's and readers' grants,
-- the settings rows and the live profile (every flow, for the web page's
-- overview).  It is idempotent: on a restored database, or run
-- twice, it only adds what is missing.  A dump restores everything setup()
-- made, so it is never needed after pg_restore.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.setup()
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	made		text[] := '{}';
	col			record;
BEGIN
	INSERT INTO nfpg.settings DEFAULT VALUES ON CONFLICT DO NOTHING;
	IF FOUND THEN made := made || 'nfpg.settings row'::text; END IF;
	INSERT INTO nfpg.nfsen_settings DEFAULT VALUES ON CONFLICT DO NOTHING;
	IF FOUND THEN made := made || 'nfpg.nfsen_settings row'::text; END IF;

	IF to_regclass('nfpg.flows') IS NULL THEN
		CREATE TABLE nfpg.flows OF nfpg.flow (
			first_seen WITH OPTIONS NOT NULL,
			last_seen WITH OPTIONS NOT NULL,
			received WITH OPTIONS NOT NULL DEFAULT now(),
			packets WITH OPTIONS NOT NULL DEFAULT 0,
			bytes WITH OPTIONS NOT NULL DEFAULT 0,
			source_id WITH OPTIONS NOT NULL DEFAULT 0,
			src_port WITH OPTIONS NOT NULL DEFAULT 0,
			dst_port WITH OPTIONS NOT NULL DEFAULT 0,
			flows WITH OPTIONS NOT NULL DEFAULT 1,
			proto WITH OPTIONS NOT NULL,
			tcp_flags WITH OPTIONS NOT NULL DEFAULT 0,
			src_tos WITH OPTIONS NOT NULL DEFAULT 0,
			src_addr WITH OPTIONS NOT NULL,
			dst_addr WITH OPTIONS NOT NULL,
			exporter WITH OPTIONS NOT NULL,
			CONSTRAINT flows_proto_range CHECK (proto BETWEEN 0 AND 255),
			CONSTRAINT flows_port_range CHECK (src_port BETWEEN 0 AND 65535 AND dst_port BETWEEN 0 AND 65535)
		) PARTITION BY RANGE (first_seen);
		COMMENT ON TABLE nfpg.flows IS 'One row per flow record (nfdump record), partitioned by first_seen; a typed table of nfpg.flow, made by nfpg.setup()';
		-- The columns' documentation lives on the type, in 00_flows.sql.
		FOR col IN SELECT a.attname, d.description
					 FROM pg_catalog.pg_attribute a
					 JOIN pg_catalog.pg_description d
					   ON d.classoid = 'pg_catalog.pg_class'::regclass
					  AND d.objoid = 'nfpg.flow'::regclass AND d.objsubid = a.attnum
					WHERE a.attrelid = 'nfpg.flow'::regclass AND a.attnum > 0
		LOOP
			EXECUTE format('COMMENT ON COLUMN nfpg.flows.%I IS %L', col.attname, col.description);
		END LOOP;
		CREATE TABLE nfpg.flows_default PARTITION OF nfpg.flows DEFAULT;
		COMMENT ON TABLE nfpg.flows_default IS 'Flows for which no time partition existed when they arrived (emptied by ensure_partitions()), and flows outside the accepted window of nfpg.settings';
		-- Every partition, present and future, gets a BRIN index on time:
		-- flows arrive roughly in time order, so a tiny BRIN serves windows.
		CREATE INDEX flows_first_seen_brin ON nfpg.flows USING brin (first_seen) WITH (pages_per_range = 32);
		ALTER TABLE nfpg.flows OWNER TO nfpg_owner;
		ALTER TABLE nfpg.flows_default OWNER TO nfpg_owner;
		GRANT INSERT ON nfpg.flows TO nfpg_loader;
		GRANT SELECT ON nfpg.flows TO nfpg_reader, nfpg_admin;
		made := made || 'nfpg.flows'::text;
	END IF;
	-- NfSen's first profile: every flow, for the overview.
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles WHERE profile = 'live') THEN
		PERFORM nfpg.nf_live_profile();
		made := made || 'the live profile'::text;
	END IF;
	RETURN CASE WHEN cardinality(made) = 0 THEN 'nothing to do: nfpg is set up'
				ELSE 'made ' || array_to_string(made, ', ') END;
END
$$;
COMMENT ON FUNCTION nfpg.setup() IS 'Make the user''s data objects of nfpg in this database (nfpg.flows, its default partition, the settings rows, the live profile) when missing; run once after CREATE EXTENSION nfpg, never needed after pg_restore';
REVOKE ALL ON FUNCTION nfpg.setup() FROM PUBLIC;
