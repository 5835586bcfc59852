#!/bin/sh
# web_endpoints.sh: nfpg-web's JSON endpoints with curl, the way a script or
# an attacker would call them.  Wrong parameters, unknown names, refused
# rights, bad methods and bodies must each give a 4xx with a JSON message,
# never a 500 or a crash; logins need a real password (the server must ask
# for one) and are refused to superusers; a GET can change nothing; the
# session cookie is HttpOnly and SameSite=Strict; the statement timeout
# answers 504; the right answers are the extension's own (nf_stat, series).
. "$(dirname "$0")/../lib.sh"
. "$NFPG_TOP/test/tools/web_setup.sh"
set -u

N=5000
web_cluster "$N" || { t_fail "cluster with flows"; t_done; exit 1; }
web_start || { t_fail "nfpg-web starts"; t_done; exit 1; }
JAR="$T_DIR/cookies"
FROM=$(date -u -d "@$WEB_FROM" +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u -d "@$WEB_TO" +%Y-%m-%dT%H:%M:%SZ)

# call METHOD PATH [curl args]: sets CODE and BODY
call() {
	_m=$1 _p=$2
	shift 2
	BODY=$(curl -s -b "$JAR" -c "$JAR" -X "$_m" -w '\n%{http_code}' "$@" "$WEB_URL$_p")
	CODE=$(printf '%s' "$BODY" | tail -n 1)
	BODY=$(printf '%s' "$BODY" | sed '$d')
	case "$CODE" in 500|000) SERVER_ERRORS=$((SERVER_ERRORS + 1)) ;; esac
}
SERVER_ERRORS=0
post() { _p=$1; shift; call POST "$_p" -H 'X-Requested-With: nfpg' "$@"; }

# expect WHAT CODE: the last answer had that status and a JSON error message
expect() {
	t_eq "$1: HTTP $2" "$2" "$CODE"
	if printf '%s' "$BODY" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d.get("error") else 1)'; then
		t_ok "$1: JSON error message"
	else
		t_fail "$1: JSON error message, got: $BODY"
	fi
}

# -- before logging in
call GET /api/me; expect "not logged in" 401
call GET "/api/stat?from=$FROM&to=$TO"; expect "data without a session" 401
post /api/login -d user=web_reader -d password=wrong; expect "wrong password" 401
call POST /api/login -d user=web_reader -d password=reader-pw; expect "POST without X-Requested-With" 403
post /api/login -d user=web_super -d password=super-pw; expect "superuser refused" 401
post /api/login -d user=web_reader; expect "no password" 400
post /api/login -H 'Content-Type: application/json' --data '{"user":"web_reader"}'; expect "JSON body" 415
post /api/login --data-urlencode "user=$(head -c 20000 /dev/zero | tr '\0' x)"; expect "oversized body" 413
call GET /api/login; expect "login by GET" 404
call GET /etc/passwd; expect "no such page" 404
call GET /static/../../etc/passwd --path-as-is; expect "static path traversal" 404
call DELETE /api/me; expect "DELETE" 405

# -- a password the server never checks is refused (trust on TCP)
sed -i 's/^\(host.*\)scram-sha-256$/\1trust/' "$T_DIR/data/pg_hba.conf"
"$PGBIN/pg_ctl" -D "$T_DIR/data" reload >/dev/null
sleep 0.5
post /api/login -d user=web_reader -d password=anything; expect "trust authentication refused" 401
sed -i 's/^\(host.*\)trust$/\1scram-sha-256/' "$T_DIR/data/pg_hba.conf"
"$PGBIN/pg_ctl" -D "$T_DIR/data" reload >/dev/null
sleep 0.5

# a first login outside the cookie jar, to read its headers
HDR=$(curl -s -D - -o /dev/null -X POST -H 'X-Requested-With: nfpg' -d user=web_reader -d password=reader-pw "$WEB_URL/api/login")
post /api/login -d user=web_reader -d password=reader-pw -d tz=Europe/Zurich
t_eq "login: 200" 200 "$CODE"
COOKIE=$(grep nfpg_session "$JAR" | awk '{print $1}')
t_eq "session cookie is HttpOnly" "#HttpOnly_127.0.0.1" "$COOKIE"
echo "$HDR" | grep -qi '^Set-Cookie: nfpg_session=[0-9a-f]\{64\}; Path=/; HttpOnly; SameSite=Strict' &&
	t_ok "cookie: 64 hex digits, HttpOnly, SameSite=Strict" || t_fail "cookie attributes: $HDR"
echo "$HDR" | grep -qi '^Content-Security-Policy: default-src .self.' && t_ok "Content-Security-Policy" || t_fail "no CSP"
grep -q "reader-pw" "$T_DIR/nfpg-web.log" && t_fail "a password reached the log" || t_ok "no password in the log"

call GET /api/me
t_eq "me: role, time zone from the login, statement timeout" "web_reader Europe/Zurich 30s" \
	"$(printf '%s' "$BODY" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["role"], d["timezone"], d["statement_timeout"])')"

# -- right answers are the extension's
call GET "/api/stat?from=$FROM&to=$TO&stat=dstport&order=bytes&n=5"
t_eq "stat: 200" 200 "$CODE"
t_eq "stat: nf_stat's rows" \
	"$(q "SELECT string_agg(value || ':' || bytes, ' ' ORDER BY rank) FROM nfpg.nf_stat('dstport', 'bytes', 5, 'any', to_timestamp($WEB_FROM), to_timestamp($WEB_TO))")" \
	"$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(" ".join("%s:%s" % (r["value"], r["bytes"]) for r in json.load(sys.stdin)))')"
call GET "/api/aggregate?from=$FROM&to=$TO&fields=srcip4/24,dstport&order=bytes&n=5&format=extended"
t_eq "aggregate: nf_aggregate's records as nf_format prints them (in the login's time zone)" \
	"$(q "SET TimeZone = 'Europe/Zurich'; SELECT string_agg(nfpg.nf_format(a, 'extended'), '|') FROM nfpg.nf_aggregate('srcip4/24,dstport', 'bytes', 5, 'any', to_timestamp($WEB_FROM), to_timestamp($WEB_TO)) a")" \
	"$(printf '%s' "$BODY" | python3 -c 'import json,sys; print("|".join(r["line"] for r in json.load(sys.stdin)["rows"]))')"
call GET "/api/rates?from=$FROM&to=$TO"
t_eq "rates: 12 slots x 1 channel" 12 "$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"

# -- the Grafana dashboard's queries run as a reader and find the data
python3 "$NFPG_TOP/test/tools/grafana_queries.py" "$NFPG_TOP/web/grafana/nfpg-dashboard.json" "$FROM" "$TO" live \
	>"$T_DIR/grafana.sql"
PGPASSWORD=reader-pw psql -h 127.0.0.1 -U web_reader -XA -v ON_ERROR_STOP=1 -f "$T_DIR/grafana.sql" \
	>"$T_DIR/grafana.out" 2>&1
t_eq "Grafana dashboard: all 9 panel queries run as web_reader" "0 9" \
	"$? $(grep -c '^([0-9]* rows\{0,1\})$' "$T_DIR/grafana.out")"
t_eq "Grafana dashboard: rows in every panel but channels (live has none) and runs" 7 \
	"$(grep -c '^([1-9][0-9]* rows\{0,1\})$' "$T_DIR/grafana.out")"

# -- the operations view's collector counters: nfpg.collector_stats as a reader sees it
call GET "/api/collector"
t_eq "collector: HTTP 200" 200 "$CODE"
t_eq "collector: the rows of nfpg.collector_stats (a total, and a row per source with drops or rejects), the total first, every flow loaded" \
	"$(PGPASSWORD=reader-pw psql -h 127.0.0.1 -U web_reader -XAt -c "SELECT count(*) || ' ' || (array_agg(exporter IS NULL
		ORDER BY instance, exporter NULLS FIRST))[1] || ' ' || (sum(loaded_flows) FILTER (WHERE exporter IS NULL) >= $N)
		FROM nfpg.collector_stats")" \
	"$(printf '%s' "$BODY" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(len(r), str(r[0]["exporter"] is None).lower(), str(r[0]["loaded_flows"] >= '"$N"').lower())')"

# -- wrong parameters: 4xx with a message, never 500
call GET "/api/stat?to=$TO"; expect "missing from" 400
call GET "/api/stat?from=not-a-time&to=$TO"; expect "malformed time" 400
call GET "/api/stat?from=$FROM&to=$TO&n=ten"; expect "malformed -n" 400
call GET "/api/stat?from=$FROM&to=$TO&n=-1"; expect "negative -n" 400
call GET "/api/stat?from=$FROM&to=$TO&stat=nosuch"; expect "unknown statistic" 400
call GET "/api/stat?from=$FROM&to=$TO&stat=ja3"; expect "statistic on a field not stored" 400
call GET "/api/stat?from=$FROM&to=$TO&order=sideways"; expect "unknown order" 400
call GET "/api/stat?from=$FROM&to=$TO&order=bytes%3Bdrop%20table%20x"; expect "SQL in a parameter" 400
call GET "/api/stat" --data-urlencode "from=$FROM" --data-urlencode "to=$TO" --data-urlencode "filter=proto tcp and nonsense" -G
expect "bad filter" 400
t_eq "bad filter: nf_filter's position" 15 "$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("position"))')"
call GET "/api/stat" --data-urlencode "from=$FROM" --data-urlencode "to=$TO" --data-urlencode "filter=$(head -c 5000 /dev/zero | tr '\0' a)" -G
expect "filter too long" 400
call GET "/api/stat?from=$FROM&to=$TO&profile=nosuch"; expect "unknown profile" 404
call GET "/api/rates?from=$FROM&to=$TO&profile=nosuch"; expect "unknown profile (rates)" 404
call GET "/api/flows?from=$FROM&to=$TO&limit=0"; expect "flow limit 0" 400
call GET "/api/flows?from=$FROM&to=$TO&limit=99999999999"; expect "flow limit out of range" 400
call GET "/api/flows?from=$FROM&to=$TO&format=fmt:%25nosuch"; expect "unknown format token" 400
call GET "/api/aggregate?from=$FROM&to=$TO&fields=srcip4/99"; expect "aggregation mask out of range" 400
call GET "/api/aggregate?from=$FROM&to=$TO&fields=bogus"; expect "unknown aggregation field" 400
call GET "/api/graph?from=$FROM&to=$TO&bucket=1%20second"; expect "bucket too small" 400
call GET "/api/graph?from=2000-01-01&to=$TO&bucket=1%20minute"; expect "too many buckets" 400
call GET "/api/graph?from=$TO&to=$FROM"; expect "window backwards" 400
call GET "/api/graph?from=$FROM&to=$TO&shift=sideways"; expect "malformed shift" 400
call GET "/api/topseries?from=$FROM&to=$TO&stat=ip"; expect "two-sided statistic over time" 400
call GET "/api/topseries?from=$FROM&to=$TO&n=500"; expect "Top-N over time K too large" 400
call GET "/api/topseries?from=$FROM&to=$TO&order=pps"; expect "Top-N over time by pps" 400
call GET /api/nosuch; expect "unknown endpoint" 404
call POST /api/stat -H 'X-Requested-With: nfpg'; expect "data by POST" 405
call GET "/api/save_profile?name=x&filter=any"; expect "state change by GET" 405
post /api/save_profile -d name=x -d filter=any; expect "reader may not create profiles" 403
post /api/save_profile -d name=x -d "filter=proto tcp and"; expect "reader saving a bad filter" 403
t_eq "nothing was created" 0 "$(q "SELECT count(*) FROM nfpg.profiles WHERE profile = 'x'")"

# -- logout ends the session and its connection
backends() { q "SELECT count(*) FROM pg_stat_activity WHERE usename = 'web_reader' AND application_name = 'nfpg-web'"; }
t_eq "one backend per session (two logins)" 2 "$(backends)"
post /api/logout
t_eq "logout: 200" 200 "$CODE"
call GET /api/me; expect "after logout" 401
sleep 0.3
t_eq "logout closes its session's connection only" 1 "$(backends)"

# -- the statement timeout holds every request
kill "$WEB_PID"; wait "$WEB_PID" 2>/dev/null
web_start --statement-timeout 1 || { t_fail "nfpg-web restarts"; t_done; exit 1; }
post /api/login -d user=web_reader -d password=reader-pw
call GET "/api/graph?from=$FROM&to=$TO&bucket=1%20minute&filter=not%20proto%20tcp%20or%20port%2080"
expect "statement_timeout 1 ms" 504

kill -0 "$WEB_PID" 2>/dev/null && t_ok "nfpg-web survived all of it" || t_fail "nfpg-web died"
t_eq "no answer was a 500 or a dropped connection" 0 "$SERVER_ERRORS"
t_done
