#!/bin/sh
# wormclasses.sh: host-behaviour classes and related filters on flowgen
# traffic find the generator's infected hosts, and only them.
#
# flowgen's population (test/tools/flowgen.py) has a worm cohort of 8 inside
# hosts opening many tcp/445,135,139 connections and sending far more than
# they receive, and 3 outside scanners sweeping the campus.  Per 5-minute
# slot they fall in the Traffic and Connector classes but not Responder; no
# other host does so in more than a few slots.  The addresses are taken from
# the generator itself, not copied here.
. "$(dirname "$0")/../lib.sh"
set -u

pg_start || { echo "cluster did not start"; exit 1; }
$FLOWGEN --count 300000 --format csv --out "$T_DIR/flows.csv" -q
psql -qXt -v ON_ERROR_STOP=1 -v csv="$T_DIR/flows.csv" -f "$NFPG_TOP/test/tools/load_flowgen_csv.sql" >/dev/null
t_eq "flows loaded" 300000 "$(q "SELECT count(*) FROM nfpg.flows")"

cohort() {	# cohort worms|scanners -> '{a,b,...}' from flowgen's own population
	python3 -c "
import socket, sys
sys.path.insert(0, '$NFPG_TOP/test/tools')
import flowgen
p = flowgen.Population(1)
hosts = [e for e in p.worms] if '$1' == 'worms' else [e for e, port in p.scanners]
print('{' + ','.join(socket.inet_ntoa(e.addr) for e in hosts) + '}')"
}
WORMS=$(cohort worms)
SCANNERS=$(cohort scanners)
echo "# worms $WORMS scanners $SCANNERS"
FROM="'2024-03-11 09:00+00'"
TO="'2024-03-11 10:00+00'"

q "CREATE TABLE hc AS SELECT * FROM nfpg.nf_hostclass($FROM, $TO)" >/dev/null
# Hosts in T and C but not R in at least half of the 12 slots.
q "CREATE TABLE suspects AS SELECT host FROM hc WHERE traffic AND connector AND NOT responder
   GROUP BY host HAVING count(*) >= 6" >/dev/null
t_eq "every worm found" "" \
	"$(q "SELECT string_agg(host(w), ' ') FROM unnest('$WORMS'::inet[]) w WHERE w NOT IN (SELECT host FROM suspects)")"
t_eq "every scanner found" "" \
	"$(q "SELECT string_agg(host(s), ' ') FROM unnest('$SCANNERS'::inet[]) s WHERE s NOT IN (SELECT host FROM suspects)")"
t_eq "no uninfected host found" "" \
	"$(q "SELECT string_agg(host(host), ' ') FROM suspects
		  WHERE host <> ALL ('$WORMS'::inet[] || '$SCANNERS'::inet[])")"
t_eq "no uninfected host in T-and-C-not-R in more than 3 slots" "t" \
	"$(q "SELECT coalesce(max(n), 0) <= 3 FROM (SELECT count(*) n FROM hc
		  WHERE traffic AND connector AND NOT responder AND host <> ALL ('$WORMS'::inet[] || '$SCANNERS'::inet[])
		  GROUP BY host) x")"
t_eq "worms are never Responders" "0" \
	"$(q "SELECT count(*) FROM hc WHERE responder AND host = ANY ('$WORMS'::inet[])")"
# The cardinalities agree with the per-host classes, slot by slot.
t_eq "counts match the classes" "" \
	"$(q "SELECT string_agg(c.slot::text, ' ') FROM nfpg.nf_hostclass_counts($FROM, $TO) c
		  JOIN (SELECT slot, count(*) FILTER (WHERE traffic) t, count(*) FILTER (WHERE responder) r,
					   count(*) FILTER (WHERE connector) c, count(*) FILTER (WHERE traffic AND responder) tr,
					   count(*) FILTER (WHERE traffic AND connector) tc,
					   count(*) FILTER (WHERE responder AND connector) rc,
					   count(*) FILTER (WHERE traffic AND responder AND connector) trc
				  FROM hc GROUP BY slot) h USING (slot)
		  WHERE (c.t, c.r, c.c, c.tr, c.tc, c.rc, c.trc) IS DISTINCT FROM (h.t, h.r, h.c, h.tr, h.tc, h.rc, h.trc)")"
t_eq "T and C holds most of the cohort in every slot" "t" \
	"$(q "SELECT bool_and(tc >= 8) AND count(*) = 12 FROM nfpg.nf_hostclass_counts($FROM, $TO)")"

# Related filters: hosts A that sent a real (> 600 bytes) SMB session and
# then, within 30 minutes, tried RPC (tcp/135) themselves.
q "CREATE TABLE rel AS SELECT * FROM nfpg.nf_related('proto tcp and dst port 445 and bytes > 600',
   'src ip A and proto tcp and dst port 135', $FROM, $TO, '30 minutes', 'src')" >/dev/null
t_eq "related: every worm found" "" \
	"$(q "SELECT string_agg(host(w), ' ') FROM unnest('$WORMS'::inet[]) w WHERE w NOT IN (SELECT host FROM rel)")"
# The same question asked by hand: nothing more, nothing less.
t_eq "related = hand-written self-join" "" \
	"$(q "WITH a AS (SELECT src_addr h, min(first_seen) t1 FROM nfpg.flows
				  WHERE proto = 6 AND dst_port = 445 AND bytes > 600
					AND first_seen >= $FROM AND first_seen < $TO GROUP BY 1),
			 expect AS (SELECT h FROM a WHERE EXISTS (
				  SELECT 1 FROM nfpg.flows f WHERE f.src_addr = a.h AND f.proto = 6 AND f.dst_port = 135
				  AND f.first_seen >= a.t1 AND f.first_seen <= a.t1 + interval '30 minutes'))
		  SELECT string_agg(host(h), ' ') FROM ((SELECT h FROM expect EXCEPT SELECT host FROM rel)
				 UNION ALL (SELECT host FROM rel EXCEPT SELECT h FROM expect)) d")"
# The footprint's strength separates them: the worms follow up with many RPC
# flows, the ordinary clients that happen to use both services with a few.
t_eq "related with 10+ follow-up flows = exactly the worms" \
	"$(q "SELECT string_agg(host(w), ' ' ORDER BY w) FROM unnest('$WORMS'::inet[]) w")" \
	"$(q "SELECT string_agg(host(host), ' ' ORDER BY host) FROM rel WHERE related_flows >= 10")"
N=$(q "SELECT count(*) FROM rel WHERE host <> ALL ('$WORMS'::inet[])")
echo "# related: $(q "SELECT count(*) FROM rel") hosts, $N of them not in the worm cohort (ordinary clients using both services)"
t_ok "related filter ran"
t_done
