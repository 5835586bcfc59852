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
	node_cols	text := format('count(*) AS processed, count(*) FILTER (WHERE %1$s) AS passed,'
		' sum(greatest(flows, 1)) FILTER (WHERE %1$s) AS flows,'
		' sum(bytes + coalesce(out_bytes, 0)) FILTER (WHERE %1$s) AS bytes,'
		' sum(packets + coalesce(out_packets, 0)) FILTER (WHERE %1$s) AS packets,'
		' min(first_seen) FILTER (WHERE %1$s) AS p_first, max(last_seen) FILTER (WHERE %1$s) AS p_last,'
		' min(first_seen) AS s_first, max(last_seen) AS s_last', pass);
	merged		text := 'SELECT jsonb_build_object(''processed'', sum(processed), ''passed'', sum(passed),'
		' ''flows'', sum(flows), ''bytes'', sum(bytes), ''packets'', sum(packets),'
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
