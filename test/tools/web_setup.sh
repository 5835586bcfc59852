# test/tools/web_setup.sh: the database the web console's tests run against
# (sourced after test/lib.sh by test/integration/web_*.sh).
#
# web_cluster N: a private cluster whose TCP connections need passwords
# (scram-sha-256, as nfpg-web requires), nfpgd filled by flowgen with N
# NetFlow v9 flows from 2 exporters over the hour that ended an hour ago
# (WEB_FROM..WEB_TO, epoch seconds, slot aligned), the 'live' profile and
# 'https' (channels requests above, responses below the axis) built for it,
# and three login roles:
#   web_reader  member of nfpg_reader
#   web_tcp     member of nfpg_reader, limited to TCP flows by a restrictive
#               row-level security policy
#   web_nocol   may read nfpg.flows without src_addr and dst_addr (column
#               grant) and the profile tables
# web_start [OPTION...]: nfpg-web on a free port (WEB_URL, WEB_PID).
NFPG_WEB="$NFPG_TOP/web/nfpg-web"

web_cluster() {
	pg_start || return 1
	sed -i 's/^\(host.*\)trust$/\1scram-sha-256/' "$T_DIR/data/pg_hba.conf"
	"$PGBIN/pg_ctl" -D "$T_DIR/data" reload >/dev/null
	pg_loader_role
	loader_start "$T_DIR/nfpgd.log" || return 1
	WEB_TO=$(( ($(date +%s) / 300) * 300 - 3600 ))
	WEB_FROM=$((WEB_TO - 3600))
	$FLOWGEN --count "$1" --seed 16 --format v9 --exporters 2 --start "$WEB_FROM" --duration 3600 \
		--rate 20000 --dest "127.0.0.1:$LOADER_PORT" -q
	[ "$(wait_count "$1")" -eq "$1" ] || return 1
	# nfpgd reports exporters and its own counters every exporter_interval
	# (10 s): wait for all of them
	[ "$(wait_count "$1" "SELECT coalesce(sum(flows), 0) FROM nfpg.exporters" 30)" -ge "$1" ] || return 1
	[ "$(wait_count "$1" "SELECT coalesce(sum(loaded_flows), 0) FROM nfpg.collector_stats WHERE exporter IS NULL" 30)" -ge "$1" ] ||
		return 1
	q "SELECT nfpg.nf_profile_drop('live')" >/dev/null	# setup() made one from now on
	q "SELECT nfpg.nf_live_profile(to_timestamp($WEB_FROM))" >/dev/null
	q "SELECT nfpg.nf_profile_build('live', to_timestamp($WEB_FROM), to_timestamp($WEB_TO))" >/dev/null
	# a profile with channels above and below the axis, as NfSen draws them
	q "SELECT nfpg.nf_profile_create('https', 'proto tcp and port 443', to_timestamp($WEB_FROM))" >/dev/null
	q "SELECT nfpg.nf_channel_add('https', 'requests', 'dst port 443', 1::smallint, '#1f77b4')" >/dev/null
	q "SELECT nfpg.nf_channel_add('https', 'responses', 'src port 443', -1::smallint, '#d62728')" >/dev/null
	q "SELECT nfpg.nf_profile_build('https', to_timestamp($WEB_FROM), to_timestamp($WEB_TO))" >/dev/null
	psql -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE ROLE web_reader LOGIN PASSWORD 'reader-pw' IN ROLE nfpg_reader;
CREATE ROLE web_tcp LOGIN PASSWORD 'tcp-pw' IN ROLE nfpg_reader;
CREATE ROLE web_nocol LOGIN PASSWORD 'nocol-pw';
CREATE ROLE web_super LOGIN SUPERUSER PASSWORD 'super-pw';
GRANT USAGE ON SCHEMA nfpg TO web_nocol;
GRANT SELECT ON nfpg.profiles, nfpg.profile_channels, nfpg.profile_series, nfpg.profile_slots TO web_nocol;
DO $$
BEGIN
	EXECUTE (SELECT format('GRANT SELECT (%s) ON nfpg.flows TO web_nocol', string_agg(quote_ident(attname), ', '))
			   FROM pg_attribute WHERE attrelid = 'nfpg.flows'::regclass AND attnum > 0 AND NOT attisdropped
				AND attname NOT IN ('src_addr', 'dst_addr'));
END
$$;
ALTER TABLE nfpg.flows ENABLE ROW LEVEL SECURITY;
CREATE POLICY web_readers ON nfpg.flows FOR SELECT TO nfpg_reader, web_nocol USING (true);
CREATE POLICY web_tcp_only ON nfpg.flows AS RESTRICTIVE FOR SELECT TO web_tcp USING (proto = 6);
SQL
}

web_start() {
	WEB_PORT=$(free_port)
	WEB_URL="http://127.0.0.1:$WEB_PORT"
	"$NFPG_WEB" --listen "127.0.0.1:$WEB_PORT" --conninfo "host=127.0.0.1 port=$PGPORT dbname=nfpg" \
		--static "$NFPG_TOP/web/static" "$@" 2>>"$T_DIR/nfpg-web.log" &
	WEB_PID=$!
	for _ in $(seq 50); do
		curl -s -o /dev/null "$WEB_URL/" && return 0
		sleep 0.1
	done
	return 1
}

web_cleanup() {
	[ -n "${WEB_PID:-}" ] && kill "$WEB_PID" 2>/dev/null
	t_cleanup
}
trap web_cleanup EXIT INT TERM
