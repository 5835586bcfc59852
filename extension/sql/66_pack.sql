--------------------------------------------------------------------------------
-- Packed partitions: finished hours in compressed columns
--
-- nfpg.pack_partition(p) turns a finished heap partition of nfpg.flows into a
-- packed one: a foreign table of the nfpg_packed wrapper (pack_fdw.c explains
-- why a foreign table) whose flows live in two heap tables, p_seg (segments of
-- compressed column chunks, one row per ~131k flows) and p_late (flows that
-- arrive later).  nfpg.flows stays one table: every query reads packed hours
-- through it, unchanged.  nfpg.unpack_partition(p) gives the heap partition
-- back, row for row.
--
-- Both are one transaction: the segments are built while the heap partition
-- is locked against writers (SHARE), then the heap partition is dropped and
-- the foreign one created in its place.  A crash or error before COMMIT
-- leaves the heap partition as it was; calling either again is harmless
-- (pack of a packed partition merges its late flows into new segments;
-- unpack of a heap partition does nothing).
-- The swap takes an ACCESS EXCLUSIVE lock on nfpg.flows for a moment (DROP
-- and CREATE ... PARTITION OF); lock_timeout bounds the wait, and a pack
-- that times out is simply tried again by the next scheduled run.
--
-- The storage tables are user data created here, not by CREATE EXTENSION,
-- so pg_dump dumps them (and the foreign tables without rows), and a
-- restore brings the packed hours back.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nfpg_packed_handler()
RETURNS fdw_handler
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'nfpg_packed_handler';

CREATE FUNCTION nfpg.nfpg_packed_validator(text[], oid)
RETURNS void
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'nfpg_packed_validator';

CREATE FOREIGN DATA WRAPPER nfpg_packed
	HANDLER nfpg.nfpg_packed_handler
	VALIDATOR nfpg.nfpg_packed_validator;
COMMENT ON FOREIGN DATA WRAPPER nfpg_packed IS 'Packed (compressed, column-wise) partitions of nfpg.flows';
CREATE SERVER nfpg_packed FOREIGN DATA WRAPPER nfpg_packed;
COMMENT ON SERVER nfpg_packed IS 'The one server of packed nfpg.flows partitions; used by nfpg.pack_partition() only';

CREATE FUNCTION nfpg.pack_build(src regclass, dst regclass, block_rows integer, segment_blocks integer,
								zstd_level integer, OUT flows bigint, OUT key_columns text[],
								OUT key_distinct float8[])
RETURNS record
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'nfpg_pack_build_0_6';
COMMENT ON FUNCTION nfpg.pack_build(regclass, regclass, integer, integer, integer) IS 'Internal to pack_partition(): write the rows of src, in port runs (5-minute slot, service port, first_seen), as compressed segments into the segment table dst; returns the flows and the n_distinct of the address and port columns';
REVOKE ALL ON FUNCTION nfpg.pack_build(regclass, regclass, integer, integer, integer) FROM PUBLIC;

-- Grant on a relation what acl (the replaced partition's relacl) granted to others than owner.
CREATE FUNCTION nfpg.pack_copy_grants(acl aclitem[], owner oid, to_rel regclass)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	g		record;
BEGIN
	FOR g IN SELECT a.privilege_type, a.grantee FROM aclexplode(acl) a WHERE a.grantee <> owner
	LOOP
		EXECUTE format('GRANT %s ON %s TO %s', g.privilege_type, to_rel,
					   CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(g.grantee::regrole::text) END);
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION nfpg.pack_copy_grants(aclitem[], oid, regclass) FROM PUBLIC;

CREATE FUNCTION nfpg.pack_partition(part regclass, zstd_level integer DEFAULT NULL,
									block_rows integer DEFAULT 8192, segment_blocks integer DEFAULT 16)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p			nfpg.partitions;
	name		text;
	kind		"char";
	cols		text;
	seg			text;
	late		text;
	suffix		text := '';
	new_rel		regclass;
	acl			aclitem[];
	owner		oid;
	n			bigint;
	key_cols	text[];
	key_nd		float8[];
	t0			timestamptz := clock_timestamp();
BEGIN
	PERFORM pg_advisory_xact_lock('nfpg.flows'::regclass::oid::bigint);
	SELECT * INTO p FROM nfpg.partitions WHERE relid = part;
	SELECT c.relname, c.relkind INTO name, kind FROM pg_class c
	 WHERE c.oid = part AND c.relnamespace = 'nfpg'::regnamespace;
	IF p.relid IS NULL OR name IS NULL THEN
		RAISE EXCEPTION '% is not a time partition of nfpg.flows', part
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF kind = 'f' THEN
		-- repack: read the packed rows and the late ones, build beside them
		suffix := '_next';
		EXECUTE format('LOCK TABLE nfpg.%I IN SHARE MODE', name || '_late');
	ELSE
		EXECUTE format('LOCK TABLE %s IN SHARE MODE', part);
	END IF;
	seg := name || '_seg' || suffix;
	late := name || '_late' || suffix;

	-- segments: metadata, then one bytea per flows column, named as the column
	SELECT string_agg(format('%I bytea', a.attname), ', ' ORDER BY a.attnum) INTO cols
	  FROM pg_attribute a
	 WHERE a.attrelid = 'nfpg.flows'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
	EXECUTE format('CREATE TABLE nfpg.%I (seg_no integer NOT NULL, seg_rows integer NOT NULL, '
				   'seg_first_min timestamptz, seg_first_max timestamptz, seg_summary bytea NOT NULL, %s)',
				   seg, cols);
	-- the chunks are compressed already: no second try by TOAST
	SELECT string_agg(format('ALTER COLUMN %I SET STORAGE EXTERNAL', a.attname), ', ') INTO cols
	  FROM pg_attribute a
	 WHERE a.attrelid = format('nfpg.%I', seg)::regclass AND a.attnum > 0 AND a.atttypid = 'bytea'::regtype;
	EXECUTE format('ALTER TABLE nfpg.%I %s', seg, cols);
	EXECUTE format('CREATE TABLE nfpg.%I (LIKE nfpg.flows INCLUDING DEFAULTS)', late);

	SELECT b.flows, b.key_columns, b.key_distinct INTO n, key_cols, key_nd
	  FROM nfpg.pack_build(part, format('nfpg.%I', seg)::regclass, block_rows, segment_blocks,
						   coalesce(zstd_level, (SELECT s.pack_zstd_level FROM nfpg.settings s), 3)) b;

	SET LOCAL lock_timeout = '30s';
	IF kind = 'f' THEN
		EXECUTE format('DROP TABLE nfpg.%I, nfpg.%I', name || '_seg', name || '_late');
		EXECUTE format('ALTER TABLE nfpg.%I RENAME TO %I', seg, name || '_seg');
		EXECUTE format('ALTER TABLE nfpg.%I RENAME TO %I', late, name || '_late');
		-- an hour packed before 0.10 was in first_seen order: now in port runs
		EXECUTE format('ALTER FOREIGN TABLE %s OPTIONS (SET rows %L, %s "order" %L)', part, n::text,
					   CASE WHEN EXISTS (SELECT FROM pg_foreign_table t, unnest(t.ftoptions) o
										  WHERE t.ftrelid = part AND o LIKE 'order=%') THEN 'SET' ELSE 'ADD' END,
					   'slot_port');
		new_rel := part;
	ELSE
		-- keep the grants of the heap partition (the loader's INSERT)
		SELECT c.relacl, c.relowner INTO acl, owner FROM pg_class c WHERE c.oid = part;
		EXECUTE format('DROP TABLE %s', part);
		EXECUTE format('CREATE FOREIGN TABLE nfpg.%I PARTITION OF nfpg.flows FOR VALUES FROM (%L) TO (%L) '
					   'SERVER nfpg_packed OPTIONS (segments %L, late %L, rows %L, "order" %L)',
					   name, p.lower_bound, p.upper_bound,
					   format('nfpg.%I', seg), format('nfpg.%I', late), n::text, 'slot_port');
		new_rel := format('nfpg.%I', name)::regclass;
		PERFORM nfpg.pack_copy_grants(acl, owner, new_rel);
		UPDATE nfpg.partitions SET relid = new_rel WHERE relid = p.relid;
	END IF;
	-- the planner's statistics of the hour: without them a host lookup is
	-- costed as a scan of every flow (a database-wide ANALYZE and autovacuum
	-- skip foreign tables); the distinct addresses and ports counted while
	-- packing replace ANALYZE's estimate from its sample, a tenth of the truth
	IF cardinality(key_cols) > 0 THEN
		SELECT string_agg(format('ALTER COLUMN %I SET (n_distinct = %s)', u.c, u.d), ', ') INTO cols
		  FROM unnest(key_cols, key_nd) u(c, d);
		EXECUTE format('ALTER FOREIGN TABLE %s %s', new_rel, cols);
	END IF;
	EXECUTE format('ANALYZE %s', new_rel);
	RAISE LOG 'nfpg: packed % (% flows) in %', new_rel, n, clock_timestamp() - t0;
	RETURN n;
END
$$;
COMMENT ON FUNCTION nfpg.pack_partition(regclass, integer, integer, integer) IS 'Pack a partition of nfpg.flows into compressed column segments (a packed partition), or re-pack a packed one merging its late flows; one transaction; returns the flows packed; zstd_level NULL: nfpg.settings.pack_zstd_level';
REVOKE ALL ON FUNCTION nfpg.pack_partition(regclass, integer, integer, integer) FROM PUBLIC;

CREATE FUNCTION nfpg.unpack_partition(part regclass)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p			nfpg.partitions;
	name		text;
	kind		"char";
	heap		text;
	new_rel		regclass;
	n			bigint;
BEGIN
	PERFORM pg_advisory_xact_lock('nfpg.flows'::regclass::oid::bigint);
	SELECT * INTO p FROM nfpg.partitions WHERE relid = part;
	SELECT c.relname, c.relkind INTO name, kind FROM pg_class c
	 WHERE c.oid = part AND c.relnamespace = 'nfpg'::regnamespace;
	IF p.relid IS NULL OR name IS NULL THEN
		RAISE EXCEPTION '% is not a time partition of nfpg.flows', part
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF kind <> 'f' THEN
		RETURN 0;				-- a heap partition already
	END IF;
	EXECUTE format('LOCK TABLE nfpg.%I IN SHARE MODE', name || '_late');
	heap := name || '_unpacking';
	EXECUTE format('CREATE TABLE nfpg.%I (LIKE nfpg.flows INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', heap);
	EXECUTE format('INSERT INTO nfpg.%I SELECT * FROM %s', heap, part);
	GET DIAGNOSTICS n = ROW_COUNT;
	new_rel := format('nfpg.%I', heap)::regclass;
	PERFORM nfpg.pack_copy_grants(c.relacl, c.relowner, new_rel) FROM pg_class c WHERE c.oid = part;

	SET LOCAL lock_timeout = '30s';
	EXECUTE format('DROP FOREIGN TABLE %s', part);
	EXECUTE format('DROP TABLE nfpg.%I, nfpg.%I', name || '_seg', name || '_late');
	EXECUTE format('ALTER TABLE %s RENAME TO %I', new_rel, name);
	-- the CHECK lets ATTACH skip scanning the table (as create_partition does)
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (first_seen >= %L AND first_seen < %L)',
				   new_rel, name || '_range', p.lower_bound, p.upper_bound);
	EXECUTE format('ALTER TABLE nfpg.flows ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)',
				   new_rel, p.lower_bound, p.upper_bound);
	EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', new_rel, name || '_range');
	-- lookup indexes are rebuilt by the next index_partitions()
	UPDATE nfpg.partitions SET relid = new_rel, indexed = NULL WHERE relid = p.relid;
	RETURN n;
END
$$;
COMMENT ON FUNCTION nfpg.unpack_partition(regclass) IS 'Turn a packed partition back into a heap partition with exactly its flows (packed and late); returns the flows; nothing for a heap partition';
REVOKE ALL ON FUNCTION nfpg.unpack_partition(regclass) FROM PUBLIC;

CREATE FUNCTION nfpg.pack_status()
RETURNS TABLE (partition regclass, lower_bound timestamptz, upper_bound timestamptz, packed boolean,
			   flows bigint, late_flows bigint, segments bigint, bytes bigint, bytes_per_flow numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			record;
BEGIN
	FOR r IN SELECT p.relid, p.lower_bound AS lo, p.upper_bound AS hi, c.relkind, c.relname
			   FROM nfpg.partitions p JOIN pg_class c ON c.oid = p.relid ORDER BY p.lower_bound
	LOOP
		partition := r.relid;
		lower_bound := r.lo;
		upper_bound := r.hi;
		packed := r.relkind = 'f';
		IF packed THEN
			EXECUTE format('SELECT coalesce(sum(seg_rows), 0), count(*) FROM nfpg.%I', r.relname || '_seg')
			   INTO flows, segments;
			EXECUTE format('SELECT count(*) FROM nfpg.%I', r.relname || '_late') INTO late_flows;
			bytes := pg_total_relation_size(format('nfpg.%I', r.relname || '_seg'))
					 + pg_total_relation_size(format('nfpg.%I', r.relname || '_late'));
			flows := flows + late_flows;
		ELSE
			EXECUTE format('SELECT count(*) FROM %s', r.relid) INTO flows;
			late_flows := 0;
			segments := NULL;
			bytes := pg_total_relation_size(r.relid);
		END IF;
		bytes_per_flow := round(bytes::numeric / nullif(flows, 0), 2);
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION nfpg.pack_status() IS 'Every partition of nfpg.flows: packed or not, flows (late ones apart), segments, bytes on disk all-in (tables, TOAST, indexes) and bytes per flow';
REVOKE ALL ON FUNCTION nfpg.pack_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nfpg.pack_status() TO nfpg_reader, nfpg_admin;

CREATE FUNCTION nfpg.pack_partitions(older_than interval DEFAULT '2 hours', max_partitions integer DEFAULT 4,
									 now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p			record;
	n			bigint;
	done		integer := 0;
	has_rows	boolean;
	msg			text;
BEGIN
	-- newest finished hours first (they are the ones queried most), a few
	-- per call: a backlog is worked off over the scheduled runs
	FOR p IN SELECT r.relid, c.relkind, c.relname FROM nfpg.partitions r JOIN pg_class c ON c.oid = r.relid
			  WHERE r.upper_bound <= now - older_than
			  ORDER BY r.upper_bound DESC
	LOOP
		EXIT WHEN done >= max_partitions;
		-- packed ones with late flows to merge; heap ones with flows
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM nfpg.%I)',
					   CASE WHEN p.relkind = 'f' THEN p.relname || '_late' ELSE p.relname END) INTO has_rows;
		CONTINUE WHEN NOT has_rows;
		BEGIN
			n := nfpg.pack_partition(p.relid);
			RAISE NOTICE 'nfpg: packed nfpg.% (% flows)', p.relname, n;
			done := done + 1;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			RAISE WARNING 'nfpg: nfpg.% not packed: %', p.relname, msg;
		END;
	END LOOP;
	-- packed hours without statistics, as pg_restore or an update from 0.4
	-- leaves them: a few per call too
	FOR p IN SELECT r.relid, c.relname FROM nfpg.partitions r JOIN pg_class c ON c.oid = r.relid
			  WHERE c.relkind = 'f' AND c.reltuples < 0
			  ORDER BY r.upper_bound DESC LIMIT max_partitions
	LOOP
		BEGIN
			EXECUTE format('ANALYZE %s', p.relid::regclass);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			RAISE WARNING 'nfpg: nfpg.% not analyzed: %', p.relname, msg;
		END;
	END LOOP;
	RETURN done;
END
$$;
COMMENT ON FUNCTION nfpg.pack_partitions(interval, integer, timestamptz) IS 'Pack the partitions that ended more than older_than before now and hold flows not packed yet (heap partitions, or late flows of packed ones); newest first, at most max_partitions; then ANALYZE up to max_partitions packed ones that have no statistics (after pg_restore); returns how many were packed';
REVOKE ALL ON FUNCTION nfpg.pack_partitions(interval, integer, timestamptz) FROM PUBLIC;

-- Aging (60_aging.sql) and the other places that size or drop partitions
-- go through these two, which know that a packed partition's flows live in
-- its storage tables.
CREATE FUNCTION nfpg.partition_size(part regclass)
RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	name		text;
	kind		"char";
BEGIN
	SELECT c.relname, c.relkind INTO name, kind FROM pg_class c WHERE c.oid = part;
	IF kind = 'f' THEN
		RETURN coalesce(pg_total_relation_size(to_regclass(format('nfpg.%I', name || '_seg'))), 0)
			 + coalesce(pg_total_relation_size(to_regclass(format('nfpg.%I', name || '_late'))), 0);
	END IF;
	RETURN pg_total_relation_size(part);
END
$$;
COMMENT ON FUNCTION nfpg.partition_size(regclass) IS 'Disk usage of a flows partition, all-in (tables, TOAST, indexes), packed or not';

CREATE FUNCTION nfpg.drop_partition(part regclass)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	name		text;
	kind		"char";
BEGIN
	SELECT c.relname, c.relkind INTO name, kind FROM pg_class c WHERE c.oid = part;
	DELETE FROM nfpg.partitions WHERE relid = part;
	IF kind = 'f' THEN
		EXECUTE format('DROP FOREIGN TABLE %s', part);
		EXECUTE format('DROP TABLE IF EXISTS nfpg.%I, nfpg.%I', name || '_seg', name || '_late');
	ELSE
		EXECUTE format('DROP TABLE %s', part);
	END IF;
END
$$;
COMMENT ON FUNCTION nfpg.drop_partition(regclass) IS 'Drop a flows partition, with the storage tables of a packed one, and forget it in nfpg.partitions';
REVOKE ALL ON FUNCTION nfpg.drop_partition(regclass) FROM PUBLIC;

-- The packing functions run as nfpg_owner, which owns nfpg.flows and its
-- partitions (05_roles.sql, 95_setup.sql): the foreign partitions and their
-- storage tables get the same owner, which pack_fdw.c checks.
GRANT USAGE ON FOREIGN SERVER nfpg_packed TO nfpg_owner;
DO $$
DECLARE
	f	regprocedure;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		'nfpg.pack_partition(regclass, integer, integer, integer)',
		'nfpg.unpack_partition(regclass)',
		'nfpg.pack_partitions(interval, integer, timestamptz)',
		'nfpg.pack_status()']::regprocedure[]
	LOOP
		EXECUTE format('ALTER FUNCTION %s OWNER TO nfpg_owner', f);
	END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION nfpg.pack_build(regclass, regclass, integer, integer, integer),
	nfpg.pack_copy_grants(aclitem[], oid, regclass) TO nfpg_owner;
