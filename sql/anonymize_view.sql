-- docs/anonymize.md, "Publishing an anonymized view": the worked example,
-- statement for statement, and what each recipient can and cannot see.
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.flows;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, src_port, dst_addr, dst_port,
						packets, bytes, src_as, dst_as, in_src_mac, exporter)
VALUES ('2024-03-11 09:00:01', '2024-03-11 09:00:02', 6, '129.69.205.36', 51000, '205.188.147.153', 443,
		10, 5000, 64500, 15169, '00:11:22:33:44:55', '10.0.0.1'),
	   ('2024-03-11 09:00:03', '2024-03-11 09:00:04', 6, '129.69.215.37', 51001, '205.188.248.25', 443,
		12, 7000, 64500, 15169, '00:11:22:33:44:56', '10.0.0.1'),
	   ('2024-03-11 09:00:05', '2024-03-11 09:00:05', 17, '192.168.1.1', 5353, '198.51.77.238', 53,
		1, 80, 64500, 64501, '00:11:22:33:44:57', '10.0.1.128'),
	   ('2024-03-11 09:00:07', '2024-03-11 09:00:09', 6, '54dc:7651:89f8:f6dc:9f93:26be:5a7e:ff0d', 40000,
		'54dc:7651:89f8:f6dc:9f93:26be:5a7e:ff0c', 443, 20, 30000, 64500, 64502, '00:11:22:33:44:58', '10.0.1.128');

-- Step 1: the roles.  nfpg_share owns what is published and may read flows;
-- it is neither a superuser nor BYPASSRLS, so row-level security applies to it.
CREATE ROLE nfpg_share NOLOGIN IN ROLE nfpg_reader;
CREATE ROLE alice NOLOGIN;
CREATE ROLE bob NOLOGIN;

-- Step 2: who gets what, with which key: a private table, owned by the
-- administrator; nfpg_share may read only the row of the user asking.
CREATE SCHEMA share_private;
CREATE TABLE share_private.recipients (
	recipient	name PRIMARY KEY,
	key			bytea NOT NULL CHECK (length(key) = 32),
	exporters	inet[],				-- NULL: flows of every exporter
	valid_from	timestamptz NOT NULL DEFAULT '-infinity',
	valid_until	timestamptz NOT NULL DEFAULT 'infinity'
);
ALTER TABLE share_private.recipients ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_row ON share_private.recipients FOR SELECT TO nfpg_share
	USING (recipient = current_user);
GRANT USAGE ON SCHEMA share_private TO nfpg_share;
GRANT SELECT ON share_private.recipients TO nfpg_share;
INSERT INTO share_private.recipients (recipient, key, exporters) VALUES
	('alice', decode('1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202', 'hex'), '{10.0.0.1}'),
	('bob', decode('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex'), NULL);

-- Step 3: the view, created by nfpg_share.  Addresses are anonymized with
-- the key of the user asking; AS numbers, MAC addresses, MPLS labels and
-- interfaces are left out (nfanon zeroes AS numbers for the same reason).
CREATE SCHEMA share AUTHORIZATION nfpg_share;
SET ROLE nfpg_share;
CREATE VIEW share.flows WITH (security_barrier) AS
SELECT f.first_seen, f.last_seen, f.proto,
	   nfpg.anonymize(f.src_addr, r.key) AS src_addr, f.src_port,
	   nfpg.anonymize(f.dst_addr, r.key) AS dst_addr, f.dst_port,
	   f.tcp_flags, f.packets, f.bytes,
	   nfpg.anonymize(f.next_hop, r.key) AS next_hop,
	   nfpg.anonymize(f.exporter, r.key) AS exporter
FROM nfpg.flows f
JOIN share_private.recipients r
  ON f.first_seen >= r.valid_from AND f.first_seen < r.valid_until
 AND (r.exporters IS NULL OR f.exporter = ANY (r.exporters));
GRANT USAGE ON SCHEMA share TO alice, bob;
GRANT SELECT ON share.flows TO alice, bob;
RESET ROLE;

-- Step 4: what a recipient sees.  alice: the flows of 10.0.0.1, with her key.
SET ROLE alice;
SELECT first_seen, proto, src_addr, src_port, dst_addr, dst_port, packets, bytes, exporter
FROM share.flows ORDER BY first_seen;
-- Prefixes survive: the two anonymized sources share their first 19 bits,
-- as 129.69.205.36 and 129.69.215.37 do (checked below).
SELECT masklen(inet_merge(min(src_addr), max(src_addr))) AS shared_source_bits FROM share.flows;
-- Nothing else is reachable.
SELECT count(*) FROM nfpg.flows;
SELECT * FROM share_private.recipients;
SELECT nfpg.anonymize('10.0.0.1', key) FROM share_private.recipients;
RESET ROLE;

-- bob: every flow, with his own key, so his data cannot be joined with alice's.
SET ROLE bob;
SELECT first_seen, proto, src_addr, src_port, dst_addr, dst_port, exporter
FROM share.flows ORDER BY first_seen;
RESET ROLE;

-- Someone who is not a recipient sees no rows, even with SELECT on the view.
CREATE ROLE carol NOLOGIN;
GRANT USAGE ON SCHEMA share TO carol;
GRANT SELECT ON share.flows TO carol;
SET ROLE carol;
SELECT count(*) FROM share.flows;
RESET ROLE;
-- Nor does the administrator: the view reads recipients as nfpg_share.
SELECT count(*) FROM share.flows;

-- As the administrator: the raw sources of alice's flows share 19 bits too.
SELECT masklen(inet_merge(min(src_addr), max(src_addr))) AS shared_source_bits
FROM nfpg.flows WHERE exporter = '10.0.0.1';
-- The published definition names the key column, never a key.
SELECT pg_get_viewdef('share.flows'::regclass) ~ '\\x|[0-9a-f]{64}' AS definition_shows_a_key;

-- Clean up (roles are cluster-wide).
DROP SCHEMA share CASCADE;
DROP SCHEMA share_private CASCADE;
DROP ROLE alice, bob, carol, nfpg_share;
TRUNCATE nfpg.flows;
