-- Every filter nfdump 1.7.1 rejects (reference notes, section 9) is rejected
-- with an error that says what is wrong and where (1-based position in the
-- filter text), by nf_filter(text), nf_filter(record, text) and
-- nf_filter_sql(text) alike; plus the limits on length and nesting.
SET timezone = 'UTC';
\set VERBOSITY terse

CREATE FUNCTION pg_temp.reject(filter text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	msgs	text[] := '{}';
	f		text;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		format('SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(%L)', filter),
		format('SELECT count(*) FROM nfpg.flows f WHERE nfpg.nf_filter(f, %L)', filter),
		format('SELECT nfpg.nf_filter_sql(%L)', filter)]
	LOOP
		BEGIN
			EXECUTE f;
			msgs := msgs || 'ACCEPTED'::text;
		EXCEPTION WHEN OTHERS THEN
			msgs := msgs || (SQLSTATE || ' ' || SQLERRM);
		END;
	END LOOP;
	-- the three forms must fail alike; show the message once
	IF msgs[1] = msgs[2] AND msgs[2] = msgs[3] THEN
		RETURN msgs[1];
	END IF;
	RETURN array_to_string(msgs, ' | ');
END
$$;

SELECT f AS filter, pg_temp.reject(f) AS error FROM (VALUES
	('net 10/8'), ('src ip in [10/8]'), ('net 10.0.0.0 mask 255.0.0.0'),
	('net 172.16/24'), ('net 10.0.0.0/33'), ('ip 1.2.3.4/24'), ('ip 2001:db8::/32'),
	('ip 172.16'), ('ip 1.2.3'), ('ip 1.2.3.4.5'), ('ip 256.1.1.1'),
	('ip in [1.1.1.1/32, 2.2.2.2/32]'), ('ip in [1.1.1.1, 2.2.2.0/24]'),
	('ip in []'), ('port in [80,]'), ('port != 80'), ('nfversion != 9'), ('port -1'),
	('port 70000'), ('vlan 70000'), ('icmp-type 256'), ('engine-type 256'), ('mask 300'),
	('nfversion 11'), ('if 4294967296'), ('as 4294967296'), ('dir 3'), ('tos 256'),
	('flags s'), ('flags SS'), ('flags Z'), ('flags 64'),
	('icmp-type > 3'), ('vlan > 3'), ('if > 3'), ('dst mask > 3'), ('sysid > 1'),
	('fwdstat > 1'), ('mpls any > 3'), ('observation domain id > 1'),
	('in port 80'), ('src packets 3'), ('in src ip 10.0.0.1'), ('prev as in [1]'),
	('next as in [1 2]'), ('src in mac 00:11:22:33:44:55'), ('flow > 1'), ('out flows > 1'),
	('bytes > 1.5k'), ('bytes > 1kb'), ('duration > 1s'),
	('proto ipv6'), ('proto mpls'), ('proto ip'), ('proto ipv6-icmp'), ('proto 256'), ('proto foo'),
	('bgpnext ip in [10.0.0.1]'), ('router ip in [10.0.0.1]'), ('tunip in [10.0.0.1]'),
	('next ip 10.0.0.1/8'), ('router ip localhost'), ('next ip host.example'),
	('ip nonexistent.invalid'), ('net 2001:db8:: ffff::'),
	('asa event alert'), ('asa event update'), ('egress acl 4'),
	('xnet 10.0.0.0 255.0.0.0'), ('ident foo.bar'), ('ident "foo"'),
	('geo IN'), ('geo D'), ('geo germany'), ('flowlabel abcdefghijklmnopq'),
	('mac 00-11-22-33-44-55'), ('mac 00:11:22:33:44'),
	('mpls label11 1'), ('mpls foo 1'), ('mpls exp1 8'),
	('proto tcp udp'), ('port 80 443'), ('and ip 10.0.0.1'), ('ip 10.0.0.1 and'),
	('(port 80'), ('port 80)'), ('port 18446744073709551616'), ('payload content ''x'),
	('port 80 ; DROP TABLE nfpg.flows'), ('port 80'' OR ''1''=''1')
) AS t(f);

-- nfpg-only rejections: primitives without data in nfpg, non-contiguous masks
SELECT f AS filter, pg_temp.reject(f) AS error FROM (VALUES
	('count > 10'), ('ident v5test'), ('sysid 1'), ('geo DE'),
	('net 10.0.0.0 255.0.255.0'), ('ip in [ 10.0.0.0/33 ]')
) AS t(f);

-- limits: length (256 KiB) and nesting depth (100)
SELECT pg_temp.reject(repeat(' ', 256 * 1024 + 1)) AS too_long;
SELECT pg_temp.reject(repeat('(', 101) || 'any' || repeat(')', 101)) AS too_deep;
SELECT pg_temp.reject(repeat('not ', 101) || 'any') AS too_deep_not;
SELECT nfpg.nf_filter_sql(repeat('(', 100) || 'any' || repeat(')', 100)) AS deep_ok;
SELECT length(nfpg.nf_filter_sql(string_agg('port ' || g, ' or '))) > 0 AS long_chain_ok
FROM generate_series(1, 5000) g;

-- the error carries the filter as internal query and the position
\set VERBOSITY default
SELECT nfpg.nf_filter_sql('proto tcp and port 80 443');
\set VERBOSITY terse

-- NULL filter: the functions are strict
SELECT nfpg.nf_filter_sql(NULL) IS NULL AS null_sql;
