--------------------------------------------------------------------------------
-- Rights scoped to one database
--
-- nfpg_reader, nfpg_loader and nfpg_admin are roles of the cluster: a member
-- of nfpg_reader reads flows in every nfpg database of the cluster it can
-- connect to.  grant_access() gives a role of your own the rights one of
-- them has, in this database only (docs/operations.md, "Roles"):
--   CREATE ROLE site_a_reader LOGIN PASSWORD '...';
--   SELECT nfpg.grant_access('site_a_reader', 'reader');   -- in site_a only
-- It copies the grants the group role holds on schema nfpg's tables,
-- columns and functions at the time of the call; partitions made later give
-- INSERT to every role that may insert into nfpg.flows (create_partition).
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.grant_access(to_role regrole, access text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	from_role	regrole;
	g			record;
	n			integer := 0;
BEGIN
	from_role := CASE access WHEN 'reader' THEN 'nfpg_reader'::regrole WHEN 'loader' THEN 'nfpg_loader'::regrole
							 WHEN 'admin' THEN 'nfpg_admin'::regrole END;
	IF from_role IS NULL THEN
		RAISE EXCEPTION 'access must be reader, loader or admin, not "%"', access
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('GRANT USAGE ON SCHEMA nfpg TO %s', to_role);
	FOR g IN
		SELECT format('GRANT %s ON %s TO %s', x.privilege_type, c.oid::regclass, to_role) AS stmt
		  FROM pg_class c, aclexplode(c.relacl) x
		 WHERE c.relnamespace = 'nfpg'::regnamespace AND x.grantee = from_role
		UNION ALL
		SELECT format('GRANT %s (%I) ON %s TO %s', x.privilege_type, a.attname, a.attrelid::regclass, to_role)
		  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid, aclexplode(a.attacl) x
		 WHERE c.relnamespace = 'nfpg'::regnamespace AND x.grantee = from_role
		UNION ALL
		SELECT format('GRANT EXECUTE ON FUNCTION %s TO %s', p.oid::regprocedure, to_role)
		  FROM pg_proc p, aclexplode(p.proacl) x
		 WHERE p.pronamespace = 'nfpg'::regnamespace AND x.grantee = from_role
	LOOP
		EXECUTE g.stmt;
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION nfpg.grant_access(regrole, text) IS 'Give a role, in this database only, the rights nfpg_reader, nfpg_loader or nfpg_admin hold here (access: reader, loader, admin); returns how many grants were made';
REVOKE ALL ON FUNCTION nfpg.grant_access(regrole, text) FROM PUBLIC;
