--------------------------------------------------------------------------------
-- Host-behaviour classes (worm outbreak detection, DDoSVax)
--
-- Dübendorfer and Plattner (ETH Zurich, DDoSVax project, 2005) detected
-- worm outbreaks in backbone flows by sorting hosts, per time slot, into
-- behaviour classes and watching the size of each class and of their
-- intersections: infected hosts run the same scanning code, so they change
-- class together, and a class combination that suddenly grows is an
-- outbreak.  nfpg computes, per 5-minute slot and host:
--   Traffic    sends considerably more than it receives:
--              bytes sent >= traffic_ratio x bytes received, and at least
--              traffic_min_bytes sent;
--   Responder  answers many requests: TCP/UDP flows it sends from the
--              service side (source port below destination port) reach at
--              least responder_min_peers distinct peers;
--   Connector  opens many connections: connection attempts it sends (TCP
--              flows with SYN and no ACK) and TCP/UDP flows it sends from
--              the client side (destination port below source port) reach
--              at least connector_min_peers distinct peers.
-- Flows are unidirectional, so the side of a flow is inferred: a bare SYN
-- opens a connection; otherwise the lower port is the service's.
-- Thresholds default to nfpg.nfsen_settings (3, 10000 bytes, 10 peers, 10
-- peers), chosen for a 5-minute slot at a campus border; every function
-- takes them as arguments too.  A scanning worm shows up in Traffic and
-- Connector but not Responder; busy servers in Traffic and Responder.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_hostclass(from_ts timestamptz, to_ts timestamptz,
								  filter text DEFAULT 'any',
								  traffic_ratio numeric DEFAULT NULL,
								  traffic_min_bytes bigint DEFAULT NULL,
								  responder_min_peers integer DEFAULT NULL,
								  connector_min_peers integer DEFAULT NULL)
RETURNS TABLE (slot timestamptz, host inet, traffic boolean, responder boolean, connector boolean,
			   bytes_sent numeric, bytes_received numeric, peers_answered bigint,
			   peers_contacted bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s			nfpg.nfsen_settings;
BEGIN
	SELECT * INTO s FROM nfpg.nfsen_settings;
	RETURN QUERY EXECUTE format($q$
		WITH f AS (
			SELECT nfpg.nf_slot(first_seen) AS slot, src_addr, dst_addr, src_port, dst_port,
				   proto, tcp_flags, proto IN (6, 17) AS has_ports, bytes
			  FROM nfpg.flows
			 WHERE first_seen >= $1 AND first_seen < $2 AND (%s)),
		ends AS (
			SELECT slot, src_addr AS host, dst_addr AS peer, bytes AS sent, 0::bigint AS received,
				   CASE WHEN proto = 6 AND tcp_flags & 18 = 2 THEN 'c'
						WHEN has_ports AND dst_port < src_port THEN 'c'
						WHEN has_ports AND src_port < dst_port THEN 'r' END AS role
			  FROM f
			UNION ALL
			SELECT slot, dst_addr, src_addr, 0, bytes, NULL FROM f),
		h AS (
			SELECT slot, host, sum(sent) AS sent, sum(received) AS received,
				   count(DISTINCT peer) FILTER (WHERE role = 'r') AS answered,
				   count(DISTINCT peer) FILTER (WHERE role = 'c') AS contacted
			  FROM ends GROUP BY slot, host)
		SELECT * FROM (
			SELECT slot, host, sent >= $3 * received AND sent >= $4, answered >= $5,
				   contacted >= $6, sent, received, answered, contacted
			  FROM h) x(slot, host, t, r, c)
		 WHERE t OR r OR c
		 ORDER BY slot, host
	$q$, nfpg.nf_filter_sql(filter))
	USING from_ts, to_ts,
		  coalesce(traffic_ratio, s.traffic_ratio), coalesce(traffic_min_bytes, s.traffic_min_bytes),
		  coalesce(responder_min_peers, s.responder_min_peers),
		  coalesce(connector_min_peers, s.connector_min_peers);
END
$$;
COMMENT ON FUNCTION nfpg.nf_hostclass(timestamptz, timestamptz, text, numeric, bigint, integer, integer) IS 'Per 5-minute slot, the hosts in the Traffic, Responder or Connector class among the flows matching filter in [from_ts, to_ts); NULL thresholds take nfsen_settings';

CREATE FUNCTION nfpg.nf_hostclass_counts(from_ts timestamptz, to_ts timestamptz,
										 filter text DEFAULT 'any',
										 traffic_ratio numeric DEFAULT NULL,
										 traffic_min_bytes bigint DEFAULT NULL,
										 responder_min_peers integer DEFAULT NULL,
										 connector_min_peers integer DEFAULT NULL)
RETURNS TABLE (slot timestamptz, t bigint, r bigint, c bigint, tr bigint, tc bigint, rc bigint,
			   trc bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT s.slot,
		   count(h.host) FILTER (WHERE h.traffic),
		   count(h.host) FILTER (WHERE h.responder),
		   count(h.host) FILTER (WHERE h.connector),
		   count(h.host) FILTER (WHERE h.traffic AND h.responder),
		   count(h.host) FILTER (WHERE h.traffic AND h.connector),
		   count(h.host) FILTER (WHERE h.responder AND h.connector),
		   count(h.host) FILTER (WHERE h.traffic AND h.responder AND h.connector)
	  FROM nfpg.nf_slots(from_ts, to_ts) s(slot)
	  LEFT JOIN nfpg.nf_hostclass(from_ts, to_ts, filter, traffic_ratio, traffic_min_bytes,
								  responder_min_peers, connector_min_peers) h ON h.slot = s.slot
	 GROUP BY s.slot
	 ORDER BY s.slot;
END;
COMMENT ON FUNCTION nfpg.nf_hostclass_counts(timestamptz, timestamptz, text, numeric, bigint, integer, integer) IS 'Per 5-minute slot, the cardinality of every host-class combination: T, R, C, T and R, T and C, R and C, all three';

CREATE TABLE nfpg.hostclass_series (
	profile				text NOT NULL,
	slot				timestamptz NOT NULL,
	t					bigint NOT NULL,
	r					bigint NOT NULL,
	c					bigint NOT NULL,
	tr					bigint NOT NULL,
	tc					bigint NOT NULL,
	rc					bigint NOT NULL,
	trc					bigint NOT NULL,
	PRIMARY KEY (profile, slot)
);
COMMENT ON TABLE nfpg.hostclass_series IS 'Host-class cardinalities per profile and slot, kept by the hostclass plugin';
COMMENT ON COLUMN nfpg.hostclass_series.profile IS 'Profile whose flows were classified';
COMMENT ON COLUMN nfpg.hostclass_series.slot IS 'Start of the 5-minute slot';
COMMENT ON COLUMN nfpg.hostclass_series.t IS 'Hosts in the Traffic class';
COMMENT ON COLUMN nfpg.hostclass_series.r IS 'Hosts in the Responder class';
COMMENT ON COLUMN nfpg.hostclass_series.c IS 'Hosts in the Connector class';
COMMENT ON COLUMN nfpg.hostclass_series.tr IS 'Hosts in both Traffic and Responder';
COMMENT ON COLUMN nfpg.hostclass_series.tc IS 'Hosts in both Traffic and Connector';
COMMENT ON COLUMN nfpg.hostclass_series.rc IS 'Hosts in both Responder and Connector';
COMMENT ON COLUMN nfpg.hostclass_series.trc IS 'Hosts in all three classes';

-- A plugin (register it with nf_plugin_register) that keeps
-- nfpg.hostclass_series for the profiles it is registered for.
CREATE FUNCTION nfpg.hostclass_plugin(profile text, slot timestamptz)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.hostclass_series h WHERE h.profile = $1 AND h.slot = $2;
	INSERT INTO nfpg.hostclass_series
	SELECT $1, k.slot, k.t, k.r, k.c, k.tr, k.tc, k.rc, k.trc
	  FROM nfpg.nf_hostclass_counts($2, $2 + interval '5 minutes',
									(SELECT p.filter FROM nfpg.profiles p WHERE p.profile = $1)) k;
END
$$;
COMMENT ON FUNCTION nfpg.hostclass_plugin(text, timestamptz) IS 'Plugin: store the host-class cardinalities of a profile''s slot in nfpg.hostclass_series';

REVOKE ALL ON FUNCTION nfpg.hostclass_plugin(text, timestamptz) FROM PUBLIC;
