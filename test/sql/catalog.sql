-- test/sql/catalog.sql: one line per fact of nfpg's catalog in this
-- database (the extension's members, the objects of schema nfpg except the
-- time partitions, their columns, constraints, indexes, owners, grants and
-- comments), sorted, so two databases can be compared with diff.  Used by
-- the upgrade test: an updated database must equal a fresh install.
WITH ext AS (SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'nfpg'),
rels AS (
	SELECT c.* FROM pg_class c
	 WHERE c.relnamespace = 'nfpg'::regnamespace
	   AND NOT (c.relispartition AND c.relname <> 'flows_default')
	   AND NOT (c.relkind = 'i' AND EXISTS (SELECT 1 FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
											 WHERE i.indexrelid = c.oid AND t.relispartition
											   AND t.relname <> 'flows_default'))
),
acl(obj, a) AS (
	SELECT 'rel ' || c.relname, (SELECT string_agg(x.grantee::regrole || ':' || x.privilege_type, ',' ORDER BY x.grantee::regrole::text, x.privilege_type)
								  FROM aclexplode(c.relacl) x WHERE x.grantee <> 0)
	  FROM rels c
	UNION ALL
	SELECT 'fn ' || p.oid::regprocedure, (SELECT string_agg(CASE x.grantee WHEN 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END
															|| ':' || x.privilege_type, ',' ORDER BY x.grantee::regrole::text, x.privilege_type)
										 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x)
	  FROM pg_proc p WHERE p.pronamespace = 'nfpg'::regnamespace
)
SELECT line FROM (
	SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid) AS line
	  FROM pg_depend d, ext WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
	UNION ALL
	SELECT 'dumped ' || c::regclass || ' ' || coalesce(ext.extcondition[i], '')
	  FROM ext, generate_subscripts(ext.extconfig, 1) i, LATERAL (SELECT ext.extconfig[i] AS c) x
	UNION ALL
	SELECT format('rel %s kind=%s owner=%s of=%s part=%s comment=%s', c.relname, c.relkind, c.relowner::regrole,
				  nullif(c.reloftype, 0)::regtype, pg_get_partkeydef(c.oid), obj_description(c.oid, 'pg_class'))
	  FROM rels c
	UNION ALL
	SELECT format('col %s.%s %s notnull=%s default=%s comment=%s', c.relname, a.attname,
				  format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
				  col_description(c.oid, a.attnum))
	  FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	  LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
	 WHERE c.relkind IN ('r', 'p', 'v', 'c', 'f')
	UNION ALL
	SELECT format('con %s.%s %s', c.relname, n.conname, pg_get_constraintdef(n.oid))
	  FROM rels c JOIN pg_constraint n ON n.conrelid = c.oid
	UNION ALL
	SELECT format('idx %s', pg_get_indexdef(i.indexrelid)) FROM rels c JOIN pg_index i ON i.indexrelid = c.oid
	UNION ALL
	SELECT format('fn %s returns %s lang=%s secdef=%s vol=%s par=%s strict=%s owner=%s config=%s support=%s src=%s comment=%s',
				  p.oid::regprocedure, pg_get_function_result(p.oid), l.lanname, p.prosecdef, p.provolatile,
				  p.proparallel, p.proisstrict, p.proowner::regrole, p.proconfig, p.prosupport::regproc,
				  md5(coalesce(pg_get_function_sqlbody(p.oid), p.prosrc)), obj_description(p.oid, 'pg_proc'))
	  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = 'nfpg'::regnamespace
	UNION ALL
	SELECT format('type %s %s comment=%s', t.oid::regtype, t.typtype, obj_description(t.oid, 'pg_type'))
	  FROM pg_type t WHERE t.typnamespace = 'nfpg'::regnamespace AND t.typtype <> 'b'
	   AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relispartition AND c.relname <> 'flows_default')
	UNION ALL
	SELECT 'acl ' || obj || ' ' || coalesce(a, '') FROM acl
	UNION ALL
	SELECT format('schema acl %s', (SELECT string_agg(x.grantee::regrole || ':' || x.privilege_type, ',' ORDER BY x.grantee::regrole::text, x.privilege_type)
									 FROM pg_namespace n, aclexplode(n.nspacl) x WHERE n.nspname = 'nfpg' AND x.grantee <> 0))
) facts ORDER BY line;
