-- Load a flowgen.py ground-truth CSV into nfpg.flows:
--   psql -v csv=/path/truth.csv -f test/tools/load_flowgen_csv.sql
-- The exporter column of the CSV is an id (1..N); every flowgen exporter
-- sends from 127.0.0.1, so exporter = 127.0.0.1 and source_id = that id.
-- With -v exporter_prefix=198.18.0. each id gets an address of its own
-- (prefix || id), as the scale-out tests need exporters to split by.
\if :{?exporter_prefix}
\set exporter_expr '(' :'exporter_prefix' ' || exporter)::inet'
\else
\set exporter_expr '''127.0.0.1''::inet'
\endif
CREATE TEMP TABLE flowgen_csv (
	first_ms bigint, last_ms bigint, proto int, srcaddr inet, dstaddr inet,
	srcport int, dstport int, tcp_flags int, tos int, packets bigint, bytes bigint,
	src_as bigint, dst_as bigint, input int, output int, nexthop inet,
	src_mask int, dst_mask int, exporter int);
\set copycmd '\\copy flowgen_csv FROM ' :'csv' ' WITH (FORMAT csv, HEADER true)'
:copycmd
SELECT nfpg.ensure_partitions(to_timestamp(min(first_ms) / 1000.0), to_timestamp(max(first_ms) / 1000.0))
FROM flowgen_csv;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
						tcp_flags, src_tos, packets, bytes, src_as, dst_as, in_if, out_if,
						next_hop, src_mask, dst_mask, exporter, source_id, export_version)
SELECT to_timestamp(first_ms / 1000.0), to_timestamp(last_ms / 1000.0), proto, srcaddr, dstaddr,
	   srcport, dstport, tcp_flags, tos, packets, bytes, src_as, dst_as, input, output,
	   nexthop, src_mask, dst_mask, :exporter_expr, exporter, 9
FROM flowgen_csv;
DROP TABLE flowgen_csv;
