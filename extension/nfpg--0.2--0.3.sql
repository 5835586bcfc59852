\echo Use "ALTER EXTENSION nfpg UPDATE" to load this file. \quit
--------------------------------------------------------------------------------
-- Nodes: several nfpg servers queried as one
--
-- A coordinator is a database whose nfpg.flows holds no flows of its own:
-- each partition is a postgres_fdw foreign table on the nfpg.flows of one
-- node, an ordinary nfpg server with its own collector, partitions, packing
-- and aging.  The coordinator's table is partitioned by LIST (exporter):
-- a node is a site, and a site is the set of routers that export to its
-- collector, so the rows a node holds are exactly those of its exporters
-- and nothing has to be routed or copied between servers.  (Partitioning by
-- time instead would make one node take all of the current hour's flows,
-- through the coordinator, which in PostgreSQL 15 copies rows into foreign
-- partitions one at a time.)  docs/scale-out.md has the topology.
--
-- Plain SQL over nfpg.flows is ordinary partitioning: the planner prunes
-- nodes on exporter, ships the nf_filter() conditions in the remote query,
-- and with async_capable the nodes scan at the same time.  Statistics are
-- not left to it: postgres_fdw in PostgreSQL 15 pushes only complete
-- aggregates to a node, never the partial ones partitionwise aggregation
-- would need, so nf_stat() would fetch every row.  Instead the partial
-- state is made a complete aggregate, nf_topn_state() (stat_remote.c): each
-- node returns one bytea, its serialized Top-N state, and the coordinator
-- merges them with the same code that merges parallel workers' states.
-- nf_topn_sql() writes that query; nf_stat, nf_aggregate and nf_summary
-- (30_stat.sql) use it, and give the same answers as one server.
--
-- A foreign partition's rows are not checked against its bounds, and a
-- remote scan does not send them: the list of a node's exporters matters
-- only for pruning (a query WHERE exporter = ...).  node_sync() brings the
-- lists up to date from the nodes' nfpg.exporters; an exporter seen by two
-- nodes is refused with both names, since pruning would then hide one.
--
-- These functions change the coordinator's schema: they are for its owner
-- (a superuser or the owner of nfpg.flows with USAGE on the servers), not
-- SECURITY DEFINER.  Credentials stay in PostgreSQL's own USER MAPPING,
-- made by the DBA; nfpg never sees a password.
--------------------------------------------------------------------------------

-- The specification is passed as bytea (its UTF-8 bytes, which the C
-- transition function reads as it reads text): a text argument has a
-- collation, and postgres_fdw ships no aggregate whose input collation does
-- not come from a column.
CREATE FUNCTION nfpg.nf_topn_state_trans(internal, bytea, integer, bigint, bigint, bigint, bigint,
	timestamptz, timestamptz, smallint, smallint, VARIADIC "any")
RETURNS internal AS 'MODULE_PATHNAME', 'nf_topn_trans' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_state_trans(internal, bytea, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any") IS 'Transition function of nf_topn_state (nf_topn''s, with the specification as bytea)';

CREATE FUNCTION nfpg.nf_topn_state_final(internal)
RETURNS text AS 'MODULE_PATHNAME', 'nf_topn_state_final' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_state_final(internal) IS 'Final function of nf_topn_state: the serialized partial state, zstd-compressed, in base64';

CREATE AGGREGATE nfpg.nf_topn_state(spec bytea, flows integer, packets bigint, bytes bigint,
	out_packets bigint, out_bytes bigint, first_seen timestamptz, last_seen timestamptz,
	tcp_flags smallint, tos smallint, VARIADIC keys "any") (
	SFUNC = nfpg.nf_topn_state_trans,
	STYPE = internal,
	FINALFUNC = nfpg.nf_topn_state_final,
	FINALFUNC_MODIFY = READ_WRITE,
	COMBINEFUNC = nfpg.nf_topn_combine,
	SERIALFUNC = nfpg.nf_topn_serial,
	DESERIALFUNC = nfpg.nf_topn_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE nfpg.nf_topn_state(bytea, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any") IS
'The partial state of nf_topn / nf_topn_records (same arguments, the specification as UTF-8 bytea), zstd-compressed, in base64: what a node returns to a coordinator, merged by nf_topn_merge or nf_topn_records_merge';

CREATE FUNCTION nfpg.nf_topn_merge_trans(internal, text)
RETURNS internal AS 'MODULE_PATHNAME', 'nf_topn_merge_trans' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_merge_trans(internal, text) IS 'Transition function of nf_topn_merge and nf_topn_records_merge: adds one serialized partial state';

CREATE AGGREGATE nfpg.nf_topn_merge(text) (
	SFUNC = nfpg.nf_topn_merge_trans,
	STYPE = internal,
	FINALFUNC = nfpg.nf_topn_final
);
COMMENT ON AGGREGATE nfpg.nf_topn_merge(text) IS 'Merge partial states of nf_topn_state (one per node) and rank them as nf_topn does';

CREATE AGGREGATE nfpg.nf_topn_records_merge(text) (
	SFUNC = nfpg.nf_topn_merge_trans,
	STYPE = internal,
	FINALFUNC = nfpg.nf_topn_records_final
);
COMMENT ON AGGREGATE nfpg.nf_topn_records_merge(text) IS 'Merge partial states of nf_topn_state (one per node) and rank them as nf_topn_records does';

-- The coordinator's configuration: which exporters each node holds.
-- Dumped with the database (93_config_dump.sql).
CREATE TABLE nfpg.nodes (
	node				name PRIMARY KEY,
	exporters			inet[] NOT NULL CHECK (cardinality(exporters) > 0),
	added				timestamptz NOT NULL DEFAULT now(),
	synced				timestamptz
);
COMMENT ON TABLE nfpg.nodes IS 'Nodes of a coordinator: the postgres_fdw server of each and the exporters whose flows it holds (its partition''s list)';
COMMENT ON COLUMN nfpg.nodes.node IS 'The postgres_fdw foreign server of the node; its partition is nfpg.flows_node_<node>';
COMMENT ON COLUMN nfpg.nodes.synced IS 'When node_sync() last read the node''s exporters';

CREATE FUNCTION nfpg.setup_coordinator()
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF to_regclass('nfpg.flows') IS NOT NULL THEN
		IF (SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'nfpg.flows'::regclass) = 'l' THEN
			RETURN 'nothing to do: this database is a coordinator';
		END IF;
		RAISE EXCEPTION 'nfpg.flows already exists here as a table of flows'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'A coordinator holds no flows: make it in a database of its own.';
	END IF;
	INSERT INTO nfpg.settings DEFAULT VALUES ON CONFLICT DO NOTHING;
	INSERT INTO nfpg.nfsen_settings DEFAULT VALUES ON CONFLICT DO NOTHING;
	CREATE TABLE nfpg.flows OF nfpg.flow (
		first_seen WITH OPTIONS NOT NULL,
		last_seen WITH OPTIONS NOT NULL,
		exporter WITH OPTIONS NOT NULL
	) PARTITION BY LIST (exporter);
	COMMENT ON TABLE nfpg.flows IS 'The flows of every node of this coordinator: one foreign partition per node (nfpg.node_add), by exporter';
	ALTER TABLE nfpg.flows OWNER TO nfpg_owner;
	GRANT SELECT ON nfpg.flows TO nfpg_reader, nfpg_admin;
	-- the web page's overview of every flow, now of every node's
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles WHERE profile = 'live') THEN
		PERFORM nfpg.nf_live_profile();
	END IF;
	RETURN 'made the coordinator''s nfpg.flows; add nodes with nfpg.node_add()';
END
$$;
COMMENT ON FUNCTION nfpg.setup_coordinator() IS 'Make this database a coordinator: nfpg.flows partitioned by exporter over nodes (nfpg.node_add), instead of nfpg.setup()''s local flows';
REVOKE ALL ON FUNCTION nfpg.setup_coordinator() FROM PUBLIC;

CREATE FUNCTION nfpg.is_coordinator()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN coalesce((SELECT p.partstrat = 'l' FROM pg_partitioned_table p
				  WHERE p.partrelid = to_regclass('nfpg.flows')), false);
COMMENT ON FUNCTION nfpg.is_coordinator() IS 'Whether this database''s nfpg.flows is a coordinator''s (setup_coordinator)';

-- The foreign table of a node, by name: a plain identifier, so the name
-- needs no quoting and cannot clash with an hourly partition's.
CREATE FUNCTION nfpg.node_partition(node name)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT
RETURN 'flows_node_' || node;

CREATE FUNCTION nfpg.node_check_exporters(node name, exporters inet[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	clash		record;
BEGIN
	SELECT n.node AS other, e AS exporter INTO clash
	  FROM nfpg.nodes n, unnest(n.exporters) e
	 WHERE n.node <> $1 AND e = ANY ($2) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'exporter % is on node "%" and on node "%"', host(clash.exporter), clash.other, $1
			USING ERRCODE = 'unique_violation',
				  HINT = 'An exporter''s flows must live on one node; stop its export to one of them (node_drain moves a node''s flows).';
	END IF;
END
$$;

-- Make a node's foreign partition for its list of exporters, or give it
-- the list anew: DETACH and ATTACH of a foreign table scan nothing, so a
-- new list is a catalog change only.
CREATE FUNCTION nfpg.node_attach(node name)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	part		text := nfpg.node_partition(node);
	list		text;
BEGIN
	SELECT string_agg(quote_literal(host(e)), ', ' ORDER BY e) INTO list
	  FROM nfpg.nodes n, unnest(n.exporters) e WHERE n.node = $1;
	IF to_regclass(format('nfpg.%I', part)) IS NULL THEN
		EXECUTE format('CREATE FOREIGN TABLE nfpg.%I PARTITION OF nfpg.flows FOR VALUES IN (%s) SERVER %I'
					   ' OPTIONS (schema_name %L, table_name %L, fetch_size %L, batch_size %L)',
					   part, list, node, 'nfpg', 'flows', '10000', '1000');
		EXECUTE format('ALTER FOREIGN TABLE nfpg.%I OWNER TO nfpg_owner', part);
		EXECUTE format('GRANT SELECT ON nfpg.%I TO nfpg_reader, nfpg_admin', part);
		RETURN;
	END IF;
	EXECUTE format('ALTER TABLE nfpg.flows DETACH PARTITION nfpg.%I', part);
	EXECUTE format('ALTER TABLE nfpg.flows ATTACH PARTITION nfpg.%I FOR VALUES IN (%s)', part, list);
END
$$;

CREATE FUNCTION nfpg.node_add(node name, exporters inet[] DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	part		text := nfpg.node_partition(node);
	opts		text[];
	seen		inet[];
BEGIN
	IF NOT nfpg.is_coordinator() THEN
		RAISE EXCEPTION 'this database is not a coordinator'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Run SELECT nfpg.setup_coordinator() in a database without flows first.';
	END IF;
	IF node !~ '^[a-z_][a-z0-9_]*$' OR length(part) > 63 THEN
		RAISE EXCEPTION 'node name "%" must be a lower-case identifier of at most 52 characters', node
			USING ERRCODE = 'invalid_name';
	END IF;
	SELECT s.srvoptions INTO opts
	  FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
	 WHERE s.srvname = node AND w.fdwname = 'postgres_fdw';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no postgres_fdw server "%"', node
			USING ERRCODE = 'undefined_object',
				  HINT = format('CREATE SERVER %I FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host ..., port ..., dbname ...) and CREATE USER MAPPING FOR PUBLIC SERVER %I OPTIONS (user ..., password ...) first; the node''s role needs nfpg_reader.', node, node);
	END IF;
	IF EXISTS (SELECT 1 FROM nfpg.nodes n WHERE n.node = $1) THEN
		RAISE EXCEPTION 'node "%" is already a node of this coordinator', node USING ERRCODE = 'duplicate_object';
	END IF;
	-- nf_topn_state and nf_filter's functions are shipped to the node only
	-- if the server says it has nfpg; async scans query nodes at once.
	EXECUTE format('ALTER SERVER %I OPTIONS (%s extensions %L)', node,
				   CASE WHEN opts::text LIKE '%extensions=%' THEN 'SET' ELSE 'ADD' END, 'nfpg');
	EXECUTE format('ALTER SERVER %I OPTIONS (%s async_capable %L)', node,
				   CASE WHEN opts::text LIKE '%async_capable=%' THEN 'SET' ELSE 'ADD' END, 'true');

	EXECUTE format('CREATE FOREIGN TABLE nfpg.%I (exporter inet) SERVER %I OPTIONS (schema_name %L, table_name %L)',
				   'exporters_node_' || node, node, 'nfpg', 'exporters');
	BEGIN
		EXECUTE format('SELECT array_agg(DISTINCT exporter ORDER BY exporter) FROM nfpg.%I', 'exporters_node_' || node)
			INTO seen;
	EXCEPTION WHEN OTHERS THEN
		RAISE EXCEPTION 'node "%" can not be reached: %', node, SQLERRM
			USING ERRCODE = 'connection_failure',
				  HINT = 'The user mapping''s role needs nfpg_reader on a node where nfpg is set up (nfpg.setup()).';
	END;
	exporters := coalesce(exporters, seen);
	IF coalesce(cardinality(exporters), 0) = 0 THEN
		RAISE EXCEPTION 'node "%" has seen no exporter yet', node
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Name its exporters: nfpg.node_add(node, exporters => ''{...}'').';
	END IF;
	PERFORM nfpg.node_check_exporters(node, exporters);
	INSERT INTO nfpg.nodes (node, exporters, synced) VALUES (node, exporters, now());
	PERFORM nfpg.node_attach(node);
	-- One round trip proves that the node runs this nfpg: the aggregate the
	-- statistics ship to it exists there.  (A constant false condition
	-- would spare the trip; -infinity lies in no hour, so the node reads at
	-- most its default partition.)
	BEGIN
		EXECUTE format('SELECT nfpg.nf_topn_state(%L::bytea, flows, packets, bytes, out_packets, out_bytes,'
					   ' first_seen, last_seen, tcp_flags, src_tos, proto) FROM nfpg.%I WHERE first_seen = %L',
					   convert_to('stat flows 1 proto', 'UTF8'), part, '-infinity');
	EXCEPTION WHEN OTHERS THEN
		RAISE EXCEPTION 'node "%" can not answer statistics: %', node, SQLERRM
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Install the coordinator''s nfpg release on the node (ALTER EXTENSION nfpg UPDATE).';
	END;
	RETURN format('node %s added with %s exporters as nfpg.%s', node, cardinality(exporters), part);
END
$$;
COMMENT ON FUNCTION nfpg.node_add(name, inet[]) IS 'Add the nfpg server behind postgres_fdw server "node" to this coordinator, for the given exporters (default: those the node has seen)';

CREATE FUNCTION nfpg.node_sync()
RETURNS TABLE (node name, exporter inet)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n			record;
	seen		inet[];
	fresh		inet[];
BEGIN
	FOR n IN SELECT x.node, x.exporters FROM nfpg.nodes x ORDER BY x.node FOR UPDATE LOOP
		EXECUTE format('SELECT array_agg(DISTINCT exporter) FROM nfpg.%I', 'exporters_node_' || n.node)
			INTO seen;
		SELECT array_agg(e ORDER BY e) INTO fresh FROM unnest(seen) e WHERE e <> ALL (n.exporters);
		IF fresh IS NOT NULL THEN
			PERFORM nfpg.node_check_exporters(n.node, fresh);
			UPDATE nfpg.nodes x SET exporters = x.exporters || fresh WHERE x.node = n.node;
			PERFORM nfpg.node_attach(n.node);
			RETURN QUERY SELECT n.node, e FROM unnest(fresh) e;
		END IF;
		UPDATE nfpg.nodes x SET synced = now() WHERE x.node = n.node;
	END LOOP;
END
$$;
COMMENT ON FUNCTION nfpg.node_sync() IS 'Add to each node''s list the exporters it has seen since (from its nfpg.exporters); returns what was added';

CREATE FUNCTION nfpg.node_list()
RETURNS TABLE (node name, exporters inet[], partition regclass, options text[], added timestamptz,
	synced timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT n.node, n.exporters, to_regclass(format('nfpg.%I', nfpg.node_partition(n.node))),
		   s.srvoptions, n.added, n.synced
	  FROM nfpg.nodes n LEFT JOIN pg_foreign_server s ON s.srvname = n.node
	 ORDER BY n.node
$$;
COMMENT ON FUNCTION nfpg.node_list() IS 'The nodes of this coordinator: exporters, partition, server options (host, port, dbname)';

CREATE FUNCTION nfpg.node_remove(node name)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.nodes n WHERE n.node = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no node "%"', node USING ERRCODE = 'undefined_object';
	END IF;
	EXECUTE format('DROP FOREIGN TABLE nfpg.%I', nfpg.node_partition(node));
	EXECUTE format('DROP FOREIGN TABLE nfpg.%I', 'exporters_node_' || node);
	RETURN format('node %s removed; its flows stay on it', node);
END
$$;
COMMENT ON FUNCTION nfpg.node_remove(name) IS 'Take a node out of this coordinator (its flows stay on the node; the postgres_fdw server and user mapping are left to the DBA)';

-- Drain: the node's flows are copied into another node through this
-- coordinator (batched INSERTs of postgres_fdw), its exporters move with
-- them, and it leaves, in one transaction: a failure leaves both as they
-- were.  The copy lands in the target's nfpg.flows, whose partitions take
-- it by time as they take a collector's.  Stop the drained site's collector
-- first, or point it at the target: flows arriving meanwhile would stay on
-- the node that leaves.
CREATE FUNCTION nfpg.node_drain(node name, into_node name)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	moved		bigint;
	ex			inet[];
BEGIN
	IF node = into_node THEN
		RAISE EXCEPTION 'a node can not be drained into itself' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT n.exporters INTO ex FROM nfpg.nodes n WHERE n.node = $1 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no node "%"', node USING ERRCODE = 'undefined_object';
	END IF;
	PERFORM 1 FROM nfpg.nodes n WHERE n.node = into_node FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no node "%"', into_node USING ERRCODE = 'undefined_object';
	END IF;
	EXECUTE format('INSERT INTO nfpg.%I SELECT * FROM nfpg.%I',
				   nfpg.node_partition(into_node), nfpg.node_partition(node));
	GET DIAGNOSTICS moved = ROW_COUNT;
	PERFORM nfpg.node_remove(node);
	UPDATE nfpg.nodes n SET exporters = n.exporters || ex WHERE n.node = into_node;
	PERFORM nfpg.node_attach(into_node);
	RETURN moved;
END
$$;
COMMENT ON FUNCTION nfpg.node_drain(name, name) IS 'Copy a node''s flows into another node, move its exporters there and remove it, in one transaction; returns the flows copied (the target''s role needs INSERT, e.g. nfpg_loader)';

REVOKE ALL ON FUNCTION nfpg.node_add(name, inet[]), nfpg.node_sync(), nfpg.node_remove(name),
	nfpg.node_drain(name, name), nfpg.node_attach(name), nfpg.node_check_exporters(name, inet[]) FROM PUBLIC;

-- The sources of flows a statistic reads: the nodes' partitions on a
-- coordinator with nodes, else nfpg.flows.
CREATE FUNCTION nfpg.nf_flow_sources()
RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format('nfpg.%I', nfpg.node_partition(n.node)) FROM nfpg.nodes n
	 WHERE nfpg.is_coordinator()
	UNION ALL
	SELECT 'nfpg.flows' WHERE NOT nfpg.is_coordinator() OR NOT EXISTS (SELECT 1 FROM nfpg.nodes)
	ORDER BY 1
$$;
COMMENT ON FUNCTION nfpg.nf_flow_sources() IS 'The relations nf_stat, nf_aggregate and nf_summary read: each node''s partition on a coordinator, else nfpg.flows';

-- The query computing agg ('nf_topn' or 'nf_topn_records') for the
-- specification spec over its other arguments args and the flows passing
-- where_sql: on one server the aggregate itself; on a coordinator each
-- node's nf_topn_state, merged.  spec is written as a literal, so that
-- postgres_fdw sees a constant; args and where_sql are the callers' own SQL
-- (nf_stat_keys, nf_stat_where), never a user's text.
CREATE FUNCTION nfpg.nf_topn_sql(agg text, spec text, args text, where_sql text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts		text;
BEGIN
	IF agg NOT IN ('nf_topn', 'nf_topn_records') THEN
		RAISE EXCEPTION 'nf_topn_sql: unknown aggregate "%"', agg USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT nfpg.is_coordinator() THEN
		RETURN format('SELECT nfpg.%s(%L, %s) FROM nfpg.flows WHERE %s', agg, spec, args, where_sql);
	END IF;
	SELECT string_agg(format('SELECT nfpg.nf_topn_state(%L::bytea, %s) FROM %s WHERE %s',
							 convert_to(spec, 'UTF8'), args, s, where_sql), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() s;
	RETURN format('SELECT nfpg.%s_merge(s) FROM (%s) n(s)', agg, parts);
END
$$;
COMMENT ON FUNCTION nfpg.nf_topn_sql(text, text, text, text) IS 'The SQL of a Top-N aggregate over the flows passing a condition: local, or per node with merged partial states on a coordinator';

-- nfdump()'s one scan on a coordinator: the Summary's numbers and every
-- element table of nfpg-dump -s, as a jsonb like the local scan's, with
-- each node's part (counts, sums, bounds, nf_topn_state per element)
-- computed on the node in one remote aggregate.  scope_w selects what
-- stands for nfdump's input files, pass what passes the filter; both, and
-- the keys, are nfdump()'s own SQL.
CREATE FUNCTION nfpg.nf_dump_nodes_sql(scope_w text, pass text, specs text[], keys text[])
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	-- no greatest() or coalesce() on the node: postgres_fdw in PostgreSQL
	-- 15 does not ship them, and the whole aggregate would stay here
	node_cols	text := format('count(*) AS processed, count(*) FILTER (WHERE %1$s) AS passed,'
		' sum(flows) FILTER (WHERE %1$s AND flows >= 1) AS fl, count(*) FILTER (WHERE %1$s AND flows >= 1) AS nfl,'
		' sum(bytes) FILTER (WHERE %1$s) AS byt, sum(out_bytes) FILTER (WHERE %1$s) AS obyt,'
		' sum(packets) FILTER (WHERE %1$s) AS pkt, sum(out_packets) FILTER (WHERE %1$s) AS opkt,'
		' min(first_seen) FILTER (WHERE %1$s) AS p_first, max(last_seen) FILTER (WHERE %1$s) AS p_last,'
		' min(first_seen) AS s_first, max(last_seen) AS s_last', pass);
	-- the local scan's jsonb: sums are NULL where no flow passed
	merged		text := 'SELECT jsonb_build_object(''processed'', sum(processed), ''passed'', sum(passed),'
		' ''flows'', CASE WHEN sum(passed) > 0 THEN coalesce(sum(fl), 0) + sum(passed) - sum(nfl) END,'
		' ''bytes'', sum(byt) + coalesce(sum(obyt), 0), ''packets'', sum(pkt) + coalesce(sum(opkt), 0),'
		' ''p_first'', min(p_first), ''p_last'', max(p_last), ''s_first'', min(s_first), ''s_last'', max(s_last)';
	parts		text;
BEGIN
	FOR i IN 1 .. coalesce(cardinality(specs), 0) LOOP
		node_cols := node_cols || format(', nfpg.nf_topn_state(%L::bytea, flows, packets, bytes, out_packets,'
			' out_bytes, first_seen, last_seen, tcp_flags, src_tos, %s) FILTER (WHERE %s) AS s%s',
			convert_to(specs[i], 'UTF8'), keys[i], pass, i - 1);
		merged := merged || format(', %L, to_jsonb(nfpg.nf_topn_merge(s%s))', 's' || (i - 1), i - 1);
	END LOOP;
	SELECT string_agg(format('SELECT %s FROM %s WHERE %s', node_cols, src, scope_w), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() src;
	RETURN format('%s) FROM (%s) n', merged, parts);
END
$$;
COMMENT ON FUNCTION nfpg.nf_dump_nodes_sql(text, text, text[], text[]) IS 'The Summary and element tables of nfdump() on a coordinator, computed per node';
--------------------------------------------------------------------------------
-- 0.2 -> 0.3: coordinators (74_nodes.sql, assembled before this part)
--
-- The statistics read the flows through nf_topn_sql() / nf_flow_sources(),
-- which on a coordinator ask each node for its partial state; the scheduled
-- job keeps a coordinator's exporter lists instead of making partitions.
-- Profiles on a coordinator sum per node.  The functions below are the
-- 0.3 bodies of 30_stat.sql, 68_schedule.sql, 50_profiles.sql and
-- 36_present.sql (nfdump(): its one scan and -a/-A per node), and the web
-- page's series of 72_web.sql (summed per node).
--------------------------------------------------------------------------------

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
		' FROM unnest((%s))'
		' WITH ORDINALITY AS s(value, proto, first_seen, last_seen, duration, flows, flows_pct,'
		' packets, packets_pct, bytes, bytes_pct, pps, bps, bpp, ord)',
		nfpg.nf_topn_sql('nf_topn', spec, 'flows, packets, bytes, out_packets, out_bytes,'
						 ' first_seen, last_seen, tcp_flags, src_tos, ' || k.keys,
						 nfpg.nf_stat_where(filter, t_from, t_to)))
		USING NULL::text, t_from, t_to;
END
$$;

CREATE OR REPLACE FUNCTION nfpg.nf_aggregate(fields text DEFAULT NULL, order_by text DEFAULT NULL,
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
	RETURN QUERY EXECUTE format('SELECT * FROM unnest((%s))',
		nfpg.nf_topn_sql('nf_topn_records', format('%s %s %s %s', mode, coalesce(lower(order_by), '-'), top, names),
						 'flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, ' || keys,
						 nfpg.nf_stat_where(filter, t_from, t_to)))
		USING NULL::text, t_from, t_to;
END
$$;

CREATE OR REPLACE FUNCTION nfpg.nf_summary(filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL,
	t_to timestamptz DEFAULT NULL)
RETURNS TABLE (flows bigint, bytes bigint, packets bigint, avg_bps bigint, avg_pps bigint,
	avg_bpp bigint, first_seen timestamptz, last_seen timestamptz, records bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts	text;
BEGIN
	-- Sums, minima and maxima of each source (one per node on a
	-- coordinator, which ships the aggregates), then of the sources.  The
	-- per-source aggregates avoid greatest() and coalesce(), which
	-- postgres_fdw in PostgreSQL 15 does not ship: a flow count below 1
	-- counts as 1, a NULL out counter as 0, as nfdump reads them.
	SELECT string_agg(format('SELECT sum(flows) FILTER (WHERE flows >= 1) AS fl, count(*) FILTER (WHERE flows >= 1) AS nfl,'
		' sum(bytes) AS byt, sum(out_bytes) AS obyt, sum(packets) AS pkt, sum(out_packets) AS opkt,'
		' min(first_seen) AS fs, max(last_seen) AS ls, count(*) AS n FROM %s WHERE %s',
		src, nfpg.nf_stat_where(filter, t_from, t_to)), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() src;
	RETURN QUERY EXECUTE format(
		-- the sources' columns summed in their order: a subquery read in
		-- another order is not a bare foreign scan, and the nodes would be
		-- queried one after the other instead of at once
		'WITH s AS (SELECT sum(fl) AS fl, sum(nfl) AS nfl, sum(byt) AS byt, sum(obyt) AS obyt, sum(pkt) AS pkt,'
		' sum(opkt) AS opkt, min(fs) AS fs, max(ls) AS ls, sum(n) AS n FROM (%s) p),'
		' t AS (SELECT (coalesce(fl, 0) + n - nfl)::bigint AS fl,'
		' (byt + coalesce(obyt, 0))::bigint AS byt, (pkt + coalesce(opkt, 0))::bigint AS pkt,'
		' (extract(epoch FROM ls) * 1000 - extract(epoch FROM fs) * 1000) / 1000.0 AS span,'
		' fs, ls, n::bigint AS n FROM s)'
		' SELECT coalesce(fl, 0), coalesce(byt, 0), coalesce(pkt, 0),'
		' CASE WHEN span > 0 THEN trunc(8 * byt / span)::bigint ELSE 0 END,'
		' CASE WHEN span > 0 THEN trunc(pkt / span)::bigint ELSE 0 END,'
		' CASE WHEN pkt > 0 THEN byt / pkt ELSE 0 END, fs, ls, coalesce(n, 0) FROM t',
		parts)
		USING NULL::text, t_from, t_to;
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

CREATE OR REPLACE FUNCTION nfpg.nf_profile_build_slots(profile text, slots timestamptz[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cond		text := nfpg.nf_profile_condition(profile);
	names		text[] := ARRAY['*'];
	tests		text := '(1, true)';
	conds		text[] := ARRAY['true'];
	matched		text;
	lo			timestamptz;
	hi			timestamptz;
	ch			record;
BEGIN
	SELECT min(s), max(s) + interval '5 minutes' INTO lo, hi FROM unnest(slots) s;
	IF lo IS NULL THEN
		RETURN 0;
	END IF;
	FOR ch IN SELECT c.channel, c.filter_sql FROM nfpg.profile_channels c
			   WHERE c.profile = $1 ORDER BY c.channel
	LOOP
		names := names || ch.channel;
		conds := conds || ch.filter_sql;
		tests := tests || format(', (%s, %s)', cardinality(names), ch.filter_sql);
	END LOOP;

	-- m: per slot and channel index, the sums of the matching flows
	IF nfpg.is_coordinator() THEN
		-- each node's sums as one bare foreign scan (the channel index a
		-- constant of it), so the nodes are asked at once
		SELECT string_agg(format(
				'SELECT nfpg.nf_slot(first_seen) AS slot, %s AS idx,'
				' sum(flows) AS fl, sum(flows) FILTER (WHERE proto = 6) AS fl_tcp,'
				' sum(flows) FILTER (WHERE proto = 17) AS fl_udp, sum(flows) FILTER (WHERE proto IN (1, 58)) AS fl_icmp,'
				' sum(flows) FILTER (WHERE proto NOT IN (1, 6, 17, 58)) AS fl_other,'
				' sum(packets) AS pk, sum(packets) FILTER (WHERE proto = 6) AS pk_tcp,'
				' sum(packets) FILTER (WHERE proto = 17) AS pk_udp, sum(packets) FILTER (WHERE proto IN (1, 58)) AS pk_icmp,'
				' sum(packets) FILTER (WHERE proto NOT IN (1, 6, 17, 58)) AS pk_other,'
				' sum(bytes) AS by, sum(bytes) FILTER (WHERE proto = 6) AS by_tcp,'
				' sum(bytes) FILTER (WHERE proto = 17) AS by_udp, sum(bytes) FILTER (WHERE proto IN (1, 58)) AS by_icmp,'
				' sum(bytes) FILTER (WHERE proto NOT IN (1, 6, 17, 58)) AS by_other'
				' FROM %s WHERE first_seen >= $4 AND first_seen < $5 AND (%s) AND (%s) GROUP BY 1',
				c.idx, src, cond, c.test), ' UNION ALL ')
		  INTO matched
		  FROM unnest(conds) WITH ORDINALITY c(test, idx), nfpg.nf_flow_sources() src;
	ELSE
		matched := format('SELECT nfpg.nf_slot(first_seen) AS slot, t.idx, flows AS fl,'
			' CASE WHEN proto = 6 THEN flows END AS fl_tcp, CASE WHEN proto = 17 THEN flows END AS fl_udp,'
			' CASE WHEN proto IN (1, 58) THEN flows END AS fl_icmp,'
			' CASE WHEN proto NOT IN (1, 6, 17, 58) THEN flows END AS fl_other,'
			' packets AS pk, CASE WHEN proto = 6 THEN packets END AS pk_tcp,'
			' CASE WHEN proto = 17 THEN packets END AS pk_udp, CASE WHEN proto IN (1, 58) THEN packets END AS pk_icmp,'
			' CASE WHEN proto NOT IN (1, 6, 17, 58) THEN packets END AS pk_other,'
			' bytes AS by, CASE WHEN proto = 6 THEN bytes END AS by_tcp,'
			' CASE WHEN proto = 17 THEN bytes END AS by_udp, CASE WHEN proto IN (1, 58) THEN bytes END AS by_icmp,'
			' CASE WHEN proto NOT IN (1, 6, 17, 58) THEN bytes END AS by_other'
			' FROM nfpg.flows, LATERAL (VALUES %s) t(idx, hit)'
			' WHERE first_seen >= $4 AND first_seen < $5 AND (%s) AND t.hit', tests, cond);
	END IF;

	DELETE FROM nfpg.profile_series s WHERE s.profile = $1 AND s.slot = ANY (slots);
	EXECUTE format($q$
		INSERT INTO nfpg.profile_series
		SELECT $1, c.channel, s.slot,
			   coalesce(sum(m.fl), 0), coalesce(sum(m.fl_tcp), 0), coalesce(sum(m.fl_udp), 0),
			   coalesce(sum(m.fl_icmp), 0), coalesce(sum(m.fl_other), 0),
			   coalesce(sum(m.pk), 0), coalesce(sum(m.pk_tcp), 0), coalesce(sum(m.pk_udp), 0),
			   coalesce(sum(m.pk_icmp), 0), coalesce(sum(m.pk_other), 0),
			   coalesce(sum(m.by), 0), coalesce(sum(m.by_tcp), 0), coalesce(sum(m.by_udp), 0),
			   coalesce(sum(m.by_icmp), 0), coalesce(sum(m.by_other), 0)
		  FROM unnest($2::timestamptz[]) s(slot)
		 CROSS JOIN unnest($3::text[]) WITH ORDINALITY c(channel, idx)
		  LEFT JOIN (%s) m
			ON m.slot = s.slot AND m.idx = c.idx
		 GROUP BY c.channel, s.slot
	$q$, matched)
	USING profile, slots, names, lo, hi;

	INSERT INTO nfpg.profile_slots AS ps (profile, slot)
	SELECT $1, s FROM unnest(slots) s
	ON CONFLICT ON CONSTRAINT profile_slots_pkey DO UPDATE SET built = clock_timestamp();
	RETURN cardinality(slots);
END
$$;

CREATE OR REPLACE FUNCTION nfpg.nfdump(stats text[] DEFAULT NULL, top integer DEFAULT NULL,
	filter text DEFAULT NULL, time_window text DEFAULT NULL, aggregate text DEFAULT NULL,
	fields text DEFAULT NULL, print_order text DEFAULT NULL, format text DEFAULT NULL,
	record_limit integer DEFAULT 0, packet_limit text DEFAULT NULL, byte_limit text DEFAULT NULL,
	scope text DEFAULT NULL, scope_from timestamptz DEFAULT NULL, scope_to timestamptz DEFAULT NULL,
	plain boolean DEFAULT false, long_v6 boolean DEFAULT false, quiet boolean DEFAULT false)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t_from		timestamptz;
	t_to		timestamptz;
	fmt			text := format;
	mode		text;
	st			text;
	sp			record;
	k			record;
	ti			record;
	ord			text;
	elements	text[] := '{}';		-- "type|order|a|d" of each element table
	el_specs	text[] := '{}';		-- their nf_topn specifications
	el_keys		text[] := '{}';		-- and key expressions
	rec_orders	text[];
	rec_asc		boolean := false;
	flow_stat	boolean := false;
	agg_mode	text;
	keys		text;
	names		text;
	pass		text;
	scope_w		text := 'true';
	src			text;
	q			text;
	res			jsonb;
	pl			record;
	bl			record;
	json_end	text;
	p_lim		bigint;
	p_more		boolean;
	b_lim		bigint;
	b_more		boolean;
	n			integer;
	line		text;
	r			record;
	i			integer;
BEGIN
	IF time_window IS NOT NULL THEN
		SELECT w.t_from, w.t_to INTO t_from, t_to FROM nfpg.nf_time_window(time_window) w;
	END IF;
	IF record_limit IS NULL OR record_limit < 0 THEN
		RAISE EXCEPTION 'Option -c needs a number > 0' USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- -s: element statistics and -s record
	FOREACH st IN ARRAY coalesce(stats, '{}') LOOP
		sp := nfpg.nf_stat_spec(st);
		IF sp.stat_type = 'record' THEN
			flow_stat := true;
			rec_orders := sp.orders;
			rec_asc := sp.ascending;
			CONTINUE;
		END IF;
		IF (SELECT t.title FROM nfpg.nf_stat_title(sp.stat_type) t) IS NULL THEN
			RAISE EXCEPTION 'Unknown stat: ''%''!', st USING ERRCODE = 'invalid_parameter_value';
		END IF;
		PERFORM nfpg.nf_stat_keys(sp.stat_type);		-- types nfpg.flows cannot answer fail here
		FOREACH ord IN ARRAY sp.orders LOOP
			elements := elements || format('%s|%s|%s', sp.stat_type, ord, CASE WHEN sp.ascending THEN 'a' ELSE 'd' END);
		END LOOP;
	END LOOP;
	IF top IS NULL THEN
		top := CASE WHEN cardinality(stats) > 0 THEN 10 ELSE 0 END;
	END IF;
	IF print_order IS NOT NULL AND flow_stat THEN
		RAISE EXCEPTION '-s record and -O (-m) are mutually exclusive options' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF fields IS NOT NULL AND cardinality(elements) > 0 AND NOT flow_stat THEN
		RAISE WARNING 'Warning: Aggregation ignored for element statistics';
		fields := NULL;
	END IF;
	IF aggregate IS NOT NULL AND (flow_stat OR cardinality(elements) > 0) THEN
		RAISE WARNING 'Command line switch -s overwrites -a';
		aggregate := CASE WHEN aggregate IN ('b', 'B') THEN aggregate END;
	END IF;
	IF fmt IS NULL THEN
		fmt := CASE WHEN fields IS NOT NULL THEN nfpg.nf_aggregate_format(fields)
					WHEN aggregate IN ('b', 'B') THEN 'biline' ELSE 'nsel' END;
	END IF;
	mode := CASE WHEN fmt IN ('csv', 'pipe', 'json') THEN fmt ELSE 'line' END;
	-- json: "[", the objects joined by ",", "]" after the last (none with -q)
	IF mode = 'json' THEN
		json_end := CASE WHEN quiet THEN '' ELSE ']' END;
	END IF;
	PERFORM nfpg.nf_format_header(fmt, long_v6);	-- a bad format fails before any output

	-- -l / -L: printed first, applied to element statistics only (as 1.7.1)
	IF packet_limit IS NOT NULL OR byte_limit IS NOT NULL THEN
		IF cardinality(elements) = 0 AND NOT flow_stat AND aggregate IS NULL AND fields IS NULL THEN
			RAISE EXCEPTION 'Options -l and -L do not make sense for plain packet dumps.'
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Use -l and -L together with -s -S or -a. Use netflow filter syntax to limit the number of packets and bytes in netflow records.';
		END IF;
		IF byte_limit IS NOT NULL THEN
			bl := nfpg.nf_limit(byte_limit, 'bytes');
			b_lim := bl.lim;
			b_more := bl.more;
			RETURN NEXT bl.line;
		END IF;
		IF packet_limit IS NOT NULL THEN
			pl := nfpg.nf_limit(packet_limit, 'packets');
			p_lim := pl.lim;
			p_more := pl.more;
			RETURN NEXT pl.line;
		END IF;
	END IF;

	-- which rows stand for the input files, which pass
	IF scope IS NOT NULL THEN
		scope_w := '(' || nfpg.nf_filter_sql(scope) || ')';
	END IF;
	IF scope_from IS NOT NULL THEN
		scope_w := scope_w || ' AND received >= $4';
	END IF;
	IF scope_to IS NOT NULL THEN
		scope_w := scope_w || ' AND received < $5';
	END IF;
	pass := nfpg.nf_stat_where(filter, t_from, t_to);
	src := 'nfpg.flows WHERE ' || scope_w;
	IF record_limit > 0 THEN
		-- -c: the first N passing records in the order nfcapd wrote them
		src := format('(SELECT *, ctid AS rid FROM nfpg.flows WHERE %s AND %s ORDER BY received, ctid LIMIT %s) f',
					  scope_w, pass, record_limit);
	END IF;

	-- the summary and every element table in one scan
	q := 'SELECT jsonb_build_object(''processed'', count(*), ''passed'', count(*) FILTER (WHERE ' || pass || '),'
		 ' ''flows'', sum(greatest(flows, 1)) FILTER (WHERE ' || pass || '),'
		 ' ''bytes'', sum(bytes + coalesce(out_bytes, 0)) FILTER (WHERE ' || pass || '),'
		 ' ''packets'', sum(packets + coalesce(out_packets, 0)) FILTER (WHERE ' || pass || '),'
		 ' ''p_first'', min(first_seen) FILTER (WHERE ' || pass || '),'
		 ' ''p_last'', max(last_seen) FILTER (WHERE ' || pass || '),'
		 ' ''s_first'', min(first_seen), ''s_last'', max(last_seen)';
	i := 0;
	FOREACH st IN ARRAY elements LOOP
		k := nfpg.nf_stat_keys(split_part(st, '|', 1));
		el_specs := el_specs || format('%s %s%s %s %s', CASE WHEN k.two_sided THEN 'stat2' ELSE 'stat' END,
					split_part(st, '|', 2), CASE split_part(st, '|', 3) WHEN 'a' THEN ':a' ELSE '' END,
					CASE WHEN p_lim IS NOT NULL OR b_lim IS NOT NULL THEN 0 ELSE top END, k.fields);
		el_keys := el_keys || k.keys;
		q := q || format(', %L, to_jsonb(nfpg.nf_topn(%L, flows, packets, bytes, out_packets, out_bytes,'
			 ' first_seen, last_seen, tcp_flags, src_tos, %s) FILTER (WHERE %s))', 's' || i,
			 el_specs[i + 1], k.keys, pass);
		i := i + 1;
	END LOOP;
	IF record_limit = 0 AND nfpg.is_coordinator() THEN
		-- the same numbers, each node's part computed on the node
		q := nfpg.nf_dump_nodes_sql(scope_w, pass, el_specs, el_keys);
	ELSE
		q := q || ') FROM ' || src;
	END IF;
	EXECUTE q INTO res USING NULL::text, t_from, t_to, scope_from, scope_to;
	IF record_limit > 0 THEN
		-- nfdump stops reading at the N-th passing record
		EXECUTE format('SELECT count(*) FROM (SELECT sum((%s)::int) OVER (ORDER BY received, ctid'
					   ' ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before FROM nfpg.flows WHERE %s) x'
					   ' WHERE coalesce(before, 0) < %s', pass, scope_w, record_limit)
			INTO n USING NULL::text, t_from, t_to, scope_from, scope_to;
		res := res || jsonb_build_object('processed', n);
		EXECUTE 'SELECT jsonb_build_object(''s_first'', min(first_seen), ''s_last'', max(last_seen)) FROM nfpg.flows WHERE '
			|| scope_w INTO q USING NULL::text, t_from, t_to, scope_from, scope_to;
		res := res || q::jsonb;
		pass := 'true';
	END IF;

	-- plain dump: the header before the records
	IF cardinality(elements) = 0 AND NOT flow_stat AND NOT quiet AND mode IN ('line', 'csv') THEN
		RETURN NEXT nfpg.nf_format_header(fmt, long_v6);
	END IF;
	IF NOT quiet AND mode = 'json' AND cardinality(elements) = 0 AND NOT flow_stat THEN
		RETURN NEXT '[';
	END IF;
	IF cardinality(elements) = 0 AND NOT flow_stat AND aggregate IS NULL AND fields IS NULL THEN
		-- the records in the order nfcapd wrote them, or sorted by -O
		RETURN QUERY EXECUTE format('SELECT nfpg.nf_format(f, %L, %L, %L)%s FROM %s ORDER BY %s received, rid %s',
			fmt, plain, long_v6,
			CASE WHEN json_end IS NOT NULL THEN format(' || CASE WHEN lead(true) OVER (ORDER BY %s received, rid) IS NULL'
				' THEN %L ELSE '','' END', nfpg.nf_record_order(print_order), json_end) ELSE '' END,
			CASE WHEN record_limit > 0 THEN src ELSE '(SELECT *, ctid AS rid FROM nfpg.flows WHERE ' || scope_w || ' AND ' || pass || ') f' END,
			nfpg.nf_record_order(print_order),
			CASE WHEN print_order IS NOT NULL AND top > 0 THEN 'LIMIT ' || top ELSE '' END)
			USING NULL::text, t_from, t_to, scope_from, scope_to;
	END IF;
	IF (res->>'passed')::bigint = 0 THEN
		RETURN NEXT 'No matching flows';
		IF json_end = ']' THEN
			RETURN NEXT ']';
		END IF;
	END IF;

	-- aggregated records: -a, -A, -b, -B, -O, -s record
	IF aggregate IS NOT NULL OR fields IS NOT NULL OR flow_stat THEN
		IF fields IS NOT NULL THEN
			agg_mode := 'A';
			FOREACH st IN ARRAY string_to_array(fields, ',') LOOP
				k := nfpg.nf_aggregate_key(st);
				IF split_part(k.spec, '/', 1) = ANY (string_to_array(names, ',')) THEN
					RAISE EXCEPTION 'Duplicate aggregation mask: %', btrim(st) USING ERRCODE = 'invalid_parameter_value';
				END IF;
				keys := concat_ws(', ', keys, k.expr);
				names := concat_ws(',', names, k.spec);
			END LOOP;
		ELSE
			agg_mode := CASE aggregate WHEN 'b' THEN 'b' WHEN 'B' THEN 'B' ELSE 'a' END;
			keys := 'src_addr, dst_addr, src_port, dst_port, proto';
			names := 'src_addr,dst_addr,src_port,dst_port,proto';
		END IF;
		FOREACH ord IN ARRAY CASE WHEN flow_stat THEN rec_orders ELSE ARRAY[coalesce(lower(print_order), '-')] END LOOP
			IF flow_stat AND NOT quiet AND mode = 'line' THEN
				RETURN NEXT CASE WHEN top <> 0 THEN format('Top %s flows ordered by %s:', top, ord)
							ELSE format('Top flows ordered by %s:', ord) END;
			END IF;
			IF flow_stat AND NOT quiet AND mode IN ('line', 'csv') THEN
				RETURN NEXT nfpg.nf_format_header(fmt, long_v6);
			END IF;
			IF flow_stat AND NOT quiet AND mode = 'json' THEN
				RETURN NEXT '[';
			END IF;
			RETURN QUERY EXECUTE format(
				'WITH a AS (SELECT * FROM unnest((%s)) WITH ORDINALITY AS r)%s'
				' SELECT nfpg.nf_format(m, %L, %L, %L)%s FROM (SELECT %s, a.ordinality FROM a %s) m ORDER BY ordinality',
				CASE WHEN record_limit > 0 OR NOT nfpg.is_coordinator() THEN
					format('SELECT nfpg.nf_topn_records(%L, flows, packets, bytes, out_packets, out_bytes,'
						   ' first_seen, last_seen, tcp_flags, src_tos, %s) FROM %s AND %s',
						   format('%s %s%s %s %s', agg_mode, ord, CASE WHEN flow_stat AND rec_asc THEN ':a' ELSE '' END, top, names),
						   keys, CASE WHEN record_limit > 0 THEN src || ' WHERE true' ELSE src END, pass)
				ELSE nfpg.nf_topn_sql('nf_topn_records',
						   format('%s %s%s %s %s', agg_mode, ord, CASE WHEN flow_stat AND rec_asc THEN ':a' ELSE '' END, top, names),
						   'flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, ' || keys,
						   scope_w || ' AND ' || pass) END,
				CASE WHEN agg_mode = 'A' THEN '' ELSE format(
					', s AS (SELECT DISTINCT ON (src_addr, dst_addr, src_port, dst_port, proto) * FROM %s'
					' WHERE (src_addr, dst_addr, src_port, dst_port, proto) IN'
					' (SELECT src_addr, dst_addr, src_port, dst_port, proto FROM a)'
					' ORDER BY src_addr, dst_addr, src_port, dst_port, proto, received, rid)',
					CASE WHEN record_limit > 0 THEN src
						 ELSE '(SELECT *, ctid AS rid FROM nfpg.flows WHERE ' || scope_w || ' AND ' || pass || ') f' END) END,
				fmt, plain, long_v6,
				CASE WHEN json_end IS NOT NULL THEN format(' || CASE WHEN lead(true) OVER (ORDER BY ordinality) IS NULL'
					' THEN %L ELSE '','' END', json_end) ELSE '' END,
				nfpg.nf_record_columns(agg_mode),
				CASE WHEN agg_mode = 'A' THEN '' ELSE
					'LEFT JOIN s ON (s.src_addr, s.dst_addr, s.src_port, s.dst_port, s.proto)'
					' = (a.src_addr, a.dst_addr, a.src_port, a.dst_port, a.proto)' END)
				USING NULL::text, t_from, t_to, scope_from, scope_to;
		END LOOP;
	END IF;

	-- element statistics
	i := 0;
	FOREACH st IN ARRAY elements LOOP
		SELECT * INTO ti FROM nfpg.nf_stat_title(split_part(st, '|', 1));
		IF mode = 'line' AND NOT quiet THEN
			RETURN NEXT CASE WHEN top <> 0 THEN format('Top %s %s ordered by %s:', top, ti.title, split_part(st, '|', 2))
						ELSE format('Top %s ordered by %s:', ti.title, split_part(st, '|', 2)) END;
			RETURN NEXT format('Date first seen                 Duration Proto %s    Flows(%%)     Packets(%%)       Bytes(%%)         pps      bps   bpp',
				lpad(ti.title, CASE WHEN long_v6 AND ti.kind = 'addr' THEN 39 ELSE 17 END));
		ELSIF mode = 'csv' THEN
			RETURN NEXT CASE WHEN split_part(st, '|', 2) IN ('flows', 'ipkg', 'ibyte', 'ipps', 'ibps', 'ibpp')
								THEN 'ts,te,td,pr,val,fl,flP,ipkt,ipktP,ibyt,ibytP,ipps,ibps,ibpp'
							WHEN split_part(st, '|', 2) IN ('opkg', 'obyte', 'opps', 'obps', 'obpp')
								THEN 'ts,te,td,pr,val,fl,flP,opkt,opktP,obyt,obytP,opps,obps,obpp'
							ELSE 'ts,te,td,pr,val,fl,flP,pkt,pktP,byt,bytP,pps,bps,bpp' END;
		END IF;
		n := 0;
		FOR r IN SELECT * FROM jsonb_populate_recordset(NULL::nfpg.stat_row, coalesce(res->('s' || i), '[]')) LOOP
			IF b_lim IS NOT NULL AND ((b_more AND r.bytes <= b_lim) OR (NOT b_more AND r.bytes >= b_lim)) THEN
				CONTINUE;
			END IF;
			IF p_lim IS NOT NULL AND ((p_more AND r.packets <= p_lim) OR (NOT p_more AND r.packets >= p_lim)) THEN
				CONTINUE;
			END IF;
			n := n + 1;
			EXIT WHEN top > 0 AND n > top;
			IF mode = 'json' THEN
				RETURN NEXT 'Not yet implemented output format';
				CONTINUE;
			END IF;
			RETURN NEXT nfpg.nf_stat_line(mode, ti.kind, r.value, r.proto, r.first_seen, r.last_seen,
				r.flows, r.flows_pct, r.packets, r.packets_pct, r.bytes, r.bytes_pct, r.pps, r.bps, r.bpp,
				plain, long_v6);
		END LOOP;
		RETURN NEXT '';
		i := i + 1;
	END LOOP;

	IF mode = 'json' AND NOT quiet AND cardinality(elements) > 0 THEN
		RETURN NEXT ']';		-- nfdump's json epilog, even without its prolog
	END IF;

	IF NOT quiet THEN
		RETURN QUERY SELECT * FROM nfpg.nf_summary_lines(mode, plain, (res->>'processed')::bigint,
			(res->>'passed')::bigint, (res->>'flows')::bigint, (res->>'bytes')::bigint,
			(res->>'packets')::bigint, (res->>'p_first')::timestamptz, (res->>'p_last')::timestamptz,
			(res->>'s_first')::timestamptz, (res->>'s_last')::timestamptz, t_from, t_to);
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION nfpg.nf_filter_series(filter text, from_ts timestamptz, to_ts timestamptz,
									  bucket interval DEFAULT '5 minutes',
									  shift interval DEFAULT '0')
RETURNS TABLE (slot timestamptz, flows bigint, packets bigint, bytes bigint,
			   flows_s double precision, packets_s double precision, bits_s double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cond	text := nfpg.nf_filter_sql(coalesce(nullif(btrim(filter), ''), 'any'));
	secs	double precision := extract(epoch FROM bucket);
	parts	text;
BEGIN
	-- per source (each node of a coordinator, which sums on the node), then added up
	SELECT string_agg(format('SELECT date_bin($3, first_seen, ''2000-01-01 00:00+00'') AS slot,'
							 ' sum(flows) AS flows, sum(packets) AS packets, sum(bytes) AS bytes'
							 ' FROM %s WHERE first_seen >= $1 AND first_seen < $2 AND (%s) GROUP BY 1',
							 src, cond), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() src;
	RETURN QUERY EXECUTE format($q$
		SELECT b.slot + $5, coalesce(m.flows, 0)::bigint, coalesce(m.packets, 0)::bigint,
			   coalesce(m.bytes, 0)::bigint,
			   coalesce(m.flows, 0) / $4, coalesce(m.packets, 0) / $4, coalesce(m.bytes, 0) * 8 / $4
		  FROM nfpg.nf_web_buckets($1, $2, $3) b(slot)
		  LEFT JOIN (SELECT p.slot, sum(p.flows) AS flows, sum(p.packets) AS packets, sum(p.bytes) AS bytes
					   FROM (%s) p GROUP BY 1) m USING (slot)
		 ORDER BY b.slot
	$q$, parts)
	USING from_ts - shift, to_ts - shift, bucket, secs, shift;
END
$$;

CREATE OR REPLACE FUNCTION nfpg.nf_topn_series(stat_type text, order_by text, top integer, filter text,
									from_ts timestamptz, to_ts timestamptz,
									bucket interval DEFAULT '5 minutes')
RETURNS TABLE (slot timestamptz, key text, rank integer, value double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k		record := nfpg.nf_stat_keys(stat_type);
	cond	text := nfpg.nf_filter_sql(coalesce(nullif(btrim(filter), ''), 'any'));
	keyexpr	text;
	metric	text;
	parts	text;
BEGIN
	IF k.two_sided OR k.keys LIKE '%,%' THEN
		RAISE EXCEPTION 'nf_topn_series: statistic "%" is two-sided or composite', stat_type
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Use a one-sided statistic: srcip, dstip, srcport, dstport, srcas, dstas, proto, inif, outif, router, ...';
	END IF;
	metric := CASE lower(order_by) WHEN 'flows' THEN 'flows' WHEN 'packets' THEN 'packets'
								   WHEN 'bytes' THEN 'bytes * 8' END;
	IF metric IS NULL THEN
		RAISE EXCEPTION 'nf_topn_series: order "%" is not flows, packets or bytes', order_by
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF top IS NULL OR top < 1 OR top > 50 THEN
		RAISE EXCEPTION 'nf_topn_series: top must be 1 .. 50' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- keys print as nfdump prints them: addresses without a /32, protocols
	-- by name; printed after the sources' sums, as postgres_fdw ships no
	-- grouping by a cast to text
	keyexpr := CASE
		WHEN k.keys = 'proto' THEN 'nfpg.nf_proto_name(p.key)'
		WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = 'nfpg.flows'::regclass
						AND a.attname = k.keys AND a.atttypid = 'inet'::regtype) THEN 'host(p.key)'
		ELSE '(p.key)::text' END;
	SELECT string_agg(format('SELECT date_bin($3, first_seen, ''2000-01-01 00:00+00'') AS slot,'
							 ' %s AS key, sum(%s) AS v FROM %s'
							 ' WHERE first_seen >= $1 AND first_seen < $2 AND (%s) GROUP BY 1, 2',
							 k.keys, metric, src, cond), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() src;
	RETURN QUERY EXECUTE format($q$
		WITH m AS MATERIALIZED (
			SELECT p.slot, %s AS key, sum(p.v) AS v FROM (%s) p GROUP BY 1, 2),
		t AS (
			SELECT m.key, row_number() OVER (ORDER BY sum(m.v) DESC, m.key)::integer AS rank
			  FROM m WHERE m.key IS NOT NULL GROUP BY m.key ORDER BY sum(m.v) DESC, m.key LIMIT $4)
		SELECT m.slot, coalesce(t.key, 'Other'), coalesce(t.rank, $4 + 1),
			   sum(m.v)::double precision / $5
		  FROM m LEFT JOIN t USING (key)
		 GROUP BY 1, 2, 3 ORDER BY 1, 3
	$q$, keyexpr, parts)
	USING from_ts, to_ts, bucket, top, extract(epoch FROM bucket)::double precision;
END
$$;
--------------------------------------------------------------------------------
-- Grants of the foundation's objects to the roles of 05_roles.sql
--
-- The SECURITY DEFINER functions the loader calls run as nfpg_owner, which
-- owns nfpg.flows and its partitions (setup(), create_partition()) and may
-- change exactly the bookkeeping tables they keep: a flaw in one of them
-- gives its caller nfpg_owner's rights, never a superuser's.
--------------------------------------------------------------------------------

GRANT USAGE, CREATE ON SCHEMA nfpg TO nfpg_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON nfpg.settings, nfpg.partitions, nfpg.exporters,
	nfpg.loader_batches TO nfpg_owner;

DO $$
DECLARE
	f	regprocedure;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		'nfpg.create_partition(timestamptz, timestamptz)',
		'nfpg.make_partitions(timestamptz, timestamptz)',
		'nfpg.ensure_partitions(timestamptz, timestamptz)',
		'nfpg.rescue_default()',
		'nfpg.index_partitions(interval, integer, boolean)',
		'nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer)',
		'nfpg.loader_batch_claim(text, bigint)',
		'nfpg.loader_batches_expire(interval)',
		'nfpg.loader_target(timestamptz, timestamptz)']::regprocedure[]
	LOOP
		EXECUTE format('ALTER FUNCTION %s OWNER TO nfpg_owner', f);
		EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END
$$;

GRANT USAGE ON SCHEMA nfpg TO nfpg_loader, nfpg_reader, nfpg_admin;
GRANT EXECUTE ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer) TO nfpg_loader;

GRANT SELECT ON nfpg.exporters, nfpg.partitions, nfpg.settings, nfpg.nodes TO nfpg_reader, nfpg_admin;
--------------------------------------------------------------------------------
-- Grants for the NfSen objects (50_profiles .. 68_schedule)
--
-- Readers see profiles, series, alerts, plugin runs, host classes and runs.
-- nfpg_admin manages them without being a superuser: it may call the
-- functions that create, build and drop profiles, channels, alerts and
-- plugins, and edit their tables.  What nf_run later executes with the job
-- owner's rights cannot be smuggled in that way: a stored filter_sql is
-- always recompiled from the filter text (58_profile_links.sql), and a
-- plugin runs with the rights of its function's owner, which an admin can
-- only register when it may execute the function itself (55_plugins_alerts).
-- Partitions, aging and the schedule stay with the owner.
--------------------------------------------------------------------------------

GRANT SELECT ON nfpg.nfsen_settings, nfpg.profiles, nfpg.profile_channels, nfpg.profile_series,
	nfpg.profile_slots, nfpg.plugins, nfpg.plugin_profiles, nfpg.plugin_runs, nfpg.alerts,
	nfpg.alert_log, nfpg.hostclass_series, nfpg.runs
	TO nfpg_reader, nfpg_admin;
GRANT INSERT, UPDATE, DELETE ON nfpg.profiles, nfpg.profile_channels, nfpg.profile_series,
	nfpg.profile_slots, nfpg.plugins, nfpg.plugin_profiles, nfpg.plugin_runs, nfpg.alerts,
	nfpg.alert_log, nfpg.hostclass_series
	TO nfpg_admin;
GRANT UPDATE (slot_delay, traffic_ratio, traffic_min_bytes, responder_min_peers, connector_min_peers)
	ON nfpg.nfsen_settings TO nfpg_admin;
GRANT EXECUTE ON FUNCTION
	nfpg.nf_profile_create(text, text, timestamptz, timestamptz, interval, text),
	nfpg.nf_channel_add(text, text, text, smallint, text),
	nfpg.nf_channel_drop(text, text),
	nfpg.nf_profile_drop(text),
	nfpg.nf_profile_build_slots(text, timestamptz[]),
	nfpg.nf_profile_build(text, timestamptz, timestamptz),
	nfpg.nf_plugin_register(text, regprocedure, text[], text),
	nfpg.nf_plugin_call(text, regprocedure, text, timestamptz),
	nfpg.nf_plugins_run(text, timestamptz),
	nfpg.nf_alert_create(text, text, text, text, numeric, text, integer, text, text, text),
	nfpg.nf_alerts_run(text, timestamptz),
	nfpg.nf_profile_update(text, timestamptz),
	nfpg.hostclass_plugin(text, timestamptz)
	TO nfpg_admin;
--------------------------------------------------------------------------------
-- What pg_dump keeps
--
-- The tables of the extension hold the user's configuration and bookkeeping:
-- settings, the partition registry, exporters, loader batch ids, profiles
-- and their channels, series and slots, plugins, alerts and their logs, host
-- classes, scheduled runs.  pg_dump skips an extension's objects (CREATE
-- EXTENSION remakes them) unless they are marked here, in which case it dumps
-- their rows after CREATE EXTENSION, so pg_restore brings every row back.
-- pg_dump orders the rows of tables linked by foreign keys by those keys.
-- nfpg.flows and its partitions are not the extension's at all (setup(),
-- 95_setup.sql): pg_dump dumps them as any table.
--------------------------------------------------------------------------------

-- One call per statement: each call rewrites the pg_extension row.
DO $$
DECLARE
	t	regclass;
BEGIN
	FOREACH t IN ARRAY ARRAY['nfpg.settings', 'nfpg.partitions', 'nfpg.exporters', 'nfpg.loader_batches',
							 'nfpg.nfsen_settings', 'nfpg.profiles', 'nfpg.profile_channels',
							 'nfpg.profile_series', 'nfpg.profile_slots', 'nfpg.plugins',
							 'nfpg.plugin_profiles', 'nfpg.plugin_runs', 'nfpg.alerts', 'nfpg.alert_log',
							 'nfpg.hostclass_series', 'nfpg.runs', 'nfpg.runs_run_seq', 'nfpg.nodes']::regclass[]
	LOOP
		PERFORM pg_catalog.pg_extension_config_dump(t, '');
	END LOOP;
END
$$;
