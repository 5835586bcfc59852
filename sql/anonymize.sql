-- nfpg.anonymize(inet, text | bytea): Crypto-PAn.
-- Vectors: test/data/cryptopan.tsv (published vectors and an independent
-- reference implementation; the IPv4 rows also agree with nfanon 1.7.1).
SET timezone = 'UTC';
\getenv abs_srcdir PG_ABS_SRCDIR
CREATE TEMP TABLE vec (key_hex text, original inet, anonymized inet);
\set tsv :abs_srcdir '/test/data/cryptopan.tsv'
\set copycmd '\\copy vec FROM ' :'tsv' ' WITH (FORMAT text, HEADER true)'
:copycmd
SELECT family(original) AS family, count(*) AS rows, count(DISTINCT key_hex) AS keys FROM vec GROUP BY 1 ORDER BY 1;

-- 1. Every row, key as bytea and as nfanon's 0x text (lower and upper case).
SELECT family(original) AS family,
       count(*) FILTER (WHERE nfpg.anonymize(original, decode(key_hex, 'hex')) = anonymized) AS bytea_ok,
       count(*) FILTER (WHERE nfpg.anonymize(original, '0x' || key_hex) = anonymized) AS hex_ok,
       count(*) FILTER (WHERE nfpg.anonymize(original, '0X' || upper(key_hex)) = anonymized) AS upper_hex_ok,
       count(*) AS rows
FROM vec GROUP BY 1 ORDER BY 1;
-- Any row that does not match (none).
SELECT key_hex, original, anonymized, nfpg.anonymize(original, decode(key_hex, 'hex')) AS got
FROM vec WHERE nfpg.anonymize(original, decode(key_hex, 'hex')) IS DISTINCT FROM anonymized;

-- nfdump-1.7.md section 8.1: what nfanon 1.7.1 produced with this key.
SELECT a, nfpg.anonymize(a, '0x1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202')
FROM (VALUES ('128.11.68.132'::inet), ('129.118.74.4'), ('130.132.252.244'), ('141.223.7.43')) v(a);

-- 2. 32-character keys are their characters' bytes (nfanon -K string form).
SELECT k.key, v.original, nfpg.anonymize(v.original, k.key) AS got, v.anonymized,
       nfpg.anonymize(v.original, k.key) = v.anonymized AS ok
FROM (VALUES ('n1dn5emfcakghfo13nbsjfdk3mbuk83h'), ('32-char-str-for-AES-key-and-pad.'),
             ('boojahyoo3vaeToong0Eijee7Ahz3yee')) k(key)
JOIN vec v ON v.key_hex = encode(convert_to(k.key, 'UTF8'), 'hex')
ORDER BY 1, 2;

-- 3. Keys whose first byte is zero are valid (nfanon refuses them).
SELECT original, nfpg.anonymize(original, '0x' || key_hex) AS got, anonymized
FROM vec WHERE key_hex LIKE '00%' ORDER BY key_hex, family(original), original;

-- 4. The mask length is kept; the network of an anonymized host is the
-- anonymized network (prefix preservation), and ::cidr zeroes host bits.
\set k '''0x1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202'''
SELECT a, nfpg.anonymize(a, :k) AS anon, masklen(nfpg.anonymize(a, :k)) AS masklen,
       nfpg.anonymize(a, :k)::cidr AS anon_cidr
FROM (VALUES ('128.11.68.132/32'::inet), ('128.11.68.132/24'), ('128.11.68.0/24'), ('128.11.0.0/16'),
             ('0.0.0.0/0'), ('2001:db8::1/128'), ('2001:db8::1/64'), ('2001:db8::/32')) v(a);
SELECT network(nfpg.anonymize('128.11.68.132/24', :k)) = network(nfpg.anonymize('128.11.68.7/24', :k)) AS same_v4_net,
       network(nfpg.anonymize('2001:db8::1/48', :k)) = network(nfpg.anonymize('2001:db8:0:ffff::9/48', :k)) AS same_v6_net;
-- A cidr argument is accepted (cidr is binary-coercible to inet).
SELECT nfpg.anonymize('128.11.68.0/24'::cidr, :k);

-- 5. Prefix preservation over random pairs.  b is built from a to share
-- exactly k leading bits (a's first k bits, then a's bit k flipped, then
-- random bits), k uniform over 0..32 or 0..128; masklen(inet_merge(x, y)) is
-- the number of leading bits x and y share, and must still be k after.
SELECT setseed(0.42);
CREATE FUNCTION pg_temp.random_addr(family int) RETURNS inet LANGUAGE sql VOLATILE
RETURN CASE family
	WHEN 4 THEN '0.0.0.0'::inet + floor(random() * 4294967296)::bigint
	ELSE (SELECT string_agg(to_hex(floor(random() * 65536)::int), ':')::inet FROM generate_series(1, 8))
END;
CREATE FUNCTION pg_temp.share_prefix(a inet, r inet, k int) RETURNS inet LANGUAGE sql IMMUTABLE
RETURN CASE WHEN k = masklen(a) THEN a ELSE
	host((a & netmask(set_masklen(a, k)))
		 | (~a & hostmask(set_masklen(a, k)) & netmask(set_masklen(a, k + 1)))
		 | (r & hostmask(set_masklen(a, k + 1))))::inet END;
CREATE TEMP TABLE pairs AS
SELECT a, pg_temp.share_prefix(a, pg_temp.random_addr(f), k) AS b, k
FROM (SELECT f, pg_temp.random_addr(f) AS a, floor(random() * (CASE f WHEN 4 THEN 33 ELSE 129 END))::int AS k
      FROM (VALUES (4), (6)) fam(f), generate_series(1, 20000)) s;
SELECT family(a) AS family, count(*) AS pairs, count(DISTINCT k) AS prefix_lengths,
       count(*) FILTER (WHERE masklen(inet_merge(a, b)) <> k) AS bad_pairs,
       count(*) FILTER (WHERE masklen(inet_merge(nfpg.anonymize(a, :k), nfpg.anonymize(b, :k))) <> k) AS broken
FROM pairs GROUP BY 1 ORDER BY 1;

-- IPv4 a and IPv6 a<<96 (a in the top 32 bits) agree on the top 32 bits.
CREATE FUNCTION pg_temp.v4_top_of_v6(n bigint) RETURNS inet LANGUAGE sql IMMUTABLE
RETURN (to_hex(n >> 16) || ':' || to_hex(n & 65535) || '::')::inet;
SELECT count(*) AS addresses,
       count(*) FILTER (WHERE set_masklen(nfpg.anonymize(pg_temp.v4_top_of_v6(n), :k), 32)::cidr
                              = set_masklen(pg_temp.v4_top_of_v6(nfpg.anonymize('0.0.0.0'::inet + n, :k) - '0.0.0.0'::inet), 32)::cidr) AS agree
FROM (SELECT floor(random() * 4294967296)::bigint AS n FROM generate_series(1, 2000)) s;

-- 6. Many keys in one query, in random order: more keys than the backend
-- cache holds, so prepared keys are evicted and rebuilt between rows.
SELECT count(*) AS rows, count(*) FILTER (WHERE got = anonymized) AS ok
FROM (SELECT nfpg.anonymize(original, decode(key_hex, 'hex')) AS got, anonymized
      FROM (SELECT * FROM vec ORDER BY random()) r) s;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE nfpg.anonymize(original, decode(key_hex, 'hex')) = anonymized
                        AND nfpg.anonymize(original, '0x' || key_hex) = anonymized) AS ok
FROM (SELECT v.* FROM vec v, generate_series(1, 5) ORDER BY random()) r;

-- 7. In parallel workers (each prepares the key itself).
CREATE TEMP TABLE many AS SELECT v.* FROM vec v, generate_series(1, 200);
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT count(*) AS rows, count(*) FILTER (WHERE nfpg.anonymize(original, decode(key_hex, 'hex')) = anonymized) AS ok
FROM many;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- 8. NULLs give NULL (STRICT).
SELECT nfpg.anonymize(NULL::inet, :k) IS NULL AS null_addr,
       nfpg.anonymize('1.2.3.4'::inet, NULL::text) IS NULL AS null_text_key,
       nfpg.anonymize('1.2.3.4'::inet, NULL::bytea) IS NULL AS null_bytea_key;

-- 9. Bad keys: a clear error that never shows the key.
SELECT nfpg.anonymize('1.2.3.4', 'tooshort-secret');
SELECT nfpg.anonymize('1.2.3.4', 'n1dn5emfcakghfo13nbsjfdk3mbuk83');
SELECT nfpg.anonymize('1.2.3.4', 'n1dn5emfcakghfo13nbsjfdk3mbuk83hX');
SELECT nfpg.anonymize('1.2.3.4', '1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202');
SELECT nfpg.anonymize('1.2.3.4', '0x1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a84220');
SELECT nfpg.anonymize('1.2.3.4', '0x1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a8422022');
SELECT nfpg.anonymize('1.2.3.4', '0x1522178d33a4cf80130a5b1649907d10d8988f83797965276257zc2d2a842202');
SELECT nfpg.anonymize('1.2.3.4', '0y1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202');
SELECT nfpg.anonymize('1.2.3.4', '');
SELECT nfpg.anonymize('1.2.3.4', repeat('secret', 1000));
SELECT nfpg.anonymize('1.2.3.4', decode('1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a8422', 'hex'));
SELECT nfpg.anonymize('1.2.3.4', decode('1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a84220200', 'hex'));
SELECT nfpg.anonymize('1.2.3.4', ''::bytea);
-- A bad key in a later row stops the query, and the good key still works after.
SELECT nfpg.anonymize('1.2.3.4', k) FROM (VALUES (:k), ('0x00')) v(k);
SELECT nfpg.anonymize('1.2.3.4', :k);

-- 10. Declared IMMUTABLE STRICT PARALLEL SAFE, with comments.
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
FROM pg_proc p WHERE p.proname = 'anonymize' AND p.pronamespace = 'nfpg'::regnamespace ORDER BY 1;
