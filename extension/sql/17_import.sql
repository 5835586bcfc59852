--------------------------------------------------------------------------------
-- Imported nfcapd files (nfpg-import)
--
-- nfpg-import loads each nfcapd file in one transaction that also records
-- the file here, keyed by its content (SHA-256 and size): a file whose
-- content is recorded is not loaded again, whatever its path now, and a
-- path recorded with other content is reported as changed (nfcapd 1.7
-- appends to a file when a collector restarts within its time slot).  An
-- import that is interrupted loses only the file it was loading, which the
-- next run loads again.
--
-- The table is bookkeeping that belongs to the installation, so it is part
-- of the extension but dumped with the data (pg_extension_config_dump).
-- nfpg-import runs as a member of nfpg_loader and reaches it only through
-- the two functions below.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.imported_files (
	sha256				bytea NOT NULL CHECK (length(sha256) = 32),
	size				bigint NOT NULL CHECK (size >= 0),
	path				text NOT NULL,
	status				text NOT NULL CHECK (status IN ('complete', 'salvaged')),
	flows				bigint NOT NULL,
	packets				bigint NOT NULL,
	bytes				bigint NOT NULL,
	first_seen			timestamptz,
	last_seen			timestamptz,
	layout				smallint NOT NULL CHECK (layout IN (1, 2)),
	compression			text NOT NULL,
	ident				text,
	problems			text,
	imported			timestamptz NOT NULL DEFAULT now(),
	imported_by			name NOT NULL DEFAULT session_user,
	PRIMARY KEY (sha256, size)
);
CREATE INDEX imported_files_path ON nfpg.imported_files (path);
SELECT pg_catalog.pg_extension_config_dump('nfpg.imported_files', '');

COMMENT ON TABLE nfpg.imported_files IS 'nfcapd files loaded by nfpg-import, one row per file content';
COMMENT ON COLUMN nfpg.imported_files.sha256 IS 'SHA-256 of the file''s bytes: the same content is never imported twice';
COMMENT ON COLUMN nfpg.imported_files.size IS 'File size in bytes';
COMMENT ON COLUMN nfpg.imported_files.path IS 'Path the file was imported from (absolute)';
COMMENT ON COLUMN nfpg.imported_files.status IS 'complete, or salvaged: a damaged file of which only the readable blocks were loaded (nfpg-import --salvage)';
COMMENT ON COLUMN nfpg.imported_files.flows IS 'Flow records loaded from the file';
COMMENT ON COLUMN nfpg.imported_files.packets IS 'Sum of their packets';
COMMENT ON COLUMN nfpg.imported_files.bytes IS 'Sum of their bytes';
COMMENT ON COLUMN nfpg.imported_files.first_seen IS 'Earliest first_seen of the flows loaded';
COMMENT ON COLUMN nfpg.imported_files.last_seen IS 'Latest last_seen of the flows loaded';
COMMENT ON COLUMN nfpg.imported_files.layout IS 'nfcapd file layout: 1 (nfdump 1.6) or 2 (nfdump 1.7)';
COMMENT ON COLUMN nfpg.imported_files.compression IS 'Block compression: none, LZO, bzip2, LZ4 or ZSTD';
COMMENT ON COLUMN nfpg.imported_files.ident IS 'The file''s ident string (nfcapd -I, the NfSen source)';
COMMENT ON COLUMN nfpg.imported_files.problems IS 'What was wrong with the file (damaged blocks, skipped records), NULL if nothing';
COMMENT ON COLUMN nfpg.imported_files.imported IS 'When the file was committed';
COMMENT ON COLUMN nfpg.imported_files.imported_by IS 'The role that imported it';

-- Called first in a file's transaction.  The advisory lock makes a second
-- importer of the same content wait for the first one's outcome.
CREATE FUNCTION nfpg.import_check(path text, size bigint, sha256 bytea,
								  OUT state text, OUT other_path text, OUT other_imported timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended(encode(import_check.sha256, 'hex'), 0));
	PERFORM pg_advisory_xact_lock(hashtextextended(import_check.path, 0));
	SELECT 'imported', f.path, f.imported INTO state, other_path, other_imported
	  FROM nfpg.imported_files f
	 WHERE f.sha256 = import_check.sha256 AND f.size = import_check.size;
	IF FOUND THEN
		RETURN;
	END IF;
	SELECT 'changed', f.path, f.imported INTO state, other_path, other_imported
	  FROM nfpg.imported_files f
	 WHERE f.path = import_check.path
	 ORDER BY f.imported DESC LIMIT 1;
	IF NOT FOUND THEN
		state := 'new';
	END IF;
END
$$;
COMMENT ON FUNCTION nfpg.import_check(text, bigint, bytea) IS 'Whether a file''s content was imported (state imported, with where and when), its path was imported with other content (changed), or neither (new); locks the file for the transaction';

CREATE FUNCTION nfpg.import_record(path text, size bigint, sha256 bytea, status text,
								   flows bigint, packets bigint, bytes bigint,
								   first_seen timestamptz, last_seen timestamptz,
								   layout smallint, compression text, ident text, problems text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO nfpg.imported_files (sha256, size, path, status, flows, packets, bytes,
									 first_seen, last_seen, layout, compression, ident, problems)
	VALUES ($3, $2, $1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13);
$$;
COMMENT ON FUNCTION nfpg.import_record(text, bigint, bytea, text, bigint, bigint, bigint, timestamptz, timestamptz, smallint, text, text, text) IS 'Record a file as imported, in the transaction that loaded its flows';

-- Like the loader's functions (90_grants.sql), these run as nfpg_owner,
-- which may read and add rows of nfpg.imported_files and nothing more here.
GRANT SELECT, INSERT ON nfpg.imported_files TO nfpg_owner;
ALTER FUNCTION nfpg.import_check(text, bigint, bytea) OWNER TO nfpg_owner;
ALTER FUNCTION nfpg.import_record(text, bigint, bytea, text, bigint, bigint, bigint, timestamptz, timestamptz, smallint, text, text, text) OWNER TO nfpg_owner;
REVOKE ALL ON FUNCTION nfpg.import_check(text, bigint, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.import_record(text, bigint, bytea, text, bigint, bigint, bigint, timestamptz, timestamptz, smallint, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nfpg.import_check(text, bigint, bytea) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.import_record(text, bigint, bytea, text, bigint, bigint, bigint, timestamptz, timestamptz, smallint, text, text, text) TO nfpg_loader;
GRANT SELECT ON nfpg.imported_files TO nfpg_reader, nfpg_admin;
