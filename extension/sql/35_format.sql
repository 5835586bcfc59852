--------------------------------------------------------------------------------
-- Output formats: nfdump -o
--
-- nf_format(flow, format) renders one flow record exactly as nfdump 1.7.1's
-- -o line|long|extended|biline|bilong|csv|pipe|fmt:... prints it (format*.c),
-- so flows and aggregated records read in psql as they read in nfdump:
--   SELECT nfpg.nf_format(f, 'line') FROM nfpg.flows f WHERE ... ORDER BY first_seen;
--   SELECT nfpg.nf_format(a, 'extended') FROM nfpg.nf_aggregate('srcip4/24') a;
-- Times print in the session TimeZone (nfdump prints local time).  One
-- function takes every row type (a flow, an aggregated record, a view's
-- row): it finds the columns by name, once per row type.
--------------------------------------------------------------------------------

-- Planner support: a scan reads only the columns the format prints
-- (format_support.c).
CREATE FUNCTION nfpg.nf_format_support(internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'nf_format_support'
LANGUAGE C STRICT;

-- COST: a flow formatted takes about 0.5 us, a quarter of the planner's
-- unit as a cached heap scan measures it (2 us a unit), 100 operators; at
-- the default 1 a query printing many flows was planned as if printing were
-- free, and kept out of parallel workers that would share it.
CREATE FUNCTION nfpg.nf_format(flow record, format text)
RETURNS text
AS 'MODULE_PATHNAME', 'nf_format'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 100 SUPPORT nfpg.nf_format_support;
COMMENT ON FUNCTION nfpg.nf_format(record, text) IS
'One flow as nfdump -o prints it: line, long, extended, biline, bilong, gline, glong, nsel, nel (add 6 for full IPv6), csv, pipe, or fmt:<%tokens> (STABLE: times follow the session TimeZone). Takes a row of nfpg.flows, nf_aggregate() or any row with nfpg.flows column names (columns it lacks print as absent fields)';

-- What nf_format's planner support writes in place of nf_format(f, format)
-- when the scan gives the columns the format reads one by one (format.c):
-- columns is the set of those columns (format.h, FlowCol bits), the values
-- follow in that order.
CREATE FUNCTION nfpg.nf_format_columns(format text, plain boolean, long_v6 boolean, columns bigint,
									   VARIADIC "any")
RETURNS text
AS 'MODULE_PATHNAME', 'nf_format_columns'
LANGUAGE C STABLE PARALLEL SAFE COST 100;
COMMENT ON FUNCTION nfpg.nf_format_columns(text, boolean, boolean, bigint, "any") IS
'Internal to nf_format(): the planner writes it for nf_format(f, format) so that a flow is formatted from the columns its format prints, without forming the whole row';

CREATE FUNCTION nfpg.nf_format_header(format text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE regexp_replace(format, '6$', '')
	WHEN 'line' THEN 'Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP Addr:Port   Packets    Bytes Flows'
	WHEN 'long' THEN 'Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP Addr:Port     Flags Tos  Packets    Bytes Flows'
	WHEN 'extended' THEN 'Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP Addr:Port     Flags Tos  Packets    Bytes      pps      bps    Bpp Flows'
	WHEN 'csv' THEN 'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr'
	END;
COMMENT ON FUNCTION nfpg.nf_format_header(text) IS 'The header line nfdump prints before records in the line, long, extended and csv formats (NULL for others)';

CREATE FUNCTION nfpg.nf_proto_name(proto integer)
RETURNS text
AS 'MODULE_PATHNAME', 'nf_proto_name'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_proto_name(integer) IS 'Protocol name as nfdump prints it (TCP, UDP, ICMP, ICMP6, GRE, ...; the number when nfdump has no name)';

GRANT EXECUTE ON FUNCTION nfpg.nf_format(record, text),
	nfpg.nf_format_header(text),
	nfpg.nf_proto_name(integer) TO nfpg_reader;
