-- test/fuzz/filter_sql_fuzz.sql: what filter_sql_fuzz.c needs in its private
-- database (loaded by filter_sql_server.sh).
--
-- fz: 63 flows (ids 0-62, so a set of matching rows is one bigint bit mask)
-- with values drawn, under a fixed seed, from pools that filters name
-- (well-known ports, private and documentation addresses, the protocols
-- nfdump knows), NULL in a fifth of the nullable columns, and negative
-- durations now and then.
--
-- fz_check(filter): the filter's matching rows computed three ways, each in
-- its own subtransaction: the planner's rewrite of nf_filter(fz, 'literal'),
-- the run-time evaluator (the filter reaches nf_filter as a value the
-- planner cannot see), and the deparsed nf_filter_sql() text run as a WHERE
-- clause.  Each element is the mask, or 'E' and the SQLSTATE.

CREATE EXTENSION nfpg;
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'setup'
				AND pronamespace = 'nfpg'::regnamespace) THEN
		PERFORM nfpg.setup();
	END IF;
END
$$;

CREATE TABLE fz (id integer PRIMARY KEY, LIKE nfpg.flows INCLUDING DEFAULTS);

CREATE FUNCTION pick(anyarray) RETURNS anyelement LANGUAGE sql VOLATILE
AS $$ SELECT $1[1 + floor(random() * array_length($1, 1))::int] $$;

CREATE FUNCTION maybe(anyelement) RETURNS anyelement LANGUAGE sql VOLATILE
AS $$ SELECT CASE WHEN random() < 0.2 THEN NULL ELSE $1 END $$;

SELECT setseed(0.4242);

INSERT INTO fz
SELECT i, t, t + (CASE WHEN random() < 0.1 THEN -1 ELSE 1 END) * pick('{0,1,999,1000,60000,3600000}'::int[]) * interval '1 ms',
	   t + interval '1 min',
	   pick('{0,1,2,10,100,1000,1000000,1099511627776}'::bigint[]),
	   pick('{0,40,64,1500,65535,1000000,4294967296}'::bigint[]),
	   pick('{0,1,256,4294967295}'::bigint[]),
	   maybe(pick('{0,1,3356,64512,65535,4294967295}'::bigint[])),
	   maybe(pick('{0,1,3356,64512,65535,4294967295}'::bigint[])),
	   pick('{0,22,53,80,123,443,1024,8080,65535}'::int[]),
	   pick('{0,22,53,80,123,443,771,2048,65535}'::int[]),
	   maybe(pick('{0,1,2,3,65535}'::int[])),
	   maybe(pick('{0,1,2,3,65535}'::int[])),
	   pick('{1,1,1,2,10}'::int[]),
	   pick('{0,1,6,17,47,50,58,132,255}'::smallint[]),
	   pick('{0,1,2,4,8,16,18,24,32,63,255}'::smallint[]),
	   pick('{0,4,32,184,255}'::smallint[]),
	   maybe(pick('{0,8,16,24,32,64,128}'::smallint[])),
	   maybe(pick('{0,8,16,24,32,64,128}'::smallint[])),
	   maybe(pick('{0,1,2,255}'::smallint[])),
	   maybe(pick('{0,1,2,255}'::smallint[])),
	   maybe(pick('{5,9,10}'::smallint[])),
	   pick('{10.0.0.1,10.0.0.2,10.1.2.3,192.168.1.10,172.16.5.4,8.8.8.8,0.0.0.0,255.255.255.255,2001:db8::1,2001:db8::2,fe80::1,::}'::inet[]),
	   pick('{10.0.0.1,10.0.0.2,10.1.2.3,192.168.1.10,172.16.5.4,8.8.8.8,0.0.0.0,224.0.0.1,2001:db8::1,2001:db8:1::2,ff02::1,::1}'::inet[]),
	   pick('{192.0.2.1,192.0.2.2,2001:db8::ff}'::inet[]),
	   maybe(pick('{10.0.0.254,0.0.0.0,2001:db8::fe}'::inet[])),
	   maybe(pick('{0,1,3356,4294967295}'::bigint[])),
	   maybe(pick('{0,1,3356,4294967295}'::bigint[])),
	   maybe(pick('{0,1,100,9223372036854775807}'::bigint[])),
	   maybe(pick('{0,1,100,9223372036854775807}'::bigint[])),
	   maybe(pick('{1,2,100,1000}'::int[])),
	   maybe(pick('{0,1,100,4095}'::int[])),
	   maybe(pick('{0,1,100,4095}'::int[])),
	   maybe(pick('{0,4,255}'::smallint[])),
	   maybe(pick('{0,1,64,128,255}'::smallint[])),
	   maybe(pick('{0,1}'::smallint[])),
	   maybe(pick('{10.0.0.254,2001:db8::fe}'::inet[])),
	   maybe(pick('{00:11:22:33:44:55,ff:ff:ff:ff:ff:ff,00:00:00:00:00:00}'::macaddr[])),
	   maybe(pick('{00:11:22:33:44:55,ff:ff:ff:ff:ff:ff,00:00:00:00:00:00}'::macaddr[])),
	   maybe(pick('{00:11:22:33:44:55,ff:ff:ff:ff:ff:ff,00:00:00:00:00:00}'::macaddr[])),
	   maybe(pick('{00:11:22:33:44:55,ff:ff:ff:ff:ff:ff,00:00:00:00:00:00}'::macaddr[])),
	   CASE floor(random() * 6)::int WHEN 0 THEN '{16001}'::int[] WHEN 1 THEN '{16001,16002,1048561}'
			WHEN 2 THEN '{0}' WHEN 3 THEN '{1048575,3,5}' END
  FROM generate_series(0, 62) i,
	   LATERAL (SELECT timestamptz '2024-03-11 09:00+00' + i * interval '97 s' AS t) x;

CREATE FUNCTION fz_check(f text) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
	planned text;
	runtime text;
	deparsed text;
BEGIN
	BEGIN
		EXECUTE format('SELECT coalesce(sum(1::bigint << id), 0) FROM fz WHERE nfpg.nf_filter(fz, %L)', f)
			INTO planned;
	EXCEPTION WHEN OTHERS THEN
		planned := 'E' || SQLSTATE;
	END;
	BEGIN
		-- a MATERIALIZED CTE keeps the text from the planner: nf_filter runs per row
		WITH c AS MATERIALIZED (SELECT f AS t)
		SELECT coalesce(sum(1::bigint << id), 0) INTO runtime FROM fz, c WHERE nfpg.nf_filter(fz, c.t);
	EXCEPTION WHEN OTHERS THEN
		runtime := 'E' || SQLSTATE;
	END;
	BEGIN
		EXECUTE format('SELECT coalesce(sum(1::bigint << id), 0) FROM fz WHERE %s', nfpg.nf_filter_sql(f))
			INTO deparsed;
	EXCEPTION WHEN OTHERS THEN
		deparsed := 'E' || SQLSTATE;
	END;
	RETURN ARRAY[planned, runtime, deparsed];
END
$$;
